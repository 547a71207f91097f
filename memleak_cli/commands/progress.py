"""The transient progress bar shared by commands that run scenarios (shown only on a terminal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

Callbacks = tuple[Callable[[str, str, int], None], Callable[[object], None]]


@contextmanager
def variant_progress(console: Console) -> Iterator[Callbacks]:
    """Yield ``(on_variant, on_sample)`` callbacks for :func:`memleak_cli.engine.run_scenario`."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("starting", total=None)

        def on_variant(name: str, variant_name: str, total: int) -> None:
            progress.reset(task, total=total, description=f"{name} / {variant_name}")

        def on_sample(sample: object) -> None:
            if getattr(sample, "phase", "") != "baseline":
                progress.advance(task)

        yield on_variant, on_sample
