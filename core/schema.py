"""The stored schema (docs/interface.md §3): one measurement per reading kind, fixed tags, fixed
field types.

Field types never vary, so a store never refuses a batch for a type conflict. Fields marked
``additive`` are not in docs/interface.md §3's table; they were added (the contract allows
additions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from saltwatch.core.errors import BadInputError
from saltwatch.core.topics import TopicKind

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class FieldType(StrEnum):
    FLOAT = "float"
    INT = "int"
    BOOL = "bool"
    STRING = "string"


FieldValue = float | int | bool | str


@dataclass(frozen=True, slots=True)
class Measurement:
    name: str
    device_tag: str
    #: every tag, the device tag first
    tags: tuple[str, ...]
    fields: MappingProxyType[str, FieldType]
    #: the main value that QC judges and alerts read (None: no single main value)
    primary: str | None


_F, _I, _B, _S = FieldType.FLOAT, FieldType.INT, FieldType.BOOL, FieldType.STRING

SALINITY: Final = Measurement(
    "salinity",
    "station",
    ("station", "zone", "river"),
    MappingProxyType(
        {
            "salinity_ppt": _F,
            "ec_us_cm": _F,
            "ec25_us_cm": _F,  # additive
            "temp_c": _F,
            "level_m": _F,
            "depth_m": _F,  # additive
            "battery_v": _F,
            "chloride_mg_l": _F,  # additive: what water utilities measure (docs/sources.md)
            "seq": _I,
            "source": _S,  # additive: the source's name when not the device's own topic
            "by": _S,  # additive: who entered a handheld reading (the token's name)
            "note": _S,  # additive: what they said of it
            "qc": _I,
        }
    ),
    "salinity_ppt",
)
WELL: Final = Measurement(
    "well",
    "well",
    ("well", "zone"),
    MappingProxyType(
        {
            "running": _B,
            "flow_m3h": _F,
            "pressure_bar": _F,
            "level_m": _F,
            "salinity_ppt": _F,
            "ec_us_cm": _F,  # additive
            "temp_c": _F,  # additive
            "fault": _S,
            "runtime_h": _F,
            "battery_v": _F,  # additive
            "seq": _I,
            "source": _S,  # additive
            "qc": _I,
        }
    ),
    "salinity_ppt",
)
TAP: Final = Measurement(
    "tap",
    "tap",
    ("tap", "zone"),
    MappingProxyType(
        {
            "open": _B,
            "flow_lpm": _F,
            "volume_m3": _F,
            "tank_pct": _F,
            "battery_v": _F,  # additive
            "seq": _I,
            "source": _S,  # additive
            "qc": _I,
        }
    ),
    None,
)

#: A structure's gate as its sensor reports it (docs/interface.md "Gates"): ``state`` is
#: ``open``, ``closed`` or ``partial``; ``opening_pct`` how far; the water on either side.
GATE: Final = Measurement(
    "gate",
    "gate",
    ("gate", "zone"),
    MappingProxyType(
        {
            "state": _S,
            "opening_pct": _F,
            "level_inside_m": _F,
            "level_outside_m": _F,
            "battery_v": _F,
            "seq": _I,
            "source": _S,  # additive
            "qc": _I,
        }
    ),
    None,
)

#: A river station (trạm thủy văn), usually another agency's: water level and discharge, the
#: drivers of the week ahead. Discharge is negative when the tide reverses the flow.
HYDRO: Final = Measurement(
    "hydro",
    "hydro",
    ("hydro", "zone", "river"),
    MappingProxyType(
        {
            "level_m": _F,
            "discharge_m3s": _F,
            "temp_c": _F,
            "battery_v": _F,
            "seq": _I,
            "source": _S,
            "qc": _I,
        }
    ),
    None,
)

#: Entered through the API, not measured: an operator's "opened" or "closed" for a structure
#: (api/routers/structures.py); the "device" is the structure, ``by`` the token's name.
OPERATION: Final = Measurement(
    "operation",
    "structure",
    ("structure", "zone"),
    MappingProxyType({"state": _S, "opening_pct": _F, "by": _S, "note": _S, "qc": _I}),
    None,
)

#: Computed, not measured: the salt front's daily reach per river (analytics/saltfront.py). The
#: "device" is the river; ``bound`` names the lines that passed the last station (``km_4ppt>``)
#: or stayed below the first (``km_4ppt<``), comma-separated, empty when both are interpolated.
#: ``risk_level`` is the observed level (QĐ 18/2021 Điều 49) and ``risk_by`` the line that gave it
#: (``4ppt``, ``1ppt`` or empty); ``forecast_level`` / ``forecast_by`` the same from the forecasts.
SALTFRONT: Final = Measurement(
    "saltfront",
    "river",
    ("river",),
    MappingProxyType(
        {
            "km_4ppt": _F,
            "km_1ppt": _F,
            "risk_level": _I,
            "risk_by": _S,
            "forecast_level": _I,
            "forecast_by": _S,
            "bound": _S,
            "qc": _I,
        }
    ),
    None,
)

#: Computed: one forecast per station and hour (analytics/forecast_store.py), kept so that it can
#: be scored against the readings that follow. Hourly values for the first ``FORECAST_HOURS``:
#: ``mean_01`` … (the forecast), ``lower_01`` / ``upper_01`` … (the band). ``windows`` lists the
#: safe intake windows found ("start/end" in epoch seconds, ";"-separated), ``windows_until`` the
#: end of the span they were looked for in (epoch seconds), ``threshold`` the level they were
#: judged on (intake stations only).
FORECAST_HOURS: Final = 48
FORECAST: Final = Measurement(
    "forecast",
    "station",
    ("station",),
    MappingProxyType(
        {
            "method": _S,
            "fitted_at": _I,  # epoch seconds: the point's time is its hour, the fit's own time
            "threshold": _F,
            "windows": _S,
            "windows_until": _I,
            "points": _I,
            **{f"{part}_{h:02d}": _F for part in ("mean", "lower", "upper") for h in range(1, 49)},
            "qc": _I,
        }
    ),
    None,
)

#: Computed: one week-ahead outlook per station and day (analytics/outlook_job.py), kept so that
#: it can be scored against the days that follow. The point's time is the start (Vietnam time)
#: of its *origin*, the last whole day it knew; ``peak_01`` … the forecast daily maximum of the
#: days after it, ``peak_lower_01`` / ``peak_upper_01`` … its band, ``low_…`` the same for the
#: daily minimum; ``observed_peak`` / ``observed_low`` the origin's own; ``method`` and ``basis``
#: (``climatology`` or ``recent``) what made it, ``history_days`` the whole days behind it.
OUTLOOK_DAYS: Final = 10
OUTLOOK: Final = Measurement(
    "outlook",
    "station",
    ("station",),
    MappingProxyType(
        {
            "method": _S,
            "basis": _S,
            "made_at": _I,  # epoch seconds
            "observed_peak": _F,
            "observed_low": _F,
            "history_days": _I,
            **{
                f"{part}_{d:02d}": _F
                for part in ("peak", "peak_lower", "peak_upper", "low", "low_lower", "low_upper")
                for d in range(1, OUTLOOK_DAYS + 1)
            },
            "qc": _I,
        }
    ),
    None,
)

MEASUREMENTS: Final[MappingProxyType[TopicKind, Measurement]] = MappingProxyType(
    {
        TopicKind.SALINITY: SALINITY,
        TopicKind.WELL: WELL,
        TopicKind.TAP: TAP,
        TopicKind.GATE: GATE,
        TopicKind.HYDRO: HYDRO,
        TopicKind.OPERATION: OPERATION,
        TopicKind.SALTFRONT: SALTFRONT,
        TopicKind.FORECAST: FORECAST,
        TopicKind.OUTLOOK: OUTLOOK,
    }
)


def measurement_for(kind: TopicKind) -> Measurement:
    try:
        return MEASUREMENTS[kind]
    except KeyError:
        raise ValueError(f"{kind} carries no readings") from None


def check_tags(*values: str) -> None:
    """Tag values may hold any printable text; control characters have no line-protocol form."""
    for value in values:
        if _CONTROL.search(value):
            raise BadInputError(f"tag value {value[:40]!r} holds a control character")
