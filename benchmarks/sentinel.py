"""What the production sentinel costs: its CPU share on a heap of 10^6 objects.

For each interval (default: the sentinel's default 60 s, and 1 s), a fresh process
(``--child``) builds a heap of ``--objects`` live gc-tracked objects (one-element lists and
``__slots__`` instances, as ``benchmarks.scale``), starts ``memleak_cli.sentinel`` with that
interval and sleeps for ``--readings`` intervals while the sentinel works. The CPU share is the
sentinel's own CPU time (``time.thread_time()`` around each reading, as ``memleak_cpu_seconds_total``
exports it) over the wall time, in % of one core; the process's CPU over the same time is shown
beside it. The heap is flat, so no walk is due: this is the steady cost. The cost while a level
grows adds one heap walk every ``walk_every`` (5) intervals: one walk of the same heap is timed
and its share at that spacing printed.

    python -m benchmarks.sentinel                       # 60 s (4 readings, ~3 min) and 1 s
    python -m benchmarks.sentinel --intervals 1 --readings 30
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks._common import machine, machine_line, out_path, write_markdown


class Record:
    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value


heap_root: list[Any] = []


def child(objects: int, interval: float, readings: int) -> dict[str, Any]:
    heap_root.extend([i] if i % 2 else Record(i) for i in range(objects))
    import scipy.stats  # noqa: F401 - imported before timing, as the sentinel's thread does first

    import memleak_cli.sentinel
    from memleak_cli.probes.growth import walk
    from memleak_cli.sentinel.core import SentinelSettings

    wall0, cpu0 = time.monotonic(), time.process_time()
    sentinel = memleak_cli.sentinel.start(interval)
    # the readings at 0, interval, … (readings - 1) × interval, then half an interval for the last
    time.sleep((readings - 0.5) * interval)
    status = sentinel.status()
    sentinel.stop()
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    began = time.thread_time()
    heap = walk()
    walk_cpu = time.thread_time() - began
    walk_every = SentinelSettings.walk_every
    return {
        "objects": objects,
        "gc_objects": int(status.levels.get("gc_objects", 0)),
        "interval": interval,
        "readings": status.samples,
        "wall_seconds": round(wall, 3),
        "sentinel_cpu_seconds": round(status.cpu_seconds, 4),
        "cpu_share_percent": round(100 * status.cpu_seconds / wall, 3),
        "cpu_per_reading_ms": round(1000 * status.cpu_seconds / max(status.samples, 1), 1),
        "process_cpu_share_percent": round(100 * cpu / wall, 3),
        "verdict": status.verdict,
        "walk_seconds": round(heap.seconds, 3),
        "walk_cpu_seconds": round(walk_cpu, 3),
        "walk_share_percent": round(100 * walk_cpu / (walk_every * interval), 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--intervals", type=float, nargs="+", default=[60.0, 1.0])
    parser.add_argument("--readings", type=int, default=0, help="readings per interval [default: 4 at ≥ 10 s, else 30]")
    parser.add_argument("--json", default=None)
    parser.add_argument("--child", nargs=3, metavar=("OBJECTS", "INTERVAL", "READINGS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(int(args.child[0]), float(args.child[1]), int(args.child[2]))))
        return
    console = Console()
    info = machine()
    rows = []
    for interval in args.intervals:
        readings = args.readings or (4 if interval >= 10 else 30)
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.sentinel", "--child", str(args.objects), str(interval), str(readings)],
            capture_output=True, text=True, check=False, timeout=readings * interval + 300,
        )
        if done.returncode != 0:
            rows.append({"interval": interval, "error": done.stderr.strip().splitlines()[-1:]})
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        console.print(f"[dim]{rows[-1]}[/dim]")
    table = Table(title=f"Sentinel CPU share, heap of {args.objects:,} objects — {machine_line(info)}")
    for name in ("interval", "readings", "CPU / reading", "sentinel CPU share", "process CPU share",
                 "walk (when a level grows)", "walk share at 1 per 5 intervals"):
        table.add_column(name)
    for r in rows:
        if "error" in r:
            table.add_row(f"{r['interval']:g}s", "error", str(r["error"]), "", "", "", "")
            continue
        table.add_row(
            f"{r['interval']:g}s", str(r["readings"]), f"{r['cpu_per_reading_ms']} ms",
            f"{r['cpu_share_percent']:.3f} %", f"{r['process_cpu_share_percent']:.3f} %",
            f"{r['walk_seconds']} s ({r['walk_cpu_seconds']} s CPU)", f"{r['walk_share_percent']:.2f} %",
        )
    console.print(table)
    path = out_path("sentinel", args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"benchmark": "sentinel", "machine": info, "rows": rows}, indent=2))
    write_markdown(path.with_suffix(".md"), [table])
    console.print(f"JSON: {path}")


if __name__ == "__main__":
    main()
