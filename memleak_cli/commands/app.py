"""The typer app: wires the subcommands together and turns errors into exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer

from memleak_cli.commands import list_cmd, run, watch
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


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a MemleakError raised by *command* into its ``error:`` line and exit code inside the
    command, so that typer.testing.CliRunner (which bypasses :func:`main`) sees them too."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MemleakError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


app.command("watch", help=watch.__doc__)(one_line_errors(watch.watch))


def main() -> None:
    """Console-script entry point: every MemleakError becomes one ``error:`` line and its exit code."""
    try:
        # Without standalone mode, typer *returns* the code of a typer.Exit raised by a command
        # (and turns Ctrl-C into Exit(130)) instead of raising it: the code must be passed on.
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
    except typer.exceptions.TyperException as exc:  # click's usage errors (typer vendors click)
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            typer.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    if isinstance(code, int) and code:
        if code == 130:
            typer.echo("interrupted", err=True)
        sys.exit(code)
