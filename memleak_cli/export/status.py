"""One moment of a watched process, as plain data: levels, growth per hour, verdict, growing path.

The sentinel and ``memleak watch --serve`` each build a :class:`MemoryStatus` at every interval
and swap it in whole; the exporter only reads the latest one, so a scrape never sees half an
update and never waits for a sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Verdicts, as the ``memleak_verdict`` gauge encodes them (alert on ``memleak_verdict >= 2``).
VERDICT_CODES = {"UNKNOWN": -1, "CLEAN": 0, "SUSPECT": 1, "LEAK": 2}


@dataclass(frozen=True)
class PathGrowth:
    """A reference path whose object count rose at every heap walk (the growth detector), its
    growth per hour between the first and the last walk, and what it held at the last."""

    path: str
    fingerprint: str
    leaf: str
    objects_per_hour: float
    bytes_per_hour: float
    held: int
    held_bytes: int

    def line(self) -> str:
        """``app.HISTORY[*] +3600 dict/h (+12.0 MiB/h), 41 held (2.1 MiB), fingerprint 1a2b…``."""
        from memleak_cli.units import format_bytes, format_count

        kind = self.leaf.split(" ", 1)[0] if self.leaf else "object"
        return (
            f"{self.path} {format_count(round(self.objects_per_hour), signed=True)} {kind}/h "
            f"({format_bytes(self.bytes_per_hour, signed=True)}/h), {self.held} held "
            f"({format_bytes(self.held_bytes)}), fingerprint {self.fingerprint}"
        )


@dataclass(frozen=True)
class MemoryStatus:
    """The latest reading of a watched process and what was concluded from the series so far.

    ``levels`` maps a metric (``tree_rss_bytes``, ``gc_objects``… see
    :data:`memleak_cli.export.prometheus.LEVELS`) to its last value; a metric not measured is
    absent. ``growth_per_hour`` maps a metric to its Theil–Sen slope per hour over the recent
    window. ``verdict`` is ``UNKNOWN`` (too few readings), ``CLEAN``, ``SUSPECT`` (a level grows;
    no growing reference path named yet, or none can be: native memory) or ``LEAK`` (a path
    grows). ``cpu_seconds`` is the watcher's own CPU time; ``walks``/``walk_seconds`` the heap
    walks made and the last one's duration.
    """

    source: str
    verdict: str = "UNKNOWN"
    reason: str = ""
    seconds: float = 0.0
    samples: int = 0
    levels: dict[str, float] = field(default_factory=dict)
    growth_per_hour: dict[str, float] = field(default_factory=dict)
    growing: PathGrowth | None = None
    walks: int = 0
    walk_seconds: float | None = None
    cpu_seconds: float = 0.0

    @property
    def verdict_code(self) -> int:
        """The verdict as the ``memleak_verdict`` gauge encodes it."""
        return VERDICT_CODES.get(self.verdict, -1)
