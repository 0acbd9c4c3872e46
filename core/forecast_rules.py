"""The forecasts' rules (the [forecast] and [outlook] tables of the alert rules, core/rules.py):
how each station's 48 h forecast and its week ahead are made, scored and told."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from saltwatch.core.schema import OUTLOOK_DAYS
from saltwatch.core.timeutil import duration_seconds


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
