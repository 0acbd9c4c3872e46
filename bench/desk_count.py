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

from tests.services import free_port


def _get(base: str, path: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers)) as r:
        return json.load(r)


def rows(items: list[dict[str, Any]]) -> dict[str, str]:
    """The dashboard's rows: group → its worst severity (a list without groups: one per alert)."""
    rank = {"critical": 0, "warning": 1, "info": 2}
    shown: dict[str, str] = {}
    for a in items:
        group = a.get("group") or a["id"]
        if group not in shown or rank[a["severity"]] < rank[shown[group]]:
            shown[group] = a["severity"]
    return shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zone", default="go-cong-dong")
    parser.add_argument("--speed", type=float, default=120.0)
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours to watch")
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
            worst: tuple[int, int, dict[str, Any]] = (0, 0, {})
            last: tuple[int, int, dict[str, Any]] = (0, 0, {})
            lost = 0
            while True:
                now = datetime.fromisoformat(_get(base, "/health")["now"])
                page = _get(base, f"/api/v1/alerts?zone={args.zone}&limit=500", token)
                items = [a for a in page["items"] if a["state"] in ("firing", "acknowledged")]
                shown = rows(items)
                criticals = sum(a["severity"] == "critical" for a in items)
                critical_rows = sum(s == "critical" for s in shown.values())
                lost += criticals > 0 and critical_rows == 0
                last = (len(items), len(shown), {"at": now.isoformat(), "critical": criticals})
                if len(shown) > worst[1] or (len(shown) == worst[1] and len(items) > worst[0]):
                    worst = last
                hours = (now - start).total_seconds() / 3600
                print(f"\r{hours:5.1f} h: {len(items)} open, {len(shown)} rows", end="", flush=True)
                if hours >= args.hours:
                    break
                time.sleep(2.0)
            print()
            for name, (n, r, info) in (("worst", worst), ("end", last)):
                print(f"{name:5s}: {n} open alerts, {r} dashboard rows ({info})")
            print(f"moments with a critical alert but no critical row: {lost}")
        finally:
            demo.terminate()
            demo.wait(30)


if __name__ == "__main__":
    main()
