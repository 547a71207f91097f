"""The transient progress bars shared by commands that run scenarios (shown only on a terminal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from memleak_cli.engine import VariantKey
from memleak_cli.reporters.text import for_markup, terminal_text

Callbacks = tuple[Callable[[VariantKey, int], None], Callable[[VariantKey, object], None]]


def iterations_phrase(total: int, iterations: int | None, window: int | None) -> str:
    """What a variant will run, as a newcomer reads it: ``20 iterations + 4 for attribution``
    (the requested iterations, then the attribution window and its priming iteration), not the
    bare sum ``24 iterations``. Without the settings (*iterations* ``None``) the sum is all
    there is: ``24 iterations``."""
    if iterations is None or window is None or total != iterations + (window + 1 if window else 0):
        return f"{total} iterations"
    return f"{iterations} iterations" + (f" + {window + 1} for attribution" if window else "")


@contextmanager
def variant_progress(console: Console, settings: Any = None) -> Iterator[Callbacks]:
    """Yield ``(on_variant, on_sample)`` callbacks for :func:`memleak_cli.engine.run_plan`: one bar
    per running variant (several at once with ``--jobs``), advanced by each sample. Off a
    terminal (CI logs) each variant prints one line when it starts instead, so a long gate is
    not silent for minutes, and one more when it runs extra iterations to decide.

    *settings* (the run's ``RunSettings``) lets the line split the requested iterations from
    the attribution window's (:func:`iterations_phrase`)."""
    iterations = getattr(settings, "iterations", None)
    window = getattr(settings, "window", None)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        tasks: dict[VariantKey, TaskID] = {}
        extended: set[VariantKey] = set()

        def on_variant(key: VariantKey, total: int) -> None:
            tasks[key] = progress.add_task(for_markup(" / ".join(key)), total=total)  # a markup string
            if not console.is_terminal:
                console.print(terminal_text(f"running {' / '.join(key)} ({iterations_phrase(total, iterations, window)})"), highlight=False)

        def on_sample(key: VariantKey, sample: object) -> None:
            phase = getattr(sample, "phase", "")
            if phase == "baseline":
                return
            if phase == "measure" and iterations is not None and getattr(sample, "iteration", 0) >= iterations:
                # the verdict asked for more iterations to decide (analysis.evidence): the bar grows with them
                task = next(t for t in progress.tasks if t.id == tasks[key])
                progress.update(task.id, total=(task.total or 0) + 1)
                if key not in extended:
                    extended.add(key)
                    if not console.is_terminal:
                        console.print(terminal_text(f"{' / '.join(key)}: growth undecided after {iterations} iterations, running more to decide"), highlight=False)
            progress.advance(tasks[key])

        yield on_variant, on_sample
