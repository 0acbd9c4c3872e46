"""A source's mapping (docs/sources.md): from a record of a file, an uplink or a vendor's item to
a judged reading, or the reason it is refused."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from harness.documented import documented_sources
from saltwatch.core.mapping import RecordMapper
from saltwatch.core.qc import QcFlag
from saltwatch.core.reasons import Reason
from saltwatch.core.registry import load_registry
from saltwatch.core.sources import SourceSettings
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Rejection
from saltwatch.core.units import salinity_from_ec25

NOW = 1_710_226_800 * 10**9  # 2024-03-12T07:00:00Z
REGISTRY = load_registry(None)

#: the Mekong River Commission's export, as docs/sources.md maps it
MRC: dict[str, Any] = documented_sources()["mrc"].model_dump()
#: a logger's two-column export in Vietnam's local time, for one station
LOGGER: dict[str, Any] = {
    "name": "logger",
    "kind": "file",
    "device": {"fixed": "vam-kenh"},
    "time": {"field": "datetime", "format": "%d/%m/%Y %H:%M"},
    "values": [{"field": "value", "to": "salinity_ppt", "unit": "g/L"}],
    "decimal": ",",
}


def mapped(spec: dict[str, Any], record: dict[str, Any]) -> Reading | Rejection:
    return RecordMapper(SourceSettings.model_validate(spec), REGISTRY, 300.0).map(record, NOW)


def mrc_row(**changes: str) -> dict[str, str]:
    row = {
        "Country Code": "VN",
        "Station Code": "019805",
        "Parameter": "Conductivity",
        "Label": "Conductivity.Water Quality",
        "Timestamp (UTC+07:00)": "2024-03-01T07:00Z",
        "Value": "55.3",
        "Unit": "mS/m",
    }
    return row | changes


def test_an_mrc_row_becomes_a_reading_of_the_mapped_station_at_its_local_time() -> None:
    reading = mapped(MRC, mrc_row())
    assert isinstance(reading, Reading)
    assert (reading.kind, reading.device, reading.zone) == (
        TopicKind.SALINITY,
        "lac-hong",
        "phuong-my-tho",
    )
    # 07:00 at UTC+07:00, whatever the trailing Z says: midnight UTC
    assert reading.ts_ns == 1_709_251_200 * 10**9
    assert reading.fields["ec25_us_cm"] == pytest.approx(553.0)  # 1 mS/m = 10 µS/cm
    assert reading.fields["salinity_ppt"] == pytest.approx(salinity_from_ec25(553.0), abs=1e-4)
    assert reading.fields["source"] == "mrc"


def test_a_zone_in_the_value_counts_unless_the_mapping_says_it_is_wrong() -> None:
    honest = MRC | {"time": {"field": "Timestamp (UTC+07:00)", "zone": "+07:00"}}
    reading = mapped(honest, mrc_row())
    assert isinstance(reading, Reading)
    assert reading.ts_ns == 1_709_276_400 * 10**9  # 07:00 UTC, as written


def test_a_logger_export_in_local_time_with_decimal_commas() -> None:
    reading = mapped(LOGGER, {"datetime": "01/03/2024 14:30", "value": "1,25"})
    assert isinstance(reading, Reading)
    assert reading.device == "vam-kenh"
    assert reading.ts_ns == (1_709_251_200 + 7.5 * 3600) * 10**9  # 14:30 at +07:00
    assert reading.fields["salinity_ppt"] == 1.25


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (mrc_row(**{"Station Code": "999999"}), Reason.UNKNOWN_DEVICE),
        (mrc_row(**{"Station Code": ""}), Reason.UNMAPPED),
        (mrc_row(Parameter="pH"), Reason.UNMAPPED),
        (mrc_row(Unit="furlongs"), Reason.BAD_UNIT),
        (mrc_row(Value="n/a?"), Reason.WRONG_TYPE),
        (mrc_row(Value=""), Reason.MISSING_FIELD),
        (mrc_row(**{"Timestamp (UTC+07:00)": "01.03.2024"}), Reason.BAD_TIMESTAMP),
        (mrc_row(**{"Timestamp (UTC+07:00)": "2030-01-01T00:00Z"}), Reason.TS_IN_FUTURE),
        (mrc_row(Value="-5"), Reason.OUT_OF_RANGE),
    ],
)
def test_each_bad_record_is_refused_with_its_reason(record: dict[str, str], reason: Reason) -> None:
    result = mapped(MRC, record)
    assert isinstance(result, Rejection), result
    assert result.reason == reason.value


def test_chloride_becomes_salinity_flagged_approximate_in_fresh_water() -> None:
    spec = LOGGER | {"values": [{"field": "value", "to": "chloride_mg_l", "unit": "mg/L"}]}
    fresh = mapped(spec, {"datetime": "01/03/2024 14:30", "value": "250"})
    salty = mapped(spec, {"datetime": "01/03/2024 14:45", "value": "2214"})
    assert isinstance(fresh, Reading) and isinstance(salty, Reading)
    assert fresh.fields["salinity_ppt"] == pytest.approx(0.4516, abs=1e-3)  # 250 mg/L ≈ 0.45 ‰
    assert fresh.qc & QcFlag.APPROXIMATE
    assert salty.fields["salinity_ppt"] == pytest.approx(4.0, abs=0.01)
    assert not salty.qc & QcFlag.APPROXIMATE


def test_a_device_cannot_claim_a_source_or_qc_of_its_own() -> None:
    spec = LOGGER | {
        "values": [
            {"field": "value", "to": "salinity_ppt", "unit": "g/L"},
            {"field": "src", "to": "source"},
        ]
    }
    result = mapped(spec, {"datetime": "01/03/2024 14:30", "value": "1,0", "src": "manual"})
    assert isinstance(result, Reading)
    assert result.fields["source"] == "logger"


def test_a_mapping_with_an_unknown_unit_or_two_device_rules_fails_at_start() -> None:
    with pytest.raises(ValidationError, match="furlongs"):
        SourceSettings.model_validate(
            LOGGER | {"values": [{"field": "v", "to": "salinity_ppt", "unit": "furlongs"}]}
        )
    with pytest.raises(ValidationError, match="exactly one"):
        SourceSettings.model_validate(LOGGER | {"device": {"fixed": "a", "field": "b"}})
    with pytest.raises(ValidationError, match="time zone"):
        SourceSettings.model_validate(LOGGER | {"time": {"zone": "Mars/Olympus"}})


def test_nested_fields_of_a_json_record_are_found_by_dotted_paths() -> None:
    spec = documented_sources()["chirpstack"].model_dump()
    record = {
        "deviceInfo": {"devEui": "a84041000181c5f1"},
        "time": "2024-03-12T06:00:00+00:00",
        "object": {"salinity": 1.6, "temperature": 29.5, "battery": 3600},
        "fCnt": 12,
    }
    reading = mapped(spec, record)
    assert isinstance(reading, Reading)
    assert reading.ts_ns == NOW - 3600 * 10**9
    assert (reading.device, reading.fields["salinity_ppt"]) == ("vam-kenh", 1.6)
    assert (reading.fields["battery_v"], reading.fields["seq"]) == (3.6, 12)
