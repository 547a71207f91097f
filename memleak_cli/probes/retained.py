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

import gc
import sys
import tracemalloc
import types
from array import array

from memleak_cli.probes.refchain import describe, path_of, reference_chain, type_name
from memleak_cli.report.model import RetainedObject

UNREACHABLE = "<no module global reaches it: held by a closure, a frame or C code>"

MIN_UNTRACKED_BYTES = 512

# Roots that are not leaks of the workload: lazily imported modules and code.
_SKIP_ROOT_TYPES = (types.ModuleType, types.FrameType, types.CodeType)


class HeapMark:
    """Every gc-tracked object alive at one moment, and every untracked object they refer to, by id.

    The mark also holds a strong reference to each of them until :meth:`release`: an object
    freed during the window would otherwise let a new object reuse its address, and so its id,
    and pass for old.

    The ids are kept in one ``array('Q')`` buffer, not a set: the mark lives through the traced
    window, and a set would hold one int object per heap object (10^5 of them), each a
    tracemalloc trace that every snapshot of the window must carry and filter — that filtering
    was most of the window's time.
    """

    def __init__(self) -> None:
        gc.collect()
        self.objects: list[object] | None = gc.get_objects()
        self.ids = array("Q", map(id, self.objects))
        self.ids.append(id(self.objects))
        # untracked objects one hop away (bytes, arrays, strings), held too: freed during the
        # window, a new blob of the same size would take the old one's address, and so its id
        self.untracked: list[object] | None = [r for holder in self.objects for r in _untracked_referents(holder)]
        self.ids.extend(map(id, self.untracked))

    def release(self) -> None:
        """Drop the strong references (the ids stay)."""
        self.objects = None
        self.untracked = None


_UNTRACKED_CONTAINERS = (dict, list, tuple)


def _referents_with_path(holder: object) -> list[tuple[object, tuple[object, ...]]]:
    """Every referent of *holder*, and those inside the untracked containers it refers to, each
    with the untracked container it was reached through (empty for a direct referent)."""
    found: list[tuple[object, tuple[object, ...]]] = []
    for referent in gc.get_referents(holder):
        found.append((referent, ()))
        if type(referent) in _UNTRACKED_CONTAINERS and not gc.is_tracked(referent):
            found.extend((r, (referent,)) for r in gc.get_referents(referent) if not gc.is_tracked(r))
    return found


def _untracked_referents(holder: object) -> list[object]:
    """Untracked objects *holder* refers to, and those inside the untracked containers it refers
    to: CPython untracks a dict (an instance's ``__dict__`` included) whose values are all atomic,
    so a blob kept as ``self.latest`` may sit two hops from the tracked heap."""
    found = []
    for referent in gc.get_referents(holder):
        if gc.is_tracked(referent):
            continue
        found.append(referent)
        if type(referent) in _UNTRACKED_CONTAINERS:
            found.extend(r for r in gc.get_referents(referent) if not gc.is_tracked(r))
    return found


def mark_heap() -> HeapMark:
    """Mark every gc-tracked object now alive (after a full collection)."""
    return HeapMark()


def _retained_roots(mark: HeapMark, holders: dict[int, list[object]] | None = None) -> list[object]:
    before = set(mark.ids)  # tracing no longer matters here: the window's snapshots are taken
    objects = gc.get_objects()
    new_ids = {id(o) for o in objects if id(o) not in before}
    new_ids.discard(id(objects))
    new_ids.discard(id(mark.__dict__))
    roots: dict[int, object] = {}
    for holder in objects:
        # frames hold the probe's own locals; new holders are inside the new subgraph.
        # type(), not isinstance(): isinstance() asks a weakref.proxy for its __class__, which
        # raises ReferenceError once the referent is gone, and the heap may hold such proxies.
        if id(holder) in new_ids or type(holder) is types.FrameType or _is_tool_object(holder):
            continue
        for referent, via in _referents_with_path(holder):
            rid = id(referent)
            if rid in roots:
                continue
            if rid in new_ids:
                if not issubclass(type(referent), _SKIP_ROOT_TYPES):
                    roots[rid] = referent
            elif rid not in before and not gc.is_tracked(referent) and _shallow_size(referent) >= MIN_UNTRACKED_BYTES:
                roots[rid] = referent
            else:
                continue
            if holders is not None:  # how to reach it from a tracked object: the chain starts there
                holders[rid] = [holder, *via]
    del objects
    return list(roots.values())


_TOOL_MODULES = ("memleak_cli.", "tracemalloc", "objgraph", "pympler.")


def _is_tool_object(obj: object) -> bool:
    """An object of memleak's own bookkeeping (or of the probes it drives): never a holder."""
    module = getattr(type(obj), "__module__", None)
    return isinstance(module, str) and module.startswith(_TOOL_MODULES)
def _shallow_size(obj: object) -> int:
    """``sys.getsizeof`` (it calls the type's ``__sizeof__``, which measured code may define); 0
    when that raises anything."""
    try:
        return sys.getsizeof(obj, 0)
    except BaseException:  # noqa: BLE001 - a __sizeof__ raising SystemExit must not end the probe
        return 0


def _allocation_frames(obj: object) -> list[str]:
    traceback = tracemalloc.get_object_traceback(obj) if tracemalloc.is_tracing() else None
    return [f"{f.filename}:{f.lineno}" for f in traceback] if traceback else []


def _deep_sizes(roots: list[object]) -> tuple[list[int], int]:
    """Deep sizes of *roots* (pympler ``asizesof``) and of all of them together (``asizeof``,
    shared objects counted once), in bytes.

    pympler's ``hasattr`` probes call ``__getattr__``, and some libraries' ``__getattr__`` raise
    other errors than AttributeError (numba's IR objects raise KeyError). Then the roots are
    sized one by one with one ``Asizer`` (an object reached from an earlier root counts for that
    root only), a root that still fails gets its shallow ``sys.getsizeof``, and the total is the
    sum of those.
    """
    from pympler import asizeof

    try:
        return [int(s) for s in asizeof.asizesof(*roots)], int(asizeof.asizeof(*roots))
    except BaseException:  # noqa: BLE001 - anything raised by measured code's __getattr__, SystemExit too
        pass
    sizer = asizeof.Asizer()  # one sizer for all roots: what one root reached counts once
    sizes = []
    for root in roots:
        try:
            sizes.append(int(sizer.asizeof(root)))
        except BaseException:  # noqa: BLE001
            sizes.append(_shallow_size(root))
    return sizes, sum(sizes)


def find_retained(mark: HeapMark, *, top: int, chain_depth: int = 12) -> tuple[list[RetainedObject], int, int]:
    """Retained roots made since *mark* (see :func:`mark_heap`), largest first.

    When tracemalloc is tracing, each root also gets the traceback of its allocation
    (``tracemalloc.get_object_traceback``).

    Returns ``(the top *top* roots reachable from a module with their chains, the deep size in
    bytes of all roots together (pympler ``asizeof(*roots)``, shared objects counted once; see
    :func:`_deep_sizes` for objects pympler cannot size), the
    number of roots)``. A root that no module global reaches within *chain_depth* hops (held by a
    closure the worker runs, or by C code) gets the path :data:`UNREACHABLE`.
    """
    gc.collect()
    holders: dict[int, list[object]] = {}
    roots = _retained_roots(mark, holders)
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
        if not reachable and id(root) in holders:  # held inside an untracked dict: no gc referrer names it
            first, *via = holders[id(root)]
            start = reference_chain(first, max_depth=chain_depth, ignore=(roots, found, holders))
            chain = [*start, *via, root]
            reachable = len(start) >= 1 and issubclass(type(chain[0]), types.ModuleType)
        path = path_of(chain) if reachable else UNREACHABLE  # each hop that runs measured code is bounded
        found.append(
            RetainedObject(
                type_name=type_name(root),
                repr=describe(root),
                size_bytes=int(sizes[index]),
                path=path,
                chain=[type_name(o) for o in chain] if reachable else [type_name(root)],
                allocated_at=_allocation_frames(root),
            )
        )
    return found, total, len(roots)
