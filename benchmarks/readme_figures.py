"""Re-measure every time in the README's Quick start, with its date and load.

    python -m benchmarks.readme_figures                 # all: installs, the main job, the tests
    python -m benchmarks.readme_figures --skip tests    # leave out a step (repeatable)
    python -m benchmarks.readme_figures --others        # also run accuracy, overhead and scale

Each step runs as the README says, in a fresh virtual environment under a temporary folder
(pip's download cache is kept, as on a machine that has installed Python packages before; a
first-ever install also downloads). It prints the figures as markdown lines to paste into the
README, and writes them to reports/benchmarks/readme_figures.json. CPU is the user + system time
of the step's processes (``resource.getrusage(RUSAGE_CHILDREN)``); the load is the 1-minute
load average before and after the step.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import REPORT_DIR, machine, machine_line

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("light-install", "scenarios-install", "main-job", "test-install", "tests")


def _measure(name: str, argv: list[str], cwd: Path) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]
    step = {
        "step": name,
        "command": " ".join(argv),
        "exit_code": done.returncode,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "last_line": tail[0],
    }
    print(f"{name}: {step['wall_seconds']} s wall, {step['cpu_seconds']} s CPU, load "
          f"{step['load_before']}–{step['load_after']}, exit {done.returncode}: {tail[0]}", flush=True)
    return step


def _clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def measure(skip: set[str], others: bool) -> dict[str, Any]:
    info = machine()
    steps: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="memleak-figures-") as tmp:
        light, full, test = Path(tmp) / "light", Path(tmp) / "full", Path(tmp) / "test"
        py = "python3"  # as the README says
        plan: list[tuple[str, list[list[str]], Path]] = [
            ("light-install", [[py, "-m", "venv", str(light)], [str(light / "bin/pip"), "install", "-q", str(ROOT)]], ROOT),
            ("scenarios-install", [[py, "-m", "venv", str(full)], [str(full / "bin/pip"), "install", "-q", f"{ROOT}[scenarios]"]], ROOT),
            ("main-job", [[str(full / "bin/memleak"), "run", "optuna", "--iterations", "20", "--json", str(Path(tmp) / "optuna.json")]], Path(tmp)),
            ("test-install", [[py, "-m", "venv", str(test)], [str(test / "bin/pip"), "install", "-q", "-e", f"{ROOT}[test]"]], ROOT),
            ("tests", [[str(test / "bin/python"), "-m", "pytest", "-q", "-n", "auto", "-p", "no:cacheprovider"]], ROOT),
        ]
        for name, commands, cwd in plan:
            if name in skip or (name == "main-job" and "scenarios-install" in skip) or (name == "tests" and "test-install" in skip):
                continue
            parts = [_measure(name, argv, cwd) for argv in commands]
            steps.append({
                "step": name,
                "commands": [p["command"] for p in parts],
                "exit_code": max(p["exit_code"] for p in parts),
                "wall_seconds": round(sum(p["wall_seconds"] for p in parts), 1),
                "cpu_seconds": round(sum(p["cpu_seconds"] for p in parts), 1),
                "load_before": parts[0]["load_before"],
                "load_after": parts[-1]["load_after"],
            })
    if others:
        for script in ("accuracy", "overhead", "scale"):
            _measure(f"benchmarks.{script}", [sys.executable, "-m", f"benchmarks.{script}"], ROOT)
    return {"machine": info, "steps": steps}


def markdown(result: dict[str, Any]) -> str:
    words = {
        "light-install": "light install (`pip install .`)",
        "scenarios-install": "install with the `scenarios` extra",
        "main-job": "`memleak run optuna --iterations 20` (both variants)",
        "test-install": "install with the `test` extra (editable)",
        "tests": "the test command `pytest -q -n auto`",
    }
    lines = ["| step | wall | CPU | load (1 min, before–after) |", "|---|---|---|---|"]
    for s in result["steps"]:
        failed = "" if s["exit_code"] == 0 else f" (exit {s['exit_code']})"
        lines.append(f"| {words[s['step']]}{failed} | {_clock(s['wall_seconds'])} | "
                     f"{_clock(s['cpu_seconds'])} | {s['load_before']}–{s['load_after']} |")
    lines.append("")
    lines.append(f"Measured on {machine_line(result['machine'])}.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", action="append", default=[], choices=STEPS, help="leave out a step")
    parser.add_argument("--others", action="store_true", help="also run benchmarks.accuracy, overhead and scale")
    args = parser.parse_args(argv)
    result = measure(set(args.skip), args.others)
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "readme_figures.json").write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(markdown(result))
    return 0 if all(s["exit_code"] == 0 for s in result["steps"]) else 1


if __name__ == "__main__":
    sys.exit(main())
