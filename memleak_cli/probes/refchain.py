"""Reference chains: who still holds an object, as a readable path from a module global.

The chain is found breadth first from the object up its referrers to a proper module
(:func:`reference_chain`, objgraph's ``find_backref_chain`` done one heap scan per level);
this module names each hop by the attribute, key or index that leads to the next object, so the
chain reads like code: ``memleak_scenarios.optuna_study.ml_training_service.optimizer.study``.
"""

from __future__ import annotations

import collections
import gc
import sys
import types
from collections.abc import Iterator, Sequence
from typing import cast

from memleak_cli.probes.saferepr import bounded, safe_repr, type_label

# Builtin keys whose repr runs no measured code: shown without the timer.
_PLAIN_KEYS = (str, int, float, bytes, bool, type(None))


def _key_text(key: object) -> str:
    if type(key) in _PLAIN_KEYS and not (type(key) is int and key.bit_length() > 64):
        return f"[{clip_key(repr(key))}]"
    return f"[{safe_repr(key, 40)}]"


def clip_key(text: str) -> str:
    """A key's repr cut to 40 characters."""
    return text if len(text) <= 40 else text[:39] + "…"


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
    # type(), not isinstance(): isinstance() may ask the object for its __class__ (measured code);
    # dict.items(), list.__iter__: a subclass's overrides are not called
    kind = type(parent)
    if issubclass(kind, dict):
        owner_dict = grandparent is not None and _own_dict(grandparent) is parent
        mapping = cast("dict[object, object]", parent)
        for key, value in dict.items(mapping):
            if value is child:
                return f".{key}" if owner_dict and type(key) is str else _key_text(key)
        if any(key is child for key in dict.keys(mapping)):
            return "<key>"
    elif issubclass(kind, (list, tuple)):
        items: Iterator[object] = list.__iter__(cast("list[object]", parent)) if issubclass(kind, list) else tuple.__iter__(cast("tuple[object, ...]", parent))
        for index, value in enumerate(items):
            if value is child:
                return f"[{index}]"
    elif issubclass(kind, collections.deque):
        for index, value in enumerate(collections.deque.__iter__(cast("collections.deque[object]", parent))):
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
    return f"->{type_label(child).rpartition('.')[2]}"


def _own_dict(obj: object) -> object:
    """*obj*'s ``__dict__`` without calling its ``__getattribute__`` (``None`` when it has none)."""
    try:
        return object.__getattribute__(obj, "__dict__")
    except BaseException:  # noqa: BLE001 - no __dict__, or a descriptor that raises
        return None


def path_of(chain: Sequence[object]) -> str:
    """The dotted path of a chain that starts at a module (as objgraph returns it).

    A chain that does not start at a module gives ``<unreachable from a module>`` followed by the
    hops that were found.
    """
    if not chain:
        return ""
    first = chain[0]
    name = _module_name(first) if issubclass(type(first), types.ModuleType) else None
    text = name if name is not None else f"<{type_label(first)}>"
    for index in range(1, len(chain)):
        grandparent = chain[index - 2] if index >= 2 else None
        # a hop runs measured code (vars(), a key's repr): bounded, and named by type when it fails
        hop = bounded(lambda i=index, g=grandparent: hop_name(chain[i - 1], chain[i], g))  # type: ignore[misc]
        text += hop if isinstance(hop, str) else f"->{type_label(chain[index]).rpartition('.')[2]}"
    return text


def _module_name(module: object) -> str | None:
    name = bounded(lambda: module.__name__)  # type: ignore[attr-defined]
    return name if isinstance(name, str) else None


def describe(obj: object) -> str:
    """A short, safe repr of *obj*: reprlib, bounded in time and cut to ~120 characters
    (:func:`memleak_cli.probes.saferepr.safe_repr`); a ``__repr__`` that raises (``SystemExit``
    too) or hangs gives ``<module.Type object at 0x…>``."""
    return safe_repr(obj)


def reference_chain(obj: object, *, max_depth: int = 12, ignore: Sequence[object] = ()) -> list[object]:
    """The shortest chain of references from a proper module to *obj*: ``[module, …, obj]``.

    Breadth first over referrers, as ``objgraph.find_backref_chain(obj, is_proper_module)``
    (without running any of the measured program's code: :func:`_is_proper_module`),
    but one ``gc.get_referrers(*level)`` per depth level instead of one per object: each call
    scans the whole heap, and objgraph's per-object calls took tens of seconds on the heap of
    numba or autofeat (hundreds of calls at ~50 ms each). Objects in *ignore* (and the search's
    own lists, dicts and frame) are never hops.

    Returns ``[obj]`` alone when no module reaches it within *max_depth* hops.
    """
    parent: dict[int, object | None] = {id(obj): None}
    level: list[object] = [obj]
    skip = {id(o) for o in ignore}
    skip.update((id(ignore), id(parent), id(skip), id(sys._getframe())))
    for depth in range(max_depth + 1):
        for target in level:
            if _is_proper_module(target):
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


def _is_proper_module(obj: object) -> bool:
    """objgraph's ``is_proper_module`` (a module that is in ``sys.modules`` under its name)
    without running measured code: ``type()`` instead of ``isinstance()`` (which may ask a proxy
    for its ``__class__``) and the name read from the module's own ``__dict__``."""
    if not issubclass(type(obj), types.ModuleType):
        return False
    try:
        name = object.__getattribute__(obj, "__dict__").get("__name__")
    except BaseException:  # noqa: BLE001 - a module subclass with an odd __dict__
        return False
    return type(name) is str and sys.modules.get(name) is obj


def type_name(obj: object) -> str:
    """``module.QualName`` of *obj*'s type (``builtins.`` left out), read without running a
    metaclass's code."""
    return type_label(obj)
