"""The versioned JSON report: round trip, atomic write and one-line errors for bad files."""

from __future__ import annotations

import json

import pytest

from memleak_cli.errors import ReportFileError
from memleak_cli.report.jsonio import check_writable, read_report, write_report
from memleak_cli.report.model import (
    SCHEMA_VERSION,
    Attribution,
    MetricTrend,
    RetainedObject,
    RunReport,
    Sample,
    ScenarioResult,
    VariantResult,
)


def make_report() -> RunReport:
    sample = Sample(0, "measure", 0.1, 100, 90, 100, 90, 0, 50, 1000, 500, 4, 1)
    trend = MetricTrend("py_blocks", "blocks", 2.0, 1.0, 3.0, 2.0, 10, 10, 10, 1.0, 0, 20, True, "grows")
    attribution = Attribution(3, 5, True, 300, 100.0, retained=[RetainedObject("dict", "{}", 64, "m.x", ["module", "dict"])])
    variant = VariantResult("leaky", "LEAK", "LEAK", "grows", samples=[sample], trends=[trend], attribution=attribution)
    scenario = ScenarioResult("demo", "a demo", "3", "small", variants=[variant], fix_effective=None)
    return RunReport(SCHEMA_VERSION, "0.1.0", "2026-11-29T00:00:00+00:00", ["memleak"], {"python": "3.11"}, {"iterations": 20}, [scenario])


def test_round_trip_keeps_every_field(tmp_path):
    report = make_report()
    path = tmp_path / "run.json"
    write_report(report, path)
    assert read_report(path) == report
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"schema_version": 1, "scenarios": [', "not valid JSON"),
        ("[1, 2]", "not a memleak report"),
        ('{"schema_version": 99}', "schema version 99 is not supported"),
        ('{"schema_version": 1, "tool_version": "x"}', "malformed report"),
    ],
)
def test_bad_files_give_one_line_errors_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ReportFileError, match=message) as info:
        read_report(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file_is_a_report_file_error(tmp_path):
    with pytest.raises(ReportFileError, match="cannot read"):
        read_report(tmp_path / "nope.json")


def test_check_writable_rejects_a_folder_and_an_unwritable_place(tmp_path):
    with pytest.raises(ReportFileError, match="is a folder"):
        check_writable(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReportFileError):
        check_writable(blocker / "sub" / "run.json")


def test_report_json_is_plain_data(tmp_path):
    path = tmp_path / "run.json"
    write_report(make_report(), path)
    data = json.loads(path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["scenarios"][0]["variants"][0]["attribution"]["retained"][0]["path"] == "m.x"
