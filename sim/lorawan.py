"""A simulated device behind a LoRaWAN network server (docs/sources.md §3): its messages re-dressed
as ChirpStack v4 uplinks, published with the network server's own login on its own topics.

Each item of the device's payload becomes one uplink whose ``object`` holds the decoded values
(the device profile's codec) and whose ``fCnt`` counts; a payload that is not a JSON object or
list (the simulator's bad payloads) becomes an uplink without ``object``, as a network server
sends when its codec fails — SaltWatch refuses it (``not_decoded``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson

from saltwatch.core.errors import BadInputError
from saltwatch.core.timeutil import MS_THRESHOLD, NS_PER_S, ts_from_rfc3339

#: the demo's ChirpStack application
APPLICATION = "0b7f1e6c-demo"


def uplink_topic(dev_eui: str) -> str:
    return f"application/{APPLICATION}/device/{dev_eui}/event/up"


def uplinks(dev_eui: str, name: str, payload: bytes, t_s: float, fcnt: int) -> Iterator[bytes]:
    """The ChirpStack envelopes for one of the device's messages published at ``t_s``."""
    try:
        parsed: Any = orjson.loads(payload)
    except orjson.JSONDecodeError:
        parsed = None
    items = parsed if isinstance(parsed, list) else [parsed]
    for n, item in enumerate(items):
        envelope: dict[str, Any] = {
            "deduplicationId": f"{dev_eui}-{fcnt + n}",
            "time": _when(item, t_s),
            "deviceInfo": {
                "applicationName": "saltwatch-demo",
                "deviceName": name,
                "devEui": dev_eui,
            },
            "fCnt": fcnt + n,
            "fPort": 2,
        }
        if isinstance(item, dict):
            envelope["object"] = {k: v for k, v in item.items() if k not in ("ts", "seq")}
        yield orjson.dumps(envelope)


def _when(item: Any, t_s: float) -> str:
    seconds = item_time(item)
    moment = datetime.fromtimestamp(t_s if seconds is None else seconds, UTC)
    return moment.isoformat().replace("+00:00", "Z")


def item_time(item: Any) -> float | None:
    """An item's ``ts`` in epoch seconds (RFC 3339 text, seconds or milliseconds), or None."""
    ts = item.get("ts") if isinstance(item, dict) else None
    if isinstance(ts, str):
        try:
            return ts_from_rfc3339(ts) / NS_PER_S
        except BadInputError:
            return None
    if isinstance(ts, int | float) and not isinstance(ts, bool):
        return ts / 1000 if ts > MS_THRESHOLD else float(ts)
    return None
