"""The rich terminal report: verdicts side by side, then the evidence for each variant."""

from __future__ import annotations

import re
from typing import IO

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from memleak_cli.analysis.lead import held_since_warmup, lead_trend
from memleak_cli.analysis.severity import iterations_text
from memleak_cli.report.model import (
    ChildProcess,
    MetricTrend,
    RunReport,
    ScenarioResult,
    VariantResult,
)
from memleak_cli.reporters.summary import (
    METRIC_LABEL,
    amount,
    judgement,
    not_growing_evidence,
    short_path,
    summary_line,
)
from memleak_cli.reporters.text import for_terminal, for_terminal_block, terminal_text
from memleak_cli.units import format_bytes

NON_TERMINAL_WIDTH = 140
# "held since baseline" counted setup and first-iteration imports (+15 000 gc objects, +4 MiB on
# leaky and fixed alike) and read as the leak; the change after warm-up is what the trend saw
# a growth cell's two lines, "+828 B/it [+692 B, +974 B]" and "below threshold, not judged", unwrapped
GROWTH_WIDTH = 27
GROWTH_TABLE_TITLE = (
    "Growth per iteration after warm-up (Theil–Sen slope, 95% interval; the cell says when it is not a leak) "
    "and the change from the end of warm-up to the last measured iteration"
)
VERDICT_STYLE = {"LEAK": "bold red", "RETAINS": "bold yellow", "CLEAN": "bold green", "ERROR": "bold magenta"}


def verdict_text(verdict: str, label: str | None = None) -> Text:
    """The verdict word in its colour; *label* (``LEAK (capped)``) is shown instead when given."""
    return terminal_text(label or verdict, VERDICT_STYLE.get(verdict, ""))


def _growth_cell(trend: MetricTrend | None) -> Text:
    """The slope and its interval; beside a number that is not a leak, what was decided about
    it (:func:`~memleak_cli.reporters.summary.judgement`), so that no bare number reads as one."""
    if trend is None:
        return Text("n/a", style="dim")
    text = f"{amount(trend.slope, trend.unit)}/it [{amount(trend.slope_low, trend.unit)}, {amount(trend.slope_high, trend.unit)}]"
    verdict = judgement(trend)
    if trend.informational:  # untrimmed RSS beside the trimmed one: shown, not judged
        return Text(f"{text}\n{verdict}", style="yellow" if trend.leaking else "dim")
    if not verdict:
        return Text(text, style="red" if trend.leaking else "")
    return Text.assemble(text, (f"\n{verdict}", "dim"))  # a line of its own: the numbers never wrap into it


def _held_cell(result: VariantResult, metric: str) -> str:
    held = held_since_warmup(result, metric)
    return "n/a" if held is None else amount(held, "bytes" if metric.endswith("_bytes") else "count")


def _matrix_note(result: VariantResult) -> Text:
    if result.verdict == "ERROR":
        message = result.reason.splitlines()[0] if result.reason else "crashed"
        return terminal_text(message, "magenta")
    if result.verdict != result.expect:
        return terminal_text(f"expected {result.expect}", "yellow")
    return Text("as expected", style="dim")


def render_matrix(report: RunReport, console: Console) -> None:
    """The closing matrix of a multi-scenario run: one row per scenario × variant.

    Columns: verdict; growth per iteration of the lead metric (:func:`lead_trend`, Theil–Sen
    slope in its unit); retained size after the work (pympler deep size of the attribution
    window's retained roots, bytes); wall time of the variant's process; and a note — the
    crash message for ``ERROR``, the expected verdict when it differs.
    """
    table = Table(title=terminal_text(f"All scenarios, size {report.settings.get('size')}: verdict per variant"), title_justify="left")
    # short cells never wrap; the growth and the note wrap when the terminal is narrow
    table.add_column("scenario", style="bold", no_wrap=True)
    table.add_column("variant", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("growth / it (lead metric)")
    table.add_column("retained", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("note")
    for scenario in report.scenarios:
        for index, result in enumerate(scenario.variants):
            trend = lead_trend(result)
            growth = Text("n/a", style="dim") if trend is None else Text(
                f"{amount(trend.slope, trend.unit)}{'' if trend.unit == 'bytes' else ' ' + trend.unit} ({METRIC_LABEL.get(trend.metric, trend.metric)})",
                style="red" if trend.leaking else "",
            )
            retained = result.attribution.retained_text() if result.attribution else "n/a"
            table.add_row(
                terminal_text(scenario.name if index == 0 else ""), terminal_text(result.variant), verdict_text(result.verdict), growth, retained, f"{result.seconds:.1f} s", _matrix_note(result),
                end_section=index == len(scenario.variants) - 1,
            )
    console.print(table)


def short_symbol(symbol: str) -> str:
    """A C++ symbol without template and call arguments: ``LightGBM::Tree::Tree(char const*,
    unsigned long*)`` → ``LightGBM::Tree::Tree(…)``; plain C names are kept."""
    previous = None
    while previous != symbol:  # innermost template arguments first, until none is left
        previous = symbol
        symbol = re.sub(r"<[^<>]*>", "\0", symbol)
    head, paren, _ = symbol.partition("(")
    short = f"{head}(…)" if paren and head and not head.endswith("operator") else symbol
    return short.replace("\0", "<…>")


def _native_cell(result: VariantResult) -> str:
    a = result.attribution
    if a is None or not a.native or a.native_growth_bytes is None:
        return "n/a"
    return f"{format_bytes(a.native_growth_bytes / max(a.native_iterations, 1), signed=True)}/it"


def _last_children(result: VariantResult) -> list[ChildProcess]:
    measured = [s for s in result.samples if s.phase in ("warmup", "measure")]
    return (measured[-1].child_processes or []) if measured else []


def cost_line(result: VariantResult) -> str | None:
    """Mean seconds per iteration untraced, under tracemalloc and under memray (what each view costs)."""
    a = result.attribution
    measured = [s.seconds for s in result.samples if s.phase == "measure"]
    if a is None or not measured:
        return None
    untraced = sum(measured) / len(measured)
    parts = [f"untraced {untraced * 1000:.0f} ms"]
    for label, value in (("tracemalloc", a.traced_seconds), ("memray", a.native_seconds)):
        if value is not None:
            ratio = f", x{value / untraced:.1f}" if untraced > 0 else ""
            parts.append(f"{label} {value * 1000:.0f} ms{ratio}")
    once = f"; memray start, stop and read {a.native_overhead_seconds:.1f} s once" if a.native_overhead_seconds is not None else ""
    return "per iteration: " + "; ".join(parts) + once


def sites_title(result: VariantResult) -> str:
    """The allocation-site table's title: "grew" only for a LEAK. A variant that is not a LEAK
    still has memory the window allocated and kept (a bounded cache filling, an LRU's entries);
    its sites are labelled bounded / filling with the evidence that nothing grows steadily."""
    a = result.attribution
    n = a.window_iterations if a else 0
    variant = for_terminal(result.variant)
    if result.verdict == "LEAK":
        return f"{variant}: allocation sites that grew over the window ({n} iterations)"
    return (
        f"{variant}: allocation sites still holding memory after the window ({n} iterations): bounded / filling, "
        f"nothing grows steadily ({for_terminal(not_growing_evidence(result))})"
    )


class TerminalReporter:
    """Renders a :class:`RunReport` with rich, to any stream (tests pass a StringIO)."""

    def __init__(self, *, width: int | None = None, color: bool | None = None, verbose: bool = True) -> None:
        self.width = width
        self.color = color
        self.verbose = verbose

    def render(self, report: RunReport, file: IO[str]) -> None:
        """Write the report to *file*."""
        # not a terminal (CI logs, pipes): rich would assume 80 columns and crop paths and chains
        width = self.width or (None if getattr(file, "isatty", lambda: False)() else NON_TERMINAL_WIDTH)
        # markup=False: strings from the measured program are never parsed as rich markup; every
        # one of them is also cleaned of control characters and surrogates (reporters.text)
        console = Console(file=file, width=width, force_terminal=self.color, no_color=self.color is False, highlight=False, markup=False)
        for scenario in report.scenarios:
            self.render_scenario(console, scenario, report)
        if len(report.scenarios) > 1:
            render_matrix(report, console)
        if not report.complete:
            console.print("incomplete run: it was interrupted; variants that did not start are missing", style="bold magenta")

    def render_scenario(self, console: Console, scenario: ScenarioResult, report: RunReport) -> None:
        """The side-by-side table, then each variant's evidence."""
        settings = report.settings
        finding = f"finding {scenario.finding}: " if scenario.finding else ""  # user scenarios have none
        console.rule(Text.assemble((for_terminal(scenario.name), "bold"), f" — {for_terminal(finding)}{for_terminal(scenario.description)}"), style="cyan")
        console.print(
            f"size {scenario.size}, {settings.get('iterations')} iterations ({settings.get('warmup')} warm-up), "
            f"attribution window {settings.get('window')} (+1 priming) with tracemalloc frames={settings.get('frames')}",
            style="dim",
        )
        table = Table(title=GROWTH_TABLE_TITLE, title_justify="left")
        table.add_column("metric")
        for result in scenario.variants:
            table.add_column(terminal_text(f"{result.variant}: growth/iteration"), min_width=GROWTH_WIDTH)
            table.add_column("since warm-up", justify="right")
        verdict_row: list[Text | str] = [Text("verdict", style="bold")]
        for result in scenario.variants:
            verdict_row += [Text.assemble(verdict_text(result.verdict, result.label), (f" expected {for_terminal(result.expect)}", "dim")), ""]
        table.add_row(*verdict_row)
        for metric, label in METRIC_LABEL.items():
            cells = [(_growth_cell(r.trend(metric)), _held_cell(r, metric)) for r in scenario.variants]
            if all(r.trend(metric) is None for r in scenario.variants):
                continue
            table.add_row(label, *[c for pair in cells for c in pair])
        retained_row: list[Text | str] = ["retained after the work (pympler)"]
        traced_row: list[Text | str] = ["Python heap, window (tracemalloc)"]
        for result in scenario.variants:
            a = result.attribution
            retained_row += [a.retained_text() if a else "n/a", f"{a.retained_roots} root{'' if a.retained_roots == 1 else 's'}" if a else ""]
            traced_row += [f"{format_bytes(a.traced_growth_per_iteration, signed=True)}/it" if a and a.traced else "off", ""]
        table.add_row(*retained_row)
        table.add_row(*traced_row)
        if any(r.attribution and r.attribution.native for r in scenario.variants):
            native_row: list[Text | str] = ["native heap, memray window"]
            for result in scenario.variants:
                native_row += [_native_cell(result), ""]
            table.add_row(*native_row)
        console.print(table)
        for result in scenario.variants:
            self.render_variant(console, result)
        console.print(Panel(terminal_text(summary_line(scenario)), title="summary", border_style="cyan"))

    def render_native(self, console: Console, result: VariantResult) -> None:
        """memray's native sites: what the window allocated in C/C++ and did not free, by stack."""
        a = result.attribution
        assert a is not None
        per = max(a.native_iterations, 1)
        title = (
            f"{for_terminal(result.variant)}: native allocations made in the memray window and still alive at its end ({a.native_iterations} iterations, "
            f"{format_bytes((a.native_growth_bytes or 0) / per)}/it native; {format_bytes((a.native_python_bytes or 0) / per)}/it more through Python's allocators, not net)"
        )
        table = Table(title=title, title_justify="left")
        table.add_column("size", justify="right")
        table.add_column("blocks", justify="right")
        table.add_column("native frame", overflow="fold")
        table.add_column("first frame in your code", overflow="fold")
        for site in a.native_sites:
            native = short_symbol(site.native_frame or site.allocator_frame or "-")
            table.add_row(format_bytes(site.size_bytes), str(site.count), terminal_text(native), terminal_text(short_path(site.python_frame) if site.python_frame else "-"))
        console.print(table)
        cost = cost_line(result)
        if cost:
            console.print(Text(cost), style="dim")

    def render_variant(self, console: Console, result: VariantResult) -> None:
        """Verdict, reason, allocation sites, type growth, retained objects and the fix source."""
        title = Text.assemble((for_terminal(result.variant), "bold"), " → ", verdict_text(result.verdict, result.label), f"  ({result.seconds:.1f} s)")
        console.print(title)
        console.print(terminal_text(result.reason, "dim", block=True))
        ran = iterations_text(result)
        if ran:
            console.print(terminal_text(f"iterations: {ran}", "dim"))
        if result.severity:
            console.print(terminal_text(f"size: {result.severity}", "bold"))
        for path in result.holders[: 1 if not self.verbose else len(result.holders)]:
            console.print(Text.assemble(("held by ", "bold"), (for_terminal(path.line()), "bold red" if result.verdict == "LEAK" else "bold")))
            if path.leaf:
                console.print(terminal_text(f"    {path.leaf}   fingerprint {path.fingerprint}", "dim"))
        for note in result.notes:
            console.print(terminal_text(f"note: {note}", "yellow"))
        if result.error:
            console.print(Panel(terminal_text(result.error[-3000:], block=True), title="scenario error", border_style="magenta"))
        variant = for_terminal(result.variant)
        a = result.attribution
        if a and a.sites and self.verbose:
            sites = Table(title=sites_title(result), title_justify="left")
            sites.add_column("size growth", justify="right")
            sites.add_column("blocks", justify="right")
            sites.add_column("allocated at", overflow="fold")
            sites.add_column("first frame in your code", overflow="fold")
            for site in a.sites:
                sites.add_row(format_bytes(site.size_diff_bytes, signed=True), f"{site.count_diff:+d}", terminal_text(short_path(site.site)), terminal_text(short_path(site.first_own_frame) if site.first_own_frame else "-"))
            console.print(sites)
        if a and a.native_sites:
            self.render_native(console, result)
        if a and a.type_sizes and self.verbose:
            sizes = Table(title=f"{variant}: types that grew over the window, priming iteration included (pympler summary, shallow sizes)", title_justify="left")
            sizes.add_column("type")
            sizes.add_column("count", justify="right")
            sizes.add_column("size", justify="right")
            for size in a.type_sizes:
                sizes.add_row(terminal_text(size.type_name), f"{size.count_delta:+d}", format_bytes(size.size_delta_bytes, signed=True))
            console.print(sizes)
        children = _last_children(result)
        if children and self.verbose:
            kids = Table(title=f"{variant}: child processes at the last measured sample (counted in the process-tree rows)", title_justify="left")
            kids.add_column("pid", justify="right")
            kids.add_column("name")
            kids.add_column("RSS", justify="right")
            kids.add_column("USS", justify="right")
            for child in children:
                kids.add_row(str(child.pid), terminal_text(child.name), format_bytes(child.rss_bytes), format_bytes(child.uss_bytes) if child.uss_bytes is not None else "n/a")
            console.print(kids)
        if result.type_growth and self.verbose:
            types = Table(title=f"{variant}: types whose instance count grew (objgraph)", title_justify="left")
            types.add_column("type")
            types.add_column("before", justify="right")
            types.add_column("after", justify="right")
            types.add_column("per iteration", justify="right")
            for row in result.type_growth:
                types.add_row(terminal_text(row.type_name), str(row.before), str(row.after), f"{row.per_iteration:+.2f}")
            console.print(types)
        if a and a.retained and self.verbose:
            held = Table(title=f"{variant}: retained objects and who holds them (reference chains)", title_justify="left")
            held.add_column("size", justify="right")
            held.add_column("type")
            held.add_column("reference chain", overflow="fold")
            for obj in a.retained:
                held.add_row(obj.size_text(), terminal_text(obj.type_name), terminal_text(obj.path))
            console.print(held)
        if a and a.flamegraph:
            console.print(terminal_text(f"memray leak flame graph: {a.flamegraph}", "dim"))
        if a and a.native_error:
            console.print(terminal_text(f"memray: {a.native_error}", "magenta", block=True))
        if result.fix_source and self.verbose:
            console.print(Panel(Syntax(for_terminal_block(result.fix_source), "python", theme="ansi_dark", word_wrap=True), title=f"{variant}: the fix applied", border_style="green"))
        console.print()


