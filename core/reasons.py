"""Why an item or a message was refused: one code per reason, counted by ``/metrics`` and listed
by the API (docs/interface.md §2)."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    PAYLOAD_TOO_LARGE = "payload_too_large"
    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    TOO_DEEP = "too_deep"
    NOT_FINITE = "not_finite"
    BAD_SHAPE = "bad_shape"
    TOO_MANY_ITEMS = "too_many_items"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    OUT_OF_RANGE = "out_of_range"
    BAD_TIMESTAMP = "bad_timestamp"
    TS_IN_FUTURE = "ts_in_future"
    TS_TOO_OLD = "ts_too_old"
    # judged outside the codec, listed here so every reason has one home
    BAD_TOPIC = "bad_topic"
    UNKNOWN_DEVICE = "unknown_device"
    CONFLICT = "conflict"  # another value for a time the device already has (ingest/conflicts.py)
    RETAINED = "retained"  # a reading the broker kept and gives again at every subscription
    # sources other than a device's own topic (docs/sources.md)
    UNMAPPED = "unmapped"  # a record the source's mapping does not say what to do with
    BAD_UNIT = "bad_unit"  # a unit the mapping's quantity cannot be converted from
    NOT_DECODED = "not_decoded"  # a LoRaWAN uplink the network server did not decode
