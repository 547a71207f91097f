"""Per-sample cost of ``memleak_cli.probes.cheap.take_sample`` on a realistic heap.

``python -m benchmarks._sample_cost SPEC VARIANT SIZE REPEATS`` builds the variant and runs one
iteration (so its libraries are imported and its heap is warm), then times ``take_sample`` and
its parts ``REPEATS`` times each (``time.perf_counter``). Prints one JSON line: the median
seconds of each, and the gc-tracked object count they ran against.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from collections.abc import Callable


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    spec, variant, size, repeats = argv[0], argv[1], argv[2], int(argv[3])
    import psutil

    from memleak_cli.probes.cheap import take_sample
    from memleak_cli.scenarios.discovery import load_scenario

    scenario = load_scenario(spec)
    iterate = scenario.variant(variant).factory(scenario.sizes[size])
    iterate()
    gc.collect()
    process = psutil.Process()
    parts: dict[str, Callable[[], object]] = {
        "take_sample": lambda: take_sample(0, "measure", 0.0),
        "gc.collect()": gc.collect,
        "len(gc.get_objects())": lambda: len(gc.get_objects()),
        "sys.getallocatedblocks()": sys.getallocatedblocks,
        "psutil memory_info (RSS)": process.memory_info,
        "psutil memory_full_info (USS)": process.memory_full_info,
        "psutil heap_info (C heap)": psutil.heap_info,
        "psutil children(recursive)": lambda: process.children(recursive=True),
    }
    result = {name: _median_seconds(fn, repeats) for name, fn in parts.items()}
    print(json.dumps({"median_seconds": result, "gc_objects": len(gc.get_objects()), "repeats": repeats}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
