"""The layout's promises, checked on the source: analytics knows the alert pipeline by its model
alone, and no module of alerts/ or api/ grows past a screenful of screens (DESIGN, Style 6)."""

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
        strays = {n for n in imported(path) if n.startswith("alerts") and n != "alerts.model"}
        assert not strays, (path.name, strays)


def test_modules_of_alerts_and_api_stay_small() -> None:
    sizes = {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for folder in ("alerts", "api")
        for path in (ROOT / folder).rglob("*.py")
    }
    assert sizes["alerts/engine.py"] < 150
    assert {name: n for name, n in sizes.items() if n > 300} == {}
