"""Real mosquitto and influxd for tests and benchmarks: free loopback ports, private folders.

Each server runs from its own temporary config and data folder, is waited for until it answers,
and is stopped (SIGTERM, then SIGKILL) by ``stop``. ``restart`` keeps the data and the port, so
tests can take a broker or a database away and bring it back.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import httpx


class ServiceError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
) -> None:
    """Poll ``check`` until it is true; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def binary(name: str, *extra_dirs: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in extra_dirs:
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return None


class _Process:
    name = "service"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        if self.running:
            return
        self._log = (self.workdir / f"{self.name}.log").open("ab")
        self._proc = subprocess.Popen(
            self.command(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            start_new_session=True,
        )

        def up() -> bool:
            if self._proc is not None and self._proc.poll() is not None:
                raise ServiceError(f"{self.name} exited at start:\n{self.log_tail()}")
            return self.ready()

        wait_until(up, timeout, f"{self.name} to answer")

    def stop(self, timeout: float = 15.0) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(15)
            self._proc = None

    def restart(self, timeout: float = 30.0) -> None:
        self.stop()
        self.start(timeout)

    def log_tail(self, lines: int = 30) -> str:
        path = self.workdir / f"{self.name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def pause(self) -> None:
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGCONT)


class InfluxServer(_Process):
    """influxd 1.x with its own ports (HTTP and RPC) and data folders."""

    name = "influxd"

    def __init__(self, workdir: Path, auth: bool = False) -> None:
        super().__init__(workdir)
        self.port = free_port()
        self.rpc_port = free_port()
        self.auth = auth
        self.config = workdir / "influxdb.conf"
        data = workdir / "data"
        self.config.write_text(
            f"""reporting-disabled = true
bind-address = "127.0.0.1:{self.rpc_port}"
[meta]
  dir = "{data}/meta"
[data]
  dir = "{data}/data"
  wal-dir = "{data}/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "10s"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
  auth-enabled = {"true" if auth else "false"}
[continuous_queries]
  enabled = false
"""
        )

    def command(self) -> list[str]:
        exe = binary("influxd", "/usr/bin")
        if exe is None:
            raise ServiceError("influxd not found: install the Debian package 'influxdb'")
        return [exe, "-config", str(self.config)]

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def store_url(self, database: str, credentials: str = "") -> str:
        auth = f"{credentials}@" if credentials else ""
        return f"influxdb://{auth}127.0.0.1:{self.port}/{database}"

    def ready(self) -> bool:
        try:
            return httpx.get(self.http_url + "/ping", timeout=1).status_code == 204
        except httpx.HTTPError:
            return False

    def query(self, q: str, database: str | None = None) -> httpx.Response:
        params = {"q": q, **({"db": database} if database else {})}
        return httpx.post(self.http_url + "/query", params=params, timeout=10)


class MosquittoServer(_Process):
    """mosquitto 2.x on a free loopback port; persistence on, no per-client queue limit."""

    name = "mosquitto"

    def __init__(
        self,
        workdir: Path,
        password_file: Path | None = None,
        acl_file: Path | None = None,
        extra: str = "",
    ) -> None:
        super().__init__(workdir)
        self.port = free_port()
        self.config = workdir / "mosquitto.conf"
        auth = (
            f"allow_anonymous false\npassword_file {password_file}\n"
            if password_file
            else "allow_anonymous true\n"
        )
        if acl_file:
            auth += f"acl_file {acl_file}\n"
        persist = workdir / "persist"
        persist.mkdir(exist_ok=True)
        self.config.write_text(
            # as root, mosquitto would switch to the 'mosquitto' user and fail to write our folder
            f"""user {getpass.getuser()}
listener {self.port} 127.0.0.1
{auth}persistence true
persistence_location {persist}/
autosave_interval 1
max_queued_messages 0
max_inflight_messages 10000
log_dest stdout
log_type error
log_type warning
{extra}
"""
        )

    def command(self) -> list[str]:
        exe = binary("mosquitto", "/usr/sbin")
        if exe is None:
            raise ServiceError("mosquitto not found: install the Debian package 'mosquitto'")
        return [exe, "-c", str(self.config)]

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False


def tls_listener(workdir: Path) -> tuple[Path, str]:
    """A private CA and a certificate for 127.0.0.1 in ``workdir``: the CA file, and the
    mosquitto lines of a TLS listener on a free port (``extra`` of ``MosquittoServer``)."""
    import trustme  # noqa: PLC0415 - test extra

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, cert_file, key_file = workdir / "ca.pem", workdir / "cert.pem", workdir / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    port = free_port()
    listener = f"listener {port} 127.0.0.1\ncertfile {cert_file}\nkeyfile {key_file}\n"
    return ca_file, listener
