"""The one namespace, as a user installs it: a wheel built from the repository puts only
``saltwatch`` into site-packages, with the designed folders, the dashboard and the bundled
registry, rules and catalogues of words inside it, and its command line runs from there."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]


def build_wheel(out: Path) -> Path:
    subprocess.run(
        [*PIP_WHEEL, "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("saltwatch-*.whl")
    return wheel


def test_a_wheel_installs_only_saltwatch_and_runs_from_there(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {
        "saltwatch",
        f"{wheel.stem.rsplit('-', 3)[0]}.dist-info",
    }
    for inside in (
        "saltwatch/core/codec.py",
        "saltwatch/mqtt/connection.py",
        "saltwatch/alerts/store.py",
        "saltwatch/api/static/index.html",
        "saltwatch/config/rules.toml",
        "saltwatch/config/registry.toml",
        "saltwatch/config/text/vi.toml",
        "saltwatch/config/text/en.toml",
        "saltwatch/cli.py",
    ):
        assert inside in names, inside
    assert not [n for n in names if n.startswith("saltwatch/saltwatch")]
    assert len([n for n in names if n.endswith(".py")]) > 100

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]); import saltwatch, saltwatch.core.rules as r;"
        "assert saltwatch.__file__.startswith(sys.argv[1]), saltwatch.__file__;"
        "assert r.load_rules().salinity;"
        "from saltwatch.alerts.wording import FIRING; assert FIRING['nodata'][0];"
        "sys.argv = ['saltwatch', '--help'];"
        "from saltwatch.cli import main; main()"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe, str(site)],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0, shown.stderr
    assert "demo" in shown.stdout and "serve" in shown.stdout
