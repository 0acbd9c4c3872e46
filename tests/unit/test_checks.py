"""``saltwatch check --broker-config`` (saltwatch/checks.py): Mosquitto drops a message over its
size limit while acknowledging it to the device, so a limit below ingest's loses readings
without a word; the check says so."""

from __future__ import annotations

from pathlib import Path

from saltwatch.checks import MQTT_MAX_PACKET, PACKET_ROOM, broker_limit
from saltwatch.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_a_broker_limit_below_ingests_fails_and_says_which_sizes_vanish(tmp_path: Path) -> None:
    conf = tmp_path / "mosquitto.conf"
    conf.write_text("listener 1883\nmessage_size_limit 65536  # 64 KiB\n")
    line, ok = broker_limit(conf, 1024 * 1024)
    assert not ok
    assert "messages over 65536 bytes are DROPPED by the broker" in line
    assert "ingest accepts up to 1048576" in line
    line, ok = broker_limit(conf, 65536)
    assert ok and "passes every message ingest accepts" in line


def test_included_files_and_packet_limits_count_and_zero_means_no_limit(tmp_path: Path) -> None:
    extra = tmp_path / "conf.d"
    extra.mkdir()
    (extra / "limits.conf").write_text("max_packet_size 70000\n")
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"message_size_limit 0\ninclude_dir {extra}\n")
    line, ok = broker_limit(conf, 69_800)
    assert not ok and f"over {70_000 - PACKET_ROOM} bytes" in line  # room for topic and headers
    (extra / "limits.conf").write_text("# nothing set\n")
    line, ok = broker_limit(conf, 16 * 1024 * 1024)
    assert ok and str(MQTT_MAX_PACKET) in line


def test_the_shipped_broker_configuration_passes_what_ingest_accepts_by_default() -> None:
    conf = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"
    line, ok = broker_limit(conf, Settings().ingest.max_payload_bytes)
    assert ok, line


def test_a_missing_file_is_said(tmp_path: Path) -> None:
    line, ok = broker_limit(tmp_path / "nowhere.conf", 1000)
    assert not ok and "CANNOT BE READ" in line
