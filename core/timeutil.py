"""Timestamps and durations: parsing device timestamps, RFC 3339 output, ``15m``-style durations."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from saltwatch.core.errors import BadInputError

NS_PER_US = 1_000
NS_PER_S = 1_000_000_000
#: Epoch numbers above this are milliseconds (docs/interface.md §2:
#: "numbers above 1e11 are milliseconds").
MS_THRESHOLD = 1e11
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")

#: epoch milliseconds of the year 2262, the last that fits int64 nanoseconds
MAX_EPOCH_NUMBER = 9.2e15

_DURATION = re.compile(r"([1-9][0-9]{0,6})(s|m|h|d|w)")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def ts_from_epoch_number(value: float) -> int:
    """Epoch seconds or milliseconds (above 1e11) to integer ns, microsecond resolution."""
    if not math.isfinite(value) or value < 0:
        raise BadInputError("timestamp must be a finite, non-negative epoch number")
    if value > MAX_EPOCH_NUMBER:  # neither seconds nor milliseconds of any year we can store
        raise BadInputError("timestamp is out of range")
    micros = round(value * 1000) if value > MS_THRESHOLD else round(value * 1_000_000)
    return int(micros) * NS_PER_US


#: The times SaltWatch accepts from outside (API parameters): well inside what a 64-bit count of
#: nanoseconds holds (1677–2262, the stores' bound), so a day or a year added to one still fits.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def ts_from_rfc3339(text: str) -> int:
    """RFC 3339 with an explicit offset (``Z`` or ``+07:00``) to integer ns, between 1900 and
    2200 (BadInputError otherwise)."""
    if len(text) > 40:
        raise BadInputError("timestamp string too long")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadInputError("timestamp is not RFC 3339") from None
    if parsed.tzinfo is None:
        raise BadInputError("timestamp needs an offset (e.g. +07:00 or Z)")
    try:
        inside = EARLIEST <= parsed < LATEST
    except OverflowError:  # an offset that moves year 1 or 9999 out of datetime's range
        inside = False
    if not inside:
        raise BadInputError("timestamp must lie between 1900 and 2200")
    return ((parsed - _EPOCH) // _US) * NS_PER_US


def to_datetime(ts_ns: int, tz: timezone = UTC) -> datetime:
    return (_EPOCH + timedelta(microseconds=ts_ns // NS_PER_US)).astimezone(tz)


def to_rfc3339(ts_ns: int, tz: timezone = UTC) -> str:
    """RFC 3339 text; seconds precision unless the time has a fraction."""
    moment = to_datetime(ts_ns, tz)
    spec = "seconds" if moment.microsecond == 0 else "microseconds"
    return moment.isoformat(timespec=spec)


def from_datetime(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise BadInputError("datetime needs a time zone")
    return ((moment - _EPOCH) // _US) * NS_PER_US


def parse_duration(text: str, allow_zero: bool = False) -> int:
    """``15m``, ``1h``, ``30d`` to seconds (``0``/``0s`` too with ``allow_zero``);
    raises BadInputError for anything else."""
    if allow_zero and text.strip() in ("0", "0s", "0m", "0h", "0d"):
        return 0
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise BadInputError(
            f"invalid duration {text[:20]!r}: a whole number and one of s, m, h, d, w (e.g. 15m)"
        )
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def local_hour(t_s: float) -> float:
    """Hour of day in Vietnam (UTC+7)."""
    return ((t_s / 3600.0) + 7.0) % 24.0


def in_hours(hours: str | None, t_s: float) -> bool:
    """Whether ``t_s`` falls inside an ``HH:MM-HH:MM`` window (local time); None means always."""
    if not hours:
        return True
    start, end = hours.split("-")
    h0 = int(start[:2]) + int(start[3:]) / 60
    h1 = int(end[:2]) + int(end[3:]) / 60
    h = local_hour(t_s)
    return h0 <= h < h1 if h0 <= h1 else (h >= h0 or h < h1)


def time_runs(times: Sequence[int], gap: int) -> Iterator[tuple[int, int]]:
    """Sorted ``times`` as (first, last) of runs whose neighbours lie less than ``gap`` apart."""
    if not times:
        return
    first = last = times[0]
    for ts in times[1:]:
        if ts - last >= gap:
            yield first, last
            first = ts
        last = ts
    yield first, last


def short_time(ts_ns: int) -> str:
    """``14:30 12/03`` in Vietnam time: how alerts and bulletins write a moment for a person."""
    text = to_rfc3339(ts_ns, VN_TZ)
    return f"{text[11:16]} {text[8:10]}/{text[5:7]}"


def duration_seconds(value: Any) -> Any:
    """A pydantic before-validator: duration text (15m, 0) to seconds; numbers pass."""
    if isinstance(value, str):
        try:
            return parse_duration(value, allow_zero=True)
        except BadInputError as exc:
            raise ValueError(str(exc)) from None
    return value
