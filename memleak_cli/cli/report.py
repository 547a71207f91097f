"""Redraw the self-contained HTML report from a saved JSON report (one scenario or a whole --all run)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from memleak_cli.cli.outputs import default_html_path, output_path, render_guarded
from memleak_cli.errors import UsageError
from memleak_cli.report.jsonio import check_writable, read_report
from memleak_cli.reporters.text import for_terminal


def report(
    json_path: Annotated[Path, typer.Argument(metavar="RUN.json", help="A JSON report written by 'memleak run'.", show_default=False)],
    output: Annotated[str | None, typer.Option("--output", "-o", help="Where to write the HTML page; ending in /: RUN.html in that folder (default: RUN.html beside the JSON).")] = None,
) -> None:
    """Redraw the self-contained HTML report from a saved JSON report (one scenario or a whole --all run)."""
    from memleak_cli.reporters.html import write_html

    out_path = output_path(output, default_html_path(json_path))
    if out_path.resolve() == json_path.resolve():
        raise UsageError(f"-o {out_path} is the JSON report itself: give the HTML page another name")
    run_report = read_report(json_path)  # a bad file stops here, before anything is written
    check_writable(out_path)
    failed = render_guarded("the HTML report", lambda: write_html(run_report, out_path), None)
    if failed is not None:
        raise failed
    typer.echo(for_terminal(f"HTML report: {out_path}"))
