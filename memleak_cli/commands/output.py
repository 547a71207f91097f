"""Output paths and rendering for the commands that write reports: the JSON report first, then
what is shown, so that a view that fails never costs the measurements."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from memleak_cli.errors import MemleakError, ReportRenderError

__all__ = ["render_guarded"]


def render_guarded(what: str, render: Callable[[], None], written: Path | None) -> ReportRenderError | None:
    """Call *render* (the terminal report, the HTML page); return the failure as one
    :class:`ReportRenderError` line instead of raising it, so the caller can finish its other
    outputs first. *written* is the JSON report already on disk (named in the message).

    A :class:`MemleakError` (an HTML file that cannot be written) is not a rendering failure
    and is raised as it is, as is ``KeyboardInterrupt``.
    """
    try:
        render()
    except MemleakError:
        raise
    except Exception as exc:  # noqa: BLE001 - a view must not lose a run: said in one line
        kept = f"; the JSON report is written: {written}" if written is not None else ""
        message = str(exc).splitlines()[0] if str(exc) else ""
        return ReportRenderError(f"cannot show {what}: {type(exc).__name__}: {message[:300]}{kept}")
    return None
