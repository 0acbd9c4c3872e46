"""Conductivity to practical salinity (PSS-78 via TEOS-10's gsw, Hill et al. extension below 2).

Sensors report conductivity in µS/cm; gsw takes mS/cm. Sea pressure is taken as 0 dbar: the
probes hang near the surface and the pressure term is negligible at these depths.
"""

from __future__ import annotations

import math

import gsw

#: Reference temperature of "EC25" (temperature-compensated conductivity).
EC25_REFERENCE_C = 25.0
#: Salinity that equals 1 g/L of chloride scaled by the Knudsen ratio (docs/domain.md §2.2).
CHLORIDE_TO_SALINITY = 1.80655
#: Below this salinity (‰) the ratio is a rough guide: river water's ions are not sea salt's.
CHLORIDE_EXACT_FROM_PPT = 0.5


def salinity_from_ec(ec_us_cm: float, temp_c: float, pressure_dbar: float = 0.0) -> float:
    """Practical salinity (‰ ≈ PSU) from in-situ conductivity and temperature."""
    value = float(gsw.SP_from_C(ec_us_cm / 1000.0, temp_c, pressure_dbar))
    if not math.isfinite(value):
        raise ValueError("conductivity outside the PSS-78 range")
    return max(value, 0.0)


def salinity_from_ec25(ec25_us_cm: float) -> float:
    """Practical salinity from conductivity already compensated to 25 °C."""
    return salinity_from_ec(ec25_us_cm, EC25_REFERENCE_C)


def ec_from_salinity(salinity_ppt: float, temp_c: float) -> float:
    """In-situ conductivity (µS/cm) for a practical salinity: the inverse, used by the simulator."""
    return float(gsw.C_from_SP(salinity_ppt, temp_c, 0.0)) * 1000.0


def salinity_from_chloride_mg_l(chloride_mg_l: float) -> float:
    """Approximate salinity (‰) from chloride (mg/L) with the sea-salt ratio."""
    return chloride_mg_l / 1000.0 * CHLORIDE_TO_SALINITY
