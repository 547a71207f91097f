"""Payload bytes for the corpus: real, written memory of an exact size."""

from __future__ import annotations

_PATTERN = bytes(range(256))


def payload(size: int) -> bytes:
    """A new bytes object of *size* bytes of a repeating 0..255 pattern (every page written,
    unlike ``bytes(size)``, which CPython allocates with calloc; never a shared object, unlike
    ``pattern * 1``). The object itself is ``size + 33`` bytes."""
    return (_PATTERN * (size // len(_PATTERN) + 1))[:size]
