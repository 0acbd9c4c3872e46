"""The README's promises name real tests: a renamed or deleted test breaks this one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_guarantee_names_an_existing_test() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
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
