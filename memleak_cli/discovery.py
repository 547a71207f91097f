"""Finding scenarios by name: the built-ins in the ``scenarios`` package.

Every module of ``scenarios`` that defines a module-level ``SCENARIO`` contributes it. Scenario
modules import their heavy libraries lazily, so discovery is cheap.

The package searched is ``scenarios`` unless the environment variable
``MEMLEAK_SCENARIO_PACKAGE`` names another importable package (:data:`PACKAGE_ENV`). It is read
at every call and inherited by the measuring processes, so tests and embedders can point the
whole run — parent and children — at their own scenarios.
"""

from __future__ import annotations

import difflib
import importlib
import os
import pkgutil

from memleak_cli.errors import ScenarioError, UsageError
from memleak_cli.scenario import Scenario

PACKAGE_ENV = "MEMLEAK_SCENARIO_PACKAGE"
DEFAULT_PACKAGE = "scenarios"


def builtin_scenarios(broken: dict[str, str] | None = None) -> dict[str, Scenario]:
    """All built-in scenarios by name, in module order.

    Args:
        broken: when given, a module that fails to import does not stop discovery: its name
            (``scenarios.foo``) is added to *broken* with the one-line error, and the other
            modules are still searched. When ``None``, the failure raises.

    Raises:
        ScenarioError: the package cannot be imported, two scenarios share a name, or (when
            *broken* is ``None``) a scenario module fails to import.
    """
    package_name = os.environ.get(PACKAGE_ENV) or DEFAULT_PACKAGE
    try:
        package = importlib.import_module(package_name)
    except Exception as exc:
        raise ScenarioError(f"scenario package {package_name} failed to import: {exc}") from exc

    found: dict[str, Scenario] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module_name = f"{package.__name__}.{info.name}"
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # a broken scenario module must not hide the others' names
            message = f"scenario module {module_name} failed to import: {type(exc).__name__}: {exc}"
            if broken is None:
                raise ScenarioError(message) from exc
            broken[module_name] = message
            continue
        scenario = getattr(module, "SCENARIO", None)
        if isinstance(scenario, Scenario):
            if scenario.name in found:
                raise ScenarioError(f"two scenarios are called {scenario.name!r}")
            found[scenario.name] = scenario
    return found


def load_scenario(spec: str) -> Scenario:
    """Resolve *spec* (a built-in scenario name) to a :class:`Scenario`.

    A scenario module that fails to import does not stop the others from being found; it is
    named in the error only when *spec* is not found.

    Raises:
        UsageError: no scenario has that name; the message names close matches and modules
            that failed to import.
    """
    broken: dict[str, str] = {}
    known = builtin_scenarios(broken)
    if spec in known:
        return known[spec]
    close = difflib.get_close_matches(spec, list(known), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    failed = f" ({'; '.join(broken.values())})" if broken else ""
    raise UsageError(f"unknown scenario {spec!r}.{hint} Run 'memleak list' to see them all.{failed}")
