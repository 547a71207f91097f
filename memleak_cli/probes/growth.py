"""Heap growth over named reference paths: LeakCanary's ``ObjectGrowthDetector`` for Python.

A *walk* goes breadth first from what keeps objects alive — every module in ``sys.modules``
(class attributes are reached through them) and the frames of the other running threads — and
merges every object reached along the same *path shape* into one node:
``model_server.server.prediction_history[*]`` is every element of that list, however many.
Edges are named as code would write them: ``.attr`` (instance ``__dict__``, ``__slots__``,
class and module attributes), ``['key']`` (a dict of at most :data:`MANY_KEYS` identifier keys),
``[*]`` (members of a list, tuple, set, deque, and values of any other dict), ``.keys()[*]``
(keys of such a dict), ``.<closure>.name`` (a function's closure cell), ``.__defaults__``, and
``<type>`` for what a C object refers to (``gc.get_referents``). Each object counts once, on
the first (shortest) path that reaches it.

Walks taken after equal numbers of iterations of a workload are compared by
:func:`growing_paths`: a path is *growing* when its object count rose at every walk by at least
the iterations between them (LeakCanary's rule), and only the topmost growing path is reported,
ranked by the growth in bytes of everything under it. Its fingerprint hashes the path shape
(names, container and leaf types), never addresses or dynamic keys, so it is stable across runs.

Untracked objects count: CPython does not gc-track bytes, str, numpy arrays or dicts holding
only those, so the walk follows containers itself (``gc.get_referents`` only for C objects) and
never uses ``gc.get_objects()``. No user code runs: attributes are read through the type's own
``__dict__``/slot descriptors, containers through the C base methods (``dict.items(d)``), sizes
with ``object.__sizeof__`` where a class defines ``__sizeof__`` in Python; anything that can
still raise is caught. Reading an instance's ``__dict__`` makes CPython 3.11 build the dict of
an instance that kept its attributes inline (as ``vars()`` does): one dict object per such
instance, once, on the first walk; other threads' ``frame.f_locals`` is read as debuggers do.

The import system's tables (``sys.modules``, ``sys.path_importer_cache``, ``sys.meta_path``,
``sys.path_hooks``) are not walked: they grow with first imports and are bounded by what is
installed.

Limits: a dict that passes :data:`MANY_KEYS` between walks changes shape (``['a']`` →
``[*]``), so its growth is seen from the walk after; weak references, code objects, frames met
on the way (not as roots) and the elements of numpy object arrays are not followed; a class
whose ``__dict__`` is a user property is walked through its unnamed referents (``<list>``).

Cost, measured on 2 shared AMD EPYC cores (``python -m benchmarks.scale --objects 100000
1000000 --probes growth-walk``, load average 3.6): one walk of the 10^5-object heap (2.4·10^5
objects reached) takes 0.23 s, of the 10^6-object heap (2.0·10^6 reached) 1.05–1.12 s; the
probe's peak RSS rises 15 MiB and 31 MiB (two walks and the diff; tracemalloc peak of one walk
4.5 and 18.5 MiB). The walk keeps per-object work small: node lists of objects, path strings
per node only, and an object enters the visited set only when its reference count says a
second referrer exists (:func:`_reference_baseline`) — a set of every id took 2.5 s and
+157 MiB on the 10^6 heap. The collector is paused meanwhile.
"""

from __future__ import annotations

import collections
import gc
import hashlib
import sys
import threading
import time
import types
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from memleak_cli.probes.handles import is_handle_type
from memleak_cli.report.model import GrowingPath
from memleak_cli.units import format_bytes

OWN_PACKAGE = "memleak_cli"
MAX_DEPTH = 40
MAX_OBJECTS = 20_000_000
MANY_KEYS = 16  # a dict with more keys (or any non-identifier key) is a collection: ``[*]``
MANY_ATTRIBUTES = 256  # an instance ``__dict__`` with more entries is a collection too

STAR = "[*]"
DICT_KEYS = ".keys()[*]"

# How each type is walked (the first element of its entry in the per-walk type table).
_SKIP, _LEAF, _SEQ, _DICT, _INSTANCE, _FUNCTION, _TYPE, _GENERIC, _MODULE, _FRAME = range(10)

_HEAPTYPE = 1 << 9
_HAVE_GC = 1 << 14
_type_dict = type.__dict__["__dict__"].__get__  # the class's own mappingproxy, no metaclass code
_type_mro = type.__dict__["__mro__"].__get__
_type_module = type.__dict__["__module__"].__get__
_type_qualname = type.__dict__["__qualname__"].__get__
_type_dictoffset = type.__dict__["__dictoffset__"].__get__
_module_dict: Callable[[object], dict[str, Any]] = vars(types.ModuleType)["__dict__"].__get__
_object_sizeof = object.__sizeof__
_dict_items, _dict_keys, _dict_values, _dict_len = dict.items, dict.keys, dict.values, dict.__len__

_CLASS_ATTRIBUTES_SKIPPED = frozenset(
    {
        "__dict__",
        "__weakref__",
        "__doc__",
        "__module__",
        "__qualname__",
        "__slots__",
        "__annotations__",
    }
)
_LEAF_TYPES = (
    type(None),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    bytearray,
    range,
    slice,
    memoryview,
    type(NotImplemented),
    type(Ellipsis),
    types.GetSetDescriptorType,
    types.MemberDescriptorType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.ClassMethodDescriptorType,
    types.MethodWrapperType,
)
_SEQUENCE_BASES = (list, tuple, set, frozenset, collections.deque)
# The import system's own tables in ``sys`` and its finders' caches: they grow with every module
# a first import reaches (memleak's lazy imports, a service's first requests), bounded by what is
# installed. Walked, ``sys.path_importer_cache[*]._path_cache[*]`` was named a growing path of a
# clean service, and pytest's ``sys.meta_path[*]._marked_for_rewrite_cache`` grows per import.
_IMPORT_STATE = frozenset({"modules", "path_importer_cache", "meta_path", "path_hooks"})


# the packages memleak's probes drive: their caches fill while memleak measures (pympler's type
# definitions on its first sizing, tracemalloc's filters), so they are memleak's, not the workload's
TOOL_PACKAGES = (OWN_PACKAGE, "pympler", "objgraph", "tracemalloc", "memray")


def _is_own(name: object) -> bool:
    return type(name) is str and any(name == p or name.startswith(p + ".") for p in TOOL_PACKAGES)


def _reference_baseline() -> int:
    """The reference count an object held by one container has inside the walk's loop.

    The container, the node's object list, the loop variable and ``getrefcount``'s argument:
    an object counted this way has no other referrer, so no other path can reach it and it
    need not enter the visited set. Measured with the same loop shape as :func:`walk`.
    """
    holder = [object()]
    objs = list(holder)
    for o in objs:
        return sys.getrefcount(o)
    raise AssertionError("unreachable")


def type_name(cls: type) -> str:
    """``module.QualName`` of a class read without running metaclass code (``builtins.`` left out)."""
    try:
        qualname = _type_qualname(cls)
        module = _type_module(cls)
    except Exception:  # noqa: BLE001 - an odd metaclass
        return "?"
    qualname = qualname if type(qualname) is str else "?"
    if type(module) is not str or module == "builtins":
        return qualname
    return f"{module}.{qualname}"


def _mro_lookup(cls: type, name: str) -> object:
    for base in _type_mro(cls):
        namespace = _type_dict(base)
        if name in namespace:
            return namespace[name]
    return None


def _slot_descriptors(cls: type) -> list[tuple[str, Any]]:
    """``(".name", member descriptor)`` of every ``__slots__`` entry along the MRO."""
    found: list[tuple[str, Any]] = []
    for base in _type_mro(cls):
        namespace = _type_dict(base)
        slots = namespace.get("__slots__")
        if slots is None:
            continue
        if type(slots) is str:
            slots = (slots,)
        try:
            names = [s for s in slots if type(s) is str]
        except Exception:  # noqa: BLE001 - __slots__ of an odd type
            continue
        for name in names:
            if name in ("__dict__", "__weakref__"):
                continue
            key = name
            if name.startswith("__") and not name.endswith("__"):
                key = f"_{_type_qualname(base).rpartition('.')[2].lstrip('_')}{name}"
            descriptor = namespace.get(key)
            if type(descriptor) is types.MemberDescriptorType:
                found.append((_attribute_label(name), descriptor))
    return found


def _sizer(cls: type) -> Callable[[object], int]:
    """``sys.getsizeof``, unless *cls* defines ``__sizeof__`` in Python (user code)."""
    own = _mro_lookup(cls, "__sizeof__")
    if type(own) in (types.MethodDescriptorType, types.WrapperDescriptorType):
        return sys.getsizeof
    return _object_sizeof


def _nbytes_getter(cls: type) -> Callable[[object], int] | None:
    """The C getter of a buffer's ``nbytes`` (numpy arrays), ``None`` when there is none."""
    descriptor = _mro_lookup(cls, "nbytes")
    if type(descriptor) in (types.GetSetDescriptorType, types.MemberDescriptorType):
        getter: Callable[[object], int] = descriptor.__get__  # type: ignore[attr-defined]
        return getter
    return None


def _classify(cls: type) -> tuple[Any, ...]:
    """How objects of *cls* are walked: ``(kind, sizer, nbytes getter, *kind data)``."""
    try:
        module = _type_module(cls)
        if _is_own(module):
            return (_SKIP,)
        if issubclass(cls, types.ModuleType):
            return (_MODULE, sys.getsizeof, None)
        if cls is types.FrameType:
            return (_FRAME, sys.getsizeof, None)
        if cls is types.CodeType:
            return (_SKIP,)
        if issubclass(cls, type):
            return (_TYPE, sys.getsizeof, None)
        sizer, nbytes = _sizer(cls), _nbytes_getter(cls)
        if issubclass(cls, (weakref.ReferenceType, weakref.ProxyType, weakref.CallableProxyType)):
            return (_LEAF, sizer, None)
        if cls is types.FunctionType:
            return (_FUNCTION, sizer, None)
        if cls in _LEAF_TYPES:
            return (_LEAF, sizer, nbytes)
        if cls in _SEQUENCE_BASES:
            return (_SEQ, sizer, nbytes, None)
        flags = cls.__flags__
        container = next((b for b in (dict, *_SEQUENCE_BASES) if issubclass(cls, b)), None)
        if flags & _HEAPTYPE:
            getset = _mro_lookup(cls, "__dict__")
            dict_get = getset.__get__ if type(getset) is types.GetSetDescriptorType else None
            if dict_get is None and _type_dictoffset(cls):
                return (
                    _GENERIC,
                    sizer,
                    nbytes,
                )  # __dict__ hidden behind user code: unnamed referents
            slots = _slot_descriptors(cls)
            if dict_get is not None or slots or container is not None:
                return (_INSTANCE, sizer, nbytes, dict_get, slots, container)
        if container is dict:
            return (_DICT, sizer, nbytes)
        if container is not None:
            return (_SEQ, sizer, nbytes, container.__iter__)
        if flags & _HAVE_GC:
            return (_GENERIC, sizer, nbytes)
        return (_LEAF, sizer, nbytes)
    except Exception:  # noqa: BLE001 - a class too odd to inspect: count it, do not enter it
        return (_LEAF, _object_sizeof, None)


class GrowthNode(NamedTuple):
    """One path shape of a walk: ``objects`` reached on it, their ``shallow_bytes``, the bytes
    of everything under it (``bytes_below``, itself included) and the references its objects
    hold (``children``: a list's length, a dict's values, an instance's attributes)."""

    path: str
    type_name: str
    objects: int
    shallow_bytes: int
    bytes_below: int
    children: int


@dataclass
class HeapWalk:
    """The nodes of one walk, in breadth-first order, as parallel lists indexed by node.

    ``parents[i]`` is the node that *i* hangs from (``-1`` for a root), ``labels[i]`` the edge
    from it (``.attr``, ``['key']``, ``[*]``; a root's label is its path), ``type_names[i]``
    the type of the first object reached on it. ``visited`` counts every object counted;
    ``truncated`` says *max_objects* stopped the walk early. ``handle_types`` are the type names
    among ``type_names`` that are native handles (:mod:`memleak_cli.probes.handles`).
    """

    paths: list[str]
    parents: list[int]
    labels: list[str]
    type_names: list[str]
    objects: list[int]
    shallow_bytes: list[int]
    bytes_below: list[int]
    children: list[int]
    visited: int
    truncated: bool
    seconds: float
    handle_types: frozenset[str] = frozenset()
    _index: dict[str, int] | None = field(default=None, repr=False, compare=False)

    @property
    def index(self) -> dict[str, int]:
        """Path → node index."""
        if self._index is None:
            self._index = {p: i for i, p in enumerate(self.paths)}
        return self._index

    def node(self, path: str) -> GrowthNode | None:
        """The node of *path*, ``None`` when the walk did not reach it."""
        i = self.index.get(path)
        if i is None:
            return None
        return GrowthNode(
            self.paths[i],
            self.type_names[i],
            self.objects[i],
            self.shallow_bytes[i],
            self.bytes_below[i],
            self.children[i],
        )

    def count(self, path: str) -> int:
        """Objects on *path* (0 when not reached)."""
        i = self.index.get(path)
        return 0 if i is None else self.objects[i]


def _attribute_label(name: str) -> str:
    return f".{name}" if name.isidentifier() else f".__dict__[{name!r}]"


def walk(
    *,
    modules: Iterable[str] | None = None,
    threads: bool = True,
    max_depth: int = MAX_DEPTH,
    max_objects: int = MAX_OBJECTS,
) -> HeapWalk:
    """Walk the heap from its roots and count objects and bytes per path shape.

    Roots are the modules in ``sys.modules`` (all of them, or only *modules* and their
    submodules; memleak's own are never walked) and, when *threads*, the frames of every
    running thread but the calling one (a root ``<frame module.function>`` per function, its
    locals as ``.name``). Nodes deeper than *max_depth* are counted, not entered; the walk stops
    after *max_objects* objects (``truncated``). The collector is paused during the walk: it
    makes many lists and no cycles, and a full collection would cost as much as the walk.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _walk(modules=modules, threads=threads, max_depth=max_depth, max_objects=max_objects)
    finally:
        if collecting:
            gc.enable()


def _walk(
    *,
    modules: Iterable[str] | None = None,
    threads: bool = True,
    max_depth: int = MAX_DEPTH,
    max_objects: int = MAX_OBJECTS,
) -> HeapWalk:
    """:func:`walk` with the collector paused."""
    started = time.perf_counter()
    getrefcount, getsizeof_, get_referents = sys.getrefcount, sys.getsizeof, gc.get_referents
    base = _reference_baseline()
    visited: set[int] = set()
    visited_add = visited.add
    kinds: dict[type, tuple[Any, ...]] = {}
    kinds_get = kinds.get
    names: dict[type, str] = {}
    paths: list[str] = []
    parents: list[int] = []
    labels: list[str] = []
    type_names: list[str] = []
    counts: list[int] = []
    sizes: list[int] = []
    held: list[int] = []
    depths: list[int] = []
    # (parent node, edge label, objects reached on it); a node is made when one of them counts
    queue: collections.deque[tuple[int, str, list[object]]] = collections.deque()
    enqueue = queue.append
    roots: dict[str, list[object]] = {}

    wanted = None if modules is None else tuple(modules)
    for name, module in list(sys.modules.items()):
        if type(name) is not str or _is_own(name) or not issubclass(type(module), types.ModuleType):
            continue
        if wanted is not None and not any(name == w or name.startswith(w + ".") for w in wanted):
            continue
        roots.setdefault(name, []).append(module)
    if threads:
        me = threading.get_ident()
        for ident, top in list(sys._current_frames().items()):
            frame: types.FrameType | None = None if ident == me else top
            while frame is not None:
                module_name = frame.f_globals.get("__name__")
                if not _is_own(module_name):
                    roots.setdefault(
                        f"<frame {module_name}.{frame.f_code.co_qualname}>", []
                    ).append(frame)
                frame = frame.f_back
        del top
    for name, found in roots.items():
        enqueue((-1, name, found))
    for own in (
        visited,
        kinds,
        names,
        paths,
        parents,
        labels,
        type_names,
        counts,
        sizes,
        held,
        depths,
        queue,
        roots,
    ):
        visited_add(id(own))

    total = 0
    truncated = False
    attribute_labels: dict[str, str] = {}
    key_labels: dict[str, str] = {}
    referent_labels: dict[type, str] = {}
    visited.update((id(attribute_labels), id(key_labels), id(referent_labels)))
    while queue:
        parent, edge, objs = queue.popleft()
        root = parent < 0
        depth = 0 if root else depths[parent] + 1
        enter = depth < max_depth
        n = nbytes = nchildren = 0
        first: type | None = None
        out: dict[str, list[object]] = {}  # edge label → objects reached through it
        out_get = out.get
        for o in objs:
            if getrefcount(o) > base:
                oid = id(o)
                if oid in visited:
                    continue
                visited_add(oid)
            cls = type(o)
            entry = kinds_get(cls)
            if entry is None:
                entry = kinds[cls] = _classify(cls)
            kind = entry[0]
            if kind == _SKIP:
                continue
            try:
                if kind == _FUNCTION and _is_own(o.__module__):
                    continue
                if kind == _TYPE and _is_own(_type_module(o)):
                    continue
                if kind == _MODULE and not root:
                    continue  # walked from sys.modules, or gone from it: a reference, not a root
                try:
                    size = entry[1](o)
                    if entry[2] is not None:
                        size = max(size, entry[2](o))
                except KeyboardInterrupt:
                    raise
                except BaseException:  # noqa: BLE001 - getsizeof of a broken object
                    size = 0
                n += 1
                nbytes += size
                if first is None:
                    first = cls
                if kind == _LEAF or not enter:
                    continue
                if kind == _SEQ:
                    bucket = out_get(STAR)
                    if bucket is None:
                        bucket = out[STAR] = []
                    before = len(bucket)
                    bucket.extend(o if entry[3] is None else entry[3](o))  # type: ignore[arg-type]
                    nchildren += len(bucket) - before
                    continue
                if kind == _DICT or kind == _INSTANCE:
                    if kind == _INSTANCE:
                        container = entry[5]
                        if entry[3] is not None:
                            try:
                                d = entry[3](o, cls)
                            except KeyboardInterrupt:
                                raise
                            except BaseException:  # noqa: BLE001 - hostile __dict__
                                d = None
                            if d is not None and issubclass(type(d), dict):
                                if getrefcount(d) > base - 1:
                                    visited_add(id(d))
                                nbytes += getsizeof_(d)
                                m = _dict_len(d)
                                nchildren += m
                                if m > MANY_ATTRIBUTES:
                                    bucket = out_get(STAR)
                                    if bucket is None:
                                        bucket = out[STAR] = []
                                    bucket.extend(_dict_values(d))
                                else:
                                    for k, v in _dict_items(d):
                                        if type(k) is str:
                                            label = attribute_labels.get(k)
                                            if label is None:
                                                label = attribute_labels[k] = _attribute_label(k)
                                        else:
                                            label = STAR
                                        bucket = out_get(label)
                                        if bucket is None:
                                            out[label] = [v]
                                        else:
                                            bucket.append(v)
                        for label, descriptor in entry[4]:
                            try:
                                v = descriptor.__get__(o, cls)
                            except AttributeError:
                                continue
                            nchildren += 1
                            bucket = out_get(label)
                            if bucket is None:
                                out[label] = [v]
                            else:
                                bucket.append(v)
                        if container is None:
                            continue
                        if container is not dict:
                            bucket = out_get(STAR)
                            if bucket is None:
                                bucket = out[STAR] = []
                            before = len(bucket)
                            bucket.extend(container.__iter__(o))
                            nchildren += len(bucket) - before
                            continue
                    m = _dict_len(o)  # type: ignore[arg-type]
                    nchildren += m
                    if m <= MANY_KEYS:
                        for k in _dict_keys(o):  # type: ignore[arg-type]
                            if type(k) is not str or not k.isidentifier():
                                break
                        else:
                            for k, v in _dict_items(o):  # type: ignore[arg-type]
                                label = key_labels.get(k)
                                if label is None:
                                    label = key_labels[k] = f"[{k!r}]"
                                bucket = out_get(label)
                                if bucket is None:
                                    out[label] = [v]
                                else:
                                    bucket.append(v)
                            continue
                    bucket = out_get(STAR)
                    if bucket is None:
                        bucket = out[STAR] = []
                    bucket.extend(_dict_values(o))  # type: ignore[arg-type]
                    bucket = out_get(DICT_KEYS)
                    if bucket is None:
                        bucket = out[DICT_KEYS] = []
                    bucket.extend(_dict_keys(o))  # type: ignore[arg-type]
                    continue
                if kind == _GENERIC:
                    for r in get_referents(o):
                        nchildren += 1
                        rcls = type(r)
                        label = referent_labels.get(rcls)
                        if label is None:
                            label = referent_labels[rcls] = f"<{type_name(rcls)}>"
                        bucket = out_get(label)
                        if bucket is None:
                            out[label] = [r]
                        else:
                            bucket.append(r)
                    continue
                if kind == _FUNCTION:
                    cells = o.__closure__  # type: ignore[attr-defined]
                    if cells is not None:
                        for name, cell in zip(o.__code__.co_freevars, cells, strict=False):  # type: ignore[attr-defined]
                            if id(cell) in visited:  # functions made together share their cells
                                continue
                            visited_add(id(cell))
                            try:
                                v = cell.cell_contents
                            except ValueError:  # an empty cell
                                continue
                            nchildren += 1
                            label = f".<closure>.{name}"
                            bucket = out_get(label)
                            if bucket is None:
                                out[label] = [v]
                            else:
                                bucket.append(v)
                    defaults, kwdefaults = o.__defaults__, o.__kwdefaults__  # type: ignore[attr-defined]
                    function_globals, function_builtins = o.__globals__, o.__builtins__  # type: ignore[attr-defined]
                    for label, v in ((".__defaults__", defaults), (".__kwdefaults__", kwdefaults)):
                        if v is not None:
                            bucket = out_get(label)
                            if bucket is None:
                                out[label] = [v]
                            else:
                                bucket.append(v)
                    for r in get_referents(o):  # the function's __dict__, read without creating one
                        if (
                            type(r) is dict
                            and r is not function_globals
                            and r is not function_builtins
                            and r is not kwdefaults
                        ):
                            bucket = out_get(".__dict__")
                            if bucket is None:
                                out[".__dict__"] = [r]
                            else:
                                bucket.append(r)
                    continue
                if kind == _TYPE:
                    namespace = _type_dict(o)
                elif kind == _MODULE:  # a root
                    namespace = _module_dict(o)
                    visited_add(id(namespace))
                elif kind == _FRAME and root:
                    namespace = o.f_locals  # type: ignore[attr-defined]
                    if id(namespace) in visited:  # a module's body: its globals are walked already
                        continue
                    visited_add(id(namespace))
                else:
                    continue
                for k, v in namespace.items():
                    if type(k) is not str or (kind == _TYPE and k in _CLASS_ATTRIBUTES_SKIPPED):
                        continue
                    if o is sys and k in _IMPORT_STATE:
                        continue
                    nchildren += 1
                    label = attribute_labels.get(k)
                    if label is None:
                        label = attribute_labels[k] = _attribute_label(k)
                    bucket = out_get(label)
                    if bucket is None:
                        out[label] = [v]
                    else:
                        bucket.append(v)
            except KeyboardInterrupt:
                raise
            except BaseException:  # noqa: BLE001 - a container changed under us, a hostile object
                continue
        if n == 0:
            continue  # every object on it was reached first by a shorter path: no node
        node = len(paths)
        paths.append(edge if root else paths[parent] + edge)
        parents.append(parent)
        labels.append(edge)
        assert first is not None  # n > 0
        first_name = names.get(first)
        if first_name is None:
            first_name = names[first] = type_name(first)
        type_names.append(first_name)
        counts.append(n)
        sizes.append(nbytes)
        held.append(nchildren)
        depths.append(depth)
        total += n
        if total >= max_objects:
            truncated = True
            break
        for label, bucket in out.items():
            enqueue((node, label, bucket))
    queue.clear()
    below = list(sizes)
    for i in range(len(paths) - 1, 0, -1):
        if parents[i] >= 0:
            below[parents[i]] += below[i]
    return HeapWalk(
        paths=paths,
        parents=parents,
        labels=labels,
        type_names=type_names,
        objects=counts,
        shallow_bytes=sizes,
        bytes_below=below,
        children=held,
        visited=total,
        truncated=truncated,
        seconds=time.perf_counter() - started,
        handle_types=frozenset(name for cls, name in names.items() if is_handle_type(cls)),
    )


def fingerprint(walk_: HeapWalk, node: int) -> str:
    """16 hex digits of the SHA-256 of the path shape from its root to *node*: each edge label
    with the type of the objects it reaches (``fake_server:module/.svc:fake_server.Service/…``).
    Labels hold attribute names and static keys only, so addresses and dynamic keys never enter."""
    hops: list[str] = []
    while node >= 0:
        hops.append(f"{walk_.labels[node]}:{walk_.type_names[node]}")
        node = walk_.parents[node]
    canonical = "/".join(reversed(hops))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _short(type_name_: str) -> str:
    return type_name_.rpartition(".")[2] or "?"


def describe_leaf(walk_: HeapWalk, node: int, children: Sequence[int], *, limit: int = 6) -> str:
    """One element of *node* from its type and its children's labels, types and mean sizes:
    ``dict → {'features': bytes 1.6 KiB, 'predictions': bytes 433 B}``. Never a repr."""
    count = walk_.objects[node]
    own = _short(walk_.type_names[node])
    parts: list[str] = []
    shown = [c for c in children if walk_.objects[c] > 0]
    for child in shown[:limit]:
        label = walk_.labels[child]
        if label.startswith("['") and label.endswith("']"):
            name = label[1:-1]
        elif label.startswith(".") and label[1:].isidentifier():
            name = label[1:]
        else:
            name = label
        objects = walk_.objects[child]
        part = f"{name}: {_short(walk_.type_names[child])} {format_bytes(walk_.bytes_below[child] / objects)}"
        ratio = objects / count if count else 0.0
        if abs(ratio - 1.0) > 1e-9:
            part += f" ×{ratio:.3g}"
        parts.append(part)
    if not parts:
        return f"{own} {format_bytes(walk_.bytes_below[node] / count) if count else '0 B'}"
    more = ", …" if len(shown) > limit else ""
    return f"{own} → {{{', '.join(parts)}{more}}}"


def growing_paths(
    walks: Sequence[HeapWalk],
    iterations_between: Sequence[int],
    *,
    min_per_iteration: float = 1.0,
) -> list[GrowingPath]:
    """The topmost paths whose object count rose at every walk, largest growth in bytes first.

    A path grows when, between each pair of consecutive walks, its count rose by at least
    ``min_per_iteration × iterations_between[i]`` (LeakCanary: at least one object per loop). A
    growing path under another growing path is left out (LeakCanary's rule: the elements of a
    leaking list are part of the list's leak); the prefix's ``bytes_per_iteration`` covers all
    that is under it, and ``leaf`` describes its elements. When a dict's values (``[*]``) and
    keys (``.keys()[*]``) both grow, they are one leak of entries: the values' path is reported,
    with the keys' bytes in its sizes. A path a walk did not reach counts 0.

    Raises:
        ValueError: fewer than two walks, or *iterations_between* not one positive count per gap.
    """
    if len(walks) < 2:
        raise ValueError("growth needs at least two walks")
    if len(iterations_between) != len(walks) - 1 or any(i <= 0 for i in iterations_between):
        raise ValueError(
            "iterations_between needs one positive count per pair of consecutive walks"
        )
    last = walks[-1]
    earlier = walks[:-1]
    thresholds = [min_per_iteration * i for i in iterations_between]
    growing: dict[int, list[int]] = {}
    for node, path in enumerate(last.paths):
        latest = last.objects[node]
        if latest - earlier[-1].count(path) < thresholds[-1]:
            continue  # most nodes: settled at once, before looking at the other walks
        counts = [w.count(path) for w in earlier] + [latest]
        if all(counts[i + 1] - counts[i] >= thresholds[i] for i in range(len(thresholds))):
            growing[node] = counts
    children: dict[int, list[int]] = {node: [] for node in growing}
    for node, parent in enumerate(last.parents):
        if parent in children:
            children[parent].append(node)
    iterations = sum(iterations_between)
    found: list[GrowingPath] = []
    for node, counts in growing.items():
        parent = last.parents[node]
        while parent >= 0 and parent not in growing:
            parent = last.parents[parent]
        if parent >= 0:
            continue  # under a growing path: reported through its topmost growing prefix
        path = last.paths[node]
        counted = [path]
        if last.labels[node] == STAR and last.parents[node] >= 0:
            keys = last.paths[last.parents[node]] + DICT_KEYS
            if keys in last.index and last.index[keys] in growing:
                counted.append(keys)  # a dict's entries: its keys count with its values
        elif last.labels[node] == DICT_KEYS:
            values = last.paths[last.parents[node]] + STAR
            if values in last.index and last.index[values] in growing:
                continue
        held_bytes = sum(last.bytes_below[last.index[p]] for p in counted)
        first_bytes = sum(
            walks[0].bytes_below[walks[0].index[p]] for p in counted if p in walks[0].index
        )
        found.append(
            GrowingPath(
                path=path,
                fingerprint=fingerprint(last, node),
                objects_per_iteration=(counts[-1] - counts[0]) / iterations,
                bytes_per_iteration=(held_bytes - first_bytes) / iterations,
                held=counts[-1],
                held_bytes=held_bytes,
                counts=counts,
                leaf=describe_leaf(last, node, children[node]),
            )
        )
    if found and last.handle_types:
        _find_handles(last, found)
    found.sort(key=lambda g: (-g.bytes_per_iteration, g.path))
    return found


def _find_handles(walk_: HeapWalk, found: Sequence[GrowingPath], depth: int = 2) -> None:
    """Set ``handle`` on each growing path whose elements are or hold a native handle within
    *depth* edges (a Booster's ``._handle``; a list of capsules): its short type name, e.g.
    ``c_void_p``."""
    below: dict[int, list[int]] = collections.defaultdict(list)
    for node, parent in enumerate(walk_.parents):
        below[parent].append(node)
    for path in found:
        level = [walk_.index[path.path]]
        for hop in range(depth + 1):
            if hop:
                level = [c for n in level for c in below.get(n, ())]
            hit = next((c for c in level if walk_.type_names[c] in walk_.handle_types), None)
            if hit is not None:
                path.handle = _short(walk_.type_names[hit])
                break


def detect_growth(
    iterate: Callable[[], object],
    *,
    groups: int = 3,
    per_group: int = 5,
    warmup: int = 1,
    min_per_iteration: float = 1.0,
    **walk_options: Any,
) -> list[GrowingPath]:
    """Run *iterate* ``warmup`` times, walk, then ``groups`` times: *per_group* iterations and a
    walk; return :func:`growing_paths` over those ``groups + 1`` walks. *walk_options* go to
    :func:`walk` (``modules=``, ``threads=``, ``max_depth=``, ``max_objects=``)."""
    if groups < 1 or per_group < 1:
        raise ValueError("detect_growth needs groups >= 1 and per_group >= 1")
    for _ in range(warmup):
        iterate()
    walks = [walk(**walk_options)]
    for _ in range(groups):
        for _ in range(per_group):
            iterate()
        walks.append(walk(**walk_options))
    return growing_paths(walks, [per_group] * groups, min_per_iteration=min_per_iteration)
