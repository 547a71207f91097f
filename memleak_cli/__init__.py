"""memleak: find and explain memory leaks in Python ML services.

Importing this package imports nothing heavy (no optuna, memray, objgraph…), so importing
memleak does not disturb what it measures. ``memleak_cli.track`` (and ``Tracker``,
``TrackResult``, ``TrackVerdict``) are loaded on first use, from :mod:`memleak_cli.track`.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {"track", "Tracker", "TrackResult", "TrackVerdict"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module("memleak_cli.track")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY)
