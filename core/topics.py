"""The MQTT topic schema (docs/interface.md §1): format and parse, with strict id checks.

A topic is ``{prefix}/{kind}/{id}``. Ids are validated against ``ID_PATTERN`` in both directions,
so no untrusted string ever becomes a topic level (no ``+``, ``#``, ``/`` or NUL can slip in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from saltwatch.core.errors import BadInputError

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")


class TopicKind(StrEnum):
    SALINITY = "salinity"
    WELL = "well"
    TAP = "tap"
    GATE = "gate"  # a structure's gate sensor: open, closed or partly open
    HYDRO = "hydro"  # a river station: water level and discharge (often another agency's)
    STATUS = "status"
    ALERTS = "alerts"
    SALTFRONT = "saltfront"  # computed by SaltWatch, never a topic devices may use
    FORECAST = "forecast"  # computed by SaltWatch: each station's forecasts, kept to score them
    OUTLOOK = "outlook"  # computed by SaltWatch: each station's week ahead, kept to score it
    OPERATION = "operation"  # entered through the API: an operator opened or closed a gate


#: Kinds that carry readings from devices (the others are status and alert topics).
READING_KINDS: tuple[TopicKind, ...] = (
    TopicKind.SALINITY,
    TopicKind.WELL,
    TopicKind.TAP,
    TopicKind.GATE,
    TopicKind.HYDRO,
)


def is_valid_id(value: str) -> bool:
    """True when ``value`` is a well-formed device or zone id."""
    return ID_PATTERN.fullmatch(value) is not None


def check_id(value: str, what: str = "id") -> str:
    if not is_valid_id(value):
        raise BadInputError(f"invalid {what} {value!r}: must match {ID_PATTERN.pattern}")
    return value


def check_prefix(prefix: str) -> str:
    if _PREFIX_PATTERN.fullmatch(prefix) is None:
        raise BadInputError(
            f"invalid topic prefix {prefix!r}: letters, digits, '_' and '-' in '/'-separated levels"
        )
    return prefix


def format_topic(prefix: str, kind: TopicKind, ident: str) -> str:
    """``saltwatch/salinity/vam-kenh``; raises BadInputError for an id outside the pattern."""
    return f"{check_prefix(prefix)}/{kind.value}/{check_id(ident)}"


def subscription(prefix: str, kind: TopicKind, share_group: str | None = None) -> str:
    """The wildcard subscription for one kind, optionally as an MQTT v5 shared subscription."""
    topic = f"{check_prefix(prefix)}/{kind.value}/+"
    if share_group:
        return f"$share/{check_id(share_group, 'share group')}/{topic}"
    return topic


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    kind: TopicKind
    ident: str


def parse_topic(prefix: str, topic: str) -> ParsedTopic:
    """Split a received topic; raises BadInputError when it is not one of ours."""
    head = prefix + "/"
    if not topic.startswith(head):
        raise BadInputError(f"topic outside prefix {prefix!r}")
    parts = topic[len(head) :].split("/")
    if len(parts) != 2:
        raise BadInputError("topic must have exactly two levels after the prefix")
    kind_text, ident = parts
    try:
        kind = TopicKind(kind_text)
    except ValueError:
        raise BadInputError(f"unknown topic kind {kind_text[:32]!r}") from None
    check_id(ident, "device id" if kind is not TopicKind.ALERTS else "zone id")
    return ParsedTopic(kind, ident)
