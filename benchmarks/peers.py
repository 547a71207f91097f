"""memleak against the tools a user would pick instead, on the same workloads.

Workloads: every built-in scenario's ``leaky`` and ``fixed`` variants at ``--size small`` (truth:
the variant's declared verdict), and every case of the labelled corpus (``benchmarks/corpus``).
Each workload runs under each tool in a fresh process, one at a time, with the same iterations
(``-n``, default 20, the first ``--warmup`` of them kept out where the tool allows it):

* **memleak** — ``memleak run SPEC --variant V --size small -n 20 -q --json …`` (one variant).
* **memray** — ``memray run --native --trace-python-allocators`` over the loop (memray's docs:
  leaks need the Python allocators traced), then ``memray stats`` (``flamegraph --leaks`` grew
  past 8 GB of RSS on an ML scenario's capture here). The verdict reads the capture's leaked
  allocations (``FileReader.get_leaked_allocation_records``, what ``table --leaks`` and the
  leak flame graph show) under the measured loop: a leak when one call stack keeps at least the
  limit (below). Reading the capture is not timed; running and the report are.
* **pytest-memray** — a generated test with ``@pytest.mark.limit_leaks(LIMIT)`` whose body runs
  the measured iterations in a loop, as its docs advise ("It's recommended to run your API or
  code in a loop when utilizing this plugin", docs/usage.rst, ``limit_leaks``); the warm-up runs
  at import, outside the test body. The test failing is the leak verdict.
* **tracemalloc** — the docs' ``compare_to`` recipe (``benchmarks._peer_driver``).
* **objgraph** — an ``objgraph.growth()`` loop (``benchmarks._peer_driver``).

The byte-based peers need a limit; it is the project's goal size, 1 KiB per measured iteration
(``GOAL_PYTHON_BYTES`` × measured iterations, per call stack for memray and pytest-memray, over
all lines for tracemalloc). Tools other than memleak answer leak / no leak, so the verdict
compared is that: truth LEAK against the rest (RETAINS counts as "no growth"); memleak's
exact three-way verdicts are counted apart.

**Names the culprit**: of the workloads whose truth is LEAK or RETAINS, those the tool flagged
and whose output names where the memory hangs or comes from in the user's code: a holder path
or a reachable retained path (memleak), or an allocation site or stack frame in the workload's
own source folder (``scenarios/`` or ``benchmarks/corpus/``).

Run from the repository root::

    python -m benchmarks.peers            # everything (tens of minutes: memray --native is slow)
    python -m benchmarks.peers --quick    # a few corpus cases and one scenario (a few minutes)

Writes ``reports/benchmarks/peers.json`` and ``peers.md``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks._common import GOAL_PYTHON_BYTES, machine, machine_line, out_path, write_markdown
from memleak_cli.report.jsonio import write_json_atomic

TOOLS = ("memleak", "memray", "pytest-memray", "tracemalloc", "objgraph")
QUICK_CASES = ("list-64k", "dict-1k", "handler-1k", "malloc-64k", "latest-blob-256k", "bounded-lru-24x4k", "cycles-1m", "lazy-import-warmup")
QUICK_SCENARIOS = ("preprocessor-cache",)
RUN_TIMEOUT = 900.0
UNREACHABLE_PREFIX = "<no module global"


@dataclass(frozen=True)
class Workload:
    """One variant to judge: its spec, variant, truth and the folder of its own source."""

    label: str
    spec: str
    variant: str
    truth: str
    source_dir: str


@dataclass
class Outcome:
    """One tool on one workload."""

    tool: str
    workload: str
    truth: str
    leak: bool | None  # None: the tool failed
    verdict: str
    culprit: bool
    seconds: float
    detail: str = ""


def _module_dir(module: str) -> str:
    spec = importlib.util.find_spec(module)
    origin = spec.origin if spec is not None else None
    return str(Path(origin).resolve().parent) if origin else ""


def workloads(quick: bool, scenarios: Sequence[str] | None, cases: Sequence[str] | None) -> list[Workload]:
    """The built-in scenarios' leaky and fixed variants, then the corpus cases (filtered)."""
    from benchmarks.corpus import all_cases
    from memleak_cli.scenarios.discovery import builtin_scenarios

    found: list[Workload] = []
    wanted_scenarios = scenarios if scenarios is not None else (QUICK_SCENARIOS if quick else None)
    for name, scenario in builtin_scenarios().items():
        if wanted_scenarios is not None and name not in wanted_scenarios:
            continue
        folder = _module_dir(scenario.module)
        for variant in ("leaky", "fixed"):
            found.append(Workload(f"{name}/{variant}", name, variant, scenario.variant(variant).expect, folder))
    wanted_cases = cases if cases is not None else (QUICK_CASES if quick else None)
    for case in all_cases():
        if wanted_cases is not None and case.name not in wanted_cases:
            continue
        found.append(Workload(case.name, case.spec, "case", case.truth, _module_dir(case.spec.split(":")[0])))
    return found


def _env() -> dict[str, str]:
    root = str(Path.cwd())
    path = os.environ.get("PYTHONPATH", "")
    return dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=root + (os.pathsep + path if path else ""))


def _run(argv: list[str], cwd: str | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=_env(), cwd=cwd, timeout=RUN_TIMEOUT, check=False)
    return done, time.perf_counter() - started


def _in_source(text: str, work: Workload) -> bool:
    return bool(work.source_dir) and work.source_dir in text


def run_memleak(work: Workload, iterations: int, warmup: int, tmp: Path) -> Outcome:
    report = tmp / "memleak.json"
    done, seconds = _run([sys.executable, "-m", "memleak_cli", "run", work.spec, "--variant", work.variant, "--size", "small",
                          "-n", str(iterations), "--warmup", str(warmup), "-q", "--json", str(report)])
    if not report.exists():
        return Outcome("memleak", work.label, work.truth, None, "failed", False, seconds, done.stderr[-300:])
    variant = json.loads(report.read_text())["scenarios"][0]["variants"][0]
    verdict = variant["verdict"]
    attribution = variant.get("attribution") or {}
    named = bool(variant.get("holders")) or any(not r["path"].startswith(UNREACHABLE_PREFIX) for r in attribution.get("retained", [])[:1])
    named = named or any(_in_source(s.get("first_own_frame") or "", work) for s in attribution.get("sites", [])[:3])
    culprit = verdict in ("LEAK", "RETAINS") and named
    return Outcome("memleak", work.label, work.truth, verdict == "LEAK", verdict, culprit, seconds, variant.get("reason", ""))


def _driver(mode: str, work: Workload, iterations: int, warmup: int, limit: int) -> list[str]:
    return ["-m", "benchmarks._peer_driver", mode, work.spec, work.variant, "small", str(iterations), str(warmup), str(limit)]


def run_driver(tool: str, work: Workload, iterations: int, warmup: int, limit: int) -> Outcome:
    done, seconds = _run([sys.executable, *_driver(tool, work, iterations, warmup, limit)])
    if done.returncode != 0:
        return Outcome(tool, work.label, work.truth, None, "failed", False, seconds, done.stderr[-300:])
    data = json.loads(done.stdout.strip().splitlines()[-1])
    culprit = data["leak"] and any(_in_source(f, work) for f in data["culprit_files"])
    detail = ", ".join(data.get("top", [])[:1] or data.get("growing_types", [])[:3])
    return Outcome(tool, work.label, work.truth, data["leak"], "LEAK" if data["leak"] else "no leak", culprit, seconds, detail)


def run_memray(work: Workload, iterations: int, warmup: int, limit: int, tmp: Path) -> Outcome:
    capture, page = tmp / "capture.bin", tmp / "stats.json"
    done, seconds = _run([sys.executable, "-m", "memray", "run", "--native", "--trace-python-allocators", "-q", "--force",
                          "-o", str(capture), *_driver("loop", work, iterations, warmup, limit)])
    if done.returncode != 0 or not capture.exists():
        return Outcome("memray", work.label, work.truth, None, "failed", False, seconds, (done.stderr or done.stdout)[-300:])
    # memray stats, not flamegraph --leaks: on the ML scenarios the leak flame graph of a
    # --native --trace-python-allocators capture grew past 8 GB of RSS in minutes on this shared
    # machine (preprocessor-cache/leaky, 43 MB capture) and was stopped
    drawn, render = _run([sys.executable, "-m", "memray", "stats", "--json", "-o", str(page), "--force", str(capture)])
    seconds += render
    from memray import FileReader

    per_stack_limit = limit * (iterations - warmup)
    leak, culprit, top = False, False, ""
    for record in FileReader(str(capture)).get_leaked_allocation_records(merge_threads=True):
        frames = record.stack_trace()  # Python frames: the loop and the user's code (no native symbol lookup)
        if not any(function == "measured_loop" for function, _file, _line in frames):
            continue  # made outside the measured loop: imports, setup, warm-up
        if record.size >= per_stack_limit:
            leak = True
            files = " ".join(str(f) for _fn, f, _ln in frames)
            culprit = culprit or _in_source(files, work)
            top = top or f"{record.size} B at {frames[0][0]} {frames[0][1]}:{frames[0][2]}"
    capture.unlink(missing_ok=True)
    page.unlink(missing_ok=True)
    note = "" if drawn.returncode == 0 else f"memray stats failed: {drawn.stderr[-200:]}"
    return Outcome("memray", work.label, work.truth, leak, "LEAK" if leak else "no leak", culprit, seconds, top or note)


_PYTEST_TEMPLATE = '''\
import pytest

from memleak_cli.scenarios.discovery import load_scenario

_SCENARIO = load_scenario({spec!r})
_ITERATE = _SCENARIO.variant({variant!r}).factory(_SCENARIO.sizes["small"])
for _ in range({warmup}):  # warm-up outside the test body: caches filled once are not leaks
    _ITERATE()


# pytest-memray docs (docs/usage.rst, limit_leaks): "It's recommended to run your API or code in
# a loop when utilizing this plugin", with a per-call-stack limit.
@pytest.mark.limit_leaks("{limit} B")
def test_workload_does_not_leak():
    for _ in range({measured}):
        _ITERATE()
'''


def run_pytest_memray(work: Workload, iterations: int, warmup: int, limit: int, tmp: Path) -> Outcome:
    test = tmp / "test_peer_workload.py"
    test.write_text(_PYTEST_TEMPLATE.format(spec=work.spec, variant=work.variant, warmup=warmup, measured=iterations - warmup,
                                            limit=limit * (iterations - warmup)))
    (tmp / "pytest.ini").write_text("[pytest]\n")
    done, seconds = _run([sys.executable, "-m", "pytest", "--memray", "-q", "-p", "no:cacheprovider", "-c", str(tmp / "pytest.ini"),
                          "--rootdir", str(tmp), str(test)], cwd=str(Path.cwd()))
    if done.returncode not in (0, 1):
        return Outcome("pytest-memray", work.label, work.truth, None, "failed", False, seconds, (done.stdout + done.stderr)[-300:])
    leak = done.returncode == 1
    culprit = leak and _in_source(done.stdout, work)
    return Outcome("pytest-memray", work.label, work.truth, leak, "LEAK" if leak else "no leak", culprit, seconds)


def run_tool(tool: str, work: Workload, iterations: int, warmup: int, limit: int) -> Outcome:
    """*work* under *tool* in fresh processes; a tool that fails or times out gives ``leak=None``."""
    with tempfile.TemporaryDirectory(prefix="memleak-peers-") as folder:
        tmp = Path(folder)
        try:
            if tool == "memleak":
                return run_memleak(work, iterations, warmup, tmp)
            if tool == "memray":
                return run_memray(work, iterations, warmup, limit, tmp)
            if tool == "pytest-memray":
                return run_pytest_memray(work, iterations, warmup, limit, tmp)
            return run_driver(tool, work, iterations, warmup, limit)
        except subprocess.TimeoutExpired:
            return Outcome(tool, work.label, work.truth, None, "timeout", False, RUN_TIMEOUT)


def summarize(outcomes: Sequence[Outcome], tools: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per tool: right leak/no-leak answers, false alarms, misses, culprits named, times."""
    summary: dict[str, dict[str, Any]] = {}
    for tool in tools:
        rows = [o for o in outcomes if o.tool == tool]
        leaks = [o for o in rows if o.truth == "LEAK"]
        kept = [o for o in rows if o.truth in ("LEAK", "RETAINS")]
        seconds = [o.seconds for o in rows]
        summary[tool] = {
            "workloads": len(rows),
            "right": sum(1 for o in rows if o.leak is not None and o.leak == (o.truth == "LEAK")),
            "false_alarms": sum(1 for o in rows if o.leak and o.truth != "LEAK"),
            "misses": sum(1 for o in leaks if not o.leak),
            "failed": sum(1 for o in rows if o.leak is None),
            "leaks": len(leaks),
            "culprits": sum(1 for o in kept if o.culprit),
            "culprit_of": len(kept),
            "exact": sum(1 for o in rows if o.verdict == o.truth) if tool == "memleak" else None,
            "median_seconds": statistics.median(seconds) if seconds else None,
            "total_seconds": sum(seconds),
        }
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"corpus cases {', '.join(QUICK_CASES)} and scenario(s) {', '.join(QUICK_SCENARIOS)}")
    parser.add_argument("--tools", nargs="*", default=list(TOOLS), choices=TOOLS, help="tools to compare (default: all)")
    parser.add_argument("--scenarios", nargs="*", default=None, help="built-in scenarios (default: all; --quick: a few)")
    parser.add_argument("--cases", nargs="*", default=None, help="corpus cases (default: all; --quick: a few)")
    parser.add_argument("-n", "--iterations", type=int, default=20, help="iterations per workload, warm-up included (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up iterations (default 2)")
    parser.add_argument("--out", default=None, help="JSON output (default reports/benchmarks/peers.json)")
    args = parser.parse_args(argv)
    console = Console(width=160)
    info = machine()
    limit = GOAL_PYTHON_BYTES
    work = workloads(args.quick, args.scenarios, args.cases)
    outcomes: list[Outcome] = []
    for item in work:
        for tool in args.tools:
            outcome = run_tool(tool, item, args.iterations, args.warmup, limit)
            outcomes.append(outcome)
            mark = "?" if outcome.leak is None else ("ok" if outcome.leak == (item.truth == "LEAK") else "WRONG")
            console.print(f"[dim]{item.label:28} {tool:14} {outcome.verdict:8} (truth {item.truth:7}) {mark:5} "
                          f"culprit={'yes' if outcome.culprit else 'no':3} {outcome.seconds:6.1f} s[/dim]")
    summary = summarize(outcomes, args.tools)
    title = (f"memleak and its peers on {len(work)} workloads ({'quick subset' if args.quick else 'built-in scenarios at small + corpus'}), "
             f"-n {args.iterations}, warm-up {args.warmup} — {machine_line(info)}")
    table = Table(title=title, title_justify="left")
    for column in ("tool", "right verdicts (leak / no leak)", "false alarms", "misses", "failed", "names the culprit", "median wall / workload", "total wall"):
        table.add_column(column)
    for tool, s in summary.items():
        exact = f" (exact 3-way: {s['exact']}/{s['workloads']})" if s["exact"] is not None else ""
        table.add_row(tool, f"{s['right']}/{s['workloads']}{exact}", str(s["false_alarms"]), f"{s['misses']}/{s['leaks']}", str(s["failed"]),
                      f"{s['culprits']}/{s['culprit_of']}", f"{s['median_seconds']:.1f} s" if s["median_seconds"] is not None else "—",
                      f"{s['total_seconds']:.0f} s")
    console.print(table)
    ratios = []
    base = summary.get("memleak")
    for peer in ("pytest-memray", "objgraph"):
        if base and peer in summary and summary[peer]["total_seconds"]:
            ratios.append(f"memleak total / {peer} total = {base['total_seconds'] / summary[peer]['total_seconds']:.2f}×")
    note = (f"Limit for byte-based peers: {limit} B per measured iteration ({limit * (args.iterations - args.warmup)} B over "
            f"{args.iterations - args.warmup} measured iterations). Right verdicts: leak / no leak against the truth (RETAINS truth "
            f"counts as no leak); memleak's exact three-way verdicts in brackets. " + "; ".join(ratios))
    console.print(f"[dim]{note}[/dim]")
    path = out_path("peers", args.out)
    write_json_atomic(path, {"benchmark": "peers", "machine": info, "settings": {"iterations": args.iterations, "warmup": args.warmup,
                             "limit_bytes_per_iteration": limit, "quick": args.quick, "tools": args.tools},
                             "summary": summary, "outcomes": [asdict(o) for o in outcomes], "note": note})
    markdown = write_markdown(path, [table], [note])
    console.print(f"written {path} and {markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
