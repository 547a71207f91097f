"""The progress lines of a run off a terminal: what will run, said the way a newcomer reads it."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from memleak_cli.cli.progress import iterations_phrase, variant_progress


def lines(settings: object, total: int, phases: list[tuple[str, int]]) -> list[str]:
    out = io.StringIO()
    with variant_progress(Console(file=out, width=100), settings) as (on_variant, on_sample):
        on_variant(("optuna", "leaky"), total)
        for phase, iteration in phases:
            on_sample(("optuna", "leaky"), SimpleNamespace(phase=phase, iteration=iteration))
    return out.getvalue().splitlines()


def test_the_start_line_splits_the_requested_iterations_from_the_attribution_window() -> None:
    settings = SimpleNamespace(iterations=20, window=3)
    assert lines(settings, 24, [("baseline", -1), ("warmup", 0)]) == ["running optuna / leaky (20 iterations + 4 for attribution)"]


def test_extra_iterations_to_decide_are_announced_once() -> None:
    settings = SimpleNamespace(iterations=4, window=0)
    phases = [("baseline", -1), ("warmup", 0), ("measure", 1), ("measure", 3), ("measure", 4), ("measure", 5)]
    assert lines(settings, 4, phases) == [
        "running optuna / leaky (4 iterations)",
        "optuna / leaky: growth undecided after 4 iterations, running more to decide",
    ]


def test_without_settings_the_sum_is_all_there_is() -> None:
    assert iterations_phrase(24, None, None) == "24 iterations"
    assert iterations_phrase(24, 20, 3) == "20 iterations + 4 for attribution"
