"""The CI regression gate: run scenarios, check expectations and compare with the baseline.

A check (one scenario × variant) fails when

* the variant crashed (verdict ERROR);
* it is expected CLEAN and is not;
* with a baseline: its growth per iteration or its retained size exceeds the baseline value by
  more than the tolerance (:class:`~memleak_cli.tolerance.Tolerance`: the larger of a share of
  the baseline and an absolute floor).

Without a baseline file the gate checks expectations only and says so. Pure logic and data:
the command in :mod:`memleak_cli.commands.gate` does the printing.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from memleak_cli import engine
from memleak_cli.baseline import Baseline, Measures, measures_of
from memleak_cli.errors import UsageError
from memleak_cli.plan import Planned
from memleak_cli.report.jsonio import write_atomic
from memleak_cli.report.model import RunReport, Sample
from memleak_cli.reporters.text import for_xml
from memleak_cli.settings import RunSettings
from memleak_cli.tolerance import Tolerance
from memleak_cli.units import format_bytes


@dataclass
class Check:
    """One scenario × variant judged by the gate.

    ``failures`` are the reasons it fails (empty: it passes); ``notes`` say what could not be
    compared. ``measured`` and ``baseline`` are :class:`Measures` (bytes).
    """

    scenario: str
    variant: str
    measured: Measures
    baseline: Measures | None
    reason: str
    seconds: float
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def crashed(self) -> bool:
        """The variant's scenario raised or its process died."""
        return self.measured.verdict == "ERROR"

    @property
    def passed(self) -> bool:
        """No failure."""
        return not self.failures


@dataclass
class GateResult:
    """Every check of one gate run, and what it was compared against."""

    size: str
    tolerance: Tolerance
    baseline_path: Path
    baseline_found: bool
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        """Checks with at least one failure (crashes included)."""
        return [c for c in self.checks if not c.passed]

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return not self.failed


def check_baseline_size(baseline: Baseline | None, size: str, path: Path) -> None:
    """Refuse to compare runs of another size profile than the baseline's.

    Raises:
        UsageError: the baseline was recorded at another size.
    """
    if baseline is not None and baseline.size != size:
        raise UsageError(
            f"baseline {path} was recorded at size {baseline.size!r}, the gate runs at {size!r}: "
            f"use --size {baseline.size} or run 'memleak baseline update --size {size}'"
        )


def run_plan(planned: Sequence[Planned], settings: RunSettings, command: Sequence[str], *, jobs: int = 1,
             on_variant: Callable[[engine.VariantKey, int], None] | None = None,
             on_sample: Callable[[engine.VariantKey, Sample], None] | None = None) -> RunReport:
    """Run every planned scenario (each variant in its own process, *jobs* at a time, by
    :func:`memleak_cli.engine.run_plan`) into one :class:`RunReport`."""
    report = engine.new_report(list(command), settings)
    report.scenarios = engine.run_plan(planned, settings, jobs=jobs, on_variant=on_variant, on_sample=on_sample)
    return report


def _compare(label: str, value: float | None, base: float | None, tolerance: Tolerance, *, signed: bool) -> str | None:
    if value is None or base is None:
        return None
    limit = tolerance.limit(base)
    if value <= limit:
        return None
    return (
        f"{label} {format_bytes(value, signed=signed)} exceeds the baseline {format_bytes(base, signed=signed)} "
        f"by more than {tolerance.describe()} (limit {format_bytes(limit, signed=signed)})"
    )


def evaluate(report: RunReport, baseline: Baseline | None, tolerance: Tolerance, baseline_path: Path) -> GateResult:
    """Judge every variant of *report*: expectations, then the baseline comparison."""
    size = report.scenarios[0].size if report.scenarios else ""
    result = GateResult(size=size, tolerance=tolerance, baseline_path=Path(baseline_path), baseline_found=baseline is not None)
    if baseline is None:
        result.notes.append(
            f"no baseline at {baseline_path}: checked expectations only; run 'memleak baseline update' to record one"
        )
    for scenario in report.scenarios:
        for variant in scenario.variants:
            measured = measures_of(variant)
            base = baseline.get(scenario.name, variant.variant) if baseline is not None else None
            check = Check(scenario.name, variant.variant, measured, base, variant.reason, variant.seconds)
            result.checks.append(check)
            if check.crashed:
                check.failures.append(f"crashed: {variant.reason}")
                continue
            if measured.expect == "CLEAN" and measured.verdict != "CLEAN":
                check.failures.append(f"expected CLEAN, got {measured.verdict}: {variant.reason}")
            if baseline is None:
                continue
            if base is None:
                check.notes.append("not in the baseline: checked the expectation only")
                continue
            if measured.growth_source != base.growth_source:
                check.notes.append(
                    f"growth measured by {measured.growth_source or 'nothing'}, baseline by "
                    f"{base.growth_source or 'nothing'}: growth not compared"
                )
            else:
                failure = _compare("growth per iteration", measured.growth_per_iteration, base.growth_per_iteration, tolerance, signed=True)
                if failure:
                    check.failures.append(failure)
            failure = _compare("retained size", measured.retained_bytes, base.retained_bytes, tolerance, signed=False)
            if failure:
                check.failures.append(failure)
    return result


def _growth_text(m: Measures | None) -> str:
    if m is None or m.growth_per_iteration is None:
        return "n/a"
    return f"{format_bytes(m.growth_per_iteration, signed=True)}/it"


def _retained_text(m: Measures | None) -> str:
    return "n/a" if m is None or m.retained_bytes is None else format_bytes(m.retained_bytes)


def summary_lines(result: GateResult) -> list[str]:
    """A short plain-text summary: one headline, one line per check, its reasons, then notes."""
    failed = len(result.failed)
    status = "PASS" if result.passed else "FAIL"
    against = f"baseline {result.baseline_path}" if result.baseline_found else "no baseline"
    lines = [
        f"memleak gate: {status} — {len(result.checks) - failed} of {len(result.checks)} checks passed "
        f"(size {result.size}, {against}, tolerance {result.tolerance.describe()})"
    ]
    for check in result.checks:
        word = "ERROR" if check.crashed else ("PASS" if check.passed else "FAIL")
        base = ""
        if check.baseline is not None:
            base = f" (baseline {_growth_text(check.baseline)}, {_retained_text(check.baseline)})"
        lines.append(
            f"{word:5} {check.scenario}/{check.variant}: {check.measured.verdict} (expected {check.measured.expect}), "
            f"growth {_growth_text(check.measured)}, retained {_retained_text(check.measured)}{base}"
        )
        lines.extend(f"      - {text}" for text in check.failures)
        lines.extend(f"      note: {text}" for text in check.notes)
    lines.extend(f"note: {text}" for text in result.notes)
    return lines


def junit_tree(result: GateResult) -> ET.ElementTree:
    """JUnit XML: one ``testsuite`` ``memleak gate``, one ``testcase`` per scenario × variant
    (classname ``memleak.<scenario>``, name the variant); a failed check has a ``failure`` (an
    ``error`` when it crashed) whose message is its first reason and whose text lists them all.
    Every attribute and text is made well-formed XML 1.0 (:func:`~memleak_cli.reporters.text.for_xml`)."""
    suites = ET.Element("testsuites", name="memleak")
    suite = ET.SubElement(
        suites, "testsuite", name="memleak gate", tests=str(len(result.checks)),
        failures=str(sum(1 for c in result.failed if not c.crashed)),
        errors=str(sum(1 for c in result.checks if c.crashed)), skipped="0",
        time=f"{sum(c.seconds for c in result.checks):.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (("size", result.size), ("tolerance", result.tolerance.describe()),
                        ("baseline", str(result.baseline_path) if result.baseline_found else "none")):
        ET.SubElement(properties, "property", name=name, value=value)
    for check in result.checks:
        case = ET.SubElement(suite, "testcase", classname=f"memleak.{check.scenario}", name=check.variant, time=f"{check.seconds:.3f}")
        if check.failures:
            tag = "error" if check.crashed else "failure"
            element = ET.SubElement(case, tag, message=check.failures[0], type=f"memleak.{tag}")
            element.text = "\n".join(check.failures + [f"note: {n}" for n in check.notes])
        out = ET.SubElement(case, "system-out")
        out.text = (
            f"verdict {check.measured.verdict} (expected {check.measured.expect}): {check.reason}\n"
            f"growth per iteration {_growth_text(check.measured)} ({check.measured.growth_source or 'not measured'}), "
            f"retained {_retained_text(check.measured)}; baseline growth {_growth_text(check.baseline)}, "
            f"retained {_retained_text(check.baseline)}"
        )
    for element in suites.iter():  # names, reasons and notes come from the measured program
        element.attrib = {key: for_xml(value) for key, value in element.attrib.items()}
        if element.text:
            element.text = for_xml(element.text)
    ET.indent(suites)
    return ET.ElementTree(suites)


def write_junit(result: GateResult, path: Path) -> None:
    """Write :func:`junit_tree` to *path* atomically (temporary file, then ``os.replace``).

    Raises:
        ReportFileError: the folder cannot be created or written.
    """
    buffer = io.BytesIO()
    junit_tree(result).write(buffer, encoding="utf-8", xml_declaration=True)
    write_atomic(path, buffer.getvalue())
