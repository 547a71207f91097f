"""What a run will do: each scenario spec resolved, checked against the size, with its variants.

Resolving every spec before any child starts means a typo in the third spec fails at once, not
after the first two scenarios ran for minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memleak_cli.errors import ScenarioError, UsageError
from memleak_cli.scenarios.contract import DEFAULT_VARIANTS, Scenario
from memleak_cli.scenarios.discovery import load_scenario


@dataclass(frozen=True)
class Planned:
    """One scenario to run: the *spec* the child resolves again, the scenario, the variant names."""

    spec: str
    scenario: Scenario
    variants: tuple[str, ...]


def choose_variants(scenario: Scenario, variant: str) -> list[str]:
    """``both`` → leaky and fixed (or every variant when it has neither, e.g. a user's ``main``);
    ``all`` → every declared variant; else the one named.

    Raises:
        UsageError: the scenario has no such variant.
    """
    if variant == "both":
        return [v for v in DEFAULT_VARIANTS if v in scenario.variants] or list(scenario.variants)
    if variant == "all":
        return list(scenario.variants)
    if variant not in scenario.variants:
        raise UsageError(f"scenario {scenario.name!r} has no variant {variant!r}: use both, all or one of {', '.join(scenario.variants)}")
    return [variant]


def plan(specs: Sequence[str], variant: str, size: str) -> list[Planned]:
    """Resolve every spec, check it has the *size* profile, and choose its variants.

    Raises:
        UsageError: unknown name or variant, a size the scenario does not declare.
        ScenarioError: a user scenario that cannot be loaded; two specs with one name.
    """
    planned: list[Planned] = []
    names: dict[str, str] = {}
    for spec in specs:
        scenario = load_scenario(spec)
        if size not in scenario.sizes:
            raise UsageError(f"scenario {scenario.name!r} has no size profile {size!r}: it declares {', '.join(scenario.sizes)}")
        if scenario.name in names and names[scenario.name] != spec:
            raise ScenarioError(f"two scenarios are called {scenario.name!r} ({names[scenario.name]} and {spec}): give one a name")
        if scenario.name in names:
            continue  # the same spec twice runs once
        names[scenario.name] = spec
        planned.append(Planned(spec, scenario, tuple(choose_variants(scenario, variant))))
    return planned
