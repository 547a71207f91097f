"""reference_chain: shortest path from a module global, found one heap scan per level."""

from __future__ import annotations

from memleak_cli.probes.refchain import path_of, reference_chain


class _Holder:
    def __init__(self) -> None:
        self.items: dict[str, list[object]] = {}


HOLDER = _Holder()
SHORTCUT: list[object] = []


def test_chain_reads_like_code_from_the_module_global() -> None:
    target = {"payload": 1}
    HOLDER.items["run1"] = [target]
    try:
        chain = reference_chain(target)
        assert chain[-1] is target
        assert path_of(chain) == f"{__name__}.HOLDER.items['run1'][0]"
    finally:
        HOLDER.items.clear()


def test_the_shortest_of_two_paths_wins() -> None:
    target = {"payload": 2}
    HOLDER.items["deep"] = [target]
    SHORTCUT.append(target)
    try:
        assert path_of(reference_chain(target)) == f"{__name__}.SHORTCUT[0]"
    finally:
        HOLDER.items.clear()
        SHORTCUT.clear()


def test_ignored_holders_are_not_hops() -> None:
    target = {"payload": 3}
    SHORTCUT.append(target)
    try:
        assert reference_chain(target, ignore=(SHORTCUT,)) == [target]
    finally:
        SHORTCUT.clear()


def test_an_object_no_module_reaches_gives_itself_alone() -> None:
    target = {"payload": 4}
    assert reference_chain(target) == [target]


def test_max_depth_bounds_the_search() -> None:
    target = {"payload": 5}
    # module → module dict → HOLDER → its __dict__ → items → list → target: 6 hops
    HOLDER.items["run1"] = [target]
    try:
        assert reference_chain(target, max_depth=5) == [target]
        assert len(reference_chain(target, max_depth=6)) == 7
    finally:
        HOLDER.items.clear()
