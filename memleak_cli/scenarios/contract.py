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


def adapt_variant_callable(func: Callable[..., Any], where: str) -> Factory:
    """Turn a user's variant callable into a :data:`Factory`.

    A callable with no required parameter is the iteration itself (one call = one iteration);
    one with exactly one required positional parameter is a factory, called once with the size
    profile (a mapping) and returning the iteration.

    Raises:
        TypeError: *func* is not callable or needs more than one argument (*where* names it).
    """
    if not callable(func):
        raise TypeError(f"{where} is a {type(func).__name__}, not a callable")
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: treat as an iteration
        return lambda size: func
    required = [
        p for p in params
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    if not required:
        return lambda size: func
    if len(required) == 1 and required[0].kind != required[0].KEYWORD_ONLY:
        return _checked_factory(func, where, required[0].name)
    names = ", ".join(p.name for p in required)
    raise TypeError(f"{where} needs {len(required)} arguments ({names}): give a callable taking none (the iteration) or one (the size profile)")


FACTORY_CONTRACT = (
    "a one-argument callable is a factory called with the size profile; "
    "wrap your handler in a zero-argument function or use declare()"
)


class FactoryContractError(TypeError):
    """A one-argument variant callable did not behave as a factory: it raised when called with the
    size profile, or returned something that is not the zero-argument iteration."""


def _checked_factory(func: Callable[..., Any], where: str, parameter: str) -> Factory:
    """*func* as a :data:`Factory` whose misuse is explained: a handler such as
    ``predict(request)`` given as ``file.py::predict`` is called with the size profile (a dict
    of workload knobs, often empty) and fails on its first lookup (``KeyError: 'rows'``) or
    returns a result instead of an iteration. Either way the error names the contract; the
    original exception stays chained (``raise … from``) for its traceback."""

    def factory(size: Mapping[str, Any]) -> Iteration:
        try:
            made = func(size)
        except Exception as exc:
            raise FactoryContractError(
                f"{where} takes one argument ({parameter}), so it was called once as a factory with the size profile "
                f"{dict(size)!r} and raised {type(exc).__name__}: {exc}; {FACTORY_CONTRACT}"
            ) from exc
        if not callable(made):
            raise FactoryContractError(
                f"{where} takes one argument ({parameter}), so it was called once as a factory with the size profile "
                f"{dict(size)!r} and returned a {type(made).__name__}, not the iteration; {FACTORY_CONTRACT}"
            )
        iterate: Callable[[], object] = made
        return iterate

    factory.__wrapped__ = func  # type: ignore[attr-defined]
    return factory


def declare(
    leaky: Callable[..., Any] | None = None,
    fixed: Callable[..., Any] | None = None,
    *,
    name: str = "",
    description: str = "",
    sizes: Mapping[str, Mapping[str, Any]] | None = None,
    leaky_expect: Verdict = "LEAK",
) -> Scenario:
    """Declare a user scenario with a ``leaky`` and/or a ``fixed`` variant.

    Each variant is a callable taking nothing (one call is one iteration) or one argument (a
    factory called once with the size profile, returning the iteration). ``leaky`` is expected
    to get *leaky_expect* (``LEAK`` or ``RETAINS``), ``fixed`` to be ``CLEAN``; the fixed
    callable's source is shown in reports as the fix. *name* defaults to the attribute name the
    scenario is loaded from; *sizes* maps ``small``/``medium``/``large`` to the knobs passed to
    factories (all three empty by default). Warm-up and iterations are run settings, not part of
    a scenario: set them with flags or ``[tool.memleak]``.

    Raises:
        TypeError: no variant given, a variant is not a usable callable, a bad *leaky_expect*,
            or *sizes* names an unknown profile.
    """
    if leaky is None and fixed is None:
        raise TypeError("declare() needs leaky=, fixed= or both")
    if leaky_expect not in ("LEAK", "RETAINS", "CLEAN"):
        raise TypeError(f"leaky_expect must be LEAK, RETAINS or CLEAN, not {leaky_expect!r}")
    profiles = {s: {} for s in SIZES} if sizes is None else {k: dict(v) for k, v in sizes.items()}
    unknown = sorted(set(profiles) - set(SIZES))
    if unknown or not profiles:
        raise TypeError(f"sizes may only name {', '.join(SIZES)}, got {', '.join(unknown) or 'none'}")
    variants: dict[str, Variant] = {}
    if leaky is not None:
        variants["leaky"] = Variant("leaky", adapt_variant_callable(leaky, "leaky"), leaky_expect, summary=_first_line(leaky))
    if fixed is not None:
        variants["fixed"] = Variant("fixed", adapt_variant_callable(fixed, "fixed"), "CLEAN", fix=fixed, summary=_first_line(fixed))
    first = leaky if leaky is not None else fixed
    return Scenario(
        name=name,
        description=description or _first_line(first),
        finding="",
        variants=variants,
        sizes=profiles,
        module=getattr(first, "__module__", "") or "",
    )


def _first_line(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""
