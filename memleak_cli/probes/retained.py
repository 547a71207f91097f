"""Retained objects: what an iteration made that is still reachable after it ended.

LeakCanary's idea in Python. Before the attribution window the ids of all gc-tracked objects are
marked; after it (and a full collection) every gc-tracked object that is new *and* referenced
by an old object is a retained root — the point where the new memory hangs off the old heap.
Each root gets its deep size (pympler.asizeof) and its reference chain from a module global.
Objects the collector does not track (bytes, str, numpy arrays) are found one hop from the
tracked heap: the mark also records the ids of every untracked object a tracked one refers to,
so a new untracked object held by an old container (``service.latest_X = np.ones(...)``) is a
root too, when it is at least :data:`MIN_UNTRACKED_BYTES` (smaller ones are counters and keys
replaced in place, not retention).
"""

from __future__ import annotations

import ctypes
import gc
import operator
import sys
import tracemalloc
import types
from collections.abc import Sequence
from itertools import compress, filterfalse
from typing import Any

from memleak_cli.probes.handles import handle_inside
from memleak_cli.probes.refchain import describe, path_of, reference_chain, type_name
from memleak_cli.report.model import RetainedObject

UNREACHABLE = "<no module global reaches it: held by a closure, a frame or C code>"

MIN_UNTRACKED_BYTES = 512

# Roots that are not leaks of the workload: lazily imported modules and code.
_SKIP_ROOT_TYPES = (types.ModuleType, types.FrameType, types.CodeType)
# The interpreter's storage of context variables (``hamt``, ``hamt_bitmap_node``...): every
# ``ContextVar.set`` (numpy's ``errstate``, decimal contexts) makes a new mapping that the thread
# state holds — one per variable at most, reachable through the variable, never a leak.
_CONTEXT_STORAGE = "hamt"


def ids_of(objects: Sequence[object]) -> Any:
    """The ids of *objects* as a numpy ``uint64`` array, without making an int per object.

    On CPython an id is the object's address, and a numpy object array stores exactly those
    addresses: the array's buffer is copied as ``uint64``. ``map(id, ...)`` would make one int per
    object, and inside the attribution window each is a traced allocation (measured: 2–6 µs each
    under tracemalloc at 5 frames, 0.8 s for the 1.2·10^5 ids of a small heap; this copy takes
    under 1 ms).
    """
    import numpy as np

    n = len(objects)
    ids = np.empty(n, dtype=np.uint64)
    if n:
        held = np.fromiter(objects, dtype=object, count=n)
        ctypes.memmove(ids.ctypes.data, held.ctypes.data, n * ids.itemsize)
        del held
    return ids


class HeapMark:
    """Every gc-tracked object alive at one moment, and every untracked object they refer to, by id.

    The mark also holds a strong reference to each tracked one until :meth:`release`: an object
    freed during the window would otherwise let a new object reuse its address, and so its id,
    and pass for old.

    The ids are kept in one numpy ``uint64`` array (:func:`ids_of`), not a set of ints:
    the mark is made and read while tracemalloc traces, where each int is a traced allocation,
    and a set would carry 10^5 of them through every snapshot of the window.
    """

    def __init__(self, *, collect: bool = True) -> None:
        import numpy as np

        if collect:
            gc.collect()
        self.objects: list[object] | None = gc.get_objects()
        # untracked objects one hop away (bytes, arrays, strings): every referent in one C call
        untracked = list(filterfalse(gc.is_tracked, gc.get_referents(*self.objects)))
        # and those inside untracked containers: CPython untracks a dict (an instance's __dict__
        # included) whose values are all atomic, so a kept blob may sit two hops away
        containers = [c for c in untracked if type(c) in _UNTRACKED_CONTAINERS]
        if containers:
            untracked.extend(filterfalse(gc.is_tracked, gc.get_referents(*containers)))
        del containers
        # held until release: freed during the window, a new blob of the same size would take
        # the old one's address, and so its id
        self.untracked: list[object] | None = untracked
        parts = (ids_of(self.objects), ids_of([self.objects, untracked]), ids_of(untracked))
        # allocated here, not inside numpy's Python code: tracemalloc files the kept array under
        # this frame, which the window's snapshots filter out as memleak's own
        self.ids = np.empty(sum(len(p) for p in parts), dtype=np.uint64)
        np.concatenate(parts, out=self.ids)

    def release(self) -> None:
        """Drop the strong references (the ids stay)."""
        self.objects = None
        self.untracked = None


_UNTRACKED_CONTAINERS = frozenset({dict})  # an instance __dict__ of atomics, a dict of blobs


def _shallow_size(obj: object) -> int:
    """``sys.getsizeof`` (it calls the type's ``__sizeof__``, which measured code may define); 0
    when that raises anything."""
    try:
        return sys.getsizeof(obj, 0)
    except BaseException:  # noqa: BLE001 - a __sizeof__ raising SystemExit must not end the probe
        return 0


def _untracked_size(obj: object) -> int:
    """Shallow size of an untracked object, with the untracked values inside it when it is a
    dict: a new dict of bytearrays weighs its bytearrays, not its 232-byte table. (Tuples of
    strings stay shallow: libraries build them lazily as constant tables, not per request.)"""
    size = _shallow_size(obj)
    if type(obj) is dict:
        size += sum(_shallow_size(r) for r in gc.get_referents(obj) if not gc.is_tracked(r))
    return size


def mark_heap(*, collect: bool = True) -> HeapMark:
    """Mark every gc-tracked object now alive (after a full collection; *collect* False when the
    caller has just collected and run nothing since)."""
    return HeapMark(collect=collect)


def _retained_roots(mark: HeapMark, via: dict[int, object] | None = None) -> list[object]:
    """Every new gc-tracked object referenced by an old holder, and every new untracked object of
    at least :data:`MIN_UNTRACKED_BYTES` referenced by one, in the order a scan of the old
    holders (``gc.get_objects()`` order) and their referents first meets them.

    This runs while tracemalloc traces (the roots' allocation tracebacks need it), where each
    allocation costs microseconds, so the scan is done on id arrays (:func:`ids_of`) and
    ``np.isin`` and only the candidates are looked at one by one. New untracked objects inside an
    old untracked container (a ``__dict__`` of atomics) are roots too; *via* then maps the root's
    id to that container, whose tracked referrer starts its reference chain.
    """
    import numpy as np

    before = mark.ids
    objects = gc.get_objects()
    ids_now = ids_of(objects)
    new = ~np.isin(ids_now, before)
    new_ids = np.unique(ids_now[new])
    own = ids_of([objects, mark.__dict__])
    new_ids = new_ids[~np.isin(new_ids, own)]
    # frames hold the probe's own locals; new holders are inside the new subgraph.
    # type(), not isinstance(): isinstance() asks a weakref.proxy for its __class__, which
    # raises ReferenceError once the referent is gone, and the heap may hold such proxies.
    old = compress(objects, (~np.isin(ids_now, new_ids)).tolist()) if len(new_ids) else iter(objects)
    # decided per type, not per object: the heap has 10^5-10^6 objects and a few thousand types
    # (a per-object check cost ~1 s per search on a 5·10^5-object pytest session)
    old_objects = list(old)
    kinds = list(map(type, old_objects))
    skipped = {k for k in set(kinds) if k is types.FrameType or _is_tool_type(k)}
    holders = list(compress(old_objects, map(operator.not_, map(skipped.__contains__, kinds)))) if skipped else old_objects
    del kinds, old_objects
    del ids_now, new
    referents = gc.get_referents(*holders)
    del holders
    referent_ids = ids_of(referents)
    tracked = np.fromiter(map(gc.is_tracked, referents), dtype=bool, count=len(referents))
    candidates = np.where(tracked, np.isin(referent_ids, new_ids), ~np.isin(referent_ids, before))
    roots: dict[int, object] = {}
    for index in np.flatnonzero(candidates).tolist():
        referent = referents[index]
        rid = id(referent)
        if rid in roots:
            continue
        if tracked[index]:
            kind = type(referent)
            if not issubclass(kind, _SKIP_ROOT_TYPES) and not (kind.__module__ == "builtins" and kind.__name__.startswith(_CONTEXT_STORAGE)):
                roots[rid] = referent
        elif _untracked_size(referent) >= MIN_UNTRACKED_BYTES:
            roots[rid] = referent
    containers = np.fromiter(map(_UNTRACKED_CONTAINERS.__contains__, map(type, referents)), dtype=bool, count=len(referents))
    old_containers = [referents[i] for i in np.flatnonzero(containers & ~tracked & ~candidates).tolist()]
    if old_containers:
        inner = [r for r in gc.get_referents(*old_containers) if not gc.is_tracked(r)]
        fresh = np.flatnonzero(~np.isin(ids_of(inner), before)).tolist() if inner else []
        for index in fresh:
            obj = inner[index]
            if id(obj) in roots or _untracked_size(obj) < MIN_UNTRACKED_BYTES:
                continue
            roots[id(obj)] = obj
            if via is not None:  # few roots: find the container that holds each by identity
                via[id(obj)] = next(c for c in old_containers if any(r is obj for r in gc.get_referents(c)))
        del inner
    del objects, referents, old_containers
    return list(roots.values())


_TOOL_MODULES = ("memleak_cli.", "tracemalloc", "objgraph", "pympler.")


def _is_tool_type(kind: type) -> bool:
    """A type of memleak's own bookkeeping (or of the probes it drives): its objects never hold."""
    module = getattr(kind, "__module__", None)
    return isinstance(module, str) and module.startswith(_TOOL_MODULES)


def _allocation_frames(obj: object) -> list[str]:
    traceback = tracemalloc.get_object_traceback(obj) if tracemalloc.is_tracing() else None
    return [f"{f.filename}:{f.lineno}" for f in traceback] if traceback else []


def _deep_sizes(roots: list[object]) -> tuple[list[int], int]:
    """Deep sizes of *roots* (pympler ``asizesof``) and of all of them together (``asizeof``,
    shared objects counted once), in bytes.

    pympler's ``hasattr`` probes call ``__getattr__``, and some libraries' ``__getattr__`` raise
    other errors than AttributeError (numba's IR objects raise KeyError; a hostile one raises
    SystemExit or KeyboardInterrupt, which must not end the measuring process). Then the roots are
    sized one by one with one ``Asizer`` (an object reached from an earlier root counts for that
    root only), a root that still fails gets its shallow ``sys.getsizeof``, and the total is the
    sum of those.
    """
    from pympler import asizeof

    try:
        return [int(s) for s in asizeof.asizesof(*roots)], int(asizeof.asizeof(*roots))
    except BaseException:  # noqa: BLE001 - measured code's __getattr__ or __class__ may raise anything, SystemExit included
        pass
    sizer = asizeof.Asizer()  # one sizer for all roots: what one root reached counts once
    sizes = []
    for root in roots:
        try:
            sizes.append(int(sizer.asizeof(root)))
        except BaseException:  # noqa: BLE001
            sizes.append(_shallow_size(root))
    return sizes, sum(sizes)


def find_retained(mark: HeapMark, *, top: int, chain_depth: int = 12, collect: bool = True) -> tuple[list[RetainedObject], int, int]:
    """Retained roots made since *mark* (see :func:`mark_heap`), largest first.

    When tracemalloc is tracing, each root also gets the traceback of its allocation
    (``tracemalloc.get_object_traceback``).

    Returns ``(the top *top* roots reachable from a module with their chains, the deep size in
    bytes of all roots together (pympler ``asizeof(*roots)``, shared objects counted once; see
    :func:`_deep_sizes` for objects pympler cannot size), the
    number of roots)``. A root that no module global reaches within *chain_depth* hops (held by a
    closure the worker runs, or by C code) gets the path :data:`UNREACHABLE`. *collect* False skips the full
    collection first, for a caller that has just collected and run nothing since.
    """
    if collect:
        gc.collect()
    via: dict[int, object] = {}
    roots = _retained_roots(mark, via)
    mark.release()
    if not roots:
        return [], 0, 0
    sizes, total = _deep_sizes(roots)
    order = sorted(range(len(roots)), key=lambda i: -sizes[i])
    found: list[RetainedObject] = []
    for index in order[:top]:
        root = roots[index]
        chain = reference_chain(root, max_depth=chain_depth, ignore=(roots, found))  # runs no measured code
        reachable = len(chain) >= 2 and issubclass(type(chain[0]), types.ModuleType)
        if not reachable and id(root) in via:  # inside an untracked dict: no gc referrer names it
            start = reference_chain(via[id(root)], max_depth=chain_depth, ignore=(roots, found, via))
            chain = [*start, root]
            reachable = len(start) >= 2 and issubclass(type(chain[0]), types.ModuleType)
        path = path_of(chain) if reachable else UNREACHABLE  # each hop that runs measured code is bounded
        found.append(
            RetainedObject(
                type_name=type_name(root),
                repr=describe(root),
                size_bytes=int(sizes[index]),
                path=path,
                chain=[type_name(o) for o in chain] if reachable else [type_name(root)],
                allocated_at=_allocation_frames(root),
                handle=handle_inside(root),
            )
        )
    return found, total, len(roots)
