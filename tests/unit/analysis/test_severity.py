"""Severity, iterations and the leaky/fixed comparison from hand-built results (no process)."""

from __future__ import annotations

from memleak_cli.analysis.severity import comparison, iterations_text, severity
from memleak_cli.analysis.trend import fit_trend
from memleak_cli.report.model import Attribution, Sample, ScenarioResult, VariantResult
from memleak_cli.reporters.summary import summary_line

MiB = 1024 * 1024


def _sample(i: int, heap: float, seconds: float = 0.1) -> Sample:
    return Sample(iteration=i, phase="measure", seconds=seconds, rss_bytes=0, uss_bytes=None, tree_rss_bytes=0, tree_uss_bytes=None,
                  children=0, heap_bytes=int(heap), py_blocks=0, gc_objects=0, fds=None, threads=1)


def _result(name: str, verdict: str, heap_per: float, traced: float, *, leaking: bool) -> VariantResult:
    values = [1e6 + heap_per * i for i in range(18)]
    trend = fit_trend("heap_bytes", "bytes", values, 8192)
    trend.leaking, trend.status = leaking, "leak" if leaking else "flat"
    return VariantResult(
        variant=name, expect="LEAK" if name == "leaky" else "CLEAN", verdict=verdict, reason="", trends=[trend],
        samples=[_sample(i, v) for i, v in enumerate(values)],
        attribution=Attribution(window_iterations=2, frames=1, traced=True, traced_growth_bytes=int(traced * 2), traced_growth_per_iteration=traced),
        requested_iterations=20,
    )


def test_a_leak_is_sized_per_iteration_per_thousand_and_per_hour_at_its_rate():
    leaky = _result("leaky", "LEAK", 2048, 2000, leaking=True)
    assert severity(leaky) == "+2.0 KiB/iteration, +2.0 MiB per 1 000 iterations, +70.3 MiB/hour at 36,000 iterations/hour"


def test_a_clean_variant_has_no_severity():
    assert severity(_result("fixed", "CLEAN", 0, 0, leaking=False)) == ""


def test_iterations_say_how_many_more_ran_and_why():
    result = _result("leaky", "LEAK", 2048, 2000, leaking=True)
    assert iterations_text(result) == "20"
    result.extended_by, result.extend_why = 20, "whether +1 blocks/it of Python heap blocks keeps growing"
    assert iterations_text(result) == "20 + 20 more to decide whether +1 blocks/it of Python heap blocks keeps growing"


def test_the_comparison_says_what_the_fix_removed_in_one_measure():
    leaky = _result("leaky", "LEAK", 19.2 * MiB, 19.2 * MiB, leaking=True)
    fixed = _result("fixed", "CLEAN", 0, 490, leaking=False)
    assert comparison(leaky, fixed) == "growth −100.00 %: 19.2 MiB → 490 B per iteration"


def test_a_fixed_variant_that_still_leaks_is_named_a_residual_leak():
    leaky = _result("leaky", "LEAK", 64 * 1024, 64 * 1024, leaking=True)
    fixed = _result("fixed", "LEAK", 8192, 8192, leaking=True)
    assert comparison(leaky, fixed) == "growth −87.50 %: 64.0 KiB → 8.0 KiB per iteration; fixed still grows 8.0 KiB per iteration: a residual leak"


def test_the_summary_never_calls_growth_flat():
    fixed = _result("fixed", "CLEAN", 2048, 0, leaking=False)
    fixed.trends[0].status = "slowing"
    fixed.reason = "no sustained growth (heap_bytes still growing +2.0 KiB/it after 80 iterations but slowing down)"
    line = summary_line(ScenarioResult(name="s", description="", finding="", size="small", variants=[fixed]))
    assert "flat" not in line
    assert line == "fixed grew +2.0 KiB per iteration (C heap in use) but slowing down (bounded filling)."
