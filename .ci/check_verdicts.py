"""Check the gate's JSON report against tables kept apart from the code under test.

``.ci/expected-verdicts.json``: the verdict of every built-in scenario × variant. The gate passes
when each verdict matches its scenario's ``expect=``, so editing ``expect=`` alone would turn a
regression green; this catches that.

``.ci/expected-holders.json``: the first holder line of each variant — the growing reference
path the growth detector reports first, the objects it gains per iteration (to the nearest whole
object) and the native handle its elements hold — or ``null`` where nothing may grow along a
named path.

Usage: python .ci/check_verdicts.py REPORT.json [VERDICTS.json [HOLDERS.json]]
Exit 0 when every expected scenario × variant is in the report with its expected verdict and
holder and the report has no variant the tables do not list; else 1, one line per difference.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _table(expected: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {
        (name, variant): value
        for name, variants in expected.items()
        if not name.startswith("_")
        for variant, value in variants.items()
    }


def _variants(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(s["name"], v["variant"]): v for s in report["scenarios"] for v in s["variants"]}


def differences(report: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """One line per variant whose verdict differs from *expected*, is missing, or is not listed."""
    found = {key: v["verdict"] for key, v in _variants(report).items()}
    wanted = _table(expected)
    lines = [
        f"{name} {variant}: expected {verdict}, got {found.get((name, variant), 'nothing (not run)')}"
        for (name, variant), verdict in sorted(wanted.items())
        if found.get((name, variant)) != verdict
    ]
    lines += [
        f"{name} {variant}: got {verdict}, but .ci/expected-verdicts.json does not list it"
        for (name, variant), verdict in sorted(found.items())
        if (name, variant) not in wanted
    ]
    return lines


def _first_holder(variant: dict[str, Any]) -> dict[str, Any] | None:
    holders = variant.get("holders") or []
    if not holders:
        return None
    first = holders[0]
    # whole objects per iteration: a real workload skips one now and then (numba found a compiled
    # function in its cache once in 22 fits: 2.95/it where the table says 3)
    return {"path": first["path"], "per_iteration": float(round(first["objects_per_iteration"])), "handle": first.get("handle")}


def holder_differences(report: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """One line per variant (of those in the report) whose first holder differs from *expected*."""
    wanted = _table(expected)
    lines = []
    for key, variant in sorted(_variants(report).items()):
        if key not in wanted:
            lines.append(f"{key[0]} {key[1]}: .ci/expected-holders.json does not list it")
            continue
        got, want = _first_holder(variant), wanted[key]
        if got != want:
            lines.append(f"{key[0]} {key[1]}: expected holder {want}, got {got}")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3, 4):
        print(__doc__.strip().splitlines()[9], file=sys.stderr)
        return 2
    here = Path(__file__).parent
    verdicts_path = Path(argv[2]) if len(argv) >= 3 else here / "expected-verdicts.json"
    holders_path = Path(argv[3]) if len(argv) == 4 else here / "expected-holders.json"
    report = json.loads(Path(argv[1]).read_text())
    expected = json.loads(verdicts_path.read_text())
    lines = differences(report, expected) + holder_differences(report, json.loads(holders_path.read_text()))
    for line in lines:
        print(f"verdict check: {line}")
    print(f"verdict check: {len(_table(expected))} variants expected, {len(lines)} difference(s)")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
