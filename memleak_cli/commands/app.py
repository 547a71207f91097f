"""The typer app: wires the subcommands together and turns errors into exit codes."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from memleak_cli.commands import list_cmd, report, run
from memleak_cli.errors import MemleakError


class _MemleakGroup(TyperGroup):
    """Catches every :class:`MemleakError` in one place: one ``error:`` line and its exit code.

    Done in the group (not only in :func:`main`) so the app behaves the same when driven by
    ``typer.testing.CliRunner`` or embedded, with no traceback either way.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except MemleakError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=_MemleakGroup,
    name="memleak",
    help="Find and explain memory leaks in Python ML services: leaky vs fixed, growth per "
    "iteration, allocation sites and reference chains.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts say "[default: 20]": not rich markup
)
app.command("run", help=run.__doc__)(run.run)
app.command("list", help=list_cmd.__doc__)(list_cmd.list_scenarios)
app.command("report", help=report.__doc__)(report.report)


def main() -> None:
    """Console-script entry point (``memleak``): standalone mode, so exit codes pass through."""
    app(prog_name="memleak")
