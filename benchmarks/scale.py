"""How the cost of memleak's probes grows with the heap: time and peak memory of one
snapshot + diff against the number of live objects.

Each (heap size, probe) pair runs in its own process (``benchmarks._scale_child``): build a heap
of N live gc-tracked objects, then run the probe once around a small workload, as the measuring
worker runs it. Probes: the per-iteration ``sample``; ``tracemalloc`` snapshot + compare as
memleak uses it (tracing starts at the attribution window, so the old heap is not traced) and,
for contrast, with the whole heap traced; objgraph ``typestats`` before/after + diff; and the
retained-object search (``mark_heap`` + ``find_retained``); and the heap-growth walk over named
paths (``growth.walk`` twice + ``growing_paths``). The growth exponent k is the slope
of log(time) against log(N) between the smallest and largest heap: time ∝ N^k.

Run from the repository root::

    python -m benchmarks.scale                        # 10^5, 10^6, 5·10^6 objects
    python -m benchmarks.scale --objects 100000 300000
    python -m benchmarks.scale --objects 100000 1000000 --probes growth-walk

Writes ``reports/benchmarks/scale.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks._common import machine, machine_line, out_path, size_text, write_markdown
from memleak_cli.report.jsonio import write_json_atomic
from memleak_cli.settings import RunSettings

PROBES = ("sample", "tracemalloc", "tracemalloc-whole-heap", "typestats", "retained", "growth-walk")


def run_child(objects: int, probe: str, frames: int, timeout: float) -> dict[str, Any]:
    """One probe on one heap size in a fresh process; its JSON line, or ``{"error": ...}``."""
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "benchmarks._scale_child", str(objects), probe, str(frames)],
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"objects": objects, "probe": probe, "error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"objects": objects, "probe": probe, "error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    data = json.loads(done.stdout.strip().splitlines()[-1])
    data["process_seconds"] = time.perf_counter() - started
    return data


def exponent(rows: Sequence[dict[str, Any]]) -> float | None:
    """k in time ∝ N^k between the smallest and the largest heap measured (None with < 2 sizes)."""
    good = sorted((r["objects"], r["seconds"]) for r in rows if "seconds" in r and r["seconds"] > 0)
    if len(good) < 2 or good[0][0] == good[-1][0]:
        return None
    (n1, t1), (n2, t2) = good[0], good[-1]
    return math.log(t2 / t1) / math.log(n2 / n1)


def _count(n: int) -> str:
    exp = int(math.log10(n)) if n > 0 else 0
    mantissa = n / 10**exp
    return f"10^{exp}" if mantissa == 1 else f"{mantissa:g}·10^{exp}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, nargs="+", default=[100_000, 1_000_000, 5_000_000], help="live objects per heap")
    parser.add_argument("--probes", nargs="+", default=list(PROBES), choices=PROBES)
    parser.add_argument("--frames", type=int, default=RunSettings.frames, help=f"tracemalloc frames (default {RunSettings.frames}, memleak's)")
    parser.add_argument("--whole-heap-max", type=int, default=1_000_000,
                        help="largest heap for tracemalloc-whole-heap (default 10^6: its snapshot filter costs minutes per 10^6 traces)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per child (default 1800)")
    parser.add_argument("--out", default=None, help="JSON output (default reports/benchmarks/scale.json)")
    args = parser.parse_args(argv)
    console = Console(width=160)
    info = machine()
    sizes = sorted(set(args.objects))
    rows: list[dict[str, Any]] = []
    for probe in args.probes:
        for n in sizes:
            if probe == "tracemalloc-whole-heap" and n > args.whole_heap_max:
                rows.append({"objects": n, "probe": probe, "skipped": f"above --whole-heap-max {args.whole_heap_max}"})
                continue
            row = run_child(n, probe, args.frames, args.timeout)
            rows.append(row)
            shown = row.get("error") or f"{row['seconds']:.2f} s, peak +{size_text(row['peak_extra_bytes'])}"
            console.print(f"[dim]{probe:<24} {_count(n):>8} objects: {shown}[/dim]")
    table = Table(title=f"Cost of one snapshot + diff against heap size (frames={args.frames}) — {machine_line(info)}", title_justify="left")
    table.add_column("probe")
    for n in sizes:
        table.add_column(f"{_count(n)} objects: time / peak")
    table.add_column("time ∝ N^k")
    exponents = {}
    for probe in args.probes:
        cells = []
        mine = [r for r in rows if r["probe"] == probe]
        for n in sizes:
            row = next(r for r in mine if r["objects"] == n)
            if "skipped" in row:
                cells.append("skipped")
            elif "error" in row:
                cells.append(f"[red]{row['error']}[/red]")
            else:
                cells.append(f"{row['seconds']:.2f} s / +{size_text(row['peak_extra_bytes'])}")
        exponents[probe] = k = exponent(mine)
        table.add_row(probe, *cells, "—" if k is None else f"k = {k:.2f}")
    console.print(table)
    built = {r["objects"]: r for r in rows if "gc_objects" in r}
    note = ("objects = one-element lists and __slots__ instances built by the child; gc-tracked objects in the heap: "
            + ", ".join(f"{_count(n)} → {built[n]['gc_objects']:,}" for n in sizes if n in built)
            + ". peak = kernel high-water RSS during the probe minus RSS before it.")
    console.print(f"[dim]{note}[/dim]")
    path = out_path("scale", args.out)
    write_json_atomic(path, {"benchmark": "scale", "machine": info, "settings": {"objects": sizes, "frames": args.frames, "probes": args.probes,
                                                                               "whole_heap_max": args.whole_heap_max},
                             "rows": rows, "exponents": exponents})
    markdown = write_markdown(path, [table], [note])
    console.print(f"written {path} and {markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
