"""Reference chains: who still holds an object, as a readable path from a module global.

The chain is found breadth first from the object up its referrers to a proper module
(:func:`reference_chain`, objgraph's ``find_backref_chain`` done one heap scan per level);
this module names each hop by the attribute, key or index that leads to the next object, so the
chain reads like code: ``memleak_scenarios.optuna_study.ml_training_service.optimizer.study``.
"""

from __future__ import annotations

import gc
import reprlib
import sys
import types
from collections.abc import Sequence

_repr = reprlib.Repr()
_repr.maxstring = 40
_repr.maxother = 40


def _key_text(key: object) -> str:
    return f"[{_repr.repr(key)}]"


def _attribute_of(parent: object, child: object) -> str | None:
    try:
        attributes = vars(parent)
    except TypeError:
        attributes = None
    if attributes is not None:
        if attributes is child:
            return ""
        for name, value in attributes.items():
            if value is child:
                return f".{name}"
    for cls in type(parent).__mro__:
        for slot in getattr(cls, "__slots__", ()) or ():
            if isinstance(slot, str) and getattr(parent, slot, None) is child:
                return f".{slot}"
    return None


def hop_name(parent: object, child: object, grandparent: object | None) -> str:
    """The step from *parent* to *child* as code would write it: ``.attr``, ``['key']``, ``[3]``.

    *grandparent* lets a ``__dict__`` hop read as an attribute (``obj.attr`` rather than
    ``obj.__dict__['attr']``). Returns ``""`` for hops that are an object's own ``__dict__``
    and a ``->type`` placeholder when no name leads from one to the other.
    """
    if isinstance(parent, dict):
        owner_dict = grandparent is not None and getattr(grandparent, "__dict__", None) is parent
        for key, value in parent.items():
            if value is child:
                return f".{key}" if owner_dict and isinstance(key, str) else _key_text(key)
        if any(key is child for key in parent):
            return "<key>"
    elif isinstance(parent, (list, tuple)):
        for index, value in enumerate(parent):
            if value is child:
                return f"[{index}]"
    elif isinstance(parent, (set, frozenset)):
        return "{…}"
    elif isinstance(parent, types.CellType):
        return ".cell_contents"
    elif isinstance(parent, types.MethodType):
        return ".__self__" if parent.__self__ is child else ".__func__"
    elif isinstance(parent, types.FunctionType):
        for dunder in ("__closure__", "__defaults__", "__kwdefaults__", "__globals__", "__dict__"):
            if getattr(parent, dunder, None) is child:
                return f".{dunder}"
    attribute = _attribute_of(parent, child)
    if attribute is not None:
        return attribute
    return f"->{type(child).__name__}"


def path_of(chain: Sequence[object]) -> str:
    """The dotted path of a chain that starts at a module (as objgraph returns it).

    A chain that does not start at a module gives ``<unreachable from a module>`` followed by the
    hops that were found.
    """
    if not chain:
        return ""
    first = chain[0]
    text = first.__name__ if isinstance(first, types.ModuleType) else f"<{type(first).__name__}>"
    for index in range(1, len(chain)):
        grandparent = chain[index - 2] if index >= 2 else None
        text += hop_name(chain[index - 1], chain[index], grandparent)
    return text


def describe(obj: object) -> str:
    """A short, safe repr of *obj* (reprlib; an exception in ``__repr__`` becomes a placeholder)."""
    try:
        return _repr.repr(obj)
    except Exception as exc:  # a broken __repr__ in measured code must not stop the report
        return f"<{type(obj).__name__} (repr failed: {type(exc).__name__})>"


def reference_chain(obj: object, *, max_depth: int = 12, ignore: Sequence[object] = ()) -> list[object]:
    """The shortest chain of references from a proper module to *obj*: ``[module, …, obj]``.

    Breadth first over referrers, as ``objgraph.find_backref_chain(obj, is_proper_module)``,
    but one ``gc.get_referrers(*level)`` per depth level instead of one per object: each call
    scans the whole heap, and objgraph's per-object calls took tens of seconds on the heap of
    numba or autofeat (hundreds of calls at ~50 ms each). Objects in *ignore* (and the search's
    own lists, dicts and frame) are never hops.

    Returns ``[obj]`` alone when no module reaches it within *max_depth* hops.
    """
    import objgraph

    parent: dict[int, object | None] = {id(obj): None}
    level: list[object] = [obj]
    skip = {id(o) for o in ignore}
    skip.update((id(ignore), id(parent), id(skip), id(sys._getframe())))
    for depth in range(max_depth + 1):
        for target in level:
            if objgraph.is_proper_module(target):
                chain = [target]
                while parent[id(chain[-1])] is not None:
                    chain.append(parent[id(chain[-1])])
                return chain
        if depth == max_depth or not level:
            break
        by_id = {id(t): t for t in level}
        referrers = gc.get_referrers(*level)
        skip.update((id(level), id(by_id), id(referrers)))
        following: list[object] = []
        for source in referrers:
            key = id(source)
            if key in skip or key in parent:
                continue
            # the referent of *source* on this level it was found through (its first, as BFS does)
            parent[key] = next((by_id[id(r)] for r in gc.get_referents(source) if id(r) in by_id), None)
            if parent[key] is None:  # a referrer that no longer refers (changed meanwhile)
                del parent[key]
                continue
            following.append(source)
        level = following
    return [obj]


def type_name(obj: object) -> str:
    """``module.QualName`` of *obj*'s type (``builtins.`` left out)."""
    cls = type(obj)
    module = getattr(cls, "__module__", "")
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"
