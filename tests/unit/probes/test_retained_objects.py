"""find_retained survives what libraries leave on the heap: dead weakref proxies, odd getattr."""

from __future__ import annotations

import weakref

import pytest

from memleak_cli.probes.allocations import prepare
from memleak_cli.probes.retained import find_retained, mark_heap
from tests.synthetic_scenarios import NativeModel


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


# --- untracked containers: the retained search looks inside them -----------------------------


@pytest.fixture
def service_module():
    import sys
    import types

    module = types.ModuleType("fake_retaining_service")
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def _window_around(iterate, iterations=3, frames=0):
    from memleak_cli.measure.window import AttributionWindow

    with AttributionWindow(frames=frames, top=5) as window:
        iterate()  # priming
        window.mark()
        for _ in range(iterations):
            iterate()
        return window.finish(iterations)


def test_a_blob_in_an_untracked_instance_dict_is_retained_and_named(service_module):
    import gc

    class Holder:
        pass

    holder = Holder()
    vars(holder)  # the instance dict exists, holding only atomic values: the collector untracks it
    service_module.holder = holder

    def iterate():
        holder.latest = bytes(64 * 1024)

    iterate()
    assert gc.is_tracked(vars(holder)) is False
    found = _window_around(iterate)
    assert found.retained_roots == 1
    assert found.retained[0].type_name == "bytes" and found.retained[0].size_bytes >= 64 * 1024
    assert found.retained[0].path == "fake_retaining_service.holder.latest"


def test_dicts_of_bytearrays_in_a_bounded_deque_are_retained_with_their_contents(service_module):
    import collections
    import gc

    service_module.recent = collections.deque(maxlen=5)

    def iterate():
        service_module.recent.append({"features": bytearray(16 * 1024)})

    for _ in range(5):
        iterate()
    assert gc.is_tracked(service_module.recent[-1]) is False
    found = _window_around(iterate)
    # the priming run's dict is old; the window's 3 are new and each weighs its 16 KiB bytearray
    assert found.retained_roots == 3
    assert all(r.size_bytes >= 16 * 1024 for r in found.retained)
    assert {r.path for r in found.retained} == {f"fake_retaining_service.recent[{i}]" for i in (2, 3, 4)}


@pytest.mark.parametrize("frames", [0, 5], ids=["untraced", "traced"])
def test_a_kept_latest_native_handle_is_retained_with_the_c_heap_it_pins(service_module, frames):
    pytest.importorskip("psutil").heap_info  # noqa: B018 - glibc's mallinfo2 through psutil
    size = 1024 * 1024
    service_module.latest = None

    def iterate():
        service_module.latest = NativeModel(size)  # the previous one is freed: nothing grows

    iterate()
    found = _window_around(iterate, frames=frames)
    assert found.retained_roots == 1
    root = found.retained[0]
    assert root.path == "fake_retaining_service.latest"
    assert root.handle == "c_void_p"
    assert root.size_bytes < 4096  # pympler sizes the Python handle only
    # the 1 MiB behind the handle, give or take a page: the window subtracts the Python heap's
    # share (traced growth, or untraced the roots' 1.2 KiB); the mapping adds a header
    # traced, tracemalloc's own entries for the window's allocations (their malloc overhead is more
    # than get_tracemalloc_memory() counts) add up to two pages: 1 MiB + 4.1 KiB seen on a large heap
    assert size - 4096 <= root.native_bytes == found.retained_native_bytes <= size + 8192


def test_a_kept_latest_object_without_a_handle_pins_no_native_memory(service_module):
    service_module.latest = None

    def iterate():
        service_module.latest = {"rows": [bytes(1024) for _ in range(64)]}

    iterate()
    found = _window_around(iterate)
    assert found.retained_roots == 1 and found.retained[0].handle is None
    assert found.retained[0].native_bytes is None and found.retained_native_bytes is None


def test_a_context_variable_set_in_each_iteration_retains_nothing(service_module):
    import contextvars

    service_module.state = contextvars.ContextVar("state")

    def iterate():
        service_module.state.set([0.0])  # numpy's errstate sets a new value each time: a new hamt

    iterate()
    found = _window_around(iterate)
    assert found.retained_roots == 0 and found.retained == []


def test_two_handle_roots_share_the_c_heap_without_a_split(service_module):
    import ctypes

    service_module.latest = service_module.other = None

    def iterate():
        service_module.latest = NativeModel(256 * 1024)
        service_module.other = [ctypes.c_void_p(12345)]  # a handle to nothing

    iterate()
    found = _window_around(iterate)
    assert sorted(r.handle or "" for r in found.retained) == ["c_void_p", "c_void_p"]
    assert 256 * 1024 - 4096 <= found.retained_native_bytes <= 256 * 1024 + 4096
    # which of the two holds the C heap cannot be read from it: no root is given a share
    assert [r.native_bytes for r in found.retained] == [None, None]


class _Hostile:
    """Raises SystemExit from every attribute but its ``__dict__`` (pympler's probes included)."""

    def __init__(self):
        self.blob = bytes(64 * 1024)

    def __getattribute__(self, name):
        if name == "__dict__":
            return object.__getattribute__(self, name)
        raise SystemExit(f"no {name}")


def test_a_kept_object_whose_attributes_raise_system_exit_is_still_sized(service_module):
    service_module.latest = None

    def iterate():
        service_module.latest = _Hostile()

    iterate()
    found = _window_around(iterate)  # did not raise: the measuring process would have ended
    assert found.retained_roots == 1
    assert found.retained[0].path == "fake_retaining_service.latest"
    assert found.retained[0].size_bytes > 0
