"""The typer app: wires the subcommands together and turns errors into exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer

from memleak_cli.commands import list_cmd, report, run
from memleak_cli.errors import MemleakError


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command so a MemleakError prints one ``error:`` line and exits with its code.

    Done per command (not only in :func:`main`) so the app behaves the same when driven by
    ``typer.testing.CliRunner`` or embedded, with no traceback either way.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MemleakError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from exc

    return wrapper


app = typer.Typer(
    name="memleak",
    help="Find and explain memory leaks in Python ML services: leaky vs fixed, growth per "
    "iteration, allocation sites and reference chains.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("run", help=run.__doc__)(one_line_errors(run.run))
app.command("list", help=list_cmd.__doc__)(one_line_errors(list_cmd.list_scenarios))
app.command("report", help=report.__doc__)(one_line_errors(report.report))


def main() -> None:
    """Console-script entry point: every MemleakError becomes one ``error:`` line and its exit code."""
    try:
        code = app(standalone_mode=False)  # a typer.Exit inside a command comes back as its code
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
    except _click_exception() as exc:
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    if isinstance(code, int) and code:
        sys.exit(code)


def _click_exception() -> type[Exception]:
    """The ClickException class typer raises: its vendored click (typer >= 0.2x) or click itself."""
    try:
        from typer import _click as click_module  # type: ignore[attr-defined]
    except ImportError:  # older typer depends on click
        import click as click_module  # type: ignore[no-redef]
    return click_module.ClickException  # type: ignore[no-any-return]
