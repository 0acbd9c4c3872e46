"""The simulator's other paths (docs/sources.md §6): a device's messages as ChirpStack uplinks,
and what a vendor's buoy keeps of them."""

from __future__ import annotations

import orjson

from saltwatch.demo_sources import vendor_items
from saltwatch.sim.lorawan import uplink_topic, uplinks

ITEM = b'{"ts":"2024-02-29T00:01:27.471000+07:00","seq":7,"ec_us_cm":1254.3,"temp_c":29.07}'


def test_each_item_is_one_uplink_with_its_decoded_values_and_a_counter() -> None:
    batch = b"[" + ITEM + b"," + ITEM.replace(b"00:01", b"00:16") + b"]"
    sent = [orjson.loads(u) for u in uplinks("a84041000181c5f1", "VG", batch, 0.0, 41)]
    assert [u["fCnt"] for u in sent] == [41, 42]
    assert sent[0]["time"] == "2024-02-28T17:01:27.471000Z"  # the item's own time, in UTC
    assert sent[0]["object"] == {"ec_us_cm": 1254.3, "temp_c": 29.07}
    assert sent[0]["deviceInfo"]["devEui"] == "a84041000181c5f1"
    assert uplink_topic("a84041000181c5f1").endswith("/device/a84041000181c5f1/event/up")


def test_a_bad_payload_becomes_an_uplink_the_codec_could_not_decode() -> None:
    (sent,) = [orjson.loads(u) for u in uplinks("a8", "VG", b"\xff{not json", 1_709_139_687.0, 1)]
    assert "object" not in sent
    assert sent["time"] == "2024-02-28T17:01:27Z"  # the time it was sent


def test_a_vendor_keeps_time_salinity_and_temperature() -> None:
    assert vendor_items(ITEM) == [(1_709_139_687, {"do_man": 0.573, "nhiet_do": 29.07})]
    assert vendor_items(b"garbage") == []
