"""The id-array retained search finds the same roots, in the same order, as the plain scan it
replaced (one ``id()`` per object and referent, sets of ints)."""

from __future__ import annotations

import gc
import sys
import types

from memleak_cli.probes import retained
from memleak_cli.probes.retained import MIN_UNTRACKED_BYTES, ids_of, mark_heap


def _plain_scan(mark: retained.HeapMark) -> list[object]:
    """The scan as it was before the id arrays (the reference)."""
    before = set(mark.ids.tolist())
    objects = gc.get_objects()
    new_ids = {id(o) for o in objects if id(o) not in before}
    new_ids.discard(id(objects))
    new_ids.discard(id(mark.__dict__))
    roots: dict[int, object] = {}
    for holder in objects:
        if id(holder) in new_ids or type(holder) is types.FrameType or retained._is_tool_type(type(holder)):
            continue
        for referent in gc.get_referents(holder):
            rid = id(referent)
            if rid in roots:
                continue
            if rid in new_ids:
                if not issubclass(type(referent), retained._SKIP_ROOT_TYPES):
                    roots[rid] = referent
            elif rid not in before and not gc.is_tracked(referent) and sys.getsizeof(referent) >= MIN_UNTRACKED_BYTES:
                roots[rid] = referent
    del objects
    return list(roots.values())


class _Service:
    def __init__(self) -> None:
        self.history: list[object] = []
        self.latest: object = None
        self.names: dict[str, object] = {}


def test_ids_of_are_the_ids():
    objects = [object(), [], {}, "text", 10**30, None]
    assert ids_of(objects).tolist() == [id(o) for o in objects]
    assert ids_of([]).tolist() == []


def test_the_id_array_search_finds_the_roots_of_the_plain_scan_in_its_order():
    service = _Service()
    old_blob = bytes(4096)
    service.latest = old_blob
    gc.collect()
    mark = mark_heap()
    # both scans read mark.__dict__, which CPython 3.11 builds on first access (then a new dict
    # in the heap): built here, so that the second scan sees the heap the first one saw
    assert vars(mark)
    service.history.append({"features": [1.0] * 10})  # a new tracked root held by an old list
    service.history.append([object() for _ in range(3)])
    service.latest = bytes(64 * 1024)  # a new untracked root (above MIN_UNTRACKED_BYTES)
    service.names["small"] = b"x" * 8  # untracked and small: not a root
    service.names["module"] = types.ModuleType("lazily_imported")  # a skipped root type
    service.names["old"] = old_blob  # an old object moved: not a root
    gc.collect()
    expected = _plain_scan(mark)
    found = retained._retained_roots(mark)
    mark.release()
    assert [id(o) for o in found] == [id(o) for o in expected]
    assert any(o is service.latest for o in found)
    assert any(o is service.history[0] for o in found) and any(o is service.history[1] for o in found)
    assert not any(o is old_blob or o is service.names["small"] or o is service.names["module"] for o in found)
