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


def check_setup(settings: Settings, registry: Registry) -> Iterator[tuple[str, bool]]:
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
