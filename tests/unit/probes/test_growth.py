"""Heap growth over named reference paths (memleak_cli.probes.growth).

Each test builds a fake service module in ``sys.modules`` from source (so its classes belong to
``fake_server`` in every process), runs a workload between walks and checks the exact path,
counts and sizes. Most walks are limited to the fake module (``modules=``) to stay fast; the
tests about memleak's own objects and about a leak-free workload walk the whole heap.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from memleak_cli.probes.growth import HeapWalk, detect_growth, growing_paths, walk
from memleak_cli.report.model import GrowingPath

ROOT = Path(__file__).resolve().parents[3]  # the repository

FAKE_SERVER = """
import collections


class Service:
    registry = []

    def __init__(self):
        self.history = []
        self.recent = collections.deque(maxlen=4)
        self.cache = {}
        self.sessions = []


class Session:
    def __init__(self):
        self.log = []


class Point:
    __slots__ = ("x", "__secret")

    def __init__(self, x):
        self.x = x
        self.__secret = [x]


def make_handler():
    seen = []

    def handle(item):
        seen.append(item)

    return handle


svc = Service()
point = Point(bytes(64))
handler = make_handler()
config = {"threshold": 0.5, "labels": ["a", "b"]}
by_id = {1: b"one", 2: b"two"}
"""

Maker = Callable[..., Any]  # returns the module: Any, as tests give it attributes


@pytest.fixture
def fake_module() -> Iterator[Maker]:
    """Make a module from source in ``sys.modules``; removed at the end of the test."""
    made: list[str] = []

    def make(name: str = "fake_server", source: str = FAKE_SERVER) -> Any:
        module = types.ModuleType(name)
        sys.modules[name] = module
        made.append(name)
        exec(source, module.__dict__)  # noqa: S102 - the test's own source
        del module.__dict__["__builtins__"]
        return module

    yield make
    for name in made:
        sys.modules.pop(name, None)


def _walks(iterate: Callable[[], object], gaps: list[int], **options: object) -> list[HeapWalk]:
    """A walk, then for each gap that many iterations and a walk."""
    walks = [walk(**options)]  # type: ignore[arg-type]
    for gap in gaps:
        for _ in range(gap):
            iterate()
        walks.append(walk(**options))  # type: ignore[arg-type]
    return walks


# --- what is reported ------------------------------------------------------------------------


def test_a_history_of_untracked_dicts_is_the_one_growing_path(fake_module: Maker) -> None:
    server = fake_module()

    def iterate() -> None:
        server.svc.history.append({"features": bytes(1600), "predictions": bytes(400)})

    found = detect_growth(iterate, groups=3, per_group=4, warmup=1)

    # the point: the collector does not track these dicts, and they are found all the same
    assert gc.is_tracked(server.svc.history[0]) is False
    element = (
        sys.getsizeof(server.svc.history[0])
        + sys.getsizeof(bytes(1600))
        + sys.getsizeof(bytes(400))
    )
    assert [g.path for g in found] == ["fake_server.svc.history[*]"]
    leak = found[0]
    assert leak.counts == [1, 5, 9, 13]
    assert leak.held == len(server.svc.history) == 13
    assert leak.objects_per_iteration == 1.0
    assert leak.bytes_per_iteration == element
    assert leak.held_bytes == 13 * element
    assert leak.leaf == "dict → {'features': bytes 1.6 KiB, 'predictions': bytes 433 B}"
    assert len(leak.fingerprint) == 16 and int(leak.fingerprint, 16) >= 0


def test_a_growing_list_of_native_handles_names_its_handle(fake_module: Maker) -> None:
    import ctypes

    server = fake_module()

    class Booster:  # LightGBM's Booster holds its C++ model as ``_handle``
        def __init__(self) -> None:
            self._handle = ctypes.c_void_p(0)

    def iterate() -> None:
        server.svc.sessions.append(Booster())
        server.svc.history.append({"rows": [1, 2]})  # grows too, holds no handle
        server.svc.cache[len(server.svc.cache)] = ctypes.c_void_p(0)

    found = detect_growth(iterate, groups=2, per_group=2, modules=["fake_server"])

    by_path = {g.path: g for g in found}
    assert by_path["fake_server.svc.sessions[*]"].handle == "c_void_p"
    assert by_path["fake_server.svc.cache[*]"].handle == "c_void_p"  # the element is the handle
    assert by_path["fake_server.svc.history[*]"].handle is None
    assert all(g.native_bytes_each is None for g in found)  # the C heap is the judge's to read


def test_a_deque_of_dicts_grows_until_full_then_is_bounded(fake_module: Maker) -> None:
    server = fake_module()

    def iterate() -> None:
        server.svc.recent.append({"frame": bytearray(256)})

    filling = detect_growth(iterate, groups=3, per_group=1, warmup=0, modules=["fake_server"])
    assert gc.is_tracked(server.svc.recent[0]) is False
    assert [(g.path, g.counts) for g in filling] == [("fake_server.svc.recent[*]", [0, 1, 2, 3])]

    # maxlen is 4: after the warm-up and the first group it is full
    full = detect_growth(iterate, groups=3, per_group=2, warmup=1, modules=["fake_server"])
    assert full == []
    assert len(server.svc.recent) == 4


def test_a_bounded_cache_that_stops_growing_is_not_growing(fake_module: Maker) -> None:
    server = fake_module()
    calls = iter(range(1000))

    def iterate() -> None:
        i = next(calls)
        server.svc.cache[f"key-{i % 3}"] = bytes(100 + i)  # 3 keys, values replaced in place

    walks = _walks(iterate, [2, 2, 2], modules=["fake_server"])
    assert [w.count("fake_server.svc.cache[*]") for w in walks] == [0, 2, 3, 3]
    assert growing_paths(walks, [2, 2, 2]) == []
    assert growing_paths(walks[:3], [2, 2]) == []  # +2 then +1: not at every walk


def test_growth_threshold_edges(fake_module: Maker) -> None:
    server = fake_module()
    calls = iter(range(1000))

    def iterate() -> None:
        if next(calls) % 2 == 0:  # one element every other iteration
            server.svc.history.append(bytes(1000))

    walks = _walks(iterate, [2, 2, 2], modules=["fake_server"])
    path = "fake_server.svc.history[*]"
    assert [w.count(path) for w in walks] == [0, 1, 2, 3]

    # +1 per walk: at one object per iteration, 2 iterations apart is just under the rule …
    assert growing_paths(walks, [2, 2, 2]) == []
    # … 1 iteration apart is exactly at it
    assert [g.path for g in growing_paths(walks, [1, 1, 1])] == [path]
    # the minimum per iteration is configurable: 0.5 per iteration is just reached
    half = growing_paths(walks, [2, 2, 2], min_per_iteration=0.5)
    assert [(g.path, g.objects_per_iteration) for g in half] == [(path, 0.5)]
    assert growing_paths(walks, [2, 2, 2], min_per_iteration=0.51) == []


def test_only_the_topmost_growing_path_is_reported(fake_module: Maker) -> None:
    server = fake_module()

    def iterate() -> None:
        session = server.Session()
        session.log.append({"request": bytes(300)})
        server.svc.sessions.append(session)

    walks = _walks(iterate, [3, 3], modules=["fake_server"])
    for nested in (
        "fake_server.svc.sessions[*].log",
        "fake_server.svc.sessions[*].log[*]",
        "fake_server.svc.sessions[*].log[*]['request']",
    ):
        assert [w.count(nested) for w in walks] == [0, 3, 6]  # growing too, but under the session
    found = growing_paths(walks, [3, 3])
    assert [g.path for g in found] == ["fake_server.svc.sessions[*]"]
    assert found[0].leaf.startswith("Session → {log: list ")


def test_paths_are_ranked_by_bytes_per_iteration(fake_module: Maker) -> None:
    server = fake_module()

    def iterate() -> None:
        server.svc.history.append(bytes(100))
        server.Service.registry.append(bytes(5000))

    found = detect_growth(iterate, groups=2, per_group=2, modules=["fake_server"])
    assert [g.path for g in found] == [
        "fake_server.Service.registry[*]",
        "fake_server.svc.history[*]",
    ]
    assert found[0].bytes_per_iteration == sys.getsizeof(bytes(5000))
    assert found[1].bytes_per_iteration == sys.getsizeof(bytes(100))


# --- fingerprints ----------------------------------------------------------------------------


def registry_leak(seed: str, attribute: str = "registry") -> GrowingPath:
    """A dict keyed by dynamic strings that grows; its growing path (used in a child process too)."""
    module = types.ModuleType("fake_server")
    sys.modules["fake_server"] = module
    try:
        exec(FAKE_SERVER, module.__dict__)  # noqa: S102
        registry: dict[str, object] = {}
        setattr(module, attribute, registry)
        keys = iter(range(1000))

        def iterate() -> None:
            registry[f"{seed}-user-{next(keys)}"] = module.Session()

        found = detect_growth(iterate, groups=2, per_group=2, modules=["fake_server"])
    finally:
        del sys.modules["fake_server"]
    assert [g.path for g in found] == [f"fake_server.{attribute}[*]"]
    return found[0]


def test_fingerprint_is_the_same_across_walks_keys_addresses_and_processes() -> None:
    first, second = registry_leak("alpha"), registry_leak("beta")
    assert first.fingerprint == second.fingerprint
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tests.unit.probes.test_growth import registry_leak; print(registry_leak('gamma').fingerprint)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert child.stdout.strip() == first.fingerprint


def test_fingerprint_differs_for_another_attribute_name() -> None:
    assert (
        registry_leak("alpha", "registry").fingerprint
        != registry_leak("alpha", "sessions_by_user").fingerprint
    )


# --- what the walk names and counts ------------------------------------------------------------


def test_edges_are_named_as_code_would_write_them(fake_module: Maker) -> None:
    server = fake_module()
    server.handler("first")
    result = walk(modules=["fake_server"], threads=False)
    paths = set(result.paths)
    assert {
        "fake_server",
        "fake_server.svc",
        "fake_server.svc.recent",
        "fake_server.point.x",  # __slots__
        "fake_server.point.__secret",  # a private slot, by the name the class gave it
        "fake_server.handler.<closure>.seen[*]",  # closure cell
        "fake_server.config['labels'][*]",  # few identifier keys: named
        "fake_server.by_id[*]",  # int keys: a collection …
        "fake_server.by_id.keys()[*]",  # … and its keys
        "fake_server.Service.registry",  # class attribute
    } <= paths
    assert result.node("fake_server.point.x").shallow_bytes == sys.getsizeof(server.point.x)  # type: ignore[union-attr]
    assert result.node("fake_server.by_id[*]").objects == 2  # type: ignore[union-attr]
    assert result.node("fake_server.svc").children == 4  # type: ignore[union-attr]  # its attributes


def test_an_object_counts_once_on_its_shortest_path(fake_module: Maker) -> None:
    server = fake_module()
    shared = [bytes(10), bytes(20)]
    server.short = shared
    server.svc.deep = {"again": shared}
    result = walk(modules=["fake_server"], threads=False)
    assert result.count("fake_server.short[*]") == 2
    assert result.node("fake_server.svc.deep['again']") is None


def test_a_thread_frame_is_a_root_with_its_locals_named(fake_module: Maker) -> None:
    server = fake_module(
        "fake_worker",
        """
def work(ready, stop):
    pending = [{"job": bytes(10)} for _ in range(3)]
    ready.set()
    stop.wait()
    return pending
""",
    )
    ready, stop = threading.Event(), threading.Event()
    worker = threading.Thread(target=server.work, args=(ready, stop))
    worker.start()
    try:
        assert ready.wait(30)
        result = walk(modules=["fake_worker"])
    finally:
        stop.set()
        worker.join()
    assert result.count("<frame fake_worker.work>.pending[*]") == 3
    assert result.count("<frame fake_worker.work>.pending[*]['job']") == 3


def test_depth_and_object_limits_stop_the_walk(fake_module: Maker) -> None:
    fake_module()
    shallow = walk(modules=["fake_server"], threads=False, max_depth=1)
    assert shallow.count("fake_server.svc") == 1
    assert shallow.node("fake_server.svc.history") is None
    small = walk(modules=["fake_server"], threads=False, max_objects=3)
    assert small.truncated and small.visited >= 3


def test_growing_paths_needs_two_walks_and_one_gap_per_pair() -> None:
    one = walk(modules=["no_such_module"], threads=False)
    with pytest.raises(ValueError):
        growing_paths([one], [])
    with pytest.raises(ValueError):
        growing_paths([one, one], [1, 1])
    with pytest.raises(ValueError):
        growing_paths([one, one], [0])


# --- the whole heap ----------------------------------------------------------------------------


def test_memleak_objects_never_appear(fake_module: Maker) -> None:
    server = fake_module()
    server.tools = [walk, growing_paths]
    server.results = []

    def iterate() -> None:
        server.results.append(walk(modules=["no_such_module"], threads=False))
        server.results.append(GrowingPath("p", "0" * 16, 1.0, 1.0, 1, 1))

    walks = _walks(iterate, [1, 1])
    assert growing_paths(walks, [1, 1]) == []
    last = walks[-1]
    assert not [p for p in last.paths if p.startswith("memleak_cli")]
    assert not [t for t in last.type_names if t.startswith("memleak_cli")]
    assert last.node("fake_server.tools") is not None and last.node("fake_server.tools[*]") is None
    assert last.count("fake_server.results[*]") == 0


def test_a_workload_that_leaks_nothing_reports_no_paths(fake_module: Maker) -> None:
    server = fake_module()

    def iterate() -> None:
        scratch = [{"features": bytes(1600)} for _ in range(50)]
        server.svc.cache["latest"] = scratch[-1]  # replaced in place
        server.svc.history.clear()
        server.svc.history.extend(scratch[:5])

    assert detect_growth(iterate, groups=3, per_group=3) == []


# --- hostile objects ---------------------------------------------------------------------------


CALLED: list[str] = []  # every hostile method records itself here: the walk must call none


def _hostile(name: str) -> SystemExit:
    CALLED.append(name)
    return SystemExit(name)


class HostileGetattr:
    _keys = iter(range(10**6))

    def __init__(self) -> None:
        self.payload = [bytes(10)]
        self.key = next(self._keys)

    def __getattr__(self, name: str) -> object:
        raise _hostile(f"__getattr__({name})")

    @property
    def boom(self) -> object:
        raise _hostile("property")

    def __eq__(self, other: object) -> bool:
        raise _hostile("__eq__")

    def __hash__(self) -> int:
        return self.key  # distinct: putting them in a dict never needs __eq__

    def __repr__(self) -> str:
        CALLED.append("__repr__")
        raise RuntimeError("__repr__")  # not SystemExit: pytest's own reprs must survive it

    def __sizeof__(self) -> int:
        raise _hostile("__sizeof__")


class HostileDictProperty:
    @property  # type: ignore[misc]
    def __dict__(self) -> dict[str, object]:  # type: ignore[override]
        raise _hostile("__dict__")

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # type: ignore[override]
        raise _hostile("__class__")


class HostileDict(dict):  # type: ignore[type-arg]
    def items(self):  # type: ignore[no-untyped-def]
        raise _hostile("items")

    def keys(self):  # type: ignore[no-untyped-def]
        raise _hostile("keys")

    def values(self):  # type: ignore[no-untyped-def]
        raise _hostile("values")

    def __iter__(self):  # type: ignore[no-untyped-def]
        raise _hostile("__iter__")

    def __len__(self) -> int:
        raise _hostile("__len__")


class HostileList(list):  # type: ignore[type-arg]
    def __iter__(self):  # type: ignore[no-untyped-def]
        raise _hostile("__iter__")

    def __len__(self) -> int:
        raise _hostile("__len__")


class _Target:
    pass


def test_hostile_objects_do_not_stop_the_walk(fake_module: Maker) -> None:
    server = fake_module()
    target = _Target()
    server.proxy = weakref.proxy(target)
    del target  # a dead proxy: isinstance() on it raises ReferenceError
    server.getattr_ = HostileGetattr()
    server.dict_property = HostileDictProperty()
    # stored in the real __dict__ all the same
    object.__setattr__(server.dict_property, "real", [bytes(5)])
    server.mapping = HostileDict(a=bytes(1), b=bytes(2))
    server.sequence = HostileList([bytes(3), bytes(4), bytes(5)])
    server.keyed = {HostileGetattr(): bytes(7) for _ in range(2)}
    CALLED.clear()

    result = walk(modules=["fake_server"], threads=False)

    assert CALLED == []

    assert result.count("fake_server.proxy") == 1
    assert result.count("fake_server.getattr_.payload[*]") == 1
    # its __dict__ is a property: the attributes are reached, unnamed, as what the object refers to
    assert result.count("fake_server.dict_property<list>[*]") == 1
    assert result.count("fake_server.mapping['a']") == 1
    assert result.count("fake_server.sequence[*]") == 3
    assert result.count("fake_server.keyed.keys()[*]") == 2
    assert result.node("fake_server.getattr_").shallow_bytes > 0  # type: ignore[union-attr]  # object.__sizeof__


# --- numpy -------------------------------------------------------------------------------------


def test_numpy_arrays_are_sized_by_their_buffer(fake_module: Maker) -> None:
    np = pytest.importorskip("numpy")
    server = fake_module()
    server.base = np.zeros(1000)
    server.view = server.base[::2]  # a view: getsizeof leaves the buffer out, nbytes does not
    assert sys.getsizeof(server.view) < server.view.nbytes == 4000

    def iterate() -> None:
        server.svc.history.append({"features": np.ones(200), "predictions": np.ones(50)})

    walks = _walks(iterate, [2, 2], modules=["fake_server"], threads=False)
    last = walks[-1]
    assert last.node("fake_server.view").shallow_bytes == 4000  # type: ignore[union-attr]
    assert last.node("fake_server.base").shallow_bytes == sys.getsizeof(server.base)  # type: ignore[union-attr]
    found = growing_paths(walks, [2, 2])
    assert [g.path for g in found] == ["fake_server.svc.history[*]"]
    element = (
        sys.getsizeof(server.svc.history[0])
        + sys.getsizeof(np.ones(200))
        + sys.getsizeof(np.ones(50))
    )
    assert found[0].bytes_per_iteration == element
    assert found[0].leaf == "dict → {'features': ndarray 1.7 KiB, 'predictions': ndarray 512 B}"


def test_first_imports_do_not_make_the_import_system_a_growing_path(tmp_path: Path) -> None:
    # every import from a new folder adds a finder to sys.path_importer_cache: a first-import
    # warm-up, bounded by what is installed, never a leak (a clean service was named by it)
    folders = []
    for index in range(4):
        folder = tmp_path / f"site{index}"
        folder.mkdir()
        (folder / f"warm_module_{index}.py").write_text("VALUE = 1\n")
        folders.append(str(folder))
    sys.path.extend(folders)
    try:
        walks = [walk(modules=["sys"])]
        for index in range(3):
            __import__(f"warm_module_{index}")
            walks.append(walk(modules=["sys"]))
        grown = [g.line() for g in growing_paths(walks, [1, 1, 1])]
        assert not [line for line in grown if line.startswith("sys.")], grown
    finally:
        for folder in folders:
            sys.path.remove(folder)
        for index in range(3):
            sys.modules.pop(f"warm_module_{index}", None)
