"""What alerts say, in Vietnamese and English: the texts alerts/messages.py fills in, from the
catalogue of each language (core/catalogue.py)."""

from __future__ import annotations

from saltwatch.core.catalogue import pairs, words

SEVERITY_VI = dict(words("vi", "alerts.severity"))
SEVERITY_EN = dict(words("en", "alerts.severity"))

#: rule family → (Vietnamese, English) text for a firing alert
FIRING: dict[str, tuple[str, str]] = pairs("alerts.firing")
#: an open salinity alert as a screen shows it: the value now and the highest since it opened,
#: each with its time, and whether the value now is above the level (family, above) → texts
OPEN_NOW: dict[tuple[str, bool], tuple[str, str]] = {
    **{(f, True): t for f, t in pairs("alerts.open_now.above").items()},
    **{(f, False): t for f, t in pairs("alerts.open_now.below").items()},
}
#: what ended, as a noun phrase, for the resolved message (its firing text speaks in the present)
ENDED: dict[str, tuple[str, str]] = pairs("alerts.ended")
_PHRASES = pairs("alerts.phrases")
#: a notification about a group of no-data alerts (docs/interface.md): how many, and which
GROUP_NODATA = _PHRASES["group_nodata"]
GROUP_NODATA_RESOLVED = _PHRASES["group_nodata_resolved"]
RESOLVED = _PHRASES["resolved"]
NOW = _PHRASES["now"]
ACKED = _PHRASES["acked"]
#: how the risk level was come by (its alert's unit reads ``level:<line>:<basis>``)
BASIS: dict[str, tuple[str, str]] = pairs("alerts.basis")
LINES = {"4ppt": "4‰", "1ppt": "1‰"}
#: how sure a warning ahead is (its unit ends in ``likely`` or ``possible``)
ODDS: dict[str, tuple[str, str]] = pairs("alerts.odds")
