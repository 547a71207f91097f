"""One workload under one peer tool, in a fresh process, for ``benchmarks.peers``.

``python -m benchmarks._peer_driver MODE SPEC VARIANT SIZE ITERATIONS WARMUP LIMIT_BYTES`` loads
the scenario as the measuring worker does, runs ``WARMUP`` iterations and then the rest up to
``ITERATIONS``, and prints one JSON line (the verdict and what the output names) — the way each
tool's documentation tells a user to look for a leak:

* ``tracemalloc`` — the "Compute differences" recipe of the ``tracemalloc`` docs:
  ``tracemalloc.start()`` (1 frame), a snapshot before and after the loop,
  ``snapshot2.compare_to(snapshot1, "lineno")`` and its top 10 lines. Judged a leak when the
  net traced growth over the measured iterations reaches ``LIMIT_BYTES`` per iteration; the
  culprit is the top line.
* ``objgraph`` — the growth loop of the objgraph docs: ``objgraph.growth()`` (``show_growth``'s
  data: types whose count passed their previous peak) once after the warm-up and after every
  measured iteration. Judged a leak when one type passes its peak after at least 70 % of the
  measured iterations (a bounded cache stops passing it). It names types, never a holder or a line.
* ``loop`` — just the loop (what ``memray run`` records; see ``benchmarks.peers``).

The loop itself is :func:`measured_loop`, so memray's stacks can be cut to what it ran.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

CONSISTENT = 0.7  # share of measured iterations after which a type must pass its peak (objgraph)


def measured_loop(iterate: Callable[[], object], count: int) -> None:
    """The measured iterations (memray's leak stacks are those that pass through here)."""
    for _ in range(count):
        iterate()


def _tracemalloc(iterate: Callable[[], object], warmup: int, measured: int, limit: int) -> dict[str, Any]:
    import tracemalloc

    tracemalloc.start()
    for _ in range(warmup):
        iterate()
    first = tracemalloc.take_snapshot()
    measured_loop(iterate, measured)
    second = tracemalloc.take_snapshot()
    stats = second.compare_to(first, "lineno")
    growth = sum(s.size_diff for s in stats)
    top = [f"{s.traceback[0].filename}:{s.traceback[0].lineno} {s.size_diff:+d} B" for s in stats[:10]]
    return {"leak": growth >= limit * measured, "growth_bytes": growth, "top": top,
            "culprit_files": [s.traceback[0].filename for s in stats[:1] if s.size_diff > 0]}


def _objgraph(iterate: Callable[[], object], warmup: int, measured: int) -> dict[str, Any]:
    import objgraph

    for _ in range(warmup):
        iterate()
    objgraph.growth(limit=None)  # the peaks after the warm-up
    passed: dict[str, int] = {}
    for _ in range(measured):
        iterate()
        for name, _count, _delta in objgraph.growth(limit=10):
            passed[name] = passed.get(name, 0) + 1
    growing = sorted((n for n, times in passed.items() if times >= CONSISTENT * measured), key=lambda n: -passed[n])
    return {"leak": bool(growing), "growing_types": growing[:10], "culprit_files": []}


def main(argv: list[str]) -> int:
    mode, spec, variant, size, iterations, warmup, limit = argv[0], argv[1], argv[2], argv[3], int(argv[4]), int(argv[5]), int(argv[6])
    from memleak_cli.scenarios.discovery import load_scenario

    scenario = load_scenario(spec)
    iterate = scenario.variant(variant).factory(scenario.sizes[size])
    measured = iterations - warmup
    if mode == "tracemalloc":
        result = _tracemalloc(iterate, warmup, measured, limit)
    elif mode == "objgraph":
        result = _objgraph(iterate, warmup, measured)
    elif mode == "loop":
        for _ in range(warmup):
            iterate()
        measured_loop(iterate, measured)
        result = {}
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
