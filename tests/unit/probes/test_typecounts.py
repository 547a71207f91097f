"""Type growth between two objgraph counts: memleak's own types never appear."""

from __future__ import annotations

from memleak_cli.probes.typecounts import type_growth


def test_memleak_own_types_are_left_out_of_the_type_growth() -> None:
    before = {"builtins.set": 10, "weakref.ReferenceType": 100}
    after = {
        "builtins.set": 11, "weakref.ReferenceType": 142,
        "memleak_cli.analysis.evidence.MetricEvidence": 8, "memleak_cli.analysis.evidence.Decision": 1,
        "pympler.asizeof._Typedef": 3,
    }
    rows = type_growth(before, after, iterations=18, top=10)
    assert [(r.type_name, r.delta) for r in rows] == [("weakref.ReferenceType", 42), ("builtins.set", 1)]
    assert rows[0].per_iteration == 42 / 18
