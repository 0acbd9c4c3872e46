"""Property-based fuzz of the payload codec: 10,000 generated payloads (100 examples of 100),
from plausible readings to garbage. No exception escapes; every message is either refused whole
with a reason, or each of its items is either a reading or a rejection with a reason; a reading
holds only known fields, inside their bounds, with a finite value."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saltwatch.core.codec import BOUNDS, decode_payload
from saltwatch.core.reasons import Reason
from saltwatch.core.topics import TopicKind

NOW = 1_710_237_600 * 10**9
REASONS = {r.value for r in Reason}
FIELDS = [*BOUNDS, "seq", "running", "open", "fault", "ts", "time", "t", "qc", "unknown"]

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-10, max_value=100),
    st.integers(min_value=-(2**70), max_value=2**70),
)
timestamps = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True),
    st.sampled_from(
        ["2024-03-12T17:00:00+07:00", "2024-03-12 17:00", "yesterday", "", "2024-02-30T00:00Z"]
    ),
    st.just(NOW // 10**9 - 60),
    st.just(NOW // 10**6 - 60_000),
)
scalars = st.one_of(numbers, st.booleans(), st.none(), st.text(max_size=80), timestamps)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
items = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), values, max_size=8)
senml = st.lists(
    st.fixed_dictionaries(
        {"n": st.sampled_from([*BOUNDS, "x", ""])},
        optional={
            "v": numbers,
            "vb": st.booleans(),
            "vs": st.text(max_size=10),
            "t": timestamps,
            "bn": st.text(max_size=10),
            "bt": timestamps,
            "u": st.text(max_size=5),
        },
    ),
    min_size=1,
    max_size=5,
)
documents = st.one_of(items, st.lists(items, max_size=6), senml, values)


def dump(document: Any) -> bytes:
    return json.dumps(document, allow_nan=True).encode()


payloads = st.one_of(
    documents.map(dump),
    st.binary(max_size=200),
    st.tuples(documents.map(dump), st.integers(0, 200)).map(lambda p: p[0][: p[1]]),  # cut short
    st.text(max_size=200).map(str.encode),
    st.integers(1, 80).map(lambda depth: b"[" * depth + b"]" * depth),
)


@settings(
    max_examples=100,  # drawing the nested documents costs about 7 ms a payload
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(payloads, min_size=100, max_size=100), st.sampled_from(list(TopicKind)[:3]))
def test_every_payload_is_judged(batch: list[bytes], kind: TopicKind) -> None:
    for payload in batch:
        result = decode_payload(kind, "vam-kenh", payload, NOW)
        whole = [r for r in result.rejections if r.index is None]
        assert all(r.reason in REASONS for r in result.rejections), result.rejections
        if whole:
            assert len(whole) == 1 and not result.readings and len(result.rejections) == 1
            continue
        indices = [r.index for r in result.rejections if r.index is not None]
        assert len(set(indices)) == len(indices)  # an item is judged once
        assert result.readings or result.rejections  # nothing silently dropped
        for reading in result.readings:
            for name, value in reading.fields.items():
                if name in BOUNDS:
                    low, high = BOUNDS[name]
                    assert isinstance(value, float) and math.isfinite(value)
                    assert low <= value <= high, (name, value)
