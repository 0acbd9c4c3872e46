"""Webhook bodies from an operator's template, so an SMS or Zalo gateway needs no code.

Templates are Jinja2 in its immutable sandbox: a template reads the event (every field of the
docs/interface.md §4 event, ``zones``, and for a group ``group_size`` and ``devices``) and can
format it
(filters ``json`` for a JSON value, ``ascii_vi`` for Vietnamese without diacritics, and Jinja2's
own), but cannot reach Python internals, change anything or call out. Undefined names are
errors, not empty text, so a typo shows at the first alert rather than as a blank SMS. A
template that does not parse stops the start with the receiver's name; one that fails on an
event is reported for that event (not retried: the same event fails the same way).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import jinja2
import orjson
from jinja2.sandbox import ImmutableSandboxedEnvironment

from saltwatch.core.errors import BadInputError, ConfigError

MAX_BODY_BYTES = 64 * 1024


def _json(value: Any) -> str:
    """``{{ x | json }}``: a JSON value (a string with quotes and escapes), for JSON bodies."""
    return orjson.dumps(value).decode()


def _ascii_vi(text: str) -> str:
    """``{{ message_vi | ascii_vi }}``: Vietnamese without diacritics (đ → d), for SMS that fit
    160 GSM characters instead of 70 UCS-2 ones."""
    folded = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return plain.translate(_NOT_GSM)


#: signs outside the GSM alphabet that alert texts use
_NOT_GSM = str.maketrans({"‰": " phan nghin", "—": "-", "–": "-", "·": "-", "≥": ">=", "≤": "<="})


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    env.filters["json"] = _json
    env.filters["ascii_vi"] = _ascii_vi
    return env


class BodyTemplate:
    """A receiver's compiled template."""

    def __init__(self, source: str, receiver: str) -> None:
        self.receiver = receiver
        try:
            self._template = _environment().from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(
                f"alerts.receivers {receiver!r}: template line {exc.lineno}: {exc.message}"
            ) from None

    @classmethod
    def load(cls, receiver: str, text: str | None, path: Path | None) -> BodyTemplate | None:
        if text is not None and path is not None:
            raise ConfigError(f"alerts.receivers {receiver!r}: template or template_path, not both")
        if path is not None:
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(
                    f"alerts.receivers {receiver!r}: cannot read template {path}: {exc.strerror}"
                ) from None
        return None if text is None else cls(text, receiver)

    def render(self, event: dict[str, Any], zones: list[str]) -> bytes:
        try:
            body = self._template.render({**event, "zones": zones}).encode()
        except jinja2.TemplateError as exc:  # undefined names, sandbox refusals
            raise BadInputError(f"template of {self.receiver!r} failed: {exc}") from None
        if len(body) > MAX_BODY_BYTES:
            raise BadInputError(f"template of {self.receiver!r} made {len(body)} bytes")
        return body
