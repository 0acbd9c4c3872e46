"""Generated registries for tests and benchmarks: ``count`` devices in one zone."""

from __future__ import annotations

from pathlib import Path

KINDS = ["salinity"] * 14 + ["well"] * 3 + ["tap"] * 3


def device_ids(count: int = 200, kinds: list[str] = KINDS) -> list[tuple[str, str]]:
    return [(f"d{i:03d}", kinds[i % len(kinds)]) for i in range(count)]


def write_registry(path: Path, count: int = 200, kinds: list[str] = KINDS) -> Path:
    lines = ['name = "test"', "", "[[zone]]", 'id = "z"', 'name = "Zone"', 'kind = "province"', ""]
    for ident, kind in device_ids(count, kinds):
        lines += [
            "[[device]]",
            f'id = "{ident}"',
            f'kind = "{kind}"',
            f'name = "{ident}"',
            'zone = "z"',
        ]
        if kind == "salinity":
            lines.append('profile = "river"')
        lines.append("")
    path.write_text("\n".join(lines))
    return path
