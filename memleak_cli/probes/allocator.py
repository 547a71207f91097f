"""The C allocator: giving freed memory back to the OS before RSS is read.

glibc's malloc keeps memory that the program freed: in free lists, in the gaps between blocks
still in use, at the top of a heap pinned by one live block, and in one arena per thread pool
(up to 8 x cores of them, ``MALLOC_ARENA_MAX``). RSS then stays high although nothing is in use,
which looks like a leak. ``malloc_trim(0)`` gives every whole free page back (``madvise``), so
RSS read right after it counts memory still allocated, not memory the allocator keeps.

Trimming changes the process it measures: later allocations fault those pages in again (a few
ms per iteration). A long-running service can do the same (``ctypes.CDLL("libc.so.6").malloc_trim(0)``
after each request, or ``MALLOC_TRIM_THRESHOLD_``/``MALLOC_ARENA_MAX`` in its environment), so
the trimmed value is what such a service would see.
"""

from __future__ import annotations

import functools
from collections.abc import Callable


@functools.cache
def _trimmer() -> Callable[[], object] | None:
    import psutil

    heap_trim = getattr(psutil, "heap_trim", None)  # psutil >= 7.2: malloc_trim(0) on glibc
    if heap_trim is not None:
        try:
            heap_trim()
            return heap_trim  # type: ignore[no-any-return]
        except (OSError, RuntimeError, NotImplementedError, AttributeError):
            pass
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return None  # musl, macOS, Windows: no malloc_trim
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


def can_trim() -> bool:
    """True when this process can trim its C heap (glibc's ``malloc_trim``)."""
    return _trimmer() is not None


def trim_heap() -> bool:
    """Give the C heap's free pages back to the OS (``psutil.heap_trim()``, else ``malloc_trim(0)``
    through ctypes). Returns False where neither exists (not glibc)."""
    trim = _trimmer()
    if trim is None:
        return False
    trim()
    return True
