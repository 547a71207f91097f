"""Typer options made from the settings table, so a setting's flag is declared once.

:func:`settings_options` adds one keyword parameter per row of
:data:`memleak_cli.settings.SETTINGS` that the command takes (flag, short form, help with its
default) to the command function's signature, and hands the command their values as one dict,
``flags``, keyed by :attr:`~memleak_cli.settings.Setting.param` (``None``: not given), ready for
:func:`memleak_cli.settings.resolve`. Every flag defaults to ``None`` so the config fallback can
fire (pytest-memray's bug #135 is what happens otherwise).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from memleak_cli.settings import Setting, for_command

F = TypeVar("F", bound=Callable[..., Any])


def _help(setting: Setting) -> str:
    if "[default:" in setting.help or not setting.default_text:
        return setting.help
    return f"{setting.help} [default: {setting.default_text}]"


def _parameter(setting: Setting) -> inspect.Parameter:
    names = [setting.flag + (f"/--no-{setting.flag[2:]}" if setting.switch else "")]
    if setting.short:
        names.append(setting.short)
    kind: Any = list[setting.flag_type] if setting.many else setting.flag_type  # type: ignore[name-defined]
    metavar = setting.param.rstrip("s").upper() if setting.many else None
    option = typer.Option(*names, help=_help(setting), show_default=False, metavar=metavar)
    return inspect.Parameter(setting.param, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[kind | None, option])


def settings_options(command: str) -> Callable[[F], F]:
    """Decorate a command function that takes ``flags: dict[str, Any]``: its signature gains
    the options of every setting *command* takes, and the call gets their values in ``flags``."""

    def decorate(func: F) -> F:
        own = [p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "flags"]
        added = [_parameter(s) for s in for_command(command)]
        names = {p.param for p in for_command(command)}

        @functools.wraps(func)
        def wrapper(**kwargs: Any) -> Any:
            flags = {name: kwargs.pop(name) for name in list(kwargs) if name in names}
            return func(flags=flags, **kwargs)

        parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + added
        wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        del wrapper.__wrapped__  # typer must read the new signature, not the function's own
        return wrapper  # type: ignore[return-value]

    return decorate
