"""The typer app: wires the subcommands together and turns errors into exit codes."""

from __future__ import annotations

import sys

import typer

from memleak_cli.commands import list_cmd, run
from memleak_cli.errors import MemleakError

app = typer.Typer(
    name="memleak",
    help="Find and explain memory leaks in Python ML services: leaky vs fixed, growth per "
    "iteration, allocation sites and reference chains.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("run", help=run.__doc__)(run.run)
app.command("list", help=list_cmd.__doc__)(list_cmd.list_scenarios)


def _click_exception() -> type[Exception]:
    """click's ``ClickException``: vendored as ``typer._click`` by typer >= 0.2x, else the click package."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions  # type: ignore[no-redef]
    return exceptions.ClickException


def main() -> None:
    """Console-script entry point: every MemleakError becomes one ``error:`` line and its exit code.

    With ``standalone_mode=False`` click does not exit on ``typer.Exit``: it *returns* the exit
    code, so the return value is the process exit status.
    """
    click_exception = _click_exception()
    try:
        code = app(standalone_mode=False)
    except MemleakError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except click_exception as exc:
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    sys.exit(code if isinstance(code, int) else 0)
