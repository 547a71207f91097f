"""The sampling loop of ``memleak watch``: process-tree RSS/USS every interval until the end."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Sequence

from memleak_cli import __version__
from memleak_cli.measure.proctree import read_tree
from memleak_cli.report.watch_model import (
    WATCH_KIND,
    WATCH_SCHEMA_VERSION,
    WatchPoint,
    WatchReport,
)
from memleak_cli.watch.analysis import analyze
from memleak_cli.watch.settings import WatchSettings
from memleak_cli.watch.target import Target

PointTaken = Callable[[Sequence[WatchPoint]], None]


def prepare() -> None:
    """Import the trend code (scipy) now: importing it at the first live trend would stall
    sampling for a second. Call before starting the target; :func:`watch` calls it too."""
    import scipy.stats  # noqa: F401


def watch(
    target: Target,
    settings: WatchSettings,
    *,
    command: Sequence[str] = (),
    on_point: PointTaken | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> WatchReport:
    """Read the target's tree every ``settings.interval`` seconds and judge the series.

    Stops when ``settings.duration`` has passed, the target exits, or on Ctrl-C
    (``KeyboardInterrupt`` is caught here: sampling ends and the report is still complete).
    A launched command still running at the end is stopped (:meth:`Target.stop`).
    *on_point* is called with all points so far after each reading (the live view).

    Returns:
        A judged :class:`WatchReport` (see :func:`analyze`).
    """
    report = WatchReport(
        kind=WATCH_KIND,
        schema_version=WATCH_SCHEMA_VERSION,
        tool_version=__version__,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        command=list(command),
        target=target.describe(),
        settings=settings.as_dict(),
    )
    prepare()
    start = clock()
    try:
        next_at = start
        while True:
            reading = read_tree(target.process)
            if reading is None:
                report.ended = "exited"
                break
            report.points.append(
                WatchPoint(
                    seconds=round(clock() - start, 4),
                    rss_bytes=reading[0],
                    uss_bytes=reading[1],
                    processes=reading[2],
                )
            )
            if on_point is not None:
                on_point(report.points)
            next_at += settings.interval
            behind = clock() - next_at
            if behind > 0:  # a slow reading or view: skip the missed slots, never bunch readings
                next_at += math.ceil(behind / settings.interval) * settings.interval
            if settings.duration is not None and next_at - start > settings.duration + 1e-9:
                report.ended = "duration"
                break
            if target.wait(next_at - clock()):
                report.ended = "exited"
                break
    except KeyboardInterrupt:
        report.ended = "interrupted"
    finally:
        report.seconds = round(clock() - start, 3)
        target.stop()
    report.exit_code = target.exit_code()
    return analyze(report, settings)


