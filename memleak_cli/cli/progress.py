"""The transient progress bars shared by commands that run scenarios (shown only on a terminal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


@contextmanager
def variant_progress(console: Console) -> Iterator[Callbacks]:
    """Yield ``(on_variant, on_sample)`` callbacks for :func:`memleak_cli.engine.run_plan`: one bar
    per running variant (several at once with ``--jobs``), advanced by each sample. Off a
    terminal (CI logs) each variant prints one line when it starts instead, so a long gate is
    not silent for minutes."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=not console.is_terminal) as progress:
        tasks: dict[VariantKey, TaskID] = {}

        def on_variant(key: VariantKey, total: int) -> None:
            tasks[key] = progress.add_task(for_markup(" / ".join(key)), total=total)  # a markup string
            if not console.is_terminal:
                console.print(terminal_text(f"running {' / '.join(key)} ({total} iterations)"), highlight=False)

        def on_sample(key: VariantKey, sample: object) -> None:
            if getattr(sample, "phase", "") != "baseline":
                progress.advance(tasks[key])

        yield on_variant, on_sample
