"""Type growth: instance counts per type (objgraph.typestats) before and after the measured iterations."""

from __future__ import annotations

from memleak_cli.report.model import TypeGrowth


def type_counts() -> dict[str, int]:
    """Instance counts of gc-tracked objects by fully qualified type name (objgraph.typestats)."""
    import objgraph

    return dict(objgraph.typestats(shortnames=False))


def type_growth(before: dict[str, int], after: dict[str, int], iterations: int, top: int) -> list[TypeGrowth]:
    """Types whose instance count grew, largest growth first, at most *top* of them.

    ``per_iteration`` divides the growth by *iterations* (at least 1). memleak's own types and
    those of the probes it drives (:data:`memleak_cli.probes.growth.TOOL_PACKAGES`: the worker's
    evidence objects made between the two counts) are left out.
    """
    from memleak_cli.probes.growth import TOOL_PACKAGES

    rows = []
    for name, count in after.items():
        if name.startswith(tuple(f"{package}." for package in TOOL_PACKAGES)):
            continue
        delta = count - before.get(name, 0)
        if delta > 0:
            rows.append(TypeGrowth(name, before.get(name, 0), count, delta, delta / max(iterations, 1)))
    rows.sort(key=lambda r: (-r.delta, r.type_name))
    return rows[:top]
