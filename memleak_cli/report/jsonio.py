"""Writing and reading the versioned JSON report.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), so a report file
is either whole or absent. Reading checks the schema version and the shape, and turns any
problem into one :class:`~memleak_cli.errors.ReportFileError` line naming the file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from memleak_cli.errors import ReportFileError
from memleak_cli.report.model import (
    SCHEMA_VERSION,
    AllocationSite,
    Attribution,
    ChildProcess,
    MetricTrend,
    NativeSite,
    RetainedObject,
    RunReport,
    Sample,
    ScenarioResult,
    TypeGrowth,
    TypeSize,
    VariantResult,
)


def report_to_dict(report: RunReport) -> dict[str, Any]:
    """The report as plain JSON-ready data (``dataclasses.asdict``); a sample's
    ``child_processes`` appears only when the process had children."""
    data = dataclasses.asdict(report)
    for scenario in data["scenarios"]:
        for variant in scenario["variants"]:
            for sample in variant["samples"]:
                if sample.get("child_processes") is None:
                    sample.pop("child_processes", None)
    return data


def write_json_atomic(path: Path, data: Any) -> None:
    """Write *data* as indented JSON to *path* via a temporary file and ``os.replace``.

    Raises:
        ReportFileError: the folder cannot be created or written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=1, allow_nan=False, default=str)
                handle.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ReportFileError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_report(report: RunReport, path: Path) -> None:
    """Write *report* to *path* atomically. Raises ReportFileError when it cannot."""
    write_json_atomic(path, report_to_dict(report))


def check_writable(path: Path) -> None:
    """Fail early, before any work, when a report could not be written to *path*.

    Raises:
        ReportFileError: *path* is a folder, or its folder cannot be created or written.
    """
    path = Path(path)
    if path.is_dir():
        raise ReportFileError(f"report path {path} is a folder: give a file name such as {path / 'run.json'}")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportFileError(f"cannot create folder {parent} for the report: {exc.strerror or exc}") from exc
    try:  # the only honest test of writability is to write (root passes os.access everywhere)
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ReportFileError(f"cannot write the report to {path}: {exc.strerror or exc}") from exc


def build_dataclass(cls: type, data: Any) -> Any:
    """Make a *cls* dataclass from a JSON object, ignoring unknown keys.

    Raises:
        TypeError: *data* is not an object or lacks a required field.
    """
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} must be an object, not {type(data).__name__}")
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def sample_from_dict(data: Any) -> Sample:
    """A :class:`Sample` with its child processes rebuilt (``None`` stays ``None``).

    Raises:
        TypeError: not an object, or a required field is missing.
    """
    sample = build_dataclass(Sample, data)
    if sample.child_processes is not None:
        sample.child_processes = [build_dataclass(ChildProcess, c) for c in sample.child_processes]
    return sample


def attribution_from_dict(data: Any) -> Attribution:
    """An :class:`Attribution` with its nested sites, retained objects, type sizes and native
    sites rebuilt; fields missing from older reports take their defaults.

    Raises:
        TypeError: not an object, or a required field is missing.
    """
    attribution = build_dataclass(Attribution, data)
    attribution.sites = [build_dataclass(AllocationSite, x) for x in attribution.sites]
    attribution.retained = [build_dataclass(RetainedObject, x) for x in attribution.retained]
    attribution.type_sizes = [build_dataclass(TypeSize, x) for x in attribution.type_sizes]
    attribution.native_sites = [build_dataclass(NativeSite, x) for x in attribution.native_sites]
    return attribution


def report_from_dict(data: Any, *, source: str = "report") -> RunReport:
    """Rebuild a :class:`RunReport` from :func:`report_to_dict` output.

    Raises:
        ReportFileError: not a memleak report, another schema version, or a malformed field.
    """
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ReportFileError(f"{source}: not a memleak report (no schema_version)")
    if data["schema_version"] != SCHEMA_VERSION:
        raise ReportFileError(
            f"{source}: report schema version {data['schema_version']!r} is not supported "
            f"(this memleak reads version {SCHEMA_VERSION})"
        )
    try:
        report = build_dataclass(RunReport, data)
        scenarios = []
        for s in report.scenarios:
            scenario = build_dataclass(ScenarioResult, s)
            variants = []
            for v in scenario.variants:
                variant = build_dataclass(VariantResult, v)
                variant.samples = [sample_from_dict(x) for x in variant.samples]
                variant.trends = [build_dataclass(MetricTrend, x) for x in variant.trends]
                variant.type_growth = [build_dataclass(TypeGrowth, x) for x in variant.type_growth]
                if variant.attribution is not None:
                    variant.attribution = attribution_from_dict(variant.attribution)
                variants.append(variant)
            scenario.variants = variants
            scenarios.append(scenario)
        report.scenarios = scenarios
    except (TypeError, KeyError, AttributeError) as exc:
        raise ReportFileError(f"{source}: malformed report: {exc}") from exc
    return report


def read_report(path: Path) -> RunReport:
    """Read a JSON report written by :func:`write_report`.

    Raises:
        ReportFileError: missing, unreadable, truncated, not JSON, or of another schema version.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFileError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg}); is it truncated?") from exc
    return report_from_dict(data, source=str(path))
