"""Type sizes: instance counts and shallow sizes of every object by type (pympler ``summary``).

Unlike objgraph's type counts this covers objects the garbage collector does not track (str,
bytes, int, float) and weighs them. It is slow — ``summary.summarize(muppy.get_objects())``
takes ~3 s on a heap of 2x10^5 gc-tracked objects (3.6x10^5 objects in all) on this project's
2-core machine — so it runs only around the attribution window, never per iteration.
"""

from __future__ import annotations

from memleak_cli.report.model import TypeSize

# Types of the probes' own bookkeeping (pympler's asizeof caches its type definitions).
_TOOL_TYPES = ("pympler.", "memleak_cli.", "objgraph.", "tracemalloc.")


def type_summary() -> dict[str, list[int]]:
    """``{type name: [instance count, total shallow size in bytes]}`` of every object reachable
    from the gc-tracked ones (``pympler.summary.summarize(muppy.get_objects())``)."""
    from pympler import muppy, summary

    objects = muppy.get_objects()
    try:
        return {str(name): [int(count), int(size)] for name, count, size in summary.summarize(objects)}
    finally:
        del objects


def type_size_diff(before: dict[str, list[int]], after: dict[str, list[int]], top: int) -> list[TypeSize]:
    """Types that grew in size or count between two :func:`type_summary` results, largest size
    growth first, at most *top* of them; the probes' own types (pympler, objgraph, tracemalloc,
    memleak) are left out."""
    rows = []
    for name, (count, size) in after.items():
        if name.startswith(_TOOL_TYPES):
            continue
        old_count, old_size = before.get(name, (0, 0))
        if size > old_size or count > old_count:
            rows.append(TypeSize(name, count - old_count, size - old_size))
    rows.sort(key=lambda r: (-r.size_delta_bytes, -r.count_delta, r.type_name))
    return rows[:top]
