"""The bare loop for the overhead benchmark: a scenario variant's iterations and nothing else.

``python -m benchmarks._bare_loop SPEC VARIANT SIZE ITERATIONS EXTRA`` loads the scenario as the
measuring worker does, builds the variant with the same factory and size profile, runs
``ITERATIONS`` iterations and then ``EXTRA`` more (the attribution window's share of a memleak
run), with no probe, no sample and no ``gc.collect()``. Prints one JSON line: seconds spent in
the factory, after ``ITERATIONS`` iterations and after all of them, and of each of the first ``ITERATIONS`` (``time.perf_counter``).
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    spec, variant, size, iterations, extra = argv[0], argv[1], argv[2], int(argv[3]), int(argv[4])
    from memleak_cli.scenarios.discovery import load_scenario

    started = time.perf_counter()
    scenario = load_scenario(spec)
    iterate = scenario.variant(variant).factory(scenario.sizes[size])
    built = time.perf_counter()
    seconds = []
    for _ in range(iterations):
        began = time.perf_counter()
        iterate()
        seconds.append(time.perf_counter() - began)
    after_n = time.perf_counter()
    for _ in range(extra):
        iterate()
    done = time.perf_counter()
    print(json.dumps({"factory_seconds": built - started, "loop_seconds": after_n - built, "loop_all_seconds": done - built,
                      "iterations": iterations, "extra": extra, "iteration_seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
