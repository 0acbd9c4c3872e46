"""How many open alerts a district engineer sees on the demo's first simulated day.

Starts ``saltwatch demo`` on a fresh data folder, polls the API's alert list for one zone (by
default Gò Công Đông, descendants included) until the simulated clock has run a day, and prints,
for the worst moment and at the end: the open alerts (firing or acknowledged, what the dashboard
lists), the rows the dashboard shows (one per alert group), and whether every critical alert
is still in view as a critical row. Run it on two commits to compare them.

    python -m bench.desk_count [--zone go-cong-dong] [--speed 120] [--hours 24]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.services import free_port


def _get(base: str, path: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers)) as r:
        return json.load(r)


def rows(items: list[dict[str, Any]]) -> dict[str, str]:
    """The dashboard's alert rows: group → its worst severity (a list without groups: one per
    alert). Safe intake windows are notices, listed in a panel of their own, not alert rows."""
    rank = {"critical": 0, "warning": 1, "info": 2}
    shown: dict[str, str] = {}
    for a in items:
        if a["kind"] == "intake_window":
            continue
        group = a.get("group") or a["id"]
        if group not in shown or rank[a["severity"]] < rank[shown[group]]:
            shown[group] = a["severity"]
    return shown


class Seen:
    """One zone's worst moment (most rows), its last, and moments a critical went out of view."""

    def __init__(self) -> None:
        self.worst: tuple[int, int, str] = (0, 0, "")
        self.last: tuple[int, int, str] = (0, 0, "")
        self.lost = 0

    def add(self, listed: list[dict[str, Any]], at: str) -> bool:
        """Count this moment (the open alerts; intake windows are notices in their own panel);
        True when it is the worst so far."""
        items = [
            a
            for a in listed
            if a["state"] in ("firing", "acknowledged") and a["kind"] != "intake_window"
        ]
        shown = rows(items)
        if any(a["severity"] == "critical" for a in items) and "critical" not in shown.values():
            self.lost += 1
        self.last = (len(items), len(shown), at)
        if (self.last[1], self.last[0]) > (self.worst[1], self.worst[0]):
            self.worst = self.last
            return True
        return False


class Phone:
    """The dashboard on a 390x844 phone in a zone: where its last alert row ends (px from the
    top of the page), and a screenshot of the screen."""

    def __init__(self, base: str, token: str) -> None:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only with --phone

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        self.base, self.token = base, token

    def measure(self, zone: str, shot: Path) -> int:
        page = self._browser.new_page(viewport={"width": 390, "height": 844})
        try:
            page.add_init_script(f"localStorage.setItem('sw-zone', {json.dumps(zone)})")
            page.goto(f"{self.base}/#token={self.token}")
            page.wait_for_selector("#alerts > li", timeout=20_000)
            page.wait_for_timeout(500)  # the first refresh's renders
            page.screenshot(path=str(shot))
            return int(page.evaluate(BOTTOM))
        finally:
            page.close()

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()


BOTTOM = (
    "Math.max(...[...document.querySelectorAll('#alerts > li')]"
    ".map((e) => e.getBoundingClientRect().bottom))"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zone", default="go-cong-dong", help="zone ids, comma-separated")
    parser.add_argument("--speed", type=float, default=120.0)
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours to watch")
    parser.add_argument(
        "--phone",
        type=Path,
        default=None,
        help="folder: at each zone's worst moment, open the dashboard on a 390x844 phone, save a "
        "screenshot there and say whether the alert rows fit on the screen",
    )
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        command = [sys.executable, "-m", "saltwatch", "demo", "--data", str(Path(data) / "d")]
        command += ["--reset", "--speed", str(args.speed), "--bind", f"127.0.0.1:{port}"]
        log = Path(data) / "demo.log"  # its banner and logs, read for the viewer token
        with log.open("wb") as out:
            demo = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            token = None
            deadline = time.monotonic() + 300
            while token is None and demo.poll() is None and time.monotonic() < deadline:
                if m := re.search(r"viewer token\s+(\S+)", log.read_text(errors="replace")):
                    token = m.group(1)
                time.sleep(0.5)
            assert token, "the demo printed no viewer token"
            start = datetime.fromisoformat(_get(base, "/health")["now"])
            zones = args.zone.split(",")
            seen = {zone: Seen() for zone in zones}
            phone = Phone(base, token) if args.phone else None
            fits: dict[str, int] = {}
            while True:
                now = datetime.fromisoformat(_get(base, "/health")["now"])
                hours = (now - start).total_seconds() / 3600
                for zone in zones:
                    page = _get(base, f"/api/v1/alerts?zone={zone}&limit=500", token)
                    worse = seen[zone].add(page["items"], f"{hours:.1f} h")
                    if worse and phone is not None:
                        args.phone.mkdir(parents=True, exist_ok=True)
                        fits[zone] = phone.measure(zone, args.phone / f"desk-{zone}-worst.png")
                shown = " ".join(f"{z}: {s.last[0]}/{s.last[1]}" for z, s in seen.items())
                print(f"\r{hours:5.1f} h  open/rows {shown}", end="", flush=True)
                if hours >= args.hours:
                    break
                time.sleep(2.0)
            print()
            for zone, s in seen.items():
                for name, (n, r, at) in (("worst", s.worst), ("end", s.last)):
                    print(f"{zone} {name:5s}: {n} open alerts, {r} dashboard rows (at {at})")
                print(f"{zone}: moments with a critical alert but no critical row: {s.lost}")
                if zone in fits:
                    where = "fit on" if fits[zone] <= 844 else "do NOT fit on"
                    print(
                        f"{zone}: at its worst the alert rows end at {fits[zone]} px: {where} "
                        "a 390x844 screen"
                    )
            if phone is not None:
                phone.close()
        finally:
            demo.terminate()
            demo.wait(30)


if __name__ == "__main__":
    main()
