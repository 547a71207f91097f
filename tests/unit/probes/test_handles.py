"""What counts as a handle to native memory: ctypes pointers and capsules, found a few references deep."""

from __future__ import annotations

import ctypes

from memleak_cli.probes.handles import handle_inside, is_handle_type


class _Booster:
    def __init__(self) -> None:
        self._handle = ctypes.c_void_p(0)


class _Wrapper:  # scikit-learn's LGBMRegressor holds its Booster as ``_Booster``
    def __init__(self) -> None:
        self._Booster = _Booster()


def test_pointer_types_and_capsules_are_handles() -> None:
    assert is_handle_type(ctypes.c_void_p)
    assert is_handle_type(ctypes.POINTER(ctypes.c_double))
    capsule = ctypes.pythonapi.PyCapsule_New
    capsule.restype, capsule.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    assert is_handle_type(type(capsule(1, None, None)))
    assert not is_handle_type(ctypes.c_int)
    assert not is_handle_type(int)


def test_a_handle_is_found_through_instances_and_their_dicts() -> None:
    assert handle_inside(_Booster()) == "c_void_p"
    assert handle_inside(_Wrapper()) == "c_void_p"
    assert handle_inside({"model": _Wrapper()}, depth=2) is None  # too deep for two references
    assert handle_inside({"rows": [1, 2, 3]}) is None
