"""The documents' promises name real tests: a renamed or deleted test breaks this one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_guarantee_names_an_existing_test() -> None:
    readme = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Guarantees") : readme.index("## Alerts")]
    sources = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py")}
    named = re.findall(r"`(test_\w+\.py)(?:::(\w+))?`|`::(\w+)`", section)
    assert len(named) >= 15
    current = ""
    for module, function, same_module_function in named:
        if module:
            assert module in sources, module
            current = module
        wanted = function or same_module_function
        if wanted:
            assert f"def {wanted}(" in sources[current], f"{current}::{wanted}"


def test_the_interface_lists_every_endpoint_the_api_serves(tmp_path: Path) -> None:
    """docs/interface.md §5 names each method and path of the app's OpenAPI, and no other."""
    from saltwatch.api.app import create_app  # noqa: PLC0415
    from saltwatch.core.registry import load_registry  # noqa: PLC0415
    from saltwatch.core.settings import Settings  # noqa: PLC0415
    from saltwatch.storage.alert_sqlite import SqliteAlertStore  # noqa: PLC0415
    from saltwatch.storage.audit_sqlite import SqliteAuditLog  # noqa: PLC0415
    from saltwatch.storage.sqlite import SqliteReadingStore  # noqa: PLC0415
    from tests.alert_tools import api_context  # noqa: PLC0415

    state = tmp_path / "state.db"
    ctx = api_context(
        Settings(),
        load_registry(),
        SqliteReadingStore(tmp_path / "readings.db"),
        SqliteAlertStore(state),
        audit=SqliteAuditLog(state),
    )
    served = {
        f"{method.upper()} {path}"
        for path, operations in create_app(ctx).openapi()["paths"].items()
        for method in operations
    }
    doc = (ROOT / "docs" / "interface.md").read_text(encoding="utf-8")
    section = doc[doc.index("## 5. HTTP API") : doc.index("## 6.")]
    listed = set(re.findall(r"^\| `([A-Z]+ /[^`]*)`", section, flags=re.MULTILINE))
    assert len(served) > 20 and listed == served
