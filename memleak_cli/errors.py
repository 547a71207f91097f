"""One exception hierarchy for memleak, caught in one place (``cli.app.main``).

Each error carries the process exit status it maps to, so "a leak was found" (1) is never
confused with "the tool was used wrongly" (2) or "a scenario crashed" (3).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_LEAK = 1
EXIT_USAGE = 2
EXIT_SCENARIO_CRASHED = 3
# An interrupted run exits 128 + the signal number, as shells do: 130 for SIGINT, 143 for SIGTERM.
EXIT_SIGNAL_BASE = 128


class MemleakError(Exception):
    """Base of every error memleak reports to the user as one line.

    Each line of the message is shown as ``<prefix>: <line>``; it should say what to do.
    """

    exit_code = EXIT_USAGE
    prefix = "error"


class UsageError(MemleakError):
    """Bad command-line input: an unknown scenario, a size that does not parse, too few iterations."""

    exit_code = EXIT_USAGE


class ReportFileError(MemleakError):
    """A report, baseline or config file that cannot be written or read."""

    exit_code = EXIT_USAGE


class ReportRenderError(MemleakError):
    """A report that was measured and written as JSON but could not be shown (terminal) or drawn
    (HTML): the JSON report is kept; the message names it."""

    exit_code = EXIT_USAGE


class ScenarioError(MemleakError):
    """A scenario that cannot be loaded or is declared wrongly."""

    exit_code = EXIT_USAGE


class LeakFound(MemleakError):
    """A check failed: a variant expected CLEAN is not, or the gate found growth above its baseline."""

    exit_code = EXIT_LEAK
    prefix = "leak"


class ScenarioCrashed(MemleakError):
    """A scenario raised, its measuring process died or timed out; its report was written."""

    exit_code = EXIT_SCENARIO_CRASHED


class Interrupted(MemleakError):
    """The run was stopped by a signal (Ctrl-C, SIGTERM); its report was written, marked incomplete.

    ``exit_code`` is 128 + the signal number (130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = EXIT_SIGNAL_BASE + signum
