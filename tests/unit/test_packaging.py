"""The installed distribution: memleak's packages, the built-in scenarios as memleak_scenarios,
and no top-level ``scenarios`` package to clash with a user's own."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "memleak_cli").rglob("__init__.py")
    } | {"memleak_scenarios"}
    assert listed == folders


@pytest.mark.slow
def test_the_wheel_has_no_top_level_scenarios_package(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("memleak-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names if "/" in name and ".dist-info" not in name}
    assert tops == {"memleak_cli", "memleak_scenarios"}
    assert "memleak_scenarios/optuna_study.py" in names
    assert "memleak_cli/templates/report.html" in names
    assert not any(name.startswith("scenarios/") for name in names)
