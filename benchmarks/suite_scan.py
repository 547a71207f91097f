"""``pytest --memleak`` over a real third-party test suite: what it finds and what it costs.

``python -m benchmarks.suite_scan [--package iniconfig==2.3.1] [--tests testing] [--memleak 2:10]``
downloads the package's sdist (``pip download --no-binary :all: --no-deps``; its tests ship in
it), runs its test folder twice in child processes against the installed package — a plain
``pytest`` and ``pytest --memleak --memleak-calls W:N --memleak-json`` (``-p memleak_cli.pytest_plugin`` when not installed) — and prints
one JSON object: tests judged, the verdict counts, the leaking and retaining tests with their
reasons, both wall times and their ratio. The findings are printed as measured.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path


def _sdist(package: str, into: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-q", "-d", str(into), package], check=True)
    archive = next(into.glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return next(p for p in into.iterdir() if p.is_dir())


def _pytest(folder: Path, tests: str, extra: list[str]) -> tuple[float, int, str]:
    began = time.perf_counter()
    # -p no:cacheprovider: nothing written into the sdist; rootdir the sdist, its conftest applies
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", tests, *extra],
                          cwd=folder, capture_output=True, text=True)
    return time.perf_counter() - began, done.returncode, done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="iniconfig==2.3.1")
    parser.add_argument("--tests", default="testing")
    parser.add_argument("--memleak", default="2:10")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="memleak-suite-") as tmp:
        folder = _sdist(args.package, Path(tmp))
        plain_seconds, plain_code, plain_out = _pytest(folder, args.tests, [])
        report = Path(tmp) / "session.json"
        import importlib.metadata

        # the installed package registers the plugin already; a second -p would be refused
        installed = any(ep.value == "memleak_cli.pytest_plugin" for ep in importlib.metadata.entry_points(group="pytest11"))
        load = [] if installed else ["-p", "memleak_cli.pytest_plugin"]
        leak_seconds, leak_code, leak_out = _pytest(folder, args.tests, [*load, "--memleak", f"--memleak-calls={args.memleak}", "--memleak-json", str(report)])
        from memleak_cli.report.jsonio import read_report

        results = read_report(report).scenarios if report.exists() else []
    verdicts: dict[str, int] = {}
    found = []
    for scenario in results:
        variant = scenario.variants[0]
        verdicts[variant.verdict] = verdicts.get(variant.verdict, 0) + 1
        if variant.verdict != "CLEAN":
            found.append({"test": scenario.name, "verdict": variant.verdict, "reason": variant.reason,
                          "holder": variant.holders[0].line() if variant.holders else None, "seconds": round(variant.seconds, 3)})
    print(json.dumps({
        "package": args.package, "memleak": args.memleak, "tests_judged": len(results), "verdicts": verdicts, "not_clean": found,
        "plain": {"seconds": round(plain_seconds, 2), "exit": plain_code, "summary": plain_out.strip().splitlines()[-1:]},
        "memleak_run": {"seconds": round(leak_seconds, 2), "exit": leak_code, "summary": leak_out.strip().splitlines()[-1:],
                        "table": [line for line in leak_out.splitlines() if "tests judged" in line]},
        "time_ratio": round(leak_seconds / plain_seconds, 1) if plain_seconds else None,
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
