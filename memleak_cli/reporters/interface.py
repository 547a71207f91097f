"""The one interface every reporter implements."""

from __future__ import annotations

from typing import IO, Protocol

from memleak_cli.report.model import RunReport


class Reporter(Protocol):
    """Renders a whole :class:`RunReport` to a text stream."""

    def render(self, report: RunReport, file: IO[str]) -> None:
        """Write *report* to *file*."""
        ...
