"""Alert rules as data: the bundled file (config/rules.toml), the one place that defines every
rule's default, with a site's rules file or the saved rules laid over it, and overrides.

An override matches a device, a zone (the device's zone or any ancestor), a use profile and/or a
season, and replaces the levels or hold times it names; the most specific match wins (device,
then zone, then profile, then season), and later entries win over earlier ones of equal weight.
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from saltwatch.core.errors import ConfigError
from saltwatch.core.forecast_rules import ForecastRules, OutlookRules
from saltwatch.core.registry import Device, Profile, Registry, Structure
from saltwatch.core.risk_rules import SaltFrontRules
from saltwatch.core.timeutil import duration_seconds

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


Severity = Literal["info", "warning", "critical"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SalinityLevels(_Model):
    warning: float = Field(gt=0)
    critical: float = Field(gt=0)
    hold_warning: float
    hold_critical: float
    hold_clear: float
    #: False: a watch station (docs/domain.md "Which stations alert"): its levels colour its
    #: values and its readings feed the salt front, the risk level and the forecasts, but it
    #: raises no salinity alert of its own (nobody operates anything where it stands)
    alerts: bool

    _durations = field_validator("hold_warning", "hold_critical", "hold_clear", mode="before")(
        duration_seconds
    )

    def level(self, severity: Severity) -> float:
        return self.critical if severity == "critical" else self.warning

    def hold(self, severity: Severity) -> float:
        return self.hold_critical if severity == "critical" else self.hold_warning


class Defaults(_Model):
    clear_fraction: float = Field(gt=0, le=1)
    tidal_day: float
    rate_window: float
    rate_max_per_h: float = Field(gt=0)
    nodata_factor: float = Field(gt=1)
    quality_flatline: int = Field(ge=2)
    quality_spikes: int = Field(ge=1)

    _durations = field_validator("tidal_day", "rate_window", mode="before")(duration_seconds)


class WellRules(_Model):
    level_low_m: float
    salinity_max: float
    stopped_grace: float
    clear_fraction: float = Field(gt=0, le=1)  # hysteresis, as for salinity levels

    _durations = field_validator("stopped_grace", mode="before")(duration_seconds)


class StructureRules(_Model):
    """Alerts about sluices and intakes (alerts/structures.py)."""

    hold: float = Field(ge=0)  # salt arriving at an open gate: this long to close it

    _durations = field_validator("hold", mode="before")(duration_seconds)


class TapRules(_Model):
    tank_low_pct: float
    open_no_flow: float
    clear_fraction: float = Field(gt=0, le=1)  # the tank clears above low / fraction

    _durations = field_validator("open_no_flow", mode="before")(duration_seconds)


class Season(_Model):
    dry_months: tuple[int, ...]


#: what an override may change of a profile's levels
OVERRIDDEN = ("warning", "critical", "hold_warning", "hold_critical", "hold_clear", "alerts")


class Override(_Model):
    device: str | None = None
    zone: str | None = None
    profile: Profile | None = None
    season: Literal["dry", "wet"] | None = None
    warning: float | None = Field(None, gt=0)
    critical: float | None = Field(None, gt=0)
    hold_warning: float | None = None
    hold_critical: float | None = None
    hold_clear: float | None = None
    alerts: bool | None = None

    _durations = field_validator("hold_warning", "hold_critical", "hold_clear", mode="before")(
        duration_seconds
    )

    def weight(self) -> int:
        return (
            8 * (self.device is not None)
            + 4 * (self.zone is not None)
            + 2 * (self.profile is not None)
            + (self.season is not None)
        )


class RuleSet(_Model):
    salinity: dict[Profile, SalinityLevels]
    defaults: Defaults
    well: WellRules
    tap: TapRules
    structure: StructureRules
    season: Season
    saltfront: SaltFrontRules
    forecast: ForecastRules
    outlook: OutlookRules
    override: tuple[Override, ...] = ()

    def structure_limit(self, structure: Structure) -> float:
        """The salinity (‰) at its guard at or above which the structure must not stand open:
        its own ``limit_ppt``, or its use profile's critical level."""
        if structure.limit_ppt is not None:
            return structure.limit_ppt
        return self.salinity[Profile(structure.use)].critical

    def levels_for(self, device: Device, registry: Registry, month: int) -> SalinityLevels:
        """The salinity levels that apply to ``device`` in ``month``."""
        if device.profile is None:
            raise ValueError(f"{device.id} has no use profile")
        base = self.salinity[device.profile]
        season = "dry" if month in self.season.dry_months else "wet"
        zones = {device.zone, *device.also_zones}
        for zone in list(zones):
            zones.update(registry.ancestors(zone))
        matches = [
            o
            for o in self.override
            if (o.device is None or o.device == device.id)
            and (o.zone is None or o.zone in zones)
            and (o.profile is None or o.profile == device.profile)
            and (o.season is None or o.season == season)
        ]
        changes: dict[str, float | bool] = {}
        for override in sorted(matches, key=Override.weight):
            for name in OVERRIDDEN:
                value = getattr(override, name)
                if value is not None:
                    changes[name] = value
        return base.model_copy(update=changes) if changes else base


def bundled_rules_path() -> Path:
    return Path(str(resources.files("saltwatch.config").joinpath("rules.toml")))


def rules_in_force(saved: dict[str, Any] | None, path: Path | None = None) -> RuleSet:
    """The rules every process applies: those an admin saved through the API (they outlive a
    restart) or else the rules file (``alerts.rules_path``, by default the bundled one)."""
    return parse_rules(saved, "saved rules") if saved else load_rules(path)


def load_rules(path: Path | None = None) -> RuleSet:
    source = path or bundled_rules_path()
    return parse_rules(_read_toml(source), str(source))


def _read_toml(source: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"rules file not found: {source}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None


@functools.lru_cache(maxsize=1)
def _bundled_data() -> dict[str, Any]:
    """The bundled rules file as read once per process: every parse lays its data over it (it is
    never changed: ``merged`` builds new tables)."""
    return _read_toml(bundled_rules_path())


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` laid over ``base``: tables merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in changes.items():
        below = out.get(key)
        both_tables = isinstance(value, dict) and isinstance(below, dict)
        out[key] = merged(below, value) if both_tables else value  # type: ignore[arg-type]
    return out


def parse_rules(data: dict[str, Any], source: str = "rules") -> RuleSet:
    """Rules from ``data`` laid over the bundled file, which alone defines every default: a
    rules file or saved rules need name only what they change."""
    try:
        rules = RuleSet.model_validate(merged(_bundled_data(), data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{source}: {where}: {first['msg']}") from None
    for profile, levels in rules.salinity.items():
        if levels.critical <= levels.warning:
            raise ConfigError(f"{source}: salinity.{profile.value}: critical must exceed warning")
    missing = set(Profile) - set(rules.salinity)
    if missing:
        raise ConfigError(f"{source}: salinity levels missing for {sorted(missing)}")
    return rules
