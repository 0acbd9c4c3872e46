"""``saltwatch check`` assembled: the settings and registry as loaded, whether the store answers,
and whether the spool and alert state folders can be written."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from saltwatch.core.errors import SaltWatchError
from saltwatch.core.registry import Registry
from saltwatch.core.settings import Settings
from saltwatch.core.store import redact_url
from saltwatch.storage.factory import open_reading_store


def check_setup(
    settings: Settings, registry: Registry, broker_config: Path | None = None
) -> Iterator[tuple[str, bool]]:
    """One line per thing checked, each with whether it is as it must be."""
    kinds = Counter(d.kind for d in registry.devices.values())
    yield (
        f"registry {registry.name!r}: {len(registry.zones)} zones, "
        f"{kinds['salinity']} salinity stations, {kinds['well']} wells, {kinds['tap']} taps",
        True,
    )
    store_url = redact_url(settings.store.url)
    try:
        store = open_reading_store(settings.store)
    except SaltWatchError as exc:
        yield f"store {store_url}: cannot open: {exc}", False
        return
    ok = store.ping()
    store.close()
    yield f"store {store_url}: {'answers' if ok else 'DOES NOT ANSWER'}", ok
    for what, folder in (
        ("spool", settings.ingest.spool_path),
        ("alert state", settings.state.path.parent),
    ):
        problem = unwritable(folder)
        yield f"{what} folder {folder}: {problem or 'writable'}", problem is None
    if broker_config is not None:
        yield broker_limit(broker_config, settings.ingest.max_payload_bytes)


#: Mosquitto's own bound on a message when its configuration sets none (MQTT's largest packet)
MQTT_MAX_PACKET = 268_435_455
PACKET_ROOM = 512  # bytes of a PUBLISH packet that are not payload, at most (topic, headers)


def broker_limit(conf: Path, accepted: int) -> tuple[str, bool]:
    """Whether Mosquitto (its configuration file ``conf``, with the files it includes) passes on
    every message ingest accepts. A broker that drops a message over its ``message_size_limit``
    or ``max_packet_size`` still acknowledges it to the device: a reading between its limit and
    ``ingest.max_payload_bytes`` would vanish without a word anywhere."""
    try:
        limits = _size_limits(conf)
    except OSError as exc:
        return f"broker configuration {conf}: CANNOT BE READ ({exc.strerror or exc})", False
    limit = min(limits) if limits else MQTT_MAX_PACKET
    if limit < accepted:
        return (
            f"broker configuration {conf}: messages over {limit} bytes are DROPPED by the broker "
            f"(acknowledged to the device) though ingest accepts up to {accepted} "
            "(ingest.max_payload_bytes): set the broker's limit to at least that, or lower "
            "ingest's",
            False,
        )
    return f"broker configuration {conf}: passes every message ingest accepts ({limit} bytes)", True


def _size_limits(conf: Path) -> list[int]:
    """The message size limits set in ``conf`` and the files its ``include_dir`` names."""
    limits: list[int] = []
    files, seen = [conf], set()
    while files:
        path = files.pop(0)
        if path in seen:
            continue
        seen.add(path)
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) >= 2 and words[0] in ("message_size_limit", "max_packet_size"):
                value = int(words[1]) if words[1].isdigit() else 0
                if value > 0:  # 0: no limit of its own
                    # a packet holds the topic and headers too: leave them room
                    limits.append(value - (PACKET_ROOM if words[0] == "max_packet_size" else 0))
            elif len(words) >= 2 and words[0] == "include_dir":
                files += sorted(Path(words[1]).glob("*.conf"))
    return limits


def unwritable(folder: Path) -> str | None:
    """Why nothing can be durably written in ``folder`` (created if missing), or None."""
    probe = folder / ".saltwatch-check"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with probe.open("wb") as f:
            f.write(b"ok")
            f.flush()
            os.fsync(f.fileno())
        probe.unlink()
    except OSError as exc:
        return f"CANNOT BE WRITTEN ({exc.strerror or exc})"
    return None


def zone_tree(registry: Registry, kind: str | None) -> Iterator[str]:
    """The zones as an indented tree, each with how many devices (of ``kind``) it holds."""

    def lines(zone_id: str, depth: int) -> Iterator[str]:
        zone = registry.zone(zone_id)
        devices = [
            d
            for d in registry.devices.values()
            if d.zone == zone_id and (kind is None or d.kind == kind)
        ]
        count = f"  {len(devices)} devices" if devices else ""
        yield f"{'  ' * depth}{zone.id}  {zone.name}  [{zone.kind.value}]{count}"
        for child in (z.id for z in registry.zones.values() if z.parent == zone_id):
            yield from lines(child, depth + 1)

    for root in (z.id for z in registry.zones.values() if z.parent is None):
        yield from lines(root, 0)
