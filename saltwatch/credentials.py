"""Device credentials for the broker: a password per device, Mosquitto's password file (its own
PBKDF2-SHA512 ``$7$`` format, as ``mosquitto_passwd`` writes it) and the ACL that lets each device
publish only below its own id, plus the installers' CSV.

The CSV (mode 0600) is the record of the plain passwords: a second run keeps every password it
holds unless asked to rotate, so re-generating after adding devices does not re-key the field.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import hmac
import io
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from saltwatch.core.errors import BadInputError
from saltwatch.core.registry import Device, Registry
from saltwatch.core.settings import Settings
from saltwatch.core.topics import READING_KINDS, TopicKind
from saltwatch.ingest.partition import member_client_id
from saltwatch.ingest.uplinks import topics_of, uplink_topics

BACKEND_USER = "saltwatch-backend"
READER_PREFIX = "zone-"  # alert-reader accounts: zone-<zone id>
NETWORK_SERVER_PREFIX = "lns-"  # a LoRaWAN network server's account: lns-<source name>
ITERATIONS = 101  # Mosquitto 2.0's own default for $7$
CSV_FIELDS = ("device", "kind", "zone", "username", "password")


@dataclass(frozen=True)
class Login:
    device: str  # the device id, or BACKEND_USER for the backend's account
    kind: str  # salinity | well | tap | backend
    zone: str
    username: str
    password: str


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """``$7$<iterations>$<salt>$<digest>``: PBKDF2-HMAC-SHA512, 12-byte salt, 64-byte digest."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches a ``$7$`` entry (constant-time comparison)."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[1] != "7" or not parts[2].isdigit():
        return False
    try:
        salt = base64.b64decode(parts[3], validate=True)
        expected = base64.b64decode(parts[4], validate=True)
    except ValueError:
        return False
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(parts[2]), len(expected))
    return hmac.compare_digest(digest, expected)


def read_password_file(path: Path) -> dict[str, str]:
    """``username:hash`` lines to a lookup (comments and blank lines skipped)."""
    users: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and ":" in line:
            user, _, encoded = line.partition(":")
            users[user] = encoded
    return users


#: the topic kinds a device may write (docs/interface.md §1): what it measures, and its status
#: the topic kinds a device publishes on: its readings and its status
DEVICE_KINDS = (*(k.value for k in READING_KINDS), TopicKind.STATUS.value)


#: how many ``saltwatch ingest --workers`` members get an account of their own
WORKER_ACCOUNTS = 8


@dataclass(frozen=True)
class Connections:
    """The client ids of SaltWatch's own MQTT connections (``mqtt.client_id`` and
    ``alerts.client_id``): with ``mqtt.login_as_client_id`` each logs in under its client id,
    which the broker's ``use_username_as_clientid`` then binds to that login."""

    ingest: str = "saltwatch-ingest"
    alerts: str = "saltwatch-alerts"

    def readers(self) -> list[str]:
        """Ingest, each of its worker members, and the alerts process's own feed."""
        members = [member_client_id(self.ingest, i) for i in range(1, WORKER_ACCOUNTS)]
        return [self.ingest, *members, self.alerts]

    @property
    def publisher(self) -> str:
        """The alert notifier's connection."""
        return f"{self.alerts}-out"

    def all(self) -> list[str]:
        return [*self.readers(), self.publisher]


def acl_text(
    topic_prefix: str,
    backend_user: str = BACKEND_USER,
    readers: Sequence[str] = (),
    connections: Connections | None = None,
    uplinks: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The ACL; each of ``readers`` (zone ids) gets an account ``zone-<id>`` that reads that
    zone's alert topic alone (alerts are published for every ancestor zone too, so a district's
    reader hears its communes). SaltWatch's own connections get the least they need: ingest and
    the alerts feed read the devices' kinds (and the network servers' uplinks), the notifier
    writes alerts. Each of ``uplinks`` (login → topic filters) is a LoRaWAN network server that
    may publish its uplinks there and nothing else (docs/sources.md)."""
    connections = connections or Connections()
    uplinks = uplinks or {}
    uplink_reads = "".join(
        f"topic read {topic}\n" for topics in uplinks.values() for topic in topics
    )
    server_blocks = "".join(
        f"\n# A LoRaWAN network server: publishes its uplinks, nothing else.\nuser {login}\n"
        + "".join(f"topic write {topic}\n" for topic in topics)
        for login, topics in sorted(uplinks.items())
    )
    zone_blocks = "".join(
        f"\n# Reads the alerts of {zone} only.\nuser {READER_PREFIX}{zone}\n"
        f"topic read {topic_prefix}/alerts/{zone}\n"
        for zone in sorted(readers)
    )
    device_reads = "".join(f"topic read {topic_prefix}/{kind}/+\n" for kind in DEVICE_KINDS)
    device_reads += uplink_reads
    reader_blocks = "".join(f"\nuser {name}\n{device_reads}" for name in connections.readers())
    return (
        "# SaltWatch broker ACL, written by `saltwatch devices credentials`.\n"
        "# Every device publishes its readings and status under its own id (its username), on\n"
        "# these kinds only (never an alert or salt-front topic), and reads nothing.\n"
        + "".join(f"pattern write {topic_prefix}/{kind}/%u\n" for kind in DEVICE_KINDS)
        + "\n"
        "# The backend's own account (one connection; tools), reading and writing everything.\n"
        f"user {backend_user}\n"
        f"topic readwrite {topic_prefix}/#\n"
        + uplink_reads
        + "\n# SaltWatch's connections, each logged in as its client id"
        " (mqtt.login_as_client_id):\n"
        "# ingest, its worker members and the alerts feed read the devices; nothing else.\n"
        + reader_blocks
        + "\n# The alert notifier writes alerts and nothing else.\n"
        f"user {connections.publisher}\n"
        f"topic write {topic_prefix}/alerts/#\n" + zone_blocks + server_blocks
    )


def load_logins(path: Path) -> dict[str, Login]:
    """The installers' CSV of an earlier run, by device; empty when there is none."""
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(CSV_FIELDS) - set(reader.fieldnames or ())
        if missing:
            raise BadInputError(f"{path}: not a credentials CSV (missing {sorted(missing)})")
        return {row["device"]: Login(**{k: row[k] for k in CSV_FIELDS}) for row in reader}


def csv_text(logins: Iterable[Login]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for login in logins:
        writer.writerow([login.device, login.kind, login.zone, login.username, login.password])
    return out.getvalue()


@dataclass
class Outcome:
    logins: list[Login]
    created: list[str]
    rotated: list[str]
    kept: list[str]


def generate(
    devices: Sequence[Device],
    previous: dict[str, Login],
    rotate: bool | Sequence[str] = False,
    backend_user: str = BACKEND_USER,
    readers: Sequence[str] = (),
    network_servers: Sequence[str] = (),
) -> Outcome:
    """A login per device (and the backend): the previous password kept unless rotated
    (``True``: all; a list: those ids). Devices of ``previous`` not in ``devices`` are kept too,
    so generating for a few named devices never drops the others."""
    to_rotate = set(previous) if rotate is True else set(rotate or ())
    wanted: dict[str, tuple[str, str]] = {d.id: (d.kind, d.zone) for d in devices}
    wanted.setdefault(backend_user, ("backend", ""))
    for zone in readers:
        wanted[READER_PREFIX + zone] = ("zone-reader", zone)
    for source in network_servers:
        wanted[NETWORK_SERVER_PREFIX + source] = ("network-server", "")
    outcome = Outcome([], [], [], [])
    for device in sorted(set(previous) | set(wanted)):
        old = previous.get(device)
        if device not in wanted and old is not None:
            outcome.logins.append(old)
            continue
        kind, zone = wanted[device]
        if old is not None and device not in to_rotate:
            outcome.logins.append(Login(device, kind, zone, old.username, old.password))
            outcome.kept.append(device)
            continue
        (outcome.rotated if old is not None else outcome.created).append(device)
        outcome.logins.append(Login(device, kind, zone, device, secrets.token_urlsafe(18)))
    return outcome


def write_files(
    outcome: Outcome,
    folder: Path,
    topic_prefix: str,
    backend_user: str = BACKEND_USER,
    connections: Connections | None = None,
    uplinks: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Path]:
    """``devices.csv`` (0600), ``passwd`` (0640) and ``acl`` for Mosquitto; written whole then
    renamed, so a broker never reads half a file, keeping an existing file's owner. SaltWatch's
    connection accounts share the backend's password (one secret for the backend to keep)."""
    connections = connections or Connections()
    folder.mkdir(parents=True, exist_ok=True)
    backend = next((x for x in outcome.logins if x.username == backend_user), None)
    shared = [(name, backend.password) for name in connections.all()] if backend else []
    entries = [(x.username, x.password) for x in outcome.logins] + shared
    acl = acl_text(topic_prefix, backend_user, _readers(outcome), connections, uplinks)
    files = {
        "csv": (folder / "devices.csv", csv_text(outcome.logins), 0o600),
        "passwd": (
            folder / "passwd",
            "".join(f"{user}:{hash_password(password)}\n" for user, password in entries),
            0o640,
        ),
        "acl": (folder / "acl", acl, 0o644),
    }
    for path, text, mode in files.values():
        temporary = path.with_name(f".{path.name}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        if path.exists():  # keep the owner a broker container was given (chown 1883 passwd)
            owner = path.stat()
            with contextlib.suppress(PermissionError):
                os.chown(temporary, owner.st_uid, owner.st_gid)
        os.replace(temporary, path)
    return {name: spec[0] for name, spec in files.items()}


def _readers(outcome: Outcome) -> list[str]:
    return [x.zone for x in outcome.logins if x.kind == "zone-reader"]


def issue(
    settings: Settings,
    registry: Registry,
    devices: Sequence[str],
    out: Path,
    rotate: bool,
    zone_readers: Sequence[str] | None,
) -> tuple[str, str]:
    """``saltwatch devices credentials`` assembled: the logins of ``devices`` (all when empty)
    written into ``out``; the CSV of the devices named (or created), and the summary line. An
    unknown device or zone raises ValueError."""
    unknown = sorted(set(devices) - set(registry.devices))
    if unknown:
        raise ValueError(f"not in the registry: {', '.join(unknown[:10])}")
    zones = sorted(set(zone_readers or ()))
    servers = {s.name: topics_of(s) for s in settings.sources if uplink_topics([s])}
    if set(zones) - set(registry.zones):
        missing = ", ".join(sorted(set(zones) - set(registry.zones)))
        raise ValueError(f"--zone-reader: no such zone: {missing}")
    chosen = [registry.devices[d] for d in devices] if devices else list(registry.devices.values())
    previous = load_logins(out / "devices.csv")
    again = [d.id for d in chosen] if rotate and devices else rotate
    outcome = generate(chosen, previous, again, readers=zones, network_servers=sorted(servers))
    connections = Connections(settings.mqtt.client_id, settings.alerts.client_id)
    uplinks = {NETWORK_SERVER_PREFIX + name: topics for name, topics in servers.items()}
    paths = write_files(
        outcome, out, settings.mqtt.topic_prefix, connections=connections, uplinks=uplinks
    )
    shown = {d.id for d in chosen} if devices else {x.device for x in outcome.logins}
    summary = (
        f"{len(outcome.created)} created, {len(outcome.rotated)} rotated, "
        f"{len(outcome.kept)} kept; wrote {paths['passwd']}, {paths['acl']} and {paths['csv']}"
    )
    return csv_text(x for x in outcome.logins if x.device in shown), summary
