"""Sluices on a real broker: ``saltwatch serve`` hears a gate sensor and the guard station over
MQTT, takes an operator's entry through the API, and alerts a gate open to salt."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import orjson
import pytest

from harness.mqtt_tools import Collector, Publisher
from harness.services import MosquittoServer, free_port, wait_until
from tests.integration.ingest_helpers import serve_process

pytestmark = pytest.mark.integration
TOKENS = [
    {"name": "lan.nguyen", "role": "operator", "token": "operator-token-0123456789"},
    {"name": "admin", "role": "admin", "token": "admin-token-0123456789abc"},
]
OPERATOR = {"Authorization": "Bearer operator-token-0123456789"}
ADMIN = {"Authorization": "Bearer admin-token-0123456789abc"}


def test_a_gate_opened_into_salt_alerts_at_once_and_resolves_when_it_closes(
    mosquitto: MosquittoServer, tmp_path: Path, topic_prefix: str
) -> None:
    port = free_port()
    env = {
        "SALTWATCH_MQTT__URL": mosquitto.url,
        "SALTWATCH_MQTT__TOPIC_PREFIX": topic_prefix,
        "SALTWATCH_STORE__URL": f"sqlite:///{tmp_path}/readings.db",
        "SALTWATCH_STATE__PATH": str(tmp_path / "state.db"),
        "SALTWATCH_INGEST__SPOOL_PATH": str(tmp_path / "spool"),
        "SALTWATCH_API__BIND": f"127.0.0.1:{port}",
        "SALTWATCH_API__TOKENS": orjson.dumps(TOKENS).decode(),
    }
    base = f"http://127.0.0.1:{port}"
    process = serve_process(env, tmp_path / "serve.log", base)
    alerts = Collector(mosquitto.url, [f"{topic_prefix}/alerts/xa-binh-ninh"])
    publisher = Publisher(mosquitto.url)
    try:

        def events(state: str) -> list[dict[str, object]]:
            found = [orjson.loads(p) for _, p in alerts.snapshot()]
            return [e for e in found if e["rule"] == "structure-open-salty" and e["state"] == state]

        def structure() -> dict[str, object]:
            listed = httpx.get(f"{base}/api/v1/structures", headers=OPERATOR).json()
            found: dict[str, object] = next(s for s in listed if s["id"] == "cong-xuan-hoa")
            return found

        now = time.time()
        salty = orjson.dumps({"ts": now - 30, "ec25_us_cm": 2600.0})  # about 1.35 ‰
        publisher.publish_all([(f"{topic_prefix}/salinity/xuan-hoa", salty)])
        wait_until(lambda: structure()["guard"]["ppt"] is not None, 10, "the guard reading")  # type: ignore[index]
        assert not events("firing")
        opened = orjson.dumps({"ts": time.time(), "state": "open", "opening_pct": 100.0})
        publisher.publish_all([(f"{topic_prefix}/gate/gate-xuan-hoa", opened)])
        sent = time.monotonic()
        wait_until(lambda: bool(events("firing")), 5, "the critical alert")
        took = time.monotonic() - sent
        assert took < 2.0, f"the alert came {took:.2f} s after the later message"
        (firing,) = events("firing")
        assert firing["severity"] == "critical" and firing["zone"] == "xa-binh-ninh"
        listed = structure()
        assert listed["open_to_salt"] and listed["gate"]["source"] == "sensor"  # type: ignore[index]

        # an operator closes it from the phone: recorded under the token's name, alert resolved
        closed = httpx.post(
            f"{base}/api/v1/structures/cong-xuan-hoa/operations",
            json={"state": "closed", "note": "đóng cống"},
            headers=OPERATOR,
        )
        assert closed.status_code == 200, closed.text
        body = closed.json()
        assert body["gate"]["source"] == "operator" and body["gate"]["by"] == "lan.nguyen"
        assert not body["open_to_salt"]
        wait_until(lambda: bool(events("resolved")), 5, "the alert resolved")
        assert len(events("firing")) == 1  # one alert, not one per message
        audit = httpx.get(f"{base}/api/v1/audit", headers=ADMIN).json()["items"]
        entry = next(a for a in audit if a["action"] == "structure.operate")
        assert (entry["actor"], entry["target"]) == ("lan.nguyen", "cong-xuan-hoa")
        assert "closed" in entry["detail"]
        history = httpx.get(
            f"{base}/api/v1/structures/cong-xuan-hoa/history", headers=OPERATOR
        ).json()
        assert [(h["state"], h["source"]) for h in history] == [
            ("closed", "operator"),
            ("open", "sensor"),
        ]
        # a state that is not one of the three is refused; an unknown structure is a 404
        refused = httpx.post(
            f"{base}/api/v1/structures/cong-xuan-hoa/operations",
            json={"state": "ajar"},
            headers=OPERATOR,
        )
        assert refused.status_code == 422
        unknown = httpx.post(
            f"{base}/api/v1/structures/nowhere/operations", json={"state": "open"}, headers=ADMIN
        )
        assert unknown.status_code == 404
    finally:
        publisher.close()
        alerts.close()
        process.terminate()
        process.wait(15)
