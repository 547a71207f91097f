"""Check the gate's JSON report against .ci/expected-verdicts.json, a table kept apart from the
scenarios' own ``expect=``: the gate passes when each verdict matches its scenario's ``expect=``,
so editing ``expect=`` alone would turn a regression green. This catches that.

Usage: python .ci/check_verdicts.py REPORT.json [EXPECTED.json]
Exit 0 when every expected scenario × variant is in the report with its expected verdict and the
report has no variant the table does not list; else 1, one line per difference.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def differences(report: dict, expected: dict) -> list[str]:
    found = {
        (scenario["name"], variant["variant"]): variant["verdict"]
        for scenario in report["scenarios"]
        for variant in scenario["variants"]
    }
    wanted = {
        (name, variant): verdict
        for name, variants in expected.items()
        if not name.startswith("_")
        for variant, verdict in variants.items()
    }
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


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 2
    expected_path = Path(argv[2]) if len(argv) == 3 else Path(__file__).with_name("expected-verdicts.json")
    report = json.loads(Path(argv[1]).read_text())
    lines = differences(report, json.loads(expected_path.read_text()))
    for line in lines:
        print(f"verdict check: {line}")
    total = sum(len(v) for k, v in json.loads(expected_path.read_text()).items() if not k.startswith("_"))
    print(f"verdict check: {total - len([x for x in lines if 'expected' in x])} of {total} as expected")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
