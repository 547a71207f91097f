"""The settings of the evidence extension and cache hygiene: defaults, flags, config keys, errors."""

from __future__ import annotations

import re
import sys

import pytest

from memleak_cli.analysis.hygiene import clear_caches
from memleak_cli.config import Config
from memleak_cli.errors import UsageError
from memleak_cli.settings import RunSettings, resolve


def resolve_run_settings(config: Config, **flags: object) -> RunSettings:
    return resolve(config, flags).run


def test_defaults_extend_to_four_times_the_iterations_with_cleanup():
    settings = resolve_run_settings(Config())
    assert (settings.extend, settings.cleanup, settings.max_iterations) == (True, True, None)
    assert settings.most_iterations == 80


def test_no_extend_runs_exactly_the_iterations():
    assert resolve_run_settings(Config(), iterations=30, extend=False).most_iterations == 30


def test_flags_win_over_config_keys():
    config = Config(values={"max_iterations": 50, "extend": False, "cleanup": False})
    from_config = resolve_run_settings(config)
    assert (from_config.max_iterations, from_config.extend, from_config.cleanup) == (50, False, False)
    flagged = resolve_run_settings(config, max_iterations=60, extend=True, cleanup=True)
    assert (flagged.most_iterations, flagged.cleanup) == (60, True)


def test_max_iterations_under_iterations_is_one_usage_error():
    with pytest.raises(UsageError, match=r"^--max-iterations 19 is under --iterations 20: use at least 20"):
        RunSettings(max_iterations=19).validate()


def test_hygiene_clears_the_re_cache_and_calls_the_scenario_hook():
    re.compile(r"memleak-hygiene-\d+")
    calls = []

    def iteration() -> None:
        pass

    iteration.clear_caches = lambda: calls.append(1)  # type: ignore[attr-defined]
    clear_caches(iteration)
    assert calls == [1]
    assert not re._cache  # type: ignore[attr-defined]
    assert "memleak_cli" in sys.modules
