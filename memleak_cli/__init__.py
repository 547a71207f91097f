"""memleak: find and explain memory leaks in Python ML services.

Importing this package imports nothing heavy (no optuna, memray, objgraph…), so importing
memleak does not disturb what it measures. The public API: ``track`` (and ``Tracker``,
``TrackResult``, ``TrackVerdict``, loaded on first use from :mod:`memleak_cli.tracking`),
``declare`` and ``Scenario`` (from :mod:`memleak_cli.scenarios.contract`), and the production
sentinel ``memleak_cli.sentinel`` (``start``, ``wsgi``, ``asgi``), imported on first use.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "track": "memleak_cli.tracking",
    "Tracker": "memleak_cli.tracking",
    "TrackResult": "memleak_cli.tracking",
    "TrackVerdict": "memleak_cli.tracking",
    "declare": "memleak_cli.scenarios.contract",
    "Scenario": "memleak_cli.scenarios.contract",
}


def __getattr__(name: str) -> Any:
    if name == "sentinel":
        import importlib

        return importlib.import_module("memleak_cli.sentinel")
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name])
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"sentinel"})
