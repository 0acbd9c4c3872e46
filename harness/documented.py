"""The example mappings of docs/sources.md, read from the document itself: tests import with what
a reader of the docs would write, so the docs cannot drift from what works."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from saltwatch.core.sources import SourceSettings

DOC = Path(__file__).resolve().parent.parent / "docs" / "sources.md"


def documented_sources() -> dict[str, SourceSettings]:
    """Every ``[[sources]]`` entry of the document's TOML blocks, by name."""
    found: dict[str, SourceSettings] = {}
    for block in re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S):
        for entry in tomllib.loads(block).get("sources", []):
            source = SourceSettings.model_validate(entry)
            found[source.name] = source
    return found
