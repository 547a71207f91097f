"""Handles to native memory: the Python objects that stand for memory a C or C++ library owns.

A LightGBM ``Booster`` keeps its trees in LightGBM's C++ heap and holds only an address, a
``ctypes.c_void_p`` (``Booster._handle``); XGBoost's ``Booster.handle`` is the same, and C
extensions pass ``PyCapsule`` objects. pympler and ``sys.getsizeof`` size the Python object —
a few hundred bytes — never what the address points to. An object is *a handle* when it is such
a pointer or holds one within four references (a scikit-learn wrapper → its ``__dict__`` → its
Booster → the Booster's ``__dict__`` → the pointer), so the C heap growth measured around it can
be attributed to it (:mod:`memleak_cli.measure.window`, :mod:`memleak_cli.analysis.native`). The
heap walk, whose edges are named attributes rather than raw references, looks two edges deep
(``._Booster._handle``; :mod:`memleak_cli.probes.growth`).
"""

from __future__ import annotations

import ctypes
import gc

# ctypes._Pointer is the base of every POINTER(...) type
_POINTER_TYPES: tuple[type, ...] = (ctypes.c_void_p, ctypes._Pointer)


def is_handle_type(cls: type) -> bool:
    """True for ``ctypes.c_void_p`` and ctypes pointer types (subclasses included) and ``PyCapsule``."""
    try:
        return issubclass(cls, _POINTER_TYPES) or (cls.__name__ == "PyCapsule" and cls.__module__ == "builtins")
    except Exception:  # noqa: BLE001 - an odd metaclass
        return False


def handle_inside(obj: object, *, depth: int = 4) -> str | None:
    """The type name of the first native handle *obj* is or holds within *depth* references
    (``gc.get_referents``, which runs no code of the object's), or ``None``."""
    level = [obj]
    for hop in range(depth + 1):
        for item in level:
            cls = type(item)
            if is_handle_type(cls):
                return cls.__name__
        if hop == depth:
            break
        # classes are shared, not held: a Booster's class is not its handle
        level = [r for r in gc.get_referents(*level) if not issubclass(type(r), type)][:256]
    return None
