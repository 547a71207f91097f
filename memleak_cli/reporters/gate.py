"""How a gate result is shown: plain summary lines (CI logs) and JUnit XML."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

from memleak_cli.analysis.gate import GateResult
from memleak_cli.report.baseline import Measures
from memleak_cli.report.jsonio import write_atomic
from memleak_cli.reporters.text import for_xml
from memleak_cli.units import format_bytes


def _growth_text(m: Measures | None) -> str:
    if m is None or m.growth_per_iteration is None:
        return "n/a"
    return f"{format_bytes(m.growth_per_iteration, signed=True)}/it"


def _measured_growth_text(m: Measures) -> str:
    """The measured growth of a gate line: for a verdict other than LEAK (or ERROR) the number is
    what tracemalloc or the C heap saw move, not a growth the verdict judged a leak (a bounded
    LRU cache filling in the window reads ``+34.0 KiB/it``): the line says so."""
    text = _growth_text(m)
    if m.verdict in ("LEAK", "ERROR") or m.growth_per_iteration is None or m.growth_per_iteration <= 0:
        return text
    where = "in the tracemalloc window" if m.growth_source == "tracemalloc" else "C heap"
    return f"{text} ({where}; bounded / filling: nothing grows steadily)"


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
            f"growth {_measured_growth_text(check.measured)}, retained {_retained_text(check.measured)}{base}"
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
