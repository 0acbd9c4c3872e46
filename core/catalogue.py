"""The words SaltWatch says, one catalogue per language (``config/text/<lang>.toml``): the alert
messages, the daily and weekly bulletins and the dashboard (which loads its part from the API)
read the same file, so a word is changed in one place. Every language holds the same keys."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any, Literal

from saltwatch.core.errors import ConfigError

Lang = Literal["vi", "en"]
#: the languages SaltWatch speaks, Vietnamese first
LANGS: tuple[Lang, ...] = ("vi", "en")


@functools.cache
def catalogue(lang: Lang) -> Mapping[str, Any]:
    """The whole catalogue of ``lang``, read once per process."""
    if lang not in LANGS:
        raise ConfigError(f"no catalogue for the language {lang!r}")
    path = resources.files("saltwatch.config").joinpath("text", f"{lang}.toml")
    with path.open("rb") as file:
        return tomllib.load(file)


def words(lang: Lang, section: str) -> Mapping[str, str]:
    """One section of ``lang``'s catalogue, named by its dotted path (``alerts.firing``)."""
    found: Any = catalogue(lang)
    for part in section.split("."):
        found = found.get(part) if isinstance(found, Mapping) else None
        if found is None:
            raise ConfigError(f"the {lang} catalogue has no section {section!r}")
    return {k: v for k, v in found.items() if isinstance(v, str)}


def pairs(section: str) -> dict[str, tuple[str, str]]:
    """A section in both languages: key → (Vietnamese, English)."""
    vi, en = words("vi", section), words("en", section)
    return {key: (text, en[key]) for key, text in vi.items()}
