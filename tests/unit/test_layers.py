"""The layout's promises, checked on the source: analytics knows the alert pipeline by its model
alone, every import goes through the one namespace, and one size rule holds for every module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_analytics_imports_nothing_of_alerts_but_its_model() -> None:
    for path in sorted((ROOT / "analytics").glob("*.py")):
        strays = {
            n
            for n in imported(path)
            if n.startswith("saltwatch.alerts") and n != "saltwatch.alerts.model"
        }
        assert not strays, (path.name, strays)


def test_every_module_of_the_product_stays_within_one_size_rule() -> None:
    """One rule for the whole product (DESIGN, Style 6: about 300-400 lines at most); a module
    that outgrows it is split by concept, not by count."""
    sizes = {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for folder in (*DESIGNED, "saltwatch")
        for path in (ROOT / folder).rglob("*.py")
        if path.parent == ROOT / "saltwatch" or not path.is_relative_to(ROOT / "saltwatch")
    }
    assert len(sizes) > 100
    assert {name: n for name, n in sizes.items() if n > 400} == {}


DESIGNED = ("core", "storage", "ingest", "alerts", "analytics", "api", "sim", "config")


def test_every_import_of_the_project_goes_through_the_saltwatch_namespace() -> None:
    """A wheel installs the designed folders inside ``saltwatch``: a bare ``import core`` works in
    a checkout only, and would collide with any other distribution of that name."""
    sources = [
        path
        for folder in (*DESIGNED, "saltwatch", "tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if not path.is_relative_to(ROOT / "saltwatch") or path.parent == ROOT / "saltwatch"
    ]
    bare = {
        path.relative_to(ROOT).as_posix(): name
        for path in sources
        for name in imported(path)
        if name.split(".")[0] in DESIGNED
    }
    assert len(sources) > 150 and bare == {}
