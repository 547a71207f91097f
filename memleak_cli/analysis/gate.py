"""The CI regression gate: run scenarios, check expectations and compare with the baseline.

A check (one scenario × variant) fails when

* the variant crashed (verdict ERROR);
* it is expected CLEAN and is not;
* with a baseline: its growth per iteration or its retained size exceeds the baseline value by
  more than the tolerance (:class:`~memleak_cli.analysis.tolerance.Tolerance`: the larger of a share of
  the baseline and an absolute floor).

Without a baseline file the gate checks expectations only and says so. Pure logic and data:
:mod:`memleak_cli.reporters.gate` shows it, the command in :mod:`memleak_cli.cli.gate` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from memleak_cli.analysis.tolerance import Tolerance
from memleak_cli.errors import UsageError
from memleak_cli.report.baseline import Baseline, Measures, measures_of
from memleak_cli.report.model import RunReport
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
                held = f"; held by {variant.holders[0].line()}" if variant.holders else ""
                check.failures.append(f"expected CLEAN, got {measured.verdict}: {variant.reason}{held}")
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
            for fingerprint, path in measured.leak_paths.items():
                if fingerprint not in base.leak_paths:
                    check.failures.append(f"new leak path {path} (fingerprint {fingerprint}, not in the baseline)")
    return result


