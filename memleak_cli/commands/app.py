"""The typer app: wires the subcommands together and turns errors into exit codes."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from memleak_cli.commands import list_cmd, run
from memleak_cli.errors import MemleakError


class _MemleakGroup(TyperGroup):
    """Catches every :class:`MemleakError` in one place: one ``error:`` line and its exit code."""

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
)
app.command("run", help=run.__doc__)(run.run)
app.command("list", help=list_cmd.__doc__)(list_cmd.list_scenarios)


def main() -> None:
    """Console-script entry point (``memleak``)."""
    app(prog_name="memleak")
