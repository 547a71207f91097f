"""The report of ``memleak watch``: its own small versioned JSON document.

Why not :class:`~memleak_cli.report.model.RunReport`: a watched process is not a scenario with
variants and iterations, and from outside it only RSS and USS can be read — a ``Sample`` would
need made-up values for Python blocks, gc objects and descriptors. The document says what it
is (``"kind": "memleak-watch"``) and carries its own ``schema_version``; its trends reuse
:class:`~memleak_cli.report.model.MetricTrend` (slopes per reduced step) next to the slopes per
minute that people read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memleak_cli.errors import ReportFileError
from memleak_cli.report.documents import read_json_document
from memleak_cli.report.jsonio import Malformed, decode, write_json_atomic
from memleak_cli.report.model import MetricTrend

WATCH_KIND = "memleak-watch"
WATCH_SCHEMA_VERSION = 1


@dataclass
class WatchPoint:
    """One reading of the process tree: seconds since the watch started; ``rss_bytes`` and
    ``uss_bytes`` summed over the process and its children (psutil ``children(recursive=True)``);
    ``uss_bytes`` is ``None`` when the OS hides it (another user's process); ``processes`` counts
    the tree."""

    seconds: float
    rss_bytes: int
    uss_bytes: int | None
    processes: int


@dataclass
class WatchTrend:
    """Growth of one metric of the tree over the watch.

    ``per_minute``/``low_per_minute``/``high_per_minute``/``late_per_minute`` are the Theil–Sen
    slope, its 95 % interval and the slope of the second half, in bytes per minute;
    ``threshold_per_minute`` the ``--rate-threshold``. ``trend`` is the underlying
    :func:`memleak_cli.analysis.trend.fit_trend` result on the reduced series, in bytes per
    step of ``step_seconds``.
    """

    metric: str
    per_minute: float
    low_per_minute: float
    high_per_minute: float
    late_per_minute: float
    threshold_per_minute: float
    step_seconds: float
    points: int
    leaking: bool
    reason: str
    trend: MetricTrend


@dataclass
class WatchReport:
    """A whole ``memleak watch``.

    ``target`` holds ``pid``, ``command`` (its command line) and ``launched`` (memleak started
    it). ``ended`` is ``duration``, ``exited`` or ``interrupted``; ``exit_code`` is the launched
    command's status (``None`` when attached by PID or still running when stopped). ``verdict``
    is ``LEAK`` (sustained growth), ``CLEAN`` or ``UNKNOWN`` (too few points after warm-up).
    """

    kind: str
    schema_version: int
    tool_version: str
    created: str
    command: list[str]
    target: dict[str, Any]
    settings: dict[str, Any]
    ended: str = "duration"
    exit_code: int | None = None
    seconds: float = 0.0
    verdict: str = "UNKNOWN"
    reason: str = ""
    peak_rss_bytes: int | None = None
    peak_uss_bytes: int | None = None
    trends: list[WatchTrend] = field(default_factory=list)
    points: list[WatchPoint] = field(default_factory=list)

    def trend(self, metric: str) -> WatchTrend | None:
        """The trend of *metric* (``rss_bytes`` or ``uss_bytes``), or ``None``."""
        return next((t for t in self.trends if t.metric == metric), None)


def write_watch_report(report: WatchReport, path: Path) -> None:
    """Write *report* to *path* atomically. Raises ReportFileError when it cannot."""
    write_json_atomic(path, dataclasses.asdict(report))


def read_watch_report(path: Path) -> WatchReport:
    """Read a report written by :func:`write_watch_report`.

    Raises:
        ReportFileError: missing, not a regular file, not UTF-8, not JSON, holding NaN, Infinity
            or numbers too large, not a watch report, another schema version, malformed
            (:mod:`memleak_cli.report.documents`).
    """
    path = Path(path)
    data = read_json_document(path, "watch report")
    if not isinstance(data, dict) or data.get("kind") != WATCH_KIND:
        raise ReportFileError(f"{path}: not a memleak watch report (kind is not {WATCH_KIND!r})")
    if data.get("schema_version") != WATCH_SCHEMA_VERSION:
        raise ReportFileError(
            f"{path}: watch report schema version {data.get('schema_version')!r} is not supported "
            f"(this memleak reads version {WATCH_SCHEMA_VERSION})"
        )
    try:
        report: WatchReport = decode(WatchReport, data)
    except Malformed as exc:
        raise ReportFileError(f"{path}: malformed watch report: {exc}") from None
    return report
