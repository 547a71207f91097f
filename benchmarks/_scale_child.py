"""One probe on one heap size, for the scale benchmark, in its own process.

``python -m benchmarks._scale_child OBJECTS PROBE FRAMES`` builds a heap of ``OBJECTS`` live
gc-tracked objects (one-element lists and ``__slots__`` instances, alternating, each holding an
int), then runs one probe the way the measuring worker runs it around a small workload that
keeps 1 000 new objects per iteration (and drops 1 000 more):

* ``sample`` — one ``take_sample`` (``gc.collect()``, psutil, ``len(gc.get_objects())``);
* ``tracemalloc`` — memleak's way: tracing starts after the heap exists (frames ``FRAMES``),
  priming iteration, snapshot, iteration, snapshot, ``diff_sites``;
* ``tracemalloc-whole-heap`` — tracing on while the heap is built (as a tool that traces from
  the start would), then the same snapshot + iteration + snapshot + diff;
* ``typestats`` — ``type_counts()`` (objgraph.typestats), iteration, ``type_counts()``, ``type_growth``;
* ``retained`` — ``mark_heap()``, iteration, ``find_retained(top=10)`` (roots, pympler sizes,
  objgraph reference chains);
* ``growth-walk`` — the heap is made a module global (a walk starts from modules), then
  ``growth.walk()``, iteration, ``walk()``, ``growing_paths`` (each walk's seconds in ``found``).

Peak memory is the kernel's high-water mark: the process resets it (``5`` into
``/proc/self/clear_refs``) just before the probe and reads ``VmHWM`` after. Prints one JSON line.
"""

from __future__ import annotations

import gc
import json
import re
import sys
import time
from typing import Any


class Record:
    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value


kept: list[Any] = []
heap_root: list[Any] = []  # the growth-walk probe hangs the heap here: walks start from modules


def iteration() -> None:
    """The workload around the probe: keeps 1 000 new lists, drops 1 000 dicts."""
    kept.extend([i] for i in range(1000))
    garbage = [{"i": i, "l": [i]} for i in range(1000)]
    del garbage


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        match = re.search(rf"^{field}:\s+(\d+) kB", handle.read(), re.MULTILINE)
    return int(match.group(1)) if match else -1


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def build_heap(objects: int) -> list[Any]:
    """``objects`` live gc-tracked objects (lists and slotted instances) in one list."""
    return [[i] if i % 2 else Record(i) for i in range(objects - 1)]


def run_probe(probe: str, frames: int) -> dict[str, Any]:
    """Run *probe* once; what it found, as plain data."""
    import tracemalloc

    if probe == "sample":
        from memleak_cli.probes.cheap import take_sample

        iteration()
        return {"gc_objects_seen": take_sample(0, "measure", 0.0).gc_objects}
    if probe in ("tracemalloc", "tracemalloc-whole-heap"):
        from memleak_cli.measure.window import AttributionWindow

        with AttributionWindow(frames=frames, top=10, retained=False) as window:
            iteration()  # the priming iteration
            window.mark()
            iteration()
            found = window.finish(1)
            traces = len(tracemalloc.take_snapshot().traces)
        return {"traced_growth_bytes": found.traced_growth_bytes, "sites": len(found.sites), "traces_in_snapshot": traces}
    if probe == "typestats":
        from memleak_cli.probes.typecounts import type_counts, type_growth

        before = type_counts()
        iteration()
        after = type_counts()
        rows = type_growth(before, after, 1, 10)
        return {"types": len(after), "top_growth": rows[0].type_name if rows else None}
    if probe == "retained":
        from memleak_cli.measure.window import AttributionWindow

        with AttributionWindow(frames=0, top=10, sites=False) as window:
            window.mark()
            iteration()
            found = window.finish(1)
        return {"retained_bytes": found.retained_bytes, "roots": found.retained_roots, "paths": [r.path for r in found.retained[:3]]}
    if probe == "growth-walk":
        from memleak_cli.probes.growth import growing_paths, walk

        walk_before = walk()
        iteration()
        walk_after = walk()
        growing = growing_paths([walk_before, walk_after], [1])
        return {"walk_seconds": [walk_before.seconds, walk_after.seconds], "visited": walk_after.visited, "nodes": len(walk_after.paths),
                "growing": [g.path for g in growing[:3]], "growing_bytes_per_iteration": [g.bytes_per_iteration for g in growing[:3]]}
    raise SystemExit(f"unknown probe {probe!r}")


def main(argv: list[str]) -> int:
    objects, probe, frames = int(argv[0]), argv[1], int(argv[2])
    import tracemalloc

    # import what the probes use before measuring, so the probe's time is the probe's own
    import objgraph  # noqa: F401
    import psutil  # noqa: F401
    from pympler import asizeof  # noqa: F401

    import memleak_cli.probes.allocations  # noqa: F401
    import memleak_cli.probes.cheap  # noqa: F401
    import memleak_cli.probes.growth  # noqa: F401
    import memleak_cli.probes.retained  # noqa: F401

    if probe == "tracemalloc-whole-heap":
        tracemalloc.start(frames)
    started = time.perf_counter()
    heap = build_heap(objects)
    if probe == "growth-walk":
        heap_root.append(heap)
    gc.collect()
    built = time.perf_counter() - started
    live = len(gc.get_objects())
    rss_before = _status_kib("VmRSS") * 1024
    resettable = _reset_peak()
    started = time.perf_counter()
    found = run_probe(probe, frames)
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM") * 1024
    rss_after = _status_kib("VmRSS") * 1024
    print(json.dumps({
        "objects": objects, "probe": probe, "frames": frames, "gc_objects": live, "build_seconds": built,
        "seconds": seconds, "rss_before_bytes": rss_before, "peak_extra_bytes": peak - rss_before if resettable else None,
        "rss_after_extra_bytes": rss_after - rss_before, "found": found,
    }))
    del heap
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
