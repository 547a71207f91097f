"""Tiny scenarios with known behaviour, for integration tests of the engine.

``GROWING`` keeps one 4096-byte bytearray in a one-element list per iteration in a
module-level list: +1 gc object (the list), +4 Python heap blocks (list, its item array, the
bytearray and its buffer) and ~4.2 KiB per iteration. ``FLAT`` makes the same
garbage and keeps nothing. ``LATEST`` keeps only the latest 64 KiB payload (bounded retention).
``CRASHING`` raises on its third iteration.
"""

from __future__ import annotations

from typing import Any

from memleak_cli.scenario import Scenario, Variant

PAYLOAD_BYTES = 4096
kept: list[Any] = []


class Holder:
    latest: Any = None


holder = Holder()


def _growing(size: Any) -> Any:
    def iteration() -> None:
        kept.append([bytearray(PAYLOAD_BYTES)])

    return iteration


def _flat(size: Any) -> Any:
    def iteration() -> None:
        garbage = [{"payload": bytearray(PAYLOAD_BYTES)} for _ in range(10)]
        del garbage

    return iteration


def _latest(size: Any) -> Any:
    def iteration() -> None:
        holder.latest = {"rows": [bytearray(1024) for _ in range(64)]}

    return iteration


def _crashing(size: Any) -> Any:
    calls = {"n": 0}

    def iteration() -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("boom on the third iteration")

    return iteration


def _scenario(name: str, factory: Any, expect: str) -> Scenario:
    return Scenario(
        name=name,
        description=f"synthetic {name}",
        finding="",
        variants={"leaky": Variant("leaky", factory, expect=expect)},  # type: ignore[arg-type]
        module=__name__,
    )


GROWING = _scenario("growing", _growing, "LEAK")
FLAT = _scenario("flat", _flat, "CLEAN")
LATEST = _scenario("latest", _latest, "RETAINS")
CRASHING = _scenario("crashing", _crashing, "CLEAN")
LEAKS_BUT_EXPECTED_CLEAN = _scenario("leaks-but-expected-clean", _growing, "CLEAN")
