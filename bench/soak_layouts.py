"""The system under test of the chaos soak (bench/soak.py), in either process layout:

- ``serve``: one ``saltwatch serve`` (ingest, alerts, API); the crash fault SIGKILLs it;
- ``split``: ``saltwatch ingest --workers N``, ``saltwatch alerts`` and ``saltwatch api``, as a
  deployment that uses every core runs them; the crash fault SIGKILLs one ingest member (its
  supervisor starts it again) and the alerts process (started again here).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from bench._common import cpu_seconds, peak_rss_mb
from harness.services import wait_until

EXE = str(Path(sys.executable).with_name("saltwatch"))


class Layout:
    """Processes that can be crashed and started again; their peak RSS and CPU recorded."""

    name = ""

    def __init__(self, env: dict[str, str], folder: Path, base: str) -> None:
        self.env, self.folder, self.base = env, folder, base
        self.stats: list[tuple[str, float, float]] = []  # (process, peak RSS MB, CPU s)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def _spawn(self, name: str, *args: str) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [EXE, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def _record(self, name: str, pid: int) -> None:
        self.stats.append((name, peak_rss_mb(pid), cpu_seconds(pid)))

    def _kill(self, name: str) -> None:
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            self._record(name, proc.pid)
            proc.kill()
            proc.wait(15)

    def start(self) -> None: ...

    def crash(self) -> None: ...

    def ticks(self) -> float | None:
        """Scheduled alert evaluations finished, where the alert engine's metrics are served
        (None: they are not, wait for quiet instead)."""
        return None

    def stop(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is None:
                for pid in _children(proc.pid):
                    self._record(f"{name} member", pid)
                self._record(name, proc.pid)
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            proc.wait(60)


class Serve(Layout):
    name = "serve"

    def start(self) -> None:
        self._spawn("serve", "serve")
        wait_until(self.healthy, 60, "saltwatch serve")

    def crash(self) -> None:
        self._kill("serve")
        self.start()

    def ticks(self) -> float | None:
        for line in httpx.get(f"{self.base}/metrics", timeout=5).text.splitlines():
            if line.startswith("saltwatch_alert_tick_seconds_count"):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


class Split(Layout):
    name = "split"

    def __init__(self, env: dict[str, str], folder: Path, base: str, workers: int) -> None:
        super().__init__(env, folder, base)
        self.workers = workers

    def start(self) -> None:
        self._spawn("ingest", "ingest", "--workers", str(self.workers))
        self._spawn("alerts", "alerts")
        self._spawn("api", "api")
        wait_until(self.healthy, 60, "saltwatch api")
        log = self.folder / "ingest.log"
        wait_until(
            lambda: log.read_text().count("connected to MQTT") >= self.workers,
            60,
            "the ingest members",
        )

    def crash(self) -> None:
        members = _children(self.procs["ingest"].pid)
        if members:
            self._record("ingest member", members[0])
            with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                os.kill(members[0], signal.SIGKILL)
        self._kill("alerts")
        self._spawn("alerts", "alerts")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
