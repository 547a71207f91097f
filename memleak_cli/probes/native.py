"""Native allocations: memray's view of the attribution window, C and C++ included.

tracemalloc sees only Python's allocators; a LightGBM booster, a numpy buffer allocated by C
code or a C++ ``std::vector`` is invisible to it. memray intercepts ``malloc``/``operator new``
(through the PLT of every loaded library) and records the Python *and* native stack of each
allocation. This probe runs ``window`` extra iterations under ``memray.Tracker``
(``native_traces=True``, ``trace_python_allocators=True`` so that pymalloc's arena reuse is not
mistaken for a leak), then reads the allocations still alive at the end
(``FileReader.get_leaked_allocation_records(merge_threads=True)``) and groups them by the frames
that matter: the native library frame (``LightGBM::Tree::Tree(...)``) and the first frame in the
scenario or user code.

It runs as its own window after the tracemalloc one: memray can track while tracemalloc traces
(checked: both hook Python's allocators and chain), but it then also records tracemalloc's own
trace tables as native allocations (10 KiB for 4,000 traced dicts, measured), and the costs add up.

Costs, measured on this project's 2-core machine under load (CPU time per iteration, median of
3x4): LightGBM booster (500 rows, 30 rounds) untraced 64 ms, tracemalloc 5 frames 59 ms, memray
native + Python stacks 67 ms — C++ work dominates; 20,000 small dicts untraced 63 ms,
tracemalloc 111 ms (x1.8), memray native + Python 95 ms (x1.5), memray native only 67 ms.
Wall time in the worker on the booster scenario: untraced 19 ms, tracemalloc 27 ms, memray
73 ms (its writer thread competes for the two cores); starting the tracker (it patches every
loaded library), stopping it and reading the capture ~0.6 s once; the flame graph a few seconds
in the parent.

What memray cannot see: memory allocated through a ``malloc`` that a library resolved at run
time (``ctypes.CDLL("libc.so.6").malloc``, ``dlsym``) bypasses its PLT hooks — measured here, a
1 MiB ``ctypes`` malloc per iteration leaves no record. Such growth is reported as native growth
with no stack (:mod:`memleak_cli.analysis.native`).
"""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from memleak_cli.probes.allocations import _TOOL_DIR, _own_code
from memleak_cli.report.model import NativeSite

Frame = tuple[str, str, int]

# Frames that say nothing about who wanted the memory: the allocator, the C++ standard library,
# OpenMP's thread team, and CPython's or ctypes' call machinery.
_SKIP_SYMBOL = re.compile(
    r"^(<unknown>|malloc|calloc|realloc|free|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|mmap"
    r"|operator new|operator delete|std::|__gnu_cxx::|__cxa_|__libc_|__GI_|GOMP_|gomp_|__kmp|omp_"
    r"|default_(malloc|calloc|realloc)|PyDataMem_\w+|npy_alloc_cache\w*"
    r"|_?Py(Object|Eval|Vectorcall|Mem|CFunction|Function|Type|Frame|Run|Number|Call)\w*|_?Py_\w*"
    r"|_PyEval\w*|_PyObject\w*|_PyFunction\w*|slot_\w+|vectorcall\w*|method_vectorcall\w*|cfunction_\w+"
    r"|type_call|object_vectorcall|_call_function_pointer|_ctypes_\w+|PyCFuncPtr_call|ffi_\w+|pymain_\w+|main$|_start$)"
)
# a demangled template function starts with its return type: ``void std::vector<...>::...``
_STD_WITH_RETURN_TYPE = re.compile(r"^\S+ (std::|__gnu_cxx::)")
_ARENA_SYMBOLS = ("_PyObject_ArenaMmap", "new_arena", "_PyObject_ArenaMalloc")


class NativeProbeError(Exception):
    """memray cannot run here (not installed, another tracker active) or its capture cannot be read."""


def track_window(capture: Path, iterate: Callable[[], object], iterations: int) -> tuple[float, float]:
    """Run *iterate* *iterations* times under ``memray.Tracker(capture, native_traces=True,
    trace_python_allocators=True)``, with a full ``gc.collect()`` after each.

    Returns ``(mean seconds per iteration under tracking, seconds to start and stop the
    tracker)``; starting patches every loaded library, so it costs more with more imported.

    Raises:
        NativeProbeError: memray is missing or cannot start tracking (another tracker is
            active, the capture file cannot be written). What *iterate* raises propagates.
    """
    try:
        import memray

        tracker = memray.Tracker(capture, native_traces=True, trace_python_allocators=True, follow_fork=False)
        started = time.perf_counter()
        tracker.__enter__()
    except (ImportError, RuntimeError, OSError) as exc:
        raise NativeProbeError(f"memray could not track: {type(exc).__name__}: {exc}") from exc
    try:
        began = time.perf_counter()
        for _ in range(iterations):
            iterate()
            gc.collect()
        work = time.perf_counter() - began
    finally:
        tracker.__exit__(None, None, None)
    return work / max(iterations, 1), time.perf_counter() - started - work


def _frame_text(frame: Frame) -> str:
    function, filename, line = frame
    return function if filename in ("<unknown>", "") else f"{function} at {filename}:{line}"


def library_frame(native: Sequence[Frame]) -> str | None:
    """The first native frame (innermost first) that belongs to a library's own code: past the
    allocator, the C++ standard library, OpenMP and CPython's call machinery. A namespaced C++
    frame (``LightGBM::Tree::Tree(...)``) wins over a plain C one; ``None`` when there is none."""
    candidates = [f[0] for f in native if not _SKIP_SYMBOL.match(f[0]) and not _STD_WITH_RETURN_TYPE.match(f[0])]
    namespaced = next((s for s in candidates if "::" in s), None)
    return namespaced or (candidates[0] if candidates else None)


def _tool_only(python: Sequence[Frame]) -> bool:
    """True when every Python frame is memleak's own (its loop, its gc.collect): not the workload's."""
    return bool(python) and all(os.path.abspath(f[1]).startswith(_TOOL_DIR) or f[1].startswith("<") for f in python)


def leaked_sites(capture: Path, top: int) -> tuple[int, int, list[NativeSite]]:
    """Allocations still alive at the end of the memray window, grouped by their deciding frames.

    Reads *capture* with ``memray.FileReader(...).get_leaked_allocation_records(merge_threads=True)``.
    Allocations made by memleak's own code and pymalloc's arena mappings (counted through the
    objects in them) are left out.

    Returns ``(native bytes, Python-allocator bytes, the top *top* native sites by size)``;
    native means any allocator but Python's (``malloc``, ``operator new``, ``mmap``...). These
    are allocations made in the window and alive at its end, not net growth: memory allocated
    before the window and freed in it is not subtracted (a bounded cache that swaps its entry
    shows its new entry), and Python's free lists count as alive. Sites
    with the same library frame and the same first user frame are merged; the largest stack
    stands for them.

    Raises:
        NativeProbeError: the capture cannot be read.
    """
    import memray

    try:
        reader = memray.FileReader(os.fspath(capture))
    except (OSError, ValueError, RuntimeError) as exc:
        raise NativeProbeError(f"cannot read memray capture {capture}: {exc}") from exc
    native_bytes = python_bytes = 0
    groups: dict[tuple[str | None, str | None], NativeSite] = {}
    largest: dict[tuple[str | None, str | None], int] = {}
    for record in reader.get_leaked_allocation_records(merge_threads=True):
        python = list(record.stack_trace())
        if _tool_only(python):
            continue
        allocator = memray.AllocatorType(record.allocator).name
        if allocator.startswith("PYMALLOC"):
            python_bytes += record.size
            continue
        native = list(record.native_stack_trace())
        if any(f[0] in _ARENA_SYMBOLS for f in native):
            continue
        native_bytes += record.size
        own = next((f"{f[1]}:{f[2]}" for f in python if _own_code(f[1])), None)
        key = (library_frame(native), own)
        site = groups.setdefault(
            key, NativeSite(0, 0, allocator.lower(), key[0], native[0][0] if native else None, own)
        )
        site.size_bytes += record.size
        site.count += record.n_allocations
        if record.size > largest.get(key, -1):  # the largest record's stack stands for the group
            largest[key] = record.size
            site.allocator = allocator.lower()
            site.allocator_frame = native[0][0] if native else None
            site.stack = [_frame_text(f) for f in record.hybrid_stack_trace()]
    sites = sorted(groups.values(), key=lambda s: -s.size_bytes)[:top]
    return native_bytes, python_bytes, sites


def render_flamegraph(capture: Path, out: Path, *, timeout: float = 300.0) -> str | None:
    """memray's own flame graph of the allocations still alive at the end of the capture
    (``python -m memray flamegraph --leaks --force -o OUT CAPTURE``), written to *out*.

    Returns ``None`` on success, else one line saying why not (memray's last error line).
    """
    command = [sys.executable, "-m", "memray", "flamegraph", "--leaks", "--force", "-o", os.fspath(out), os.fspath(capture)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"memray flamegraph failed: {exc}"
    if done.returncode != 0 or not out.exists():
        lines = (done.stderr or done.stdout).strip().splitlines()
        return f"memray flamegraph failed: {lines[-1] if lines else f'exit status {done.returncode}'}"
    return None
