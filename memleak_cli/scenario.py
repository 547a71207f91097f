"""The scenario contract: what memleak runs.

A scenario reproduces one finding of the leak report. It has size profiles (``small`` for
tests, ``medium`` the default, ``large``) and variants — ``leaky`` (the code as the report found
it) and ``fixed`` (the same code with the report's fix patch applied), sometimes more. A variant
is a *factory*: called once in the measuring process with the chosen size profile, it returns
the iteration function, and one call of that function is one unit of the workload.

Scenario modules must not import heavy libraries at import time; they import optuna, lightgbm…
inside the factory, so ``memleak list`` stays instant.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["LEAK", "RETAINS", "CLEAN", "ERROR"]
SIZES = ("small", "medium", "large")
DEFAULT_VARIANTS = ("leaky", "fixed")

Iteration = Callable[[], object]
Factory = Callable[[Mapping[str, Any]], Iteration]


@dataclass(frozen=True)
class Variant:
    """One way to run a scenario.

    Attributes:
        name: ``leaky``, ``fixed`` or a scenario-specific extra variant.
        factory: called once with the size profile (a mapping of workload knobs), returns the
            zero-argument iteration function.
        expect: the verdict this variant should get (what the scenario docstring promises).
        fix: the patch applied by a fixed variant (function, class or context manager); its
            source is shown in reports beside its effect. ``None`` for the leaky code.
        summary: one line saying what this variant does differently.
    """

    name: str
    factory: Factory
    expect: Verdict
    fix: object | None = None
    summary: str = ""

    def fix_source(self) -> str | None:
        """Source text of :attr:`fix` (``inspect.getsource``), or ``None`` when there is none."""
        if self.fix is None:
            return None
        fixes = self.fix if isinstance(self.fix, (list, tuple)) else [self.fix]
        try:
            return "\n\n".join(inspect.getsource(f) for f in fixes)  # type: ignore[arg-type]
        except (OSError, TypeError):
            return None


@dataclass(frozen=True)
class Scenario:
    """A leak reproduction that memleak can run.

    Attributes:
        name: what the user types (``memleak run optuna``).
        description: one line for ``memleak list``.
        finding: the leak-report finding it reproduces (``"3"``, ``"summary"``) or ``""`` for
            user scenarios.
        variants: variants by name; ``leaky`` and ``fixed`` for built-ins.
        sizes: size profile name → workload knobs passed to the variant factories.
        module: the module that defines it (for reports and reference chains).
    """

    name: str
    description: str
    finding: str
    variants: Mapping[str, Variant]
    sizes: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: {s: {} for s in SIZES})
    module: str = ""

    def variant(self, name: str) -> Variant:
        """The variant called *name*.

        Raises:
            KeyError: no such variant.
        """
        return self.variants[name]
