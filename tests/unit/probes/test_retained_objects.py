"""find_retained survives what libraries leave on the heap: dead weakref proxies, odd getattr."""

from __future__ import annotations

import weakref

from memleak_cli.probes.allocations import prepare
from memleak_cli.probes.retained import find_retained, mark_heap


class _Target:
    pass


_KEPT: list[object] = []


def test_find_retained_skips_a_dead_proxy_held_by_an_old_list() -> None:
    prepare()  # import the probes' own libraries before the mark, as the worker does
    target = _Target()
    _KEPT.append(weakref.proxy(target))  # a gc-tracked proxy on the heap
    del target  # the proxy is now dead: isinstance(proxy, ...) raises ReferenceError
    mark = mark_heap()
    _KEPT.append({"payload": list(range(100))})
    try:
        retained, retained_bytes, roots = find_retained(mark, top=5)
    finally:
        _KEPT.clear()
    assert roots >= 1
    assert retained[0].type_name == "dict"
    assert retained[0].path == f"{__name__}._KEPT[1]"
    assert retained_bytes > 0


class _KeyErrorOnGetattr:
    """Like numba's IR objects: ``__getattr__`` raises KeyError, so ``hasattr`` raises too."""

    def __init__(self) -> None:
        self.payload = list(range(200))

    def __getattr__(self, name: str) -> object:
        raise KeyError(name)


def test_find_retained_sizes_objects_whose_getattr_raises_keyerror() -> None:
    prepare()
    mark = mark_heap()
    _KEPT.append(_KeyErrorOnGetattr())
    try:
        retained, retained_bytes, roots = find_retained(mark, top=5)
    finally:
        _KEPT.clear()
    top = retained[0]
    assert top.type_name.endswith("_KeyErrorOnGetattr")
    assert top.path == f"{__name__}._KEPT[0]"
    assert retained_bytes >= top.size_bytes > 0
