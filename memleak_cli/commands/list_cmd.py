"""List the scenarios memleak can run: name, report finding, description and variants."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from memleak_cli.discovery import builtin_scenarios


def list_scenarios() -> None:
    """List the scenarios memleak can run: name, report finding, description and variants."""
    table = Table(title="memleak scenarios", title_justify="left")
    table.add_column("name", style="bold")
    table.add_column("finding")
    table.add_column("description")
    table.add_column("variants (expected verdict)")
    for scenario in builtin_scenarios().values():
        variants = ", ".join(f"{v.name} ({v.expect})" for v in scenario.variants.values())
        table.add_row(scenario.name, scenario.finding, scenario.description, variants)
    Console().print(table)
