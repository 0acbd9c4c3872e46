"""The zone and device registry: zones as a tree, devices placed in zones, loaded from TOML.

Zones: a province at the root; legacy districts under it (kept as grouping labels after the 2025
reform); communes and wards under their legacy district; irrigation schemes as zones too. A device
sits in one administrative zone and may also serve other zones (an intake serving a scheme); its
alerts go to each of those zones and all of their ancestors.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from saltwatch.core.errors import ConfigError
from saltwatch.core.topics import ID_PATTERN, TopicKind

Ident = Annotated[str, Field(pattern=f"^{ID_PATTERN.pattern}$")]


class ZoneKind(StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    WARD = "ward"
    SCHEME = "scheme"


class Profile(StrEnum):
    """What the water at a salinity station is used for; selects the default thresholds."""

    RIVER = "river"
    INTAKE = "intake"
    RICE = "rice"
    FRUIT = "fruit"
    DOMESTIC = "domestic"


class StructureKind(StrEnum):
    """What an engineer operates to let water in or keep salt out."""

    SLUICE = "sluice"  # cống
    DAM = "dam"  # đập
    PUMPING_STATION = "pumping_station"  # trạm bơm
    PLANT_INTAKE = "plant_intake"  # a water plant's raw-water intake


_T = TypeVar("_T", "Zone", "River", "Device", "Structure")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Zone(_Model):
    id: Ident
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = None
    kind: ZoneKind
    parent: Ident | None = None
    legacy: bool = False
    formed_from: tuple[str, ...] = ()


class River(_Model):
    id: Ident
    name: str = Field(min_length=1, max_length=200)
    mouth: str | None = None


class Device(_Model):
    id: Ident
    kind: Literal["salinity", "well", "tap", "gate", "hydro"]
    name: str = Field(min_length=1, max_length=200)
    zone: Ident
    also_zones: tuple[Ident, ...] = ()
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    approx_location: bool = False
    interval_s: int = Field(default=900, gt=0)
    #: months (1–12) the device reports in; empty: all year (a dry-season station is silent
    #: outside them, and no no-data alert is raised then)
    active_months: tuple[int, ...] = ()
    # salinity stations
    river: Ident | None = None
    km: float | None = Field(default=None, ge=0, le=500)
    profile: Profile | None = None
    reports: Literal["ec", "ec25", "salinity"] = "salinity"
    # wells
    rated_flow_m3h: float | None = Field(default=None, gt=0)
    hours: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    # taps
    tank_m3: float | None = Field(default=None, gt=0)
    # gate sensors: the structure whose gate it reports
    structure: Ident | None = None

    @model_validator(mode="after")
    def _station_fields(self) -> Device:
        if self.kind == "salinity" and self.profile is None:
            raise ValueError(f"salinity station {self.id!r} needs a profile")
        if self.kind == "gate" and self.structure is None:
            raise ValueError(f"gate sensor {self.id!r} needs a structure")
        return self

    @field_validator("active_months")
    @classmethod
    def _months(cls, months: tuple[int, ...]) -> tuple[int, ...]:
        if any(not 1 <= m <= 12 for m in months):
            raise ValueError("months are 1 to 12")
        return months

    def active_in(self, month: int) -> bool:
        return not self.active_months or month in self.active_months

    @property
    def topic_kind(self) -> TopicKind:
        return TopicKind(self.kind)


class Structure(_Model):
    """A sluice, dam, pumping station or plant intake (docs/domain.md "Structures"): where it
    is, whom it serves, the salinity station(s) that guard it and the limit above which it must
    not stand open (its ``use`` profile's critical level unless ``limit_ppt`` is given)."""

    id: Ident
    kind: StructureKind
    name: str = Field(min_length=1, max_length=200)
    zone: Ident  # the 2025 commune (its former district is its parent zone)
    also_zones: tuple[Ident, ...] = ()  # the schemes it serves
    river: Ident | None = None  # or the canal, as a river of the registry
    km: float | None = Field(default=None, ge=0, le=500)
    guard: Ident  # the salinity station outside (the sea side)
    guard_inside: Ident | None = None  # the station inside, where there is one
    use: Literal[Profile.RICE, Profile.FRUIT, Profile.DOMESTIC]
    limit_ppt: float | None = Field(default=None, gt=0, le=70)
    capacity_m3s: float | None = Field(default=None, gt=0)
    description: str = Field(default="", max_length=500)  # bays, sill, year built


class _RegistryFile(_Model):
    name: str = "registry"
    zone: list[Zone] = []
    river: list[River] = []
    device: list[Device] = []
    structure: list[Structure] = []


class Registry:
    """Validated, indexed registry. Build with ``load_registry`` or ``Registry.from_dict``."""

    def __init__(
        self,
        name: str,
        zones: Iterable[Zone],
        rivers: Iterable[River],
        devices: Iterable[Device],
        structures: Iterable[Structure] = (),
    ) -> None:
        self.name = name
        self.zones = _index(zones, "zone")
        self.rivers = _index(rivers, "river")
        self.devices = _index(devices, "device")
        self.structures = _index(structures, "structure")
        self._children: dict[str, list[str]] = {}
        self._check()

    @classmethod
    def from_dict(cls, data: Mapping[str, object], source: str = "registry") -> Registry:
        try:
            parsed = _RegistryFile.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"{source}: {_describe(exc, data)}") from None
        try:
            return cls(parsed.name, parsed.zone, parsed.river, parsed.device, parsed.structure)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    def _check(self) -> None:
        for zone in self.zones.values():
            if zone.parent is None:
                continue
            if zone.parent not in self.zones:
                raise ConfigError(f"zone {zone.id!r}: unknown parent zone {zone.parent!r}")
            self._children.setdefault(zone.parent, []).append(zone.id)
        for zone_id in self.zones:
            self.ancestors(zone_id)  # raises on a cycle
        for device in self.devices.values():
            if device.id in self.zones:  # its alert topic would be that zone's
                raise ConfigError(
                    f"device {device.id!r}: the id of a zone; a device may not share it (it could "
                    "publish on that zone's alert topic)"
                )
            for zone_id in (device.zone, *device.also_zones):
                if zone_id not in self.zones:
                    raise ConfigError(f"device {device.id!r}: unknown zone {zone_id!r}")
            if device.river is not None and device.river not in self.rivers:
                raise ConfigError(f"device {device.id!r}: unknown river {device.river!r}")
            if device.structure is not None and device.structure not in self.structures:
                raise ConfigError(f"device {device.id!r}: unknown structure {device.structure!r}")
        for structure in self.structures.values():
            self._check_structure(structure)

    def _check_structure(self, structure: Structure) -> None:
        where = f"structure {structure.id!r}"
        for zone_id in (structure.zone, *structure.also_zones):
            if zone_id not in self.zones:
                raise ConfigError(f"{where}: unknown zone {zone_id!r}")
        if structure.river is not None and structure.river not in self.rivers:
            raise ConfigError(f"{where}: unknown river {structure.river!r}")
        for station in (structure.guard, structure.guard_inside):
            found = self.devices.get(station) if station else None
            if station and (found is None or found.kind != "salinity"):
                raise ConfigError(f"{where}: {station!r} is not a salinity station")

    def zone(self, zone_id: str) -> Zone:
        return self.zones[zone_id]

    @property
    def root(self) -> str:
        """The zone at the top (the province): where alerts about SaltWatch itself go."""
        return next((z.id for z in self.zones.values() if z.parent is None), "unassigned")

    def device(self, device_id: str) -> Device | None:
        return self.devices.get(device_id)

    def ancestors(self, zone_id: str) -> list[str]:
        """The zone's ancestors, nearest first (not the zone itself)."""
        chain: list[str] = []
        parent = self.zones[zone_id].parent
        while parent is not None:
            if parent in chain or parent == zone_id:
                raise ConfigError(f"zone {zone_id!r}: the parent chain loops")
            chain.append(parent)
            parent = self.zones[parent].parent
        return chain

    def descendants(self, zone_id: str) -> list[str]:
        """The zone's descendants, breadth first (not the zone itself)."""
        found: list[str] = []
        queue = list(self._children.get(zone_id, ()))
        while queue:
            child = queue.pop(0)
            found.append(child)
            queue.extend(self._children.get(child, ()))
        return found

    def alert_zones(self, device: Device) -> list[str]:
        """Every zone that hears about this device: its zones and all their ancestors, once."""
        return self._with_ancestors((device.zone, *device.also_zones))

    def _with_ancestors(self, zone_ids: Iterable[str]) -> list[str]:
        seen: dict[str, None] = {}
        for zone_id in zone_ids:
            seen[zone_id] = None
            seen.update(dict.fromkeys(self.ancestors(zone_id)))
        return list(seen)

    def devices_of(self, kind: str) -> Iterator[Device]:
        return (d for d in self.devices.values() if d.kind == kind)

    def gate_of(self, structure_id: str) -> Device | None:
        """The sensor that reports the structure's gate, if it has one."""
        return next((d for d in self.devices_of("gate") if d.structure == structure_id), None)

    def structure_zones(self, structure: Structure) -> list[str]:
        """Every zone that hears about the structure: its zones and their ancestors, once."""
        return self._with_ancestors((structure.zone, *structure.also_zones))

    def stations_on(self, river_id: str) -> list[Device]:
        """Salinity stations on a river with a known km, ordered from the mouth upstream."""
        on_river = [
            d for d in self.devices_of("salinity") if d.river == river_id and d.km is not None
        ]
        return sorted(on_river, key=lambda d: d.km or 0.0)


def _index(items: Iterable[_T], what: str) -> dict[str, _T]:
    index: dict[str, _T] = {}
    for item in items:
        if item.id in index:
            raise ConfigError(f"duplicate {what} id {item.id!r}")
        index[item.id] = item
    return index


def _describe(exc: ValidationError, data: Mapping[str, object]) -> str:
    first = exc.errors()[0]
    loc = list(first["loc"])
    where = ".".join(str(p) for p in loc)
    if len(loc) >= 2 and isinstance(loc[1], int):
        table = data.get(str(loc[0]))
        if isinstance(table, list) and loc[1] < len(table) and isinstance(table[loc[1]], dict):
            ident = table[loc[1]].get("id")
            if ident is not None:
                where = f"{loc[0]} {ident!r}" + (
                    "." + ".".join(str(p) for p in loc[2:]) if loc[2:] else ""
                )
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def bundled_registry_path() -> Path:
    return Path(str(resources.files("saltwatch.config").joinpath("registry.toml")))


def load_registry(path: Path | None = None) -> Registry:
    """Load and validate a registry TOML file (the bundled Tiền Giang registry by default)."""
    source = path or bundled_registry_path()
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"registry file not found: {source}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    return Registry.from_dict(data, str(source))
