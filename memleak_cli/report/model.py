"""The report model: plain data that every reporter (terminal, JSON, HTML) takes.

Units: every field ending in ``_bytes`` is bytes; ``per_iteration`` fields are per iteration of
the workload; counts are plain numbers of objects, blocks, descriptors or threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1


@dataclass
class Sample:
    """Cheap metrics read after one iteration and a full ``gc.collect()``.

    ``phase`` is ``warmup`` (kept out of the trend), ``measure`` (the trend) or ``window`` (the
    attribution window, traced by tracemalloc when ``--frames`` > 0, kept out of the trend).
    ``rss_bytes``/``uss_bytes`` are of the measured process alone; ``tree_rss_bytes`` and
    ``tree_uss_bytes`` add its child processes (psutil ``children(recursive=True)``).
    ``heap_bytes`` is the C heap in use (``psutil.heap_info()``: heap_used + mmap_used).
    ``py_blocks`` is ``sys.getallocatedblocks()``; ``gc_objects`` is ``len(gc.get_objects())``.

    ``rss_bytes`` is read before the allocator is trimmed; ``rss_trimmed_bytes`` right after
    glibc's ``malloc_trim(0)`` (``psutil.heap_trim()``), ``None`` where there is no glibc or
    trimming is off. The difference is memory already freed but kept by the allocator. Every
    other field is read after the trim. ``child_processes`` lists each child (pid, name, RSS,
    USS) and is ``None`` when the process has none.
    """

    iteration: int
    phase: str
    seconds: float
    rss_bytes: int
    uss_bytes: int | None
    tree_rss_bytes: int
    tree_uss_bytes: int | None
    children: int
    heap_bytes: int | None
    py_blocks: int
    gc_objects: int
    fds: int | None
    threads: int
    traced_bytes: int | None = None
    traced_peak_bytes: int | None = None
    rss_trimmed_bytes: int | None = None
    child_processes: list[ChildProcess] | None = None


@dataclass
class ChildProcess:
    """One child of the measured process in a sample (psutil): ``uss_bytes`` is ``None`` where hidden."""

    pid: int
    name: str
    rss_bytes: int
    uss_bytes: int | None


@dataclass
class MetricTrend:
    """Growth of one metric over the post-warm-up iterations.

    ``slope`` is the Theil–Sen slope (scipy.stats.theilslopes) in ``unit`` per iteration with
    its 95 % confidence interval ``[slope_low, slope_high]``; ``late_slope`` is the same over the
    second half only (sustained growth keeps it); ``positive_deltas`` of ``deltas`` consecutive
    differences were positive (the consistency vote of CPython's ``-R``). ``leaking`` is the
    metric's own call against ``threshold`` (same unit); ``reason`` says why in words.
    ``intercept`` is the Theil–Sen line's value at the first post-warm-up iteration (x = 0, in
    ``unit``): ``value(i) = intercept + slope * i`` for the i-th measured sample. It is ``None``
    in reports written before it was stored (see ``analysis.trend.theil_sen_intercept``).
    ``informational`` trends are shown but not voted on (untrimmed RSS when the trimmed RSS
    is measured: its growth may be memory the allocator keeps). ``status`` is the evidence's
    call (:mod:`memleak_cli.analysis.evidence`): ``flat``, ``stopped``, ``slowing``, ``steady``
    (growing, not confirmed) or ``leak``; empty in older reports.
    """

    metric: str
    unit: str
    slope: float
    slope_low: float
    slope_high: float
    late_slope: float
    positive_deltas: int
    nonzero_deltas: int
    deltas: int
    threshold: float
    first: float
    last: float
    leaking: bool
    reason: str
    intercept: float | None = None
    informational: bool = False
    status: str = ""


@dataclass
class AllocationSite:
    """One line of the tracemalloc snapshot diff (``Snapshot.compare_to(..., 'traceback')``).

    ``size_diff_bytes``/``count_diff`` are the growth over the attribution window;
    ``frames`` are ``file:line`` strings from oldest to the allocation itself; ``site`` is the
    allocation's own ``file:line`` and ``first_own_frame`` the innermost frame in scenario or
    user code (not in a library or the standard library), when there is one.
    """

    site: str
    size_diff_bytes: int
    count_diff: int
    size_bytes: int
    count: int
    frames: list[str]
    first_own_frame: str | None = None


@dataclass
class TypeGrowth:
    """Instance count of one type at the end of warm-up and of the measured iterations (objgraph.typestats)."""

    type_name: str
    before: int
    after: int
    delta: int
    per_iteration: float


@dataclass
class RetainedObject:
    """An object made during the attribution window and still reachable after it ended.

    ``path`` is the reference chain from a module global resolved to names
    (``memleak_scenarios.optuna_study.ml_training_service.optimizer.study``); ``chain`` the hops with
    their types. ``size_bytes`` is its deep size by ``pympler.asizeof``, which can include
    objects shared with others. ``allocated_at`` is where the object itself was allocated
    (``file:line`` frames, oldest first; empty when tracemalloc was off). ``handle`` names the
    native handle it is or holds (``c_void_p``: a LightGBM ``Booster``; see
    :mod:`memleak_cli.probes.handles`) and ``native_bytes`` the C heap that handle pins (bytes;
    ``None`` when it is no handle or the C heap did not grow measurably).
    """

    type_name: str
    repr: str
    size_bytes: int
    path: str
    chain: list[str]
    allocated_at: list[str] = field(default_factory=list)
    handle: str | None = None
    native_bytes: int | None = None

    def size_text(self) -> str:
        """``3.2 KiB``, or ``3.2 KiB + 39.1 KiB native`` for a handle that pins C heap."""
        from memleak_cli.units import format_bytes

        native = f" + {format_bytes(self.native_bytes)} native" if self.native_bytes else ""
        return format_bytes(self.size_bytes) + native


@dataclass
class NativeSite:
    """Memory allocated during the memray window and not freed by its end, for one call stack.

    ``size_bytes``/``count`` sum the allocations made through that stack (memray's
    ``get_leaked_allocation_records(merge_threads=True)``); ``native_frame`` is the first native
    frame of a library (``LightGBM::GBDT::LoadModelFromString(...)``), past the allocator itself
    (``malloc``, ``operator new``, ``std::``); ``allocator_frame`` is the innermost frame
    (``operator new(unsigned long)``); ``python_frame`` the innermost frame in scenario or user
    code as ``file:line``; ``stack`` the hybrid stack, innermost first, as
    ``function at file:line`` strings.
    """

    size_bytes: int
    count: int
    allocator: str
    native_frame: str | None
    allocator_frame: str | None
    python_frame: str | None
    stack: list[str] = field(default_factory=list)


@dataclass
class TypeSize:
    """Change of one type's instance count and shallow size (pympler ``summary``) over the window."""

    type_name: str
    count_delta: int
    size_delta_bytes: int


@dataclass
class Attribution:
    """What the attribution window found: where growth was allocated and who holds what stayed.

    ``type_sizes`` is the pympler type summary diff over the priming iteration and the window
    (``summary.summarize(muppy.get_objects())`` before and after). The ``native_*`` fields come
    from the memray probe (``--probe memray``), run as ``native_iterations`` extra iterations
    after the tracemalloc window: ``native_growth_bytes`` is memory allocated by native code
    (not Python's allocators) and still not freed at the end, ``native_python_bytes`` the same for
    Python's allocators, ``native_sites`` the top stacks, ``native_seconds`` the mean iteration
    time under memray (``native_overhead_seconds`` what starting and stopping the tracker and
    reading its capture cost once; ``traced_seconds`` the mean iteration time under tracemalloc, ``type_sizes_seconds`` the
    two pympler summaries together), ``flamegraph`` the path of memray's leak flame graph
    (``None`` when not written) and ``native_error`` why the probe or its flame graph failed.
    """

    window_iterations: int
    frames: int
    traced: bool
    traced_growth_bytes: int | None
    traced_growth_per_iteration: float | None
    sites: list[AllocationSite] = field(default_factory=list)
    retained: list[RetainedObject] = field(default_factory=list)
    retained_bytes: int = 0
    retained_roots: int = 0
    retained_native_bytes: int | None = None
    seconds: float = 0.0
    type_sizes: list[TypeSize] = field(default_factory=list)
    type_sizes_seconds: float | None = None
    native: bool = False
    native_iterations: int = 0
    native_growth_bytes: int | None = None
    native_python_bytes: int | None = None
    native_sites: list[NativeSite] = field(default_factory=list)
    native_seconds: float | None = None
    native_overhead_seconds: float | None = None
    traced_seconds: float | None = None
    flamegraph: str | None = None
    native_error: str | None = None

    def retained_total_bytes(self) -> int:
        """What the window kept: the retained roots' deep size plus the C heap their handles pin (bytes)."""
        return self.retained_bytes + (self.retained_native_bytes or 0)

    def retained_text(self) -> str:
        """The retained roots' deep size, ``+ N native`` when handles among them pin C heap."""
        from memleak_cli.units import format_bytes

        native = f" + {format_bytes(self.retained_native_bytes)} native" if self.retained_native_bytes else ""
        return format_bytes(self.retained_bytes) + native


@dataclass
class VariantResult:
    """One variant run in its own process, with its samples, analysis and verdict.

    ``verdict`` is ``LEAK``, ``RETAINS``, ``CLEAN`` or ``ERROR`` (the scenario crashed; ``error``
    holds the traceback or signal); ``expect`` is what the scenario promises.

    ``stopped_by`` says why the parent ended the variant before it finished: ``"max-rss"`` (its
    process tree's RSS passed ``--max-rss``; verdict ``LEAK`` and ``capped_bytes`` is the tree
    RSS reached, in bytes), ``"timeout"`` (``--timeout``; verdict ``ERROR``), ``"SIGINT"`` or
    ``"SIGTERM"`` (the run was interrupted; verdict ``ERROR``). ``None`` when it ran its course.
    Samples taken before the stop are kept. ``notes`` say what one view saw and another could
    not (native growth tracemalloc misses, memory the allocator keeps), one sentence each.
    ``holders`` are the reference paths whose object count grew at every heap walk (the
    growth detector), largest growth in bytes first; ``holder_seconds`` the walks' time.
    ``requested_iterations`` were asked for; ``extended_by`` more ran to decide ``extend_why``
    (:mod:`memleak_cli.analysis.evidence`). ``severity`` sizes a LEAK per iteration, per 1 000
    iterations and per hour at the measured iteration rate.
    """

    variant: str
    expect: str
    verdict: str
    reason: str
    samples: list[Sample] = field(default_factory=list)
    trends: list[MetricTrend] = field(default_factory=list)
    type_growth: list[TypeGrowth] = field(default_factory=list)
    attribution: Attribution | None = None
    fix_source: str | None = None
    summary: str = ""
    seconds: float = 0.0
    exit_code: int | None = None
    error: str | None = None
    output_tail: str = ""
    capped_bytes: int | None = None
    stopped_by: str | None = None
    notes: list[str] = field(default_factory=list)
    holders: list[GrowingPath] = field(default_factory=list)
    holder_seconds: float | None = None
    requested_iterations: int | None = None
    extended_by: int = 0
    extend_why: str = ""
    severity: str = ""

    @property
    def label(self) -> str:
        """The verdict with why the variant was stopped: ``LEAK (capped)``, ``ERROR (timeout)``."""
        if self.stopped_by == "max-rss" and self.verdict == "LEAK":
            return "LEAK (capped)"
        if self.stopped_by and self.verdict == "ERROR":
            return f"ERROR ({'timeout' if self.stopped_by == 'timeout' else 'interrupted'})"
        return self.verdict

    def trend(self, metric: str) -> MetricTrend | None:
        """The trend of *metric*, or ``None`` when it was not measured."""
        return next((t for t in self.trends if t.metric == metric), None)


@dataclass
class ScenarioResult:
    """Every variant of one scenario, and whether the fix worked (leaky not CLEAN, fixed CLEAN)."""

    name: str
    description: str
    finding: str
    size: str
    variants: list[VariantResult] = field(default_factory=list)
    fix_effective: bool | None = None

    def variant(self, name: str) -> VariantResult | None:
        """The result of variant *name*, or ``None`` when it was not run."""
        return next((v for v in self.variants if v.variant == name), None)


@dataclass
class RunReport:
    """A whole ``memleak run``: settings, environment and one result per scenario."""

    schema_version: int
    tool_version: str
    created: str
    command: list[str]
    host: dict[str, Any]
    settings: dict[str, Any]
    scenarios: list[ScenarioResult] = field(default_factory=list)
    complete: bool = True
    # the signal number that stopped the run (SIGINT 2, SIGTERM 15); None when it ran to the end
    interrupted_by: int | None = None


@dataclass
class GrowingPath:
    """A reference path whose object count rose at every heap walk (``probes.growth``).

    ``path`` is the path shape from a module global or a thread's frame, collections written
    ``[*]`` (``model_server.server.history[*]``); ``fingerprint`` 16 hex digits of the SHA-256 of
    that shape (names, container and leaf types; no addresses, no dynamic keys), the same across
    runs and machines. ``counts`` holds the objects on the path at each walk; ``held`` the last
    of them and ``held_bytes`` the bytes of everything under the path then (shallow sizes,
    numpy buffers by ``nbytes``). ``objects_per_iteration``/``bytes_per_iteration`` are the
    growth from the first walk to the last divided by the iterations between them. ``leaf``
    describes one element from type names, key names and mean sizes
    (``dict → {'features': ndarray 1.6 KiB}``). ``handle`` names the native handle each element
    holds (``c_void_p``; :mod:`memleak_cli.probes.handles`) and ``native_bytes_each`` the C heap
    growth per iteration divided by the elements added per iteration (bytes; set by
    :func:`memleak_cli.analysis.native.attribute_handles`, ``None`` when not measured).
    """

    path: str
    fingerprint: str
    objects_per_iteration: float
    bytes_per_iteration: float
    held: int
    held_bytes: int
    counts: list[int] = field(default_factory=list)
    leaf: str = ""
    handle: str | None = None
    native_bytes_each: float | None = None

    def line(self) -> str:
        """One line: ``svc.history[*] +1 dict/it (+2.1 KiB/it), 41 held``; for elements behind a
        native handle, ``…, 23 held, ≈ 60.4 KiB native each (C heap behind its c_void_p handle)``."""
        from memleak_cli.units import format_bytes, format_count

        kind = self.leaf.split(" ", 1)[0] if self.leaf else "object"
        native = ""
        if self.native_bytes_each is not None:
            native = f", ≈ {format_bytes(self.native_bytes_each)} native each (C heap behind its {self.handle} handle)"
        return (
            f"{self.path} {format_count(self.objects_per_iteration, signed=True)} {kind}/it "
            f"({format_bytes(self.bytes_per_iteration, signed=True)}/it), {self.held} held{native}"
        )
