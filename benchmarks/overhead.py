"""What memleak costs: wall time of ``memleak run`` against the bare loop, per built-in scenario.

For each built-in scenario (``memleak_cli.scenarios.discovery.builtin_scenarios()``) and each repeat, in
this order: the bare loop in a fresh process (``benchmarks._bare_loop``: same variant factory,
same size, same iterations, no probe), then the memleak run at each setting (``run_variant``: a
fresh measuring process) — default settings, ``frames=1``, ``frames=10``, and the memray probe
when ``RunSettings`` has a ``probe`` field. Both walls include starting the process. Ratios are
taken within one repeat (same machine load), then the median over repeats is reported:

* **run / bare** — the brief's ratio: the whole memleak run against the bare loop of the same
  ``--iterations`` (memleak also runs the attribution window: ``window + 1`` more iterations);
* **run / bare same work** — against the bare loop running those extra iterations too;
* **window slowdown** — a traced iteration in the attribution window against an untraced one
  (window sample ``seconds`` / median measured ``seconds``, both from the run itself).

Also times ``take_sample`` and its parts (``benchmarks._sample_cost``) on the first scenario.
Writes ``reports/benchmarks/overhead.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks._common import (
    GOAL_ATTRIBUTION_OVERHEAD,
    GOAL_DEFAULT_OVERHEAD,
    machine,
    machine_line,
    median,
    out_path,
    write_markdown,
)
from memleak_cli.errors import UsageError
from memleak_cli.measure.parent import run_variant
from memleak_cli.report.jsonio import write_json_atomic
from memleak_cli.scenarios.discovery import builtin_scenarios
from memleak_cli.settings import RunSettings


def settings_to_compare(iterations: int, size: str, memray_probe: str) -> tuple[list[tuple[str, RunSettings]], str]:
    """``(label, settings)`` pairs, and a note on the memray probe (present or why skipped)."""
    base = RunSettings(iterations=iterations, size=size).validate()
    pairs = [("default", base), ("frames=1", dataclasses.replace(base, frames=1)), ("frames=10", dataclasses.replace(base, frames=10))]
    try:
        probed = dataclasses.replace(base, probes=(memray_probe,)).validate()
    except (TypeError, ValueError, UsageError) as exc:
        return pairs, f"memray probe skipped: RunSettings(probes=({memray_probe!r},)) is refused: {exc}"
    pairs.append((f"probe={memray_probe}", probed))
    return pairs, f"memray probe measured (RunSettings.probes=({memray_probe!r},))"


def bare_loop(spec: str, variant: str, size: str, iterations: int, extra: int) -> dict[str, Any]:
    """Run the bare loop in a fresh process; its own times plus the wall time seen from here.

    Raises:
        RuntimeError: the bare loop failed (its output is in the message).
    """
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONUNBUFFERED="1")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "benchmarks._bare_loop", spec, variant, size, str(iterations), str(extra)],
                          capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"bare loop of {spec}/{variant} failed: {done.stderr[-2000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    data["wall_seconds"] = wall
    # the wall of a bare loop that also ran the extra iterations: the same process, longer loop
    data["wall_all_seconds"] = wall + data["loop_all_seconds"] - data["loop_seconds"]
    return data


def memleak_run(scenario: Any, variant: str, settings: RunSettings) -> dict[str, Any]:
    """One ``run_variant`` with its wall time and the iteration times it measured itself."""
    started = time.perf_counter()
    result = run_variant(scenario, scenario.name, variant, settings)
    wall = time.perf_counter() - started
    measured = [s.seconds for s in result.samples if s.phase == "measure"]
    window = [s.seconds for s in result.samples if s.phase == "window"]
    iteration = statistics.median(measured) if measured else None
    return {
        "wall_seconds": wall,
        "verdict": result.verdict,
        "measured_iteration_seconds": iteration,
        "window_iteration_seconds": window[0] if window else None,
        "window_slowdown": window[0] / iteration if window and iteration else None,
        "attribution_seconds": None if result.attribution is None else result.attribution.seconds,
        "error": result.error,
    }


TRIVIAL_SPEC = "benchmarks/_trivial.py::f"
GOAL_TRIVIAL_SECONDS = 2.0
GOAL_HOLDER_SHARE = 0.25  # issue #15: the whole holder search adds at most 25 % to the default run


def cli_run(args: Sequence[str]) -> tuple[float, dict[str, Any]]:
    """Wall seconds of ``python -m memleak_cli run ARGS -q --json …`` in a fresh process, and the
    report's verdicts (``scenario/variant`` → verdict)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="memleak-overhead-") as tmp:
        report = os.path.join(tmp, "run.json")
        env = dict(os.environ, PYTHONHASHSEED="0")
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "memleak_cli", "run", *args, "-q", "--json", report],
                              capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - started
        if not os.path.exists(report):
            raise RuntimeError(f"memleak run {' '.join(args)} failed: {done.stderr[-2000:]}")
        with open(report, encoding="utf-8") as handle:
            data = json.load(handle)
    variants = [v for s in data["scenarios"] for v in s["variants"]]
    verdicts = {f"{s['name']}/{v['variant']}": v["verdict"] for s in data["scenarios"] for v in s["variants"]}
    # the holder search's share: its heap walks' seconds over the variants' own wall seconds
    holder = sum(v.get("holder_seconds") or 0.0 for v in variants)
    measured = sum(v["seconds"] for v in variants)
    return wall, {"verdicts": verdicts, "jobs": data["settings"]["jobs"], "holder_share": holder / measured if measured else None}


def goal_runs(scenario: str, size: str, iterations: int, repeats: int, console: Console) -> dict[str, Any]:
    """The two time-to-answer goals, measured side by side in this run.

    * trivial: ``memleak run benchmarks/_trivial.py::f -n ITERATIONS`` (one variant, a
      microsecond function), wall of the whole command, median of *repeats*;
    * default run: ``memleak run SCENARIO --iterations ITERATIONS --size SIZE`` (both variants,
      default settings: ``--jobs auto``) against the bare loop of the same iterations of both
      variants, one after the other, each in a fresh process (what a user would run without
      memleak); alternated per repeat so both see the same load; median ratio.
    """
    trivial = []
    for r in range(repeats):
        wall, info = cli_run([TRIVIAL_SPEC, "-n", str(iterations)])
        trivial.append(wall)
        console.print(f"[dim]trivial repeat {r + 1}: {wall:.2f} s {info['verdicts']}[/dim]")
    ratios, walls, bares, holder_shares = [], [], [], []
    verdicts: dict[str, Any] = {}
    for r in range(repeats):
        bare = sum(bare_loop(scenario, variant, size, iterations, 0)["wall_seconds"] for variant in ("leaky", "fixed"))
        wall, info = cli_run([scenario, "--iterations", str(iterations), "--size", size])
        verdicts = info["verdicts"]
        ratios.append(wall / bare)
        holder_shares.append(info["holder_share"])
        walls.append(wall)
        bares.append(bare)
        console.print(f"[dim]{scenario} repeat {r + 1}: bare loop (leaky + fixed) {bare:.1f} s, memleak run {wall:.1f} s "
                      f"({wall / bare:.2f}×, jobs {info['jobs']}) {verdicts}[/dim]")
    return {
        "trivial": {"spec": TRIVIAL_SPEC, "iterations": iterations, "walls": trivial, "median_seconds": median(trivial),
                    "goal_seconds": GOAL_TRIVIAL_SECONDS},
        "default_run": {"scenario": scenario, "size": size, "iterations": iterations, "walls": walls, "bare_walls": bares,
                        "ratios": ratios, "median_ratio": median(ratios), "verdicts": verdicts, "goal_ratio": GOAL_DEFAULT_OVERHEAD,
                        "holder_shares": holder_shares, "median_holder_share": median([h for h in holder_shares if h is not None] or [0.0]),
                        "goal_holder_share": GOAL_HOLDER_SHARE},
    }


def goal_table(goals: dict[str, Any], info: dict[str, Any]) -> Table:
    """The goals table: measured, goal, met."""
    trivial, default = goals["trivial"], goals["default_run"]
    table = Table(title=f"Time to an answer — {machine_line(info)}", title_justify="left")
    for column in ("measurement", "measured", "goal", "met"):
        table.add_column(column)
    table.add_row(f"memleak run {trivial['spec']} -n {trivial['iterations']} (one variant, wall, median of {len(trivial['walls'])})",
                  f"{trivial['median_seconds']:.2f} s", f"≤ {trivial['goal_seconds']:.0f} s",
                  "met" if trivial["median_seconds"] <= trivial["goal_seconds"] else "[red]MISSED[/red]")
    table.add_row(f"memleak run {default['scenario']} --iterations {default['iterations']} --size {default['size']} (both variants, wall) "
                  f"/ bare loop of both variants (median of {len(default['ratios'])}: {statistics.median(default['walls']):.1f} s / "
                  f"{statistics.median(default['bare_walls']):.1f} s)",
                  f"{default['median_ratio']:.2f}×", f"≤ {default['goal_ratio']}×",
                  "met" if default["median_ratio"] <= default["goal_ratio"] else "[red]MISSED[/red]")
    table.add_row(f"holder search (heap walks) / the variants' own time, same {default['scenario']} runs",
                  f"{100 * default['median_holder_share']:.1f} %", f"≤ {100 * default['goal_holder_share']:.0f} %",
                  "met" if default["median_holder_share"] <= default["goal_holder_share"] else "[red]MISSED[/red]")
    return table


def sample_cost(spec: str, variant: str, size: str, repeats: int) -> dict[str, Any]:
    """Median seconds of ``take_sample`` and its parts on the scenario's warm heap (fresh process)."""
    done = subprocess.run([sys.executable, "-m", "benchmarks._sample_cost", spec, variant, size, str(repeats)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.overhead", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", nargs="*", default=None, help="built-in scenario names (default: all)")
    parser.add_argument("--variant", default="leaky", help="variant to time (default leaky)")
    parser.add_argument("-n", "--iterations", type=int, default=RunSettings().iterations, help="iterations (default: memleak's default)")
    parser.add_argument("--size", default="medium", help="size profile (default medium, memleak run's default)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats; the median ratio is reported (default 3)")
    parser.add_argument("--sample-repeats", type=int, default=30, help="timed take_sample calls (default 30)")
    parser.add_argument("--memray-probe", default="memray", help="probe name for RunSettings.probes (memray)")
    parser.add_argument("--out", default=None, help="JSON output (default reports/benchmarks/overhead.json)")
    parser.add_argument("--goals-only", action="store_true", help="only the time-to-answer goals (trivial scenario; default run of the "
                        "first scenario, both variants, against the bare loop), not the per-setting comparison")
    args = parser.parse_args(argv)
    console = Console(width=160)
    info = machine()
    goals = goal_runs((args.scenarios or ["optuna"])[0], args.size, args.iterations, args.repeats, console)
    goals_table = goal_table(goals, info)
    console.print(goals_table)
    if args.goals_only:
        path = out_path("overhead", args.out)
        write_json_atomic(path, {"benchmark": "overhead", "machine": info, "goals": goals})
        markdown = write_markdown(path, [goals_table])
        console.print(f"written {path} and {markdown}")
        return 0
    known = builtin_scenarios()
    names = args.scenarios or list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}: built-ins are {', '.join(known)}")
    pairs, probe_note = settings_to_compare(args.iterations, args.size, args.memray_probe)
    extra = pairs[0][1].window + 1 if pairs[0][1].window else 0
    results: dict[str, Any] = {}
    for name in names:
        scenario = known[name]
        variant = args.variant if args.variant in scenario.variants else next(iter(scenario.variants))
        repeats = []
        for r in range(args.repeats):
            bare = bare_loop(name, variant, args.size, args.iterations, extra)
            console.print(f"[dim]{name} repeat {r + 1}: bare {bare['wall_seconds']:.1f} s[/dim]")
            runs = {}
            for label, settings in pairs:
                runs[label] = run = memleak_run(scenario, variant, settings)
                run["ratio"] = run["wall_seconds"] / bare["wall_seconds"]
                run["ratio_same_work"] = run["wall_seconds"] / bare["wall_all_seconds"]
                console.print(f"[dim]{name} repeat {r + 1}: {label} {run['wall_seconds']:.1f} s ({run['ratio']:.2f}×) {run['verdict']}[/dim]")
            repeats.append({"bare": bare, "runs": runs})
        summary: dict[str, dict[str, Any]] = {}
        for label, _ in pairs:
            rows = [rep["runs"][label] for rep in repeats]
            summary[label] = {
                key: median([row[key] for row in rows if row[key] is not None])
                for key in ("wall_seconds", "ratio", "ratio_same_work", "window_slowdown", "measured_iteration_seconds", "attribution_seconds")
            }
            summary[label]["verdicts"] = sorted({row["verdict"] for row in rows})
        bare_summary: dict[str, Any] = {key: median([rep["bare"][key] for rep in repeats]) for key in ("wall_seconds", "wall_all_seconds", "loop_seconds", "factory_seconds")}
        # the same iterations memleak's median is taken over: after the warm-up
        warm = pairs[0][1].warmup
        bare_summary["iteration_seconds"] = median([statistics.median(rep["bare"]["iteration_seconds"][warm:]) for rep in repeats])
        results[name] = {"variant": variant, "repeats": repeats, "bare": bare_summary, "settings": summary}

    first = names[0]
    cost = sample_cost(first, results[first]["variant"], args.size, args.sample_repeats)

    tables: list[Table] = [goals_table]
    for name, data in results.items():
        bare = data["bare"]
        table = Table(title=f"Overhead: {name}/{data['variant']}, --size {args.size}, -n {args.iterations}, median of {args.repeats} — {machine_line(info)}",
                      title_justify="left")
        for column in ("run", "wall", "run / bare", "run / bare same work", "goal", "untraced iteration", "window slowdown (traced / untraced)", "goal", "verdict"):
            table.add_column(column)
        table.add_row("bare loop", f"{bare['wall_seconds']:.2f} s", "1.00×", "—", "", f"{bare['iteration_seconds'] * 1000:.0f} ms", "—", "", "—")
        for label, s in data["settings"].items():
            ratio_goal = ""
            if label == "default":
                ratio_goal = f"≤ {GOAL_DEFAULT_OVERHEAD}×: " + ("met" if s["ratio"] <= GOAL_DEFAULT_OVERHEAD else "[red]MISSED[/red]")
            slowdown = s["window_slowdown"]
            window_goal = "" if slowdown is None else f"≤ {GOAL_ATTRIBUTION_OVERHEAD}×: " + ("met" if slowdown <= GOAL_ATTRIBUTION_OVERHEAD else "[red]MISSED[/red]")
            table.add_row(label, f"{s['wall_seconds']:.2f} s", f"{s['ratio']:.2f}×", f"{s['ratio_same_work']:.2f}×", ratio_goal,
                          f"{s['measured_iteration_seconds'] * 1000:.0f} ms", "—" if slowdown is None else f"{slowdown:.2f}×", window_goal,
                          ",".join(s["verdicts"]))
        console.print(table)
        tables.append(table)
    note = (f"{probe_note}. run / bare: whole memleak run (iterations + {extra} attribution iterations, samples, "
            f"type counts, retained-object search) over the bare loop of the same {args.iterations} iterations; same work: "
            f"the bare loop also runs the {extra} extra iterations. Window slowdown: mean traced iteration in the attribution "
            f"window over the median untraced measured iteration of the same run.")
    console.print(f"[dim]{note}[/dim]")
    if "median_seconds" in cost:
        table = Table(title=f"Per-sample cost on {first}'s warm heap ({cost['gc_objects']:,} gc objects), median of {cost['repeats']}", title_justify="left")
        table.add_column("part")
        table.add_column("median")
        for part, seconds in cost["median_seconds"].items():
            table.add_row(part, f"{seconds * 1000:.3f} ms" if seconds >= 1e-4 else f"{seconds * 1e6:.2f} µs")
        console.print(table)
        tables.append(table)
    else:
        console.print(f"[red]take_sample timing failed:[/red] {cost.get('error')}")
    path = out_path("overhead", args.out)
    write_json_atomic(path, {
        "benchmark": "overhead", "machine": info, "probe_note": probe_note,
        "settings": {"iterations": args.iterations, "size": args.size, "repeats": args.repeats, "extra_window_iterations": extra,
                     "compared": {label: s.as_dict() for label, s in pairs}},
        "scenarios": results, "sample_cost": cost, "time_to_answer": goals,
        "goals": {"default_ratio_max": GOAL_DEFAULT_OVERHEAD, "window_slowdown_max": GOAL_ATTRIBUTION_OVERHEAD},
    })
    markdown = write_markdown(path, tables, [note])
    console.print(f"written {path} and {markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
