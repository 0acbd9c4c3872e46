"""``saltwatch ingest --workers N``: N ingest processes, each handling its own devices
(ingest/partition.py), started and supervised by the command's own process, so that using every
core is one flag.

Each member ``i`` is ``saltwatch ingest --member i`` with its own client id (member 0 keeps
``mqtt.client_id``, the others add ``-<i>``; the same across restarts: its persistent session,
and the messages the broker holds for it, survive a crash) and its own spool folder
``<ingest.spool_path>/member-<i>``. Before the members start, the batches left in spool folders
that no member of this size of fleet drains are moved to member 0's, and the broker is asked to
forget the sessions of members a smaller fleet no longer runs (``prepare_layout``).

A member that dies is started again after a capped backoff; one that exits with status 1 (a
refusal the operator must mend, such as a bad login) stops them all with that status. SIGTERM
or Ctrl-C stop the members cleanly (each makes its open batch durable and acknowledges it).
Pausing the supervisor (SIGSTOP) pauses the members, and SIGCONT resumes them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from saltwatch.core.backoff import Backoff
from saltwatch.core.settings import Settings
from saltwatch.core.store import ReadingStore
from saltwatch.core.topics import READING_KINDS, TopicKind, subscription
from saltwatch.ingest.claims import CLAIMS_FILE, SharedClaims
from saltwatch.ingest.partition import Partition, member_client_id
from saltwatch.ingest.spool import adopt
from saltwatch.mqtt.sessions import end_sessions

log = logging.getLogger("saltwatch.ingest.workers")

DEFAULT_SHARE_GROUP = "saltwatch"  # the share group of the members of earlier versions
PAUSE_POLL_S = 0.02  # how often a member looks whether its supervisor was paused


def member_settings(settings: Settings, member: int) -> Settings:
    """The settings member ``member`` runs with."""
    mqtt = settings.mqtt.model_copy(
        update={"client_id": member_client_id(settings.mqtt.client_id, member)}
    )
    ingest = settings.ingest.model_copy(update={"spool_path": member_spool(settings, member)})
    return settings.model_copy(update={"mqtt": mqtt, "ingest": ingest})


def member_spool(settings: Settings, member: int) -> Path:
    return settings.ingest.spool_path / f"member-{member}"


def earlier_subscriptions(settings: Settings) -> tuple[str, ...]:
    """The shared subscriptions members of earlier versions held in their sessions: unsubscribed
    at connect, or they would bring a second copy of some messages."""
    group = settings.mqtt.share_group or DEFAULT_SHARE_GROUP
    kinds = (*READING_KINDS, TopicKind.STATUS)
    return tuple(subscription(settings.mqtt.topic_prefix, kind, group) for kind in kinds)


def prepare_layout(settings: Settings, claims: SharedClaims, members: int) -> None:
    """Before ingest starts as one process (``members`` 1) or as a fleet: note its size, move
    the spooled batches no one else will drain to the process that will, and end the broker
    sessions of members that no longer run."""
    before = claims.resize(members)
    root = settings.ingest.spool_path
    folders = sorted(p for p in root.glob("member-*") if p.is_dir())
    if members == 1:
        adopt(root, folders)
    else:
        kept = {member_spool(settings, i) for i in range(members)}
        adopt(member_spool(settings, 0), [root, *(p for p in folders if p not in kept)])
    if before > members:
        gone = [member_client_id(settings.mqtt.client_id, i) for i in range(members, before)]
        mqtt = settings.mqtt
        end_sessions(mqtt.url, gone, mqtt.ca_file, mqtt.login_as_client_id)
    if before != members:
        log.warning("ingest runs as %d process(es), before as %d", members, before)


def begin(settings: Settings, history: ReadingStore, members: int) -> None:
    """Before the supervisor starts ``members`` members: the layout (``prepare_layout``) and
    each device's floor in the claims file (ingest/claims.py)."""
    claims = SharedClaims(settings.ingest.spool_path / CLAIMS_FILE)
    try:
        prepare_layout(settings, claims, members)
        claims.begin_fleet(history, settings.ingest.max_future_s)
    finally:
        claims.close()


def join(
    settings: Settings, member: int | None, stop: threading.Event
) -> tuple[Settings, SharedClaims | None, Partition | None]:
    """At the start of member ``member``: its settings, the fleet's claims and its devices; it
    pauses with its supervisor from now on. ``member`` None: ingest runs as one process, and
    first takes over what a fleet left (``as_one_process``)."""
    if member is None:
        as_one_process(settings)
        return settings, None, None
    claims = SharedClaims(settings.ingest.spool_path / CLAIMS_FILE)
    partition = claims.partition(member)
    pause_with_parent(stop)
    return member_settings(settings, member), claims, partition


def as_one_process(settings: Settings) -> None:
    """Before ingest runs in one process (``ingest`` or ``serve``): take over what a fleet of
    ``--workers`` left, if one ran here before."""
    path = settings.ingest.spool_path / CLAIMS_FILE
    if not path.exists():
        return  # never a fleet here
    claims = SharedClaims(path)
    try:
        prepare_layout(settings, claims, 1)
    finally:
        claims.close()


def pause_with_parent(stop: threading.Event) -> None:
    """In a member: stop this process (SIGSTOP) whenever the supervisor is stopped; the
    supervisor's SIGCONT handler continues it. When the supervisor is gone (killed), the member
    ends as on SIGTERM: a member nobody supervises would hold its devices' session for good,
    and the next fleet's member could not take it. A watcher thread, polling."""
    parent = os.getppid()
    stat = Path(f"/proc/{parent}/stat")

    def watch() -> None:
        while not stop.wait(PAUSE_POLL_S):
            try:
                state = stat.read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                state = "gone"
            if state == "gone" or os.getppid() != parent:
                log.warning("the ingest supervisor (pid %d) is gone: this member stops", parent)
                stop.set()
                return
            if state == "T":
                os.kill(os.getpid(), signal.SIGSTOP)

    threading.Thread(target=watch, name="pause-with-supervisor", daemon=True).start()


class Supervisor:
    def __init__(self, workers: int, config: Path | None = None) -> None:
        self._workers = workers
        self._config = config
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self._backoff = {i: Backoff(initial=1.0, cap=30.0) for i in range(workers)}
        self._restart_at: dict[int, float] = {}
        self._started_at: dict[int, float] = {}
        self._stop = threading.Event()
        self.restarts = 0

    def _command(self, member: int) -> list[str]:
        command = [sys.executable, "-m", "saltwatch", "ingest", "--member", str(member)]
        if self._config is not None:
            command += ["--config", str(self._config)]
        return command

    def _start(self, member: int) -> None:
        self._procs[member] = subprocess.Popen(self._command(member))
        self._started_at[member] = time.monotonic()
        log.info("ingest member %d started (pid %d)", member, self._procs[member].pid)

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; returns the exit status."""
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        signal.signal(signal.SIGINT, lambda *_: self._stop.set())
        signal.signal(signal.SIGCONT, lambda *_: self._signal_all(signal.SIGCONT))
        for member in range(self._workers):
            self._start(member)
        status = 0
        while not self._stop.wait(0.2):
            self._revive_paused()
            for member, proc in list(self._procs.items()):
                code = proc.poll()
                if code is None:
                    continue
                if code == 1:
                    log.error("ingest member %d refused to run (status 1): stopping", member)
                    self._stop.set()
                    status = 1
                    break
                self._restart_later(member, code)
            self._restart_due()
        self._signal_all(signal.SIGCONT)  # a paused member could not stop
        self._signal_all(signal.SIGTERM)
        for proc in self._procs.values():
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        return status

    def _restart_later(self, member: int, code: int) -> None:
        if member in self._restart_at:
            return
        if time.monotonic() - self._started_at[member] > 60:
            self._backoff[member].reset()  # it ran well for a while: not a crash loop
        delay = self._backoff[member].next()
        self._restart_at[member] = time.monotonic() + delay
        log.warning("ingest member %d ended (status %d); restarting in %.0f s", member, code, delay)

    def _restart_due(self) -> None:
        now = time.monotonic()
        for member, at in list(self._restart_at.items()):
            if now >= at:
                del self._restart_at[member]
                self.restarts += 1
                self._start(member)

    def _revive_paused(self) -> None:
        """This loop runs, so the supervisor is not paused: neither may a member be. (A member
        that saw the supervisor paused can stop itself just after the supervisor's SIGCONT
        went out, and would stay stopped, holding what it held, for good.)"""
        for proc in self._procs.values():
            try:
                stat = Path(f"/proc/{proc.pid}/stat").read_text()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[0] == "T":
                log.warning("ingest member (pid %d) found stopped: continued", proc.pid)
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGCONT)

    def _signal_all(self, signum: int) -> None:
        for proc in self._procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signum)
