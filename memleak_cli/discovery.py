"""Finding scenarios by name: the built-ins in the ``scenarios`` package.

Every module of ``scenarios`` that defines a module-level ``SCENARIO`` contributes it. Scenario
modules import their heavy libraries lazily, so discovery is cheap.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import re

from memleak_cli.errors import ScenarioError, UsageError
from memleak_cli.scenario import Scenario

_SPEC_RE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*", re.ASCII)


def builtin_scenarios() -> dict[str, Scenario]:
    """All built-in scenarios by name, in module order.

    Raises:
        ScenarioError: a scenario module fails to import or two share a name.
    """
    import scenarios as package

    found: dict[str, Scenario] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module_name = f"{package.__name__}.{info.name}"
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # a broken scenario module must not hide the others' names
            raise ScenarioError(f"scenario module {module_name} failed to import: {exc}") from exc
        scenario = getattr(module, "SCENARIO", None)
        if isinstance(scenario, Scenario):
            if scenario.name in found:
                raise ScenarioError(f"two scenarios are called {scenario.name!r}")
            found[scenario.name] = scenario
    return found


def _from_module(spec: str) -> Scenario:
    if not _SPEC_RE.fullmatch(spec):
        raise UsageError(f"scenario {spec!r} is not of the form package.module:NAME (Python names, e.g. myapp.leaks:SCENARIO)")
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or whatever the module raised while importing
        raise UsageError(f"cannot import {module_name!r} for scenario {spec!r}: {type(exc).__name__}: {exc}") from exc
    scenario = getattr(module, attribute, None)
    if not isinstance(scenario, Scenario):
        raise UsageError(f"{spec!r} is not a memleak Scenario: define {attribute} = Scenario(...) in {module_name}")
    return scenario


def load_scenario(spec: str) -> Scenario:
    """Resolve *spec* — a built-in scenario name or ``package.module:NAME`` — to a :class:`Scenario`.

    Raises:
        UsageError: no scenario has that name (the message names close matches), or the
            module cannot be imported or holds no Scenario under that name.
    """
    if ":" in spec:
        return _from_module(spec)
    known = builtin_scenarios()
    if spec in known:
        return known[spec]
    close = difflib.get_close_matches(spec, list(known), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise UsageError(f"unknown scenario {spec!r}.{hint} Run 'memleak list' to see them all.")
