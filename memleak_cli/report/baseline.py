"""The gate's baseline: what each scenario × variant measured when the baseline was recorded.

``reports/baseline.json`` holds, per scenario and variant, the verdict, the growth per iteration
and the retained size of one run at one size profile. It is written atomically
(:func:`~memleak_cli.report.jsonio.write_json_atomic`) and read back with every problem turned
into one :class:`~memleak_cli.errors.ReportFileError` line naming the file.

Growth per iteration is tracemalloc's traced growth over the attribution window divided by its
iterations (deterministic bytes of Python allocations), or, when tracing was off
(``--frames 0``), the Theil–Sen slope of the C heap in use. The source is stored so that two
values are compared only when they were measured the same way.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from memleak_cli import __version__
from memleak_cli.errors import ReportFileError, ScenarioError
from memleak_cli.report.documents import parse_json_document, read_document_text
from memleak_cli.report.jsonio import write_json_atomic
from memleak_cli.report.model import RunReport, VariantResult

FORMAT = "memleak-baseline"
VERSION = 1


@dataclass(frozen=True)
class Measures:
    """What the gate compares for one variant (bytes; ``None`` when not measured).

    Attributes:
        verdict: LEAK, RETAINS, CLEAN or ERROR.
        expect: the verdict the scenario promises.
        growth_per_iteration: bytes per iteration (see the module docstring for the source).
        growth_source: ``tracemalloc`` or ``heap_bytes``; ``""`` when there is no growth value.
        retained_bytes: deep size of what the attribution window kept plus the C heap its native
            handles pin, or ``None`` without a window.
        leak_paths: fingerprint → path of every growing reference path (the growth detector).
    """

    verdict: str
    expect: str
    growth_per_iteration: float | None
    growth_source: str
    retained_bytes: float | None
    leak_paths: dict[str, str] = field(default_factory=dict)


@dataclass
class Baseline:
    """A recorded baseline: size profile, settings and measures by scenario, then variant."""

    size: str
    created: str
    tool_version: str
    settings: dict[str, Any]
    entries: dict[str, dict[str, Measures]] = field(default_factory=dict)

    def get(self, scenario: str, variant: str) -> Measures | None:
        """The measures of *scenario*/*variant*, or ``None`` when the baseline lacks them."""
        return self.entries.get(scenario, {}).get(variant)


def measures_of(result: VariantResult) -> Measures:
    """The gate's measures of one variant result (see the module docstring for sources)."""
    growth: float | None = None
    source = ""
    attribution = result.attribution
    if attribution is not None and attribution.traced and attribution.traced_growth_per_iteration is not None:
        growth, source = float(attribution.traced_growth_per_iteration), "tracemalloc"
    else:
        heap = result.trend("heap_bytes")
        if heap is not None:
            growth, source = float(heap.slope), "heap_bytes"
    retained = float(attribution.retained_total_bytes()) if attribution is not None else None
    paths = {p.fingerprint: p.path for p in result.holders}
    return Measures(result.verdict, result.expect, growth, source, retained, paths)


def baseline_from_report(report: RunReport, previous: Baseline | None = None) -> Baseline:
    """A baseline of every variant in *report*, merged over *previous* when it has the same size
    (scenarios not in the report keep their old entries).

    Raises:
        ScenarioError: a variant crashed (a baseline of a crash would hide the crash), or the
            report mixes size profiles.
    """
    crashed = [f"{s.name}/{v.variant}" for s in report.scenarios for v in s.variants if v.verdict == "ERROR"]
    if crashed:
        raise ScenarioError(f"not recording a baseline: {', '.join(crashed)} crashed; fix it or leave it out with --scenario")
    sizes = {s.size for s in report.scenarios}
    if len(sizes) != 1:
        raise ScenarioError(f"cannot record a baseline from a report with {'no scenarios' if not sizes else 'several size profiles'}")
    size = sizes.pop()
    entries = dict(previous.entries) if previous is not None and previous.size == size else {}
    for scenario in report.scenarios:
        entries[scenario.name] = {v.variant: measures_of(v) for v in scenario.variants}
    return Baseline(
        size=size,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        tool_version=__version__,
        settings=dict(report.settings),
        entries=entries,
    )


def baseline_to_dict(baseline: Baseline) -> dict[str, Any]:
    """The baseline as JSON-ready data, with its format name and version."""
    return {"format": FORMAT, "version": VERSION, **asdict(baseline)}


def write_baseline(baseline: Baseline, path: Path) -> None:
    """Write *baseline* to *path* atomically. Raises ReportFileError when it cannot."""
    write_json_atomic(Path(path), baseline_to_dict(baseline))


def baseline_from_dict(data: Any, source: str) -> Baseline:
    """Rebuild a :class:`Baseline` from :func:`baseline_to_dict` output.

    Raises:
        ReportFileError: not a memleak baseline, another version, or a malformed entry.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ReportFileError(f"{source}: not a memleak baseline (no \"format\": \"{FORMAT}\"); record one with 'memleak baseline update'")
    if data.get("version") != VERSION:
        raise ReportFileError(f"{source}: baseline version {data.get('version')!r} is not supported (this memleak reads version {VERSION}); record it again with 'memleak baseline update'")
    try:
        entries = {
            str(scenario): {str(variant): _measures(measures) for variant, measures in variants.items()}
            for scenario, variants in data["entries"].items()
        }
        return Baseline(
            size=str(data["size"]), created=str(data["created"]), tool_version=str(data["tool_version"]),
            settings=dict(data["settings"]), entries=entries,
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ReportFileError(f"{source}: malformed baseline: {type(exc).__name__}: {exc}") from exc


def _measures(data: Any) -> Measures:
    if not isinstance(data, dict):
        raise TypeError(f"measures must be an object, got {type(data).__name__}")
    measures = Measures(**data)
    for name in ("verdict", "expect", "growth_source"):
        if not isinstance(getattr(measures, name), str):
            raise ValueError(f"{name} must be a string, got {getattr(measures, name)!r:.60}")
    for name in ("growth_per_iteration", "retained_bytes"):
        value = getattr(measures, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"{name} must be a number or null, got {value!r:.60}")
        if value is not None and not math.isfinite(value):  # parse_json_document refuses these already
            raise ValueError(f"{name} must be finite, got {value!r}")
    if not isinstance(measures.leak_paths, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in measures.leak_paths.items()):
        raise ValueError("leak_paths must map fingerprints to paths")
    return measures


def read_baseline(path: Path) -> Baseline | None:
    """Read the baseline at *path*; ``None`` when the file does not exist.

    Raises:
        ReportFileError: unreadable, not a regular file, not UTF-8, not JSON (e.g. truncated),
            holding NaN, Infinity or numbers too large, or not a memleak baseline
            (:mod:`memleak_cli.report.documents`).
    """
    path = Path(path)
    try:
        text = read_document_text(path, "baseline")
    except FileNotFoundError:
        return None
    try:
        data = parse_json_document(text, str(path), "baseline")
    except ReportFileError as exc:
        joint = " Record" if str(exc).endswith("?") else "; record"
        raise ReportFileError(f"{exc}{joint} it again with 'memleak baseline update'") from None
    return baseline_from_dict(data, str(path))
