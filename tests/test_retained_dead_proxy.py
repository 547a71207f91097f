"""find_retained survives dead weakref proxies on the heap (isinstance() on them raises ReferenceError)."""

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
