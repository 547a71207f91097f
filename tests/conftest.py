"""Shared test set-up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# The property tests draw the same examples on every run (derandomize): a suite that passes
# passes again, and its time does not depend on which inputs one run happened to draw.
# HYPOTHESIS_PROFILE=explore draws new ones, to hunt for failures outside CI.
hypothesis_settings.register_profile("memleak", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "memleak"))

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = ROOT / "tests" / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/integration/ starts processes: mark it ``integration``, so
    ``-m "not integration"`` runs the unit tests alone (seconds, no child process)."""
    for item in items:
        if INTEGRATION in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _children_find_the_test_scenarios(monkeypatch: pytest.MonkeyPatch) -> None:
    """Measuring processes import ``tests.synthetic_scenarios`` by name from their working folder;
    a test that changes folder must still let them find it (they inherit PYTHONPATH)."""
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(dict.fromkeys(paths)))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many hostile inputs tests/test_hostile.py tried (issue #13), when it ran."""
    import sys

    module = sys.modules.get("tests.integration.test_hostile_inputs")
    tried = getattr(module, "TRIED", None)
    if tried:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(tried.items()))
        terminalreporter.write_line(f"hostile inputs tried: {sum(tried.values())} ({kinds})")
