"""Terminal report words a newcomer reads right: judged growth cells, change since warm-up, bounded sites, gate lines."""

from __future__ import annotations

import io

from rich.console import Console

from memleak_cli.analysis.trend import fit_trend
from memleak_cli.report.baseline import Measures
from memleak_cli.report.jsonio import read_report
from memleak_cli.reporters import gate as gate_reporter
from memleak_cli.reporters.terminal import TerminalReporter, _growth_cell, sites_title
from tests.paths import ROOT

REAL_REPORT = ROOT / "tests" / "data" / "optuna-small-20-all.json"


def lines(renderable: object, width: int = 140) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(renderable)
    return [line.rstrip() for line in out.getvalue().splitlines()]


def test_a_growth_not_judged_a_leak_says_so_in_its_cell() -> None:
    under = fit_trend("py_blocks", "blocks", [float(100 + 21 * i) for i in range(12)], 64.0)
    assert not under.leaking
    assert lines(_growth_cell(under)) == ["+21/it [+21, +21]", "below threshold, not judged"]
    flat = fit_trend("gc_objects", "objects", [5.0] * 12, 1.0)
    assert lines(_growth_cell(flat)) == ["+0/it [+0, +0]"]


def test_the_growth_table_shows_the_change_since_warm_up_not_since_baseline() -> None:
    report = read_report(REAL_REPORT)
    scenario = report.scenarios[0]
    scenario.variants = scenario.variants[:2]
    out = io.StringIO()
    TerminalReporter(width=140, color=False).render(report, out)
    text = [line.rstrip() for line in out.getvalue().splitlines()]
    assert "│ gc objects                        │ +0/it [+0, +0]                   │           +43 │ +0/it [+0, +0]                   │           +43 │" in text
    assert "│ Python heap blocks                │ +23.1/it [+22.3, +24.3]          │         +1704 │ +23.4/it [+22.4, +24.2]          │         +1706 │" in text
    assert "│                                   │ below threshold, not judged      │               │ below threshold, not judged      │               │" in text
    assert not any("+16043" in line or "+16111" in line for line in text)  # setup and imports, not the leak


def test_allocation_sites_of_a_variant_that_is_not_a_leak_are_bounded_not_grown() -> None:
    report = read_report(REAL_REPORT)
    fixed = report.scenarios[0].variant("fixed")
    assert fixed is not None and fixed.verdict == "CLEAN"
    assert sites_title(fixed) == (
        "fixed: allocation sites still holding memory after the window (3 iterations): bounded / filling, nothing grows steadily "
        "(Python heap blocks +23.4/it below threshold, not judged; C heap in use +1.3 KiB/it below threshold, not judged)"
    )
    fixed.verdict = "LEAK"
    assert sites_title(fixed) == "fixed: allocation sites that grew over the window (3 iterations)"


def test_a_clean_gate_line_does_not_print_a_bare_growth() -> None:
    clean = Measures("CLEAN", "CLEAN", 34 * 1024.0, "tracemalloc", 200.0)
    assert gate_reporter._measured_growth_text(clean) == "+34.0 KiB/it (in the tracemalloc window; bounded / filling: nothing grows steadily)"
    leak = Measures("LEAK", "LEAK", 4096.0, "tracemalloc", 200.0)
    assert gate_reporter._measured_growth_text(leak) == "+4.0 KiB/it"
