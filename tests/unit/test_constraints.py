"""constraints.txt pins what the checks passed with (scripts/setup.sh installs within it), so a
fresh CI machine tests the versions the last run tested, not a release that came out since: a
new ruff or mypy finds new faults, a new Starlette already warns that its test client's httpx is
going away. These tests keep the pins whole and in force."""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for written in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        pin = written.split("#", 1)[0].strip()
        if not pin:
            continue
        name, sep, pinned = pin.partition("==")
        assert sep and pinned and " " not in name, f"not a name==version pin: {written!r}"
        key = canonicalize_name(name)
        assert key not in pins, f"{name} pinned twice"
        pins[key] = pinned
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        found += [Requirement(r) for r in extra]
    return [r for r in found if r.marker is None or r.marker.evaluate()]


def test_every_dependency_is_pinned_within_its_declared_range() -> None:
    pins = _pins()
    for req in _declared():
        key = canonicalize_name(req.name)
        assert key in pins, f"{req.name} is declared in pyproject.toml but not pinned"
        assert req.specifier.contains(pins[key], prereleases=True), (
            f"{req.name}=={pins[key]} is outside pyproject.toml's {req.specifier}"
        )


def test_the_environment_the_checks_run_in_is_the_pinned_one() -> None:
    """scripts/setup.sh installs with ``-c constraints.txt``: what runs is what is pinned."""
    pins = _pins()
    for req in _declared():
        try:
            installed = version(req.name)
        except PackageNotFoundError as missing:  # setup.sh installs every one
            raise AssertionError(
                f"{req.name} is not installed: run ./scripts/setup.sh test"
            ) from missing
        pinned = pins[canonicalize_name(req.name)]
        assert installed == pinned, f"{req.name} {installed} runs, constraints.txt pins {pinned}"
