"""Leaks in production: a sentinel inside the service (:class:`Sentinel`), and its metrics.

::

    import memleak_cli.sentinel

    sentinel = memleak_cli.sentinel.start(interval="60s", serve="127.0.0.1:9464")
    app = memleak_cli.sentinel.wsgi(app)          # or: start it with the app, /metrics mounted
    app = memleak_cli.sentinel.asgi(app)          # started/stopped with the ASGI lifespan

See :mod:`memleak_cli.sentinel.core` for what it measures and what it costs. Importing this
package imports psutil and nothing heavy; scipy is imported in the sentinel's thread when it starts
and prometheus_client only when metrics are served.
"""

from __future__ import annotations

from typing import Any

from memleak_cli.export.status import MemoryStatus, PathGrowth
from memleak_cli.sentinel.core import Sentinel, SentinelSettings, SentinelThresholds
from memleak_cli.sentinel.middleware import asgi, wsgi

__all__ = [
    "MemoryStatus",
    "PathGrowth",
    "Sentinel",
    "SentinelSettings",
    "SentinelThresholds",
    "asgi",
    "start",
    "wsgi",
]


def start(interval: float | str = "60s", **options: Any) -> Sentinel:
    """A started :class:`Sentinel` (options as its constructor); use it as a context manager
    too: ``with memleak_cli.sentinel.start("30s"): serve()`` stops it at the end."""
    return Sentinel(interval, **options).start()
