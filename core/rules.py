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
    model_validator,
)

from saltwatch.core.errors import ConfigError
from saltwatch.core.registry import Device, Profile, Registry, Structure
from saltwatch.core.schema import OUTLOOK_DAYS
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


class RiskCriterion(_Model):
    """Level ``level`` when a line reaches beyond ``beyond_km`` from the mouth (or to it, when
    ``inclusive``: the decree's "15 to 25 km" counts 15, its "> 25 to 50 km" does not count 25)."""

    level: int = Field(ge=1, le=5)
    beyond_km: float = Field(ge=0)
    inclusive: bool = False


def _criteria(*rows: tuple[int, float, bool]) -> tuple[RiskCriterion, ...]:
    return tuple(RiskCriterion(level=lv, beyond_km=km, inclusive=inc) for lv, km, inc in rows)


class RiskRegion(_Model):
    """One region's criteria for the 4 ‰ and 1 ‰ lines (QĐ 18/2021/QĐ-TTg, Điều 49)."""

    line_4ppt: tuple[RiskCriterion, ...]
    line_1ppt: tuple[RiskCriterion, ...]


_ONE_PPT = _criteria((1, 25.0, False), (2, 50.0, False), (3, 90.0, False))
#: Điều 49 (docs/domain.md §1.3): the 1 ‰ line alike everywhere; the 4 ‰ line by region
RISK_REGIONS: dict[str, RiskRegion] = {
    "nam-bo": RiskRegion(
        line_4ppt=_criteria((2, 25.0, False), (3, 50.0, False), (4, 90.0, False)),
        line_1ppt=_ONE_PPT,
    ),
    "trung-bo": RiskRegion(  # Trung Trung Bộ and Nam Trung Bộ
        line_4ppt=_criteria((1, 15.0, True), (2, 25.0, False), (3, 50.0, False), (4, 90.0, False)),
        line_1ppt=_ONE_PPT,
    ),
    "bac-bo": RiskRegion(  # Bắc Bộ and Bắc Trung Bộ
        line_4ppt=_criteria((2, 15.0, True), (3, 25.0, False), (4, 50.0, False)),
        line_1ppt=_ONE_PPT,
    ),
}


class RiskOverride(_Model):
    """A level set by people, not computed (khoản 5 of Điều 49; Điều 4 khoản 4): shown and
    alerted as such, with who set it and why."""

    level: int = Field(ge=0, le=5)
    reason: str = Field(min_length=1, max_length=500)
    by: str = Field(min_length=1, max_length=100)


class SaltFrontRules(_Model):
    """The salt front's risk level and advance alert (analytics/saltfront.py, analytics/risk.py)."""

    #: the region whose criteria apply to a river not named in ``river_region``
    region: str
    river_region: dict[str, str] = {}
    regions: dict[str, RiskRegion] = RISK_REGIONS
    #: per river: a level declared by people (admin), which the computed one does not replace
    override: dict[str, RiskOverride] = {}
    #: no longer used: the level comes from ``regions`` (both lines)
    risk_bounds_km: tuple[float, ...] | None = None
    #: a zone-level alert when the 4 ‰ line moves inland faster than this between two days
    advance_km_per_day: float = Field(gt=0)

    @model_validator(mode="after")
    def _known_regions(self) -> SaltFrontRules:
        for name in (self.region, *self.river_region.values()):
            if name not in self.regions:
                raise ValueError(f"unknown region {name!r}: one of {', '.join(self.regions)}")
        return self

    def region_of(self, river: str) -> tuple[str, RiskRegion]:
        name = self.river_region.get(river, self.region)
        return name, self.regions[name]


class ForecastRules(_Model):
    """Forecasts of each station (analytics/forecast.py) and what is told from them."""

    method: Literal["learned", "persistence", "persistence+tide", "harmonic"]
    fit_days: float = Field(ge=1, le=60)  # the recent readings the model is fitted on
    min_coverage: float = Field(gt=0)  # hours of that window with data, at least
    horizon: float = Field(gt=0, le=7 * 86400)
    band: float = Field(gt=0.5, lt=1)  # the band's nominal coverage
    transform: Literal["linear", "log"]
    z: float | None = Field(None, description="no longer used: the band is calibrated (band)")
    min_window: float = Field(gt=0)  # shortest safe intake window worth a notice
    window_horizon: float = Field(gt=0, le=7 * 86400)  # windows announced this far
    window_soon: float = Field(gt=0, le=86400)  # "opening soon": this long before a window
    intake_level: Literal["warning", "critical"]  # intake threshold: which level
    exceedance: Literal["warning", "critical"]  # forecast alert: reaching which
    # the live score that earns a station its intake window notices
    score_days: float = Field(gt=0, le=60)
    min_scored: int = Field(ge=1)  # scored forecasts needed before any notice
    min_skill: float = Field(ge=-1, le=1)  # against tidal-day persistence
    # skill is not judged where persistence itself errs by less (fresh water, sensor noise)
    skill_resolution: float = Field(ge=0)
    min_precision: float = Field(ge=0, le=1)  # of the windows announced
    # the precision asked of the windows when choosing the band's edge (analytics/window_edge.py)
    window_precision: float = Field(gt=0.5, le=1)
    window_calibration_days: float = Field(gt=0, le=365)  # …on the forecasts of these days

    _durations = field_validator(
        "horizon", "min_window", "min_coverage", "window_horizon", "window_soon", mode="before"
    )(duration_seconds)


class OutlookRules(_Model):
    """The week-ahead outlook of each station's daily peak and low (analytics/outlook.py)."""

    horizon_days: int = Field(ge=1, le=OUTLOOK_DAYS)
    read_days: int = Field(ge=14, le=20 * 366)
    day_readings: int = Field(ge=1)
    min_history: int = Field(ge=2)
    score_days: float = Field(gt=0, le=366)
    bulletin_weekday: int = Field(ge=0, le=6)
    band: float = Field(gt=0.5, lt=1)
    select_days: int = Field(ge=7, le=730)
    band_days: int = Field(ge=14, le=730)
    min_pairs: int = Field(ge=5)
    anchor_days: int = Field(ge=3, le=365)
    climate_halfwidth: int = Field(ge=0, le=60)
    min_climate: int = Field(ge=1)
    tide_days: int = Field(ge=28, le=365)
    refit_every: int = Field(ge=1, le=60)
    ridge: float = Field(ge=0)


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
