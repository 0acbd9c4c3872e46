"""The layout's promises, checked on the source: no import runs up the floors, only the
composition roots and storage/ touch an adapter, analytics knows the alert pipeline by its model
and store port alone, every import goes through the one namespace, and one size rule holds for
every module."""

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


#: each folder imports only from folders of a lower floor: the kernel at the bottom, the MQTT
#: connection on it, the components, the API, the adapters (storage/ implements the ports its
#: users define), and saltwatch/, which assembles every process, at the top
FLOORS = {
    "core": 0,
    "mqtt": 1,
    "sim": 2,
    "ingest": 2,
    "alerts": 2,
    "analytics": 3,
    "api": 4,
    "storage": 5,
    "saltwatch": 6,
}


def product_modules() -> dict[str, Path]:
    """Every module of the product by its folder-relative path (the links in saltwatch/ that
    serve the namespace in a checkout are not modules of their own)."""
    found: dict[str, Path] = {}
    for folder in FLOORS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if folder != "saltwatch" or path.parent == ROOT / "saltwatch":
                found[path.relative_to(ROOT).as_posix()] = path
    return found


def folder_of(module: str) -> str | None:
    """The designed folder an imported name belongs to, or None (a library)."""
    parts = module.split(".")
    if parts[0] != "saltwatch":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in FLOORS else "saltwatch"


def test_no_import_runs_up_the_floors_or_between_folders_of_one_floor() -> None:
    arrows = {
        (name.split("/")[0], target, name, module)
        for name, path in product_modules().items()
        for module in imported(path)
        if (target := folder_of(module)) is not None and target != name.split("/")[0]
    }
    assert len(arrows) > 100
    upward = sorted((n, m) for a, b, n, m in arrows if FLOORS[b] >= FLOORS[a])
    assert upward == []


def test_only_the_composition_roots_and_storage_import_an_adapter() -> None:
    users = {
        name: sorted(m for m in imported(path) if m.startswith("saltwatch.storage."))
        for name, path in product_modules().items()
        if not name.startswith(("storage/", "saltwatch/"))
    }
    assert {name: found for name, found in users.items() if found} == {}


def names_imported_from(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == module
        for alias in node.names
    }


def test_only_the_composition_roots_read_the_whole_settings() -> None:
    """A component gets its typed part of the settings in its constructor (saltwatch/wiring.py
    reads them); the API keeps them on its context for the tokens and limits it serves by."""
    readers = sorted(
        name
        for name, path in product_modules().items()
        if not name.startswith(("saltwatch/", "core/", "api/"))
        and "Settings" in names_imported_from(path, "saltwatch.core.settings")
    )
    assert readers == []


def test_the_kernel_has_no_network_io() -> None:
    networked = {"paho", "httpx", "socket", "ssl", "selectors", "urllib.request", "smtplib"}
    found = {
        name: sorted(m for m in imported(path) if m.split(".")[0] in networked or m in networked)
        for name, path in product_modules().items()
        if name.startswith("core/")
    }
    assert {name: mods for name, mods in found.items() if mods} == {}


def test_analytics_imports_nothing_of_alerts_but_its_model_and_store_port() -> None:
    for path in sorted((ROOT / "analytics").glob("*.py")):
        strays = {
            n
            for n in imported(path)
            if n.startswith("saltwatch.alerts")
            and n not in ("saltwatch.alerts.model", "saltwatch.alerts.store")
        }
        assert not strays, (path.name, strays)


def test_every_module_of_the_product_stays_within_one_size_rule() -> None:
    """One rule for the whole product (docs/architecture.md: about 300-400 lines at most); a module
    that outgrows it is split by concept, not by count."""
    sizes = {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for folder in (*DESIGNED, "saltwatch")
        for path in (ROOT / folder).rglob("*.py")
        if path.parent == ROOT / "saltwatch" or not path.is_relative_to(ROOT / "saltwatch")
    }
    assert len(sizes) > 100
    assert {name: n for name, n in sizes.items() if n > 400} == {}


DESIGNED = ("core", "mqtt", "storage", "ingest", "alerts", "analytics", "api", "sim", "config")


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


def setting_names() -> set[str]:
    """The names of every setting and rule (the fields of the models in core/settings.py and
    core/rules.py)."""
    names: set[str] = set()
    for module in ("core/settings.py", "core/rules.py"):
        for node in ast.walk(ast.parse((ROOT / module).read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                names.update(
                    s.target.id
                    for s in node.body
                    if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                )
    return names


def written_number(node: ast.expr | None) -> bool:
    """A default written as a number (``30``, ``4 * 3600``, ``Field(900, gt=0)``)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float) and not isinstance(node.value, bool)
    if isinstance(node, ast.BinOp):
        return written_number(node.left) and written_number(node.right)
    if isinstance(node, ast.UnaryOp):
        return written_number(node.operand)
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Field" and node.args:
        return written_number(node.args[0])
    return False


def numbers_written_as_defaults(path: Path) -> list[tuple[str, int]]:
    """(name, line) of every argument and class field whose default is a number written there."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            a = node.args
            positional = a.posonlyargs + a.args
            with_default = positional[len(positional) - len(a.defaults) :]
            pairs: list[tuple[ast.arg, ast.expr | None]] = [
                *zip(with_default, a.defaults, strict=True),
                *zip(a.kwonlyargs, a.kw_defaults, strict=True),
            ]
            found += [(arg.arg, arg.lineno) for arg, d in pairs if written_number(d)]
        elif isinstance(node, ast.ClassDef):
            found += [
                (s.target.id, s.lineno)
                for s in node.body
                if isinstance(s, ast.AnnAssign)
                and isinstance(s.target, ast.Name)
                and written_number(s.value)
            ]
    return found


#: names a setting shares with something that is not that setting: the SMTP timeout and a
#: webhook's or the MQTT notifier's own; a dispatcher's wait when it stops; a reading's QC flags
UNRELATED_NAMESAKES = {"timeout_s", "qc"}


def test_every_setting_default_is_written_once() -> None:
    """A component takes its default from the setting (``core.settings.default_of``) or from the
    type the setting is made of; it never writes the number again."""
    names = setting_names() - UNRELATED_NAMESAKES
    places: dict[str, list[str]] = {}
    for name, path in product_modules().items():
        for setting, line in numbers_written_as_defaults(path):
            if setting in names:
                places.setdefault(setting, []).append(f"{name}:{line}")
    assert len(places) > 20  # the check sees the settings themselves
    assert {name: where for name, where in places.items() if len(where) > 1} == {}


def test_every_rule_default_is_in_the_bundled_rules_file_alone() -> None:
    """config/rules.toml defines each rule's default; the rule models (core/rules.py and the
    tables it is made of) hold none of their own (a site's file is laid over the bundled one)."""
    import tomllib  # noqa: PLC0415

    from pydantic import BaseModel  # noqa: PLC0415

    from saltwatch.core.rules import RuleSet, SalinityLevels  # noqa: PLC0415

    data = tomllib.loads((ROOT / "config" / "rules.toml").read_text(encoding="utf-8"))
    levels_model = SalinityLevels
    defaulted: list[str] = []

    def walk(model: type[BaseModel], table: dict[str, object], where: str) -> None:
        for key, value in table.items():
            field = model.model_fields[key]
            kind = field.annotation
            if isinstance(value, dict) and isinstance(kind, type) and issubclass(kind, BaseModel):
                walk(kind, value, f"{where}{key}.")
            elif key == "salinity" and isinstance(value, dict):
                for profile, levels in value.items():
                    walk(levels_model, levels, f"{where}salinity.{profile}.")
            elif not field.is_required():
                defaulted.append(f"{where}{key}")

    walk(RuleSet, data, "")
    assert defaulted == []


def test_benchmarks_and_the_harness_import_no_test() -> None:
    """bench/ and harness/ stand on their own; the tests may use them, not the other way."""
    strays = {
        path.relative_to(ROOT).as_posix(): sorted(
            n for n in imported(path) if n.startswith("tests")
        )
        for folder in ("bench", "harness")
        for path in (ROOT / folder).rglob("*.py")
    }
    assert len(strays) > 10
    assert {name: found for name, found in strays.items() if found} == {}
