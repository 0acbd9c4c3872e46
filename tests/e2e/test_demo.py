"""``saltwatch demo`` as a newcomer runs it: a subprocess on a fresh data folder, nothing else
started (no mosquitto, no influxd): readings and a firing alert through the API within 90 s, a
clean exit on Ctrl-C, and a second run that continues the season."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import ViewportSize, sync_playwright
from pypdf import PdfReader

from harness.services import free_port, wait_until
from tests.conftest import need_binary

pytestmark = pytest.mark.integration
EXE = str(Path(sys.executable).with_name("saltwatch"))
T_START = "2024-03-01T00:00:00+07:00"
ARTIFACTS = Path(os.environ.get("SALTWATCH_TEST_ARTIFACTS", "test-artifacts"))


def start_demo(data: Path, port: int, log: Path, *more: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALTWATCH_")}
    return subprocess.Popen(
        [EXE, "demo", "--data", str(data), "--bind", f"127.0.0.1:{port}", *more],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def get(base: str, path: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(base + path, headers=headers, timeout=5)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def stop_demo(process: subprocess.Popen[bytes], log: Path) -> float:
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(
            "the demo did not stop within 10 s:\n" + log.read_text()[-3000:]
        ) from None
    assert code == 0, log.read_text()[-3000:]
    return time.monotonic() - began


def test_demo_from_nothing_to_an_alert_and_back(tmp_path: Path) -> None:
    data, log, port = tmp_path / "demo", tmp_path / "demo.log", free_port()
    base = f"http://127.0.0.1:{port}"
    began = time.monotonic()
    process = start_demo(data, port, log)
    try:
        wait_until(lambda: get(base, "/health") is not None, 60, "the demo's /health")
        viewer = json.loads((data / "demo.json").read_text())["tokens"]["viewer"]

        def live_reading() -> bool:  # came through the embedded broker, not the history
            stations = get(base, "/api/v1/stations", viewer) or []
            return any(s["latest"] and s["latest"]["ts"] > T_START for s in stations)

        def firing() -> list[Any]:
            page = get(base, "/api/v1/alerts?state=firing", viewer)
            return page["items"] if page else []

        wait_until(live_reading, 90 - (time.monotonic() - began), "a live reading")
        wait_until(lambda: bool(firing()), 90 - (time.monotonic() - began), "a firing alert")
        first_alert = time.monotonic() - began
        health = get(base, "/health")
        assert health["clock_rate"] == 120 and health["now"] > T_START
        assert any(a["kind"] == "salinity" for a in firing())
        # acknowledged under a person's name, not "token-6126"
        operator = json.loads((data / "demo.json").read_text())["tokens"]["operator"]
        salty = next(a for a in firing() if a["kind"] == "salinity")
        acked = httpx.post(
            f"{base}/api/v1/alerts/{salty['id']}/ack",
            headers={"Authorization": f"Bearer {operator}"},
            json={"note": "đã đóng cống"},
            timeout=10,
        )
        assert acked.status_code == 200 and acked.json()["acked_by"] == "lan.nguyen", acked.text
        fronts = get(base, "/api/v1/saltfront", viewer)
        assert fronts and fronts[0]["today"]["km_4ppt"] > 6  # the 4 ‰ line is in the river
        assert fronts[0]["risk"][0]["basis"] == "observed"
        wait_until(
            lambda: any(a["rule"] == "saltfront-risk" for a in firing()), 30, "the risk alert"
        )
        risk = [a for a in firing() if a["rule"] == "saltfront-risk"]
        assert len(risk) == len(fronts)  # one risk alert per river, whatever its level

        def scored() -> dict[str, Any] | None:  # the week of history is hindcast and scored
            forecast = get(base, "/api/v1/forecast/vam-kenh", viewer)
            return forecast if forecast and (forecast["skill"] or {}).get("forecasts") else None

        wait_until(lambda: scored() is not None, 60, "a forecast with its live score")
        skill = (scored() or {})["skill"]
        assert skill["mae_24h"] >= 0 and skill["mae_24h_persistence"] > 0

        # the Gò Công sluices with their gates (the simulator's sensors) and a planned opening
        def gates() -> list[dict[str, Any]]:
            listed = get(base, "/api/v1/structures", viewer) or []
            return [s for s in listed if s["gate"] is not None]

        wait_until(lambda: len(gates()) == 3, 30, "the three gate sensors' states")
        assert {s["id"] for s in gates()} >= {"cong-xuan-hoa", "cong-vam-giong"}
        openings = get(base, "/api/v1/schedules", viewer) or []
        assert any(o["structure"] == "cong-xuan-hoa" and o["by"] == "lan.nguyen" for o in openings)

        # readings by every path: a LoRaWAN uplink, the vendor's cloud, last season's archive
        def sources_of(station: str, start: str, end: str) -> set[str]:
            query = f"start={start}&end={end}".replace("+", "%2B")
            rows = get(base, f"/api/v1/stations/{station}/readings?{query}", viewer) or {}
            return {r["values"].get("source", "mqtt") for r in rows.get("readings", [])}

        recent = (T_START, "2024-03-09T00:00:00+07:00")
        wait_until(lambda: "chirpstack" in sources_of("vam-giong", *recent), 60, "an uplink stored")
        wait_until(
            lambda: "vendor-buoys" in sources_of("phu-phong", *recent), 90, "the vendor polled"
        )
        last_season = ("2023-01-20T00:00:00+07:00", "2023-02-20T00:00:00+07:00")
        assert sources_of("vam-kenh", *last_season) == {"archive"}
        week_ahead(base, viewer)
        banner = log.read_text()
        assert "viewer token" in banner and f"{base}/#token=" in banner
        assert "last season's archive of vam-kenh, imported" in banner
    finally:
        if process.poll() is None:
            stopped_in = stop_demo(process, log)
    print(f"first alert {first_alert:.1f} s after start; stopped in {stopped_in:.1f} s")
    saved = json.loads((data / "demo.json").read_text())
    assert saved["clock_ns"] > 1_709_226_000 * 10**9  # it kept where the season got to

    # a second run continues from there, with the same tokens
    process = start_demo(data, port, log)
    try:
        wait_until(lambda: get(base, "/health") is not None, 60, "the second run's /health")
        assert get(base, "/api/v1/zones", viewer) is not None
        resumed = get(base, "/health")["now"]
        stopped_at = time.strftime(
            "%Y-%m-%dT%H:%M", time.gmtime(saved["clock_ns"] / 1e9 + 7 * 3600)
        )
        assert resumed[:16] >= stopped_at
    finally:
        stop_demo(process, log)


def week_ahead(base: str, viewer: str) -> None:
    """The week ahead, issued in the demo's first minutes: its outlook through the API, and its
    weekly bulletin at a link of its own on a 390 px phone and as a PDF, in both languages."""
    outlook = get(base, "/api/v1/outlook", viewer)
    assert outlook and outlook["stations"], outlook
    tien = next(r for r in outlook["rivers"] if r["river"] == "tien")
    assert len(tien["days"]) == 7 and tien["days"][0]["risk_level"] >= 1
    links = {}
    for lang, heading in (("vi", "Bản tin dự báo xâm nhập mặn"), ("en", "Saltwater intrusion")):
        response = httpx.get(
            f"{base}/api/v1/reports/weekly?lang={lang}",
            headers={"Authorization": f"Bearer {viewer}"},
            timeout=30,
        )
        assert response.status_code == 200 and heading in response.text, response.text[:300]
        assert "Phát hành lúc" in response.text or "Issued at" in response.text  # kept, issued
        links[lang] = base + response.headers["Content-Location"]
        pdf = httpx.get(links[lang] + ".pdf", timeout=60)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        text = " ".join(
            " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split()
        )
        assert heading in text and "Vàm Kênh" in text
        assert "Điều 49" in text or "Article 49" in text
    need_binary("chromium", "chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        phone = browser.new_page(viewport=ViewportSize(width=390, height=844), is_mobile=True)
        for lang, link in links.items():
            phone.goto(link)
            phone.wait_for_selector("h1", timeout=10_000)
            assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
            assert phone.locator("a.pdf").is_visible()
            phone.screenshot(path=str(ARTIFACTS / f"weekly-{lang}-phone.png"), full_page=True)
        browser.close()


def test_demo_refuses_a_folder_that_is_not_its_own(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("years of work")
    result = subprocess.run(
        [EXE, "demo", "--data", str(tmp_path), "--reset", "--bind", f"127.0.0.1:{free_port()}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and "not a SaltWatch demo folder" in result.stderr
    assert (tmp_path / "thesis.docx").read_text() == "years of work"


def test_the_maintenance_form_saves_after_the_page_was_open_a_while(tmp_path: Path) -> None:
    """The form's default times were set when the page loaded: on the demo's fast clock (and on
    any clock, once the hour turns) its start had passed when it was sent, and saving failed
    with an English message. They are taken again when it is sent. The demo at 1,200x: the
    page stays open until the server's clock is past the window the form first offered."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    need_binary("chromium", "chromium")
    data, log, port = tmp_path / "demo", tmp_path / "demo.log", free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_demo(data, port, log, "--speed", "1200", "--history", "0")  # no past needed
    try:
        wait_until(lambda: get(base, "/health") is not None, 60, "the demo's /health")
        operator = json.loads((data / "demo.json").read_text())["tokens"]["operator"]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{base}/#token={operator}")
            page.wait_for_selector("#stations li", timeout=30_000)
            page.click("#maint-new summary")
            end = page.input_value("#m-end")  # Vietnam time, as the form shows it
            wait_until(
                lambda: get(base, "/health")["now"][:16] > end, 60, "the form's window passing"
            )
            page.select_option("#m-device", "vam-kenh")
            page.fill("#m-reason", "thay cảm biến")
            page.click("#maint-form button[type=submit]")
            page.wait_for_selector("#windows li[data-id]", timeout=10_000)
            assert "thay cảm biến" in page.inner_text("#windows")
            assert page.locator("#m-error").is_hidden()
            browser.close()
    finally:
        stop_demo(process, log)
