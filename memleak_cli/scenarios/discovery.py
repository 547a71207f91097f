"""Finding scenarios: built-ins, third-party plugins, and the user's own code.

A scenario *spec* is one of

* a built-in name (every module of the ``scenarios`` package that defines ``SCENARIO``);
* a name registered by an installed package in the entry-point group ``memleak.scenarios``;
* ``path/to/file.py::name`` — an attribute of a Python file (relative to the current folder),
  imported under its stem unless that names another module (then a private name); its folder
  is appended to ``sys.path`` so it can import its neighbours without shadowing packages;
* ``package.module:name`` — an attribute of an importable module (the current folder is on
  the import path, as with ``python -m``).

The built-in package searched is ``scenarios`` unless the environment variable
``MEMLEAK_SCENARIO_PACKAGE`` names another importable package (:data:`PACKAGE_ENV`). It is read
at every call and inherited by the measuring processes, so tests and embedders can point the
whole run — parent and children — at their own scenarios.

The parent process resolves the spec to validate it and learn the variant names; each measuring
child resolves the same string again with the same working folder.

What the attribute may be (see :func:`as_scenario`): a :class:`~memleak_cli.scenarios.contract.Scenario`
(used as is), the result of :func:`~memleak_cli.scenarios.contract.declare` (``leaky``/``fixed``), a dict
of ``declare()`` arguments, or a plain callable — one variant called ``main`` expected CLEAN.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import pkgutil
import sys
from pathlib import Path
from typing import Any

from memleak_cli.errors import ScenarioError, UsageError
from memleak_cli.scenarios.contract import SIZES, Scenario, Variant, adapt_variant_callable, declare

ENTRY_POINT_GROUP = "memleak.scenarios"
MAIN_VARIANT = "main"
PACKAGE_ENV = "MEMLEAK_SCENARIO_PACKAGE"
DEFAULT_PACKAGE = "memleak_scenarios"
# The libraries the built-in scenarios run on: installed by the ``scenarios`` extra, never by
# ``pip install memleak`` alone (import names; pyproject.toml lists the distributions).
EXTRA = "scenarios"
EXTRA_MODULES = ("numpy", "pandas", "sklearn", "optuna", "lightgbm", "autofeat", "tsfresh")


def missing_extra_modules() -> list[str]:
    """The libraries of the ``scenarios`` extra that are not installed (none are imported)."""
    return [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]


def require_extra(scenario: Scenario) -> None:
    """Stop before running a built-in scenario whose libraries are not installed.

    Raises:
        UsageError: one line naming the extra to install and what is missing.
    """
    if not scenario.module.startswith(f"{DEFAULT_PACKAGE}."):
        return
    missing = missing_extra_modules()
    if missing:
        raise UsageError(
            f"scenario {scenario.name!r} needs the built-in scenarios' libraries "
            f"(missing: {', '.join(missing)}): pip install 'memleak[{EXTRA}]'"
        )


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


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def _load_entry_point(ep: importlib.metadata.EntryPoint) -> Scenario:
    dist = ep.dist.name if ep.dist is not None else "an installed package"
    try:
        obj = ep.load()
    except Exception as exc:
        raise ScenarioError(f"scenario plugin {ep.name!r} ({ep.value}, from {dist}) failed to load: {type(exc).__name__}: {exc}") from exc
    return as_scenario(obj, name=ep.name, where=f"plugin {ep.name!r} ({ep.value})")


def plugin_scenarios() -> dict[str, tuple[Scenario, str]]:
    """Scenarios registered in the ``memleak.scenarios`` entry-point group: name → (scenario, distribution).

    Raises:
        ScenarioError: a plugin fails to load or is not a scenario (the message names it).
    """
    found = {}
    for name, ep in sorted(_entry_points().items()):
        found[name] = (_load_entry_point(ep), ep.dist.name if ep.dist is not None else "?")
    return found


def as_scenario(obj: Any, *, name: str, where: str) -> Scenario:
    """Make a :class:`Scenario` of a user's object.

    * a ``Scenario`` is used as is (an empty name becomes *name*);
    * a dict is passed to :func:`~memleak_cli.scenarios.contract.declare` as keyword arguments;
    * a callable is one variant, ``main``, expected CLEAN: taking no argument it is the
      iteration, taking one it is a factory called with the size profile.

    Raises:
        ScenarioError: *obj* is none of these, or is declared wrongly (*where* names it).
    """
    try:
        if isinstance(obj, Scenario):
            scenario = obj
        elif isinstance(obj, dict):
            scenario = declare(**obj)
        elif callable(obj):
            try:
                factory = adapt_variant_callable(obj, where)
            except TypeError as exc:
                raise ScenarioError(str(exc)) from exc
            doc = (getattr(obj, "__doc__", None) or "").strip()
            summary = doc.splitlines()[0] if doc else ""
            scenario = Scenario(
                name=name,
                description=summary or f"user code {where}",
                finding="",
                variants={MAIN_VARIANT: Variant(MAIN_VARIANT, factory, "CLEAN", summary=summary)},
                sizes={s: {} for s in SIZES},
                module=getattr(obj, "__module__", "") or "",
            )
        else:
            raise ScenarioError(
                f"{where} is a {type(obj).__name__}, not a scenario: use a callable, "
                "memleak_cli.scenarios.contract.declare(...) or a Scenario"
            )
    except TypeError as exc:
        raise ScenarioError(f"{where}: {exc}") from exc
    if not scenario.variants:
        raise ScenarioError(f"{where} declares no variants")
    return scenario if scenario.name else dataclasses.replace(scenario, name=name)


def is_user_spec(spec: str) -> bool:
    """True for ``file.py::name`` and ``package.module:name`` specs (not a plain name)."""
    return "::" in spec or ":" in spec


def _module_name_for(path: Path) -> str:
    """The name a file is imported under: its stem, unless that would shadow another module."""
    stem = path.stem
    if stem.isidentifier() and stem not in sys.stdlib_module_names:
        taken = sys.modules.get(stem)
        if taken is not None:
            origin = getattr(taken, "__file__", None)
        else:
            try:  # an installed package of that name (not imported yet) must not be shadowed either
                found = importlib.util.find_spec(stem)
            except (ImportError, ValueError):
                found = None
            origin = None if found is None else (found.origin or "<namespace>")
        if origin is None or os.path.abspath(origin) == str(path):
            return stem
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:8]
    return f"memleak_user_{stem if stem.isidentifier() else 'file'}_{digest}"


def _import_file(text: str) -> Any:
    path = Path(text).expanduser()
    if not path.is_file():
        raise ScenarioError(f"scenario file {text} does not exist" if not path.exists() else f"scenario file {text} is not a file")
    path = path.resolve()
    name = _module_name_for(path)
    loaded = sys.modules.get(name)
    if loaded is not None and os.path.abspath(getattr(loaded, "__file__", "") or "") == str(path):
        return loaded
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ScenarioError(f"scenario file {text} cannot be imported: is it a .py file?")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.parent)
    if folder not in sys.path:
        # the file may import its neighbours; appended, so a file named like an installed
        # package (optuna.py) never shadows the package for the code being measured
        sys.path.append(folder)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ScenarioError(f"importing {text} failed: {type(exc).__name__}: {exc}") from exc
    return module


def _import_module(text: str) -> Any:
    if not all(part.isidentifier() for part in text.split(".")):
        raise ScenarioError(f"{text!r} is not a module name: use package.module:name or path/to/file.py::name")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)  # as under python -m: the user's own packages import
    try:
        return importlib.import_module(text)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (text == exc.name or text.startswith(exc.name + ".")):
            raise ScenarioError(f"cannot import module {text!r}: no module named {exc.name!r}") from exc
        raise ScenarioError(f"importing module {text} failed: ModuleNotFoundError: {exc}") from exc
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ScenarioError(f"importing module {text} failed: {type(exc).__name__}: {exc}") from exc


def _attribute(module: Any, dotted: str, where: str) -> Any:
    obj = module
    for part in dotted.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ScenarioError(f"{where} has no attribute {dotted!r}") from None
    return obj


def load_user_scenario(spec: str) -> Scenario:
    """Load ``path/to/file.py::name`` or ``package.module:name`` (name may be dotted).

    Raises:
        ScenarioError: missing file or module, the import raised, no such attribute, or the
            attribute is not a scenario; one line naming the spec.
    """
    if "::" in spec:
        file_text, _, attr = spec.partition("::")
        if not file_text or not attr:
            raise ScenarioError(f"bad scenario spec {spec!r}: use path/to/file.py::name")
        module = _import_file(file_text)
        where = file_text
    else:
        module_text, _, attr = spec.rpartition(":")
        if not module_text or not attr:
            raise ScenarioError(f"bad scenario spec {spec!r}: use package.module:name")
        module = _import_module(module_text)
        where = f"module {module_text}"
    obj = _attribute(module, attr, where)
    return as_scenario(obj, name=attr.rsplit(".", 1)[-1], where=spec)


def load_scenario(spec: str) -> Scenario:
    """Resolve *spec* to a :class:`Scenario`: a built-in or plugin name, or a user spec.

    Plugins are looked up (and only the matching one loaded) when no built-in has the name.

    Raises:
        UsageError: no scenario has that name; the message names close matches.
        ScenarioError: a user spec or plugin that cannot be loaded (see :func:`load_user_scenario`).
    """
    if is_user_spec(spec):
        return load_user_scenario(spec)
    broken: dict[str, str] = {}  # a broken module must not hide the others (every worker uses this)
    known = builtin_scenarios(broken)
    if spec in known:
        require_extra(known[spec])
        return known[spec]
    plugins = _entry_points()
    if spec in plugins:
        return _load_entry_point(plugins[spec])
    close = difflib.get_close_matches(spec, [*known, *plugins], n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    if spec.endswith(".py"):
        hint = f" To run code from a file, name the callable: {spec}::name."
    failed = f" ({'; '.join(broken.values())})" if broken else ""
    raise UsageError(f"unknown scenario {spec!r}.{hint} Run 'memleak list' to see them all.{failed}")
