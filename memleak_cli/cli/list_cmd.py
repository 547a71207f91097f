"""List the scenarios memleak can run: built-ins and plugins, with finding, description and variants."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from memleak_cli.reporters.text import for_terminal
from memleak_cli.scenarios.contract import Scenario
from memleak_cli.scenarios.discovery import ENTRY_POINT_GROUP, builtin_scenarios, plugin_scenarios


def _variants(scenario: Scenario) -> str:
    return ", ".join(f"{v.name} ({v.expect})" for v in scenario.variants.values())


def list_scenarios() -> None:
    """List the scenarios memleak can run: built-ins and plugins, with finding, description and variants."""
    table = Table(title="memleak scenarios", title_justify="left")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("source")
    table.add_column("finding")
    table.add_column("description")
    table.add_column("variants (expected verdict)")
    builtins = builtin_scenarios()
    for scenario in builtins.values():
        table.add_row(*map(for_terminal, (scenario.name, "built-in", scenario.finding, scenario.description, _variants(scenario))))
    for name, (scenario, dist) in plugin_scenarios().items():
        shadowed = " (hidden by the built-in)" if name in builtins else ""
        table.add_row(*map(for_terminal, (name, f"plugin: {dist}{shadowed}", scenario.finding, scenario.description, _variants(scenario))))
    # names must not be cropped; plugin names and descriptions are text, not rich markup
    console = Console(width=None if sys.stdout.isatty() else 140, markup=False)
    console.print(table)
    console.print(
        f"Also runnable: path/to/file.py::name and package.module:name; packages add scenarios "
        f"through the entry-point group {ENTRY_POINT_GROUP!r}.",
        highlight=False,
    )
