"""The dashboard in a real browser (Debian's chromium driven by Playwright) on a system fed by
the simulator: it shows a firing alert, acknowledges it, and sees the state change."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from playwright.sync_api import Dialog, sync_playwright

from tests.conftest import need_binary
from tests.services import MosquittoServer, free_port, wait_until

pytestmark = pytest.mark.integration
OPERATOR = "dashboard-operator-token-01"
ARTIFACTS = Path(os.environ.get("SALTWATCH_TEST_ARTIFACTS", "test-artifacts"))
EXE = str(Path(sys.executable).with_name("saltwatch"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def fed_system(mosquitto: MosquittoServer, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "SALTWATCH_MQTT__URL": mosquitto.url,
        "SALTWATCH_STORE__URL": f"sqlite:///{tmp_path}/readings.db",
        "SALTWATCH_STATE__PATH": str(tmp_path / "state.db"),
        "SALTWATCH_INGEST__SPOOL_PATH": str(tmp_path / "spool"),
        "SALTWATCH_API__BIND": f"127.0.0.1:{port}",
        "SALTWATCH_API__TOKENS": orjson.dumps(
            [{"role": "operator", "token": OPERATOR, "name": "lan.nguyen"}]
        ).decode(),
    }
    serve = subprocess.Popen(
        [EXE, "serve"],
        env=env,
        stdout=(tmp_path / "serve.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(base), 30, "saltwatch serve")
        sim = subprocess.run(
            [
                EXE,
                "sim",
                "--from",
                "2024-03-12T06:00:00+07:00",
                "--to",
                "2024-03-12T18:00:00+07:00",
                "--interval",
                "15m",
                "--faults",
                "0",
                "--shift-to-now",
            ],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert sim.returncode == 0, sim.stderr.decode()[-500:]
        yield base
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(20)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_dashboard_shows_and_acknowledges_an_alert(fed_system: str) -> None:
    need_binary("chromium", "chromium")
    base = fed_system
    headers = {"Authorization": f"Bearer {OPERATOR}"}
    wait_until(
        lambda: (
            httpx.get(f"{base}/api/v1/alerts", params={"state": "firing"}, headers=headers).json()[
                "total"
            ]
            > 0
        ),
        30,
        "a firing alert",
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(f"{base}/#token={OPERATOR}")
        page.wait_for_selector("#alerts li.critical button.ack", timeout=20_000)
        page.wait_for_selector("#map circle", timeout=10_000)
        page.wait_for_selector("#chart path", timeout=10_000)
        page.screenshot(path=str(ARTIFACTS / "dashboard-overview.png"), full_page=True)
        assert "Cảnh báo đang mở" in page.inner_text("#alerts-panel h2")
        first = page.locator("#alerts li.critical").first
        alert_id = first.get_attribute("data-id")

        def answer(dialog: Dialog) -> None:  # the note asked for on acknowledging
            dialog.accept("đã đóng cống")

        page.on("dialog", answer)
        first.locator("button.ack").click()
        page.wait_for_selector(f'#alerts li.acknowledged[data-id="{alert_id}"]', timeout=10_000)
        assert "lan.nguyen" in page.inner_text(f'#alerts li[data-id="{alert_id}"]')
        page.click("#lang")
        assert page.inner_text("#alerts-panel h2") == "Open alerts"
        # the token of the link is kept for this tab only (no one asked to be remembered)
        assert page.evaluate("localStorage.getItem('sw-token')") is None
        assert page.evaluate("sessionStorage.getItem('sw-token')") == OPERATOR
        # the server out of reach: a banner says so, rather than old figures looking live
        assert page.locator("#offline").is_hidden()
        page.route("**/api/v1/**", lambda route: route.abort())
        page.evaluate("refresh().catch(() => null)")
        page.wait_for_selector("#offline", state="visible", timeout=5_000)
        assert "Connection lost" in page.inner_text("#offline")
        page.unroute("**/api/v1/**")
        page.evaluate("refresh().catch(() => null)")
        page.wait_for_selector("#offline", state="hidden", timeout=10_000)
        browser.close()
    alerts = httpx.get(
        f"{base}/api/v1/alerts", params={"state": "acknowledged"}, headers=headers
    ).json()["items"]
    acked = [(a["acked_by"], a["acked_note"]) for a in alerts if a["id"] == alert_id]
    assert acked == [("lan.nguyen", "đã đóng cống")]  # who: the token's name
