"""The typer app: wires the subcommands together and turns errors into exit codes."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from memleak_cli.cli import baseline, gate, list_cmd, report, run, watch
from memleak_cli.errors import MemleakError
from memleak_cli.reporters.text import for_terminal

EXIT_INTERRUPTED = 130


class MemleakGroup(TyperGroup):
    """The command group that turns every :class:`MemleakError` into one ``error:`` line and its
    exit code, and an interrupt into exit 130 — in one place, for the console script and for
    ``typer.testing.CliRunner`` alike."""

    def invoke(self, ctx: Any) -> Any:  # ctx: the vendored click Context typer passes
        try:
            return super().invoke(ctx)
        except MemleakError as exc:
            for line in str(exc).splitlines() or [""]:
                typer.echo(f"{exc.prefix}: {for_terminal(line)}", err=True)  # names, paths and messages from outside
            raise typer.Exit(exc.exit_code) from exc
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None


app = typer.Typer(
    name="memleak",
    cls=MemleakGroup,
    help="Find and explain memory leaks in Python ML services: leaky vs fixed, growth per "
    "iteration, allocation sites and reference chains.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts say "[default: 20]": not rich markup
)
app.command("run", help=run.__doc__)(run.run)
app.command("list", help=list_cmd.__doc__)(list_cmd.list_scenarios)
app.command("gate", help=gate.__doc__)(gate.gate)
app.command("report", help=report.__doc__)(report.report)
app.command("watch", help=watch.__doc__)(watch.watch)
app.add_typer(baseline.app, name="baseline", help=baseline.__doc__)


def main() -> None:
    """Console-script entry point. Standalone mode: usage errors print click's message and exit
    2, ``typer.Exit(code)`` exits with *code*; MemleakError is handled by :class:`MemleakGroup`."""
    import sys

    for stream in (sys.stdout, sys.stderr):  # the last guard: text that slipped through uncleaned
        reconfigure = getattr(stream, "reconfigure", None)  # must not end the run in UnicodeEncodeError
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    app(prog_name="memleak")
