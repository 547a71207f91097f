"""Accuracy of memleak's verdict on the labelled corpus (``benchmarks/corpus``).

Runs every case through the real engine (``memleak_cli.measure.parent.run_variant``: one fresh measuring
process per case, serially) at each iteration count, then reports per count:

* true-positive rate — leaks (``python``, ``native`` and ``resource`` cases) judged LEAK;
* false-positive rate — cases that do not leak (retention and look-alikes) judged LEAK;
* exact verdicts — retention judged RETAINS, look-alikes judged CLEAN;
* the smallest leak caught, and the size from which every leak was caught;
* the same per metric (``MetricTrend.leaking`` of each metric's own trend);
* mean iterations run (the evidence extension runs undecided cases longer);
* the goals at the default settings (20 iterations requested, extension up to 80): every
  Python-heap leak >= 256 B and native leak >= 4 KiB per iteration caught, no look-alike judged
  LEAK, every bounded retention RETAINS or CLEAN, mean iterations <= 1.5 × requested.

Run from the repository root::

    python -m benchmarks.accuracy                      # 20 iterations requested, extended when undecided
    python -m benchmarks.accuracy -n 20 --no-extend    # exactly 20, as before the evidence rule
    python -m benchmarks.accuracy -n 10 --cases list-  # a quick look at a few cases

Writes ``reports/benchmarks/accuracy.json``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks._common import (
    GOAL_ITERATIONS,
    GOAL_MEAN_ITERATIONS,
    GOAL_NATIVE_BYTES,
    GOAL_PYTHON_BYTES,
    machine,
    machine_line,
    out_path,
    size_text,
    write_markdown,
)
from benchmarks.corpus import Case, all_cases
from memleak_cli.analysis.verdict import LEAD_ORDER
from memleak_cli.measure.parent import run_variant
from memleak_cli.report.jsonio import write_json_atomic
from memleak_cli.settings import RunSettings

LEAK_KINDS = ("python", "native", "resource")
SHORT = {"gc_objects": "obj", "py_blocks": "blk", "heap_bytes": "heap", "uss_bytes": "uss", "rss_bytes": "rss",
         "tree_uss_bytes": "tuss", "tree_rss_bytes": "trss", "fds": "fd", "threads": "thr"}


def run_case(case: Case, iterations: int, frames: int, window: int, extend: bool = True) -> dict[str, Any]:
    """Run *case* once through the engine and keep what the summary needs (plain data)."""
    settings = RunSettings(iterations=iterations, window=window, frames=frames, size="small", extend=extend)
    started = time.perf_counter()
    result = run_variant(case.scenario, case.spec, "case", settings)
    attribution = result.attribution
    return {
        "case": case.name,
        "iterations": iterations,
        "verdict": result.verdict,
        "reason": result.reason,
        "iterations_run": iterations + result.extended_by,
        "extend_why": result.extend_why,
        "leaking_metrics": [t.metric for t in result.trends if t.leaking],
        "slopes": {t.metric: t.slope for t in result.trends},
        "traced_growth_per_iteration": None if attribution is None else attribution.traced_growth_per_iteration,
        "retained_bytes": None if attribution is None else attribution.retained_bytes,
        "seconds": time.perf_counter() - started,
        "error": result.error,
    }


def _caught_sizes(cases: Sequence[Case], caught: set[str]) -> dict[str, Any]:
    """Smallest leak caught, and the smallest size from which every larger leak was caught."""
    if not cases:
        return {"smallest_caught": None, "all_caught_from": None, "missed": []}
    sizes = sorted({c.leak_bytes for c in cases})
    smallest = min((c.leak_bytes for c in cases if c.name in caught), default=None)
    all_from = None
    for size in reversed(sizes):  # walk down while every case at and above this size is caught
        if all(c.name in caught for c in cases if c.leak_bytes >= size):
            all_from = size
        else:
            break
    missed = sorted((c.name for c in cases if c.name not in caught), key=lambda n: next(c.leak_bytes for c in cases if c.name == n))
    return {"smallest_caught": smallest, "all_caught_from": all_from, "missed": missed}


def summarise(cases: Sequence[Case], runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The rates of one iteration count. *runs* maps case name → :func:`run_case` output."""
    leaks = [c for c in cases if c.kind in LEAK_KINDS]
    others = [c for c in cases if c.kind not in LEAK_KINDS]
    flagged = {c.name for c in cases if runs[c.name]["verdict"] == "LEAK"}
    summary: dict[str, Any] = {
        "leaks": len(leaks),
        "true_positives": sum(c.name in flagged for c in leaks),
        "non_leaks": len(others),
        "false_positives": sorted(c.name for c in others if c.name in flagged),
        "errors": sorted(c.name for c in cases if runs[c.name]["verdict"] == "ERROR"),
        "exact": {kind: [sum(runs[c.name]["verdict"] == c.truth for c in cases if c.kind == kind),
                         sum(c.kind == kind for c in cases)] for kind in ("python", "native", "resource", "retains", "lookalike")},
        "retention_ok": [sum(runs[c.name]["verdict"] in ("RETAINS", "CLEAN") for c in cases if c.kind == "retains"), sum(c.kind == "retains" for c in cases)],
        "mean_iterations": sum(runs[c.name].get("iterations_run", 0) for c in cases) / len(cases) if cases else None,
        "wrong": {c.name: runs[c.name]["verdict"] for c in cases if runs[c.name]["verdict"] != c.truth},
        "tpr": sum(c.name in flagged for c in leaks) / len(leaks) if leaks else None,
        "fpr": sum(c.name in flagged for c in others) / len(others) if others else None,
    }
    for kind in LEAK_KINDS:
        summary[f"{kind}_sizes"] = _caught_sizes([c for c in leaks if c.kind == kind], flagged)
    per_metric = {}
    for metric in LEAD_ORDER:
        by_metric = {c.name for c in cases if metric in runs[c.name]["leaking_metrics"]}
        if not any(metric in runs[c.name]["slopes"] for c in cases):
            continue
        per_metric[metric] = {
            "true_positives": sum(c.name in by_metric for c in leaks),
            "false_positives": sorted(c.name for c in others if c.name in by_metric),
            "tpr": sum(c.name in by_metric for c in leaks) / len(leaks) if leaks else None,
            "fpr": sum(c.name in by_metric for c in others) / len(others) if others else None,
            "python_smallest": _caught_sizes([c for c in leaks if c.kind == "python"], by_metric)["smallest_caught"],
            "native_smallest": _caught_sizes([c for c in leaks if c.kind == "native"], by_metric)["smallest_caught"],
        }
    summary["per_metric"] = per_metric
    return summary


def goals(cases: Sequence[Case], by_count: dict[int, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The accuracy goals, each with the measured figure and whether it was met (None: not measured)."""
    within = [n for n in by_count if n <= GOAL_ITERATIONS]
    at = max(within) if within else None
    rows = []
    for kind, floor in (("python", GOAL_PYTHON_BYTES), ("native", GOAL_NATIVE_BYTES)):
        targets = [c for c in cases if c.kind == kind and c.leak_bytes >= floor]
        missed = [] if at is None else [c.name for c in targets if by_count[at][c.name]["verdict"] != "LEAK"]
        rows.append({
            "goal": f"every {kind} leak >= {size_text(floor)}/iteration caught at default settings ({GOAL_ITERATIONS} requested)",
            "measured": "not run" if at is None else f"{len(targets) - len(missed)}/{len(targets)} caught at {at} iterations" + (f"; missed {', '.join(missed)}" if missed else ""),
            "met": None if at is None or not targets else not missed,
        })
    if at is not None:
        mean = sum(by_count[at][c.name].get("iterations_run", at) for c in cases) / len(cases)
        rows.append({"goal": f"mean iterations run <= {GOAL_MEAN_ITERATIONS} × the {at} requested",
                     "measured": f"{mean:.1f} ({mean / at:.2f} ×)", "met": mean <= GOAL_MEAN_ITERATIONS * at})
        retains = [c for c in cases if c.kind == "retains"]
        bad = [c.name for c in retains if by_count[at][c.name]["verdict"] not in ("RETAINS", "CLEAN")]
        rows.append({"goal": "every bounded retention RETAINS or CLEAN", "measured": f"{len(retains) - len(bad)}/{len(retains)}" + (f"; {', '.join(bad)}" if bad else ""),
                     "met": not bad if retains else None})
    lookalikes = [c for c in cases if c.kind == "lookalike"]
    false_alarms = {n: [c.name for c in lookalikes if runs[c.name]["verdict"] == "LEAK"] for n, runs in sorted(by_count.items())}
    rows.append({
        "goal": "no look-alike judged LEAK",
        "measured": "; ".join(f"{n} it.: {len(v)}/{len(lookalikes)}" + (f" ({', '.join(v)})" if v else "") for n, v in false_alarms.items()),
        "met": not any(false_alarms.values()) if lookalikes else None,
    })
    return rows


def _percent(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def render(console: Console, cases: Sequence[Case], by_count: dict[int, dict[str, dict[str, Any]]],
           summaries: dict[int, dict[str, Any]], goal_rows: list[dict[str, Any]], info: dict[str, Any]) -> list[Table]:
    """Print the per-case table, the summary per iteration count, per metric, and the goals; return the tables."""
    counts = sorted(by_count)
    table = Table(title=f"memleak accuracy on the corpus — {machine_line(info)}", title_justify="left")
    for column in ("case", "kind", "leak/iter", "truth"):
        table.add_column(column)
    for n in counts:
        table.add_column(f"{n} it.")
    table.add_column(f"traced/iter ({counts[-1]} it.)")
    for c in cases:
        cells = []
        for n in counts:
            run = by_count[n][c.name]
            mark = "" if run["verdict"] == c.truth else " ✗"
            mark += f" [{run['iterations_run']}]" if run.get("iterations_run", n) != n else ""
            metrics = ",".join(SHORT.get(m, m) for m in run["leaking_metrics"])
            cells.append(f"{run['verdict']}{mark}" + (f" ({metrics})" if metrics else ""))
        traced = by_count[counts[-1]][c.name]["traced_growth_per_iteration"]
        table.add_row(c.name, c.kind, size_text(c.leak_bytes) if c.leak_bytes else "—", c.truth, *cells, size_text(traced))
    console.print(table)
    console.print("[dim]✗ = verdict differs from the truth; (…) = metrics whose own trend leaked "
                  "(obj gc objects, blk Python heap blocks, heap C heap, uss/rss process memory); traced/iter = tracemalloc "
                  "growth per iteration in the attribution window (shown for scale; not part of the verdict)[/dim]")

    overall = Table(title="Overall, per iteration count", title_justify="left")
    for column in ("iterations", "TPR (leaks → LEAK)", "FPR (others → LEAK)", "retention → RETAINS", "look-alikes → CLEAN",
                   "smallest Python leak caught", "all Python caught from", "smallest native caught", "all native caught from",
                   "mean iterations run", "errors"):
        overall.add_column(column)
    for n in counts:
        s = summaries[n]
        overall.add_row(
            str(n), f"{_percent(s['tpr'])} ({s['true_positives']}/{s['leaks']})",
            f"{_percent(s['fpr'])} ({len(s['false_positives'])}/{s['non_leaks']})",
            "{}/{}".format(*s["exact"]["retains"]), "{}/{}".format(*s["exact"]["lookalike"]),
            size_text(s["python_sizes"]["smallest_caught"]), size_text(s["python_sizes"]["all_caught_from"]),
            size_text(s["native_sizes"]["smallest_caught"]), size_text(s["native_sizes"]["all_caught_from"]),
            f"{s['mean_iterations']:.1f}", str(len(s["errors"])),
        )
    console.print(overall)

    metric_table = Table(title="Per metric (a metric 'catches' a case when its own trend is leaking)", title_justify="left")
    for column in ("metric", *(f"{n} it. TPR / FPR / smallest py, native" for n in counts)):
        metric_table.add_column(column)
    names = [m for m in LEAD_ORDER if any(m in summaries[n]["per_metric"] for n in counts)]
    for m in names:
        cells = []
        for n in counts:
            pm = summaries[n]["per_metric"].get(m)
            cells.append("—" if pm is None else f"{_percent(pm['tpr'])} / {_percent(pm['fpr'])} / {size_text(pm['python_smallest'])}, {size_text(pm['native_smallest'])}")
        metric_table.add_row(m, *cells)
    console.print(metric_table)

    goal_table = Table(title="Goals", title_justify="left")
    for column in ("goal", "measured", "met"):
        goal_table.add_column(column)
    for g in goal_rows:
        goal_table.add_row(g["goal"], g["measured"], "not measured" if g["met"] is None else ("yes" if g["met"] else "[red]MISSED[/red]"))
    console.print(goal_table)
    for n in counts:
        wrong = summaries[n]["wrong"]
        if wrong:
            console.print(f"[bold]{n} iterations[/bold], verdict differs from the truth: " + ", ".join(f"{k} → {v}" for k, v in wrong.items()))
    return [table, overall, metric_table, goal_table]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.accuracy", description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--iterations", type=int, nargs="+", default=[20], help="requested iteration counts (default 20)")
    parser.add_argument("--no-extend", action="store_true", help="run exactly the requested iterations (no evidence extension)")
    parser.add_argument("--cases", nargs="*", default=None, help="only cases whose name contains one of these")
    parser.add_argument("--frames", type=int, default=1, help="tracemalloc frames in the attribution window (default 1)")
    parser.add_argument("--window", type=int, default=2, help="attribution window iterations (default 2)")
    parser.add_argument("--out", default=None, help="JSON output (default reports/benchmarks/accuracy.json)")
    args = parser.parse_args(argv)
    console = Console(width=160)
    info = machine()
    cases = [c for c in all_cases() if not args.cases or any(s in c.name for s in args.cases)]
    if not cases:
        parser.error(f"no corpus case matches {args.cases}")
    by_count: dict[int, dict[str, dict[str, Any]]] = {}
    started = time.perf_counter()
    path = out_path("accuracy", args.out)
    counts = sorted(set(args.iterations))
    for n in counts:
        by_count[n] = {}
        for index, c in enumerate(cases, 1):
            run = run_case(c, n, args.frames, args.window, extend=not args.no_extend)
            by_count[n][c.name] = run
            console.print(f"[dim]{n:>3} it. {index:>2}/{len(cases)} {c.name:<22} {run['verdict']:<8} "
                          f"(truth {c.truth}) {run['iterations_run']} it. {run['seconds']:.1f} s {','.join(run['leaking_metrics'])}[/dim]")
        # after each count, so that an interrupted benchmark keeps the counts it finished
        summaries = {k: summarise(cases, runs) for k, runs in by_count.items()}
        goal_rows = goals(cases, by_count)
        write_json_atomic(path, {
            "benchmark": "accuracy",
            "machine": info,
            "complete": n == counts[-1],
            "settings": {"iterations": sorted(by_count), "extend": not args.no_extend, "window": args.window, "frames": args.frames, "size": "small", "warmup": RunSettings().warmup},
            "wall_seconds": time.perf_counter() - started,
            "cases": [{"name": c.name, "spec": c.spec, "kind": c.kind, "truth": c.truth, "leak_bytes": c.leak_bytes, "shape": c.shape,
                       "runs": {str(k): by_count[k][c.name] for k in sorted(by_count)}} for c in cases],
            "summary": {str(k): v for k, v in summaries.items()},
            "goals": goal_rows,
        })
    tables = render(console, cases, by_count, summaries, goal_rows, info)
    markdown = write_markdown(path, tables)
    console.print(f"written {path} and {markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
