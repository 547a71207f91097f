"""The self-contained HTML report: embedded data, escaping, no network, size, CLI, and a real browser."""

from __future__ import annotations

import copy
import dataclasses
import html
import io
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape
from typer.testing import CliRunner

from memleak_cli.analysis.trend import fit_trend, theil_sen_intercept
from memleak_cli.cli.app import app
from memleak_cli.report.jsonio import read_report, report_from_dict, report_to_dict, write_report
from memleak_cli.report.model import (
    SCHEMA_VERSION,
    AllocationSite,
    Attribution,
    RetainedObject,
    RunReport,
    Sample,
    ScenarioResult,
    TypeGrowth,
    VariantResult,
)
from memleak_cli.reporters.charts import build_chart, fit_segment, scenario_charts
from memleak_cli.reporters.html import DATA_ELEMENT_ID, HtmlReporter
from memleak_cli.reporters.summary import summary_line
from tests.paths import ROOT

REAL_REPORT = ROOT / "tests" / "data" / "optuna-small-20-all.json"
SCRIPT = ROOT / "scripts" / "screenshot_report.py"
CHROMIUM = Path("/usr/bin/chromium")
TWO_MIB = 2 * 1024 * 1024

SCRIPT_TAG = "<script>alert(1)</script>"
IMG_TAG = '"><img src=x onerror=alert(1)>'
HOSTILE = (SCRIPT_TAG, IMG_TAG)
DATA_BLOB = re.compile(rf'<script type="application/json" id="{DATA_ELEMENT_ID}">(.*?)</script>', re.S)


def render(report: RunReport) -> str:
    buffer = io.StringIO()
    HtmlReporter().render(report, buffer)
    return buffer.getvalue()


def embedded_data(page: str) -> dict:
    blobs = DATA_BLOB.findall(page)
    assert len(blobs) == 1, "exactly one embedded JSON blob"
    return json.loads(blobs[0])


def samples(values: list[tuple[str, int]], traced: bool = False) -> list[Sample]:
    """Samples whose deterministic metrics grow by *step* per iteration: (phase, py_blocks)."""
    return [
        Sample(
            iteration=i - 1, phase=phase, seconds=0.1, rss_bytes=100_000_000 + 4096 * blocks, uss_bytes=80_000_000 + 4096 * blocks,
            tree_rss_bytes=100_000_000, tree_uss_bytes=None, children=0, heap_bytes=40_000_000 + 64 * blocks, py_blocks=blocks,
            gc_objects=blocks // 4, fds=7, threads=1, traced_bytes=(1000 * blocks if traced and phase == "window" else None),
        )
        for i, (phase, blocks) in enumerate(values)
    ]


def variant(name: str, expect: str, verdict: str, step: int, label: str = "") -> VariantResult:
    """A variant with 2 warm-up, 6 measured and 2 window samples, py_blocks growing by *step*."""
    phases = ["baseline"] + ["warmup"] * 2 + ["measure"] * 6 + ["window"] * 2
    values = [(phase, 500_000 + step * i) for i, phase in enumerate(phases)]
    result = VariantResult(variant=name, expect=expect, verdict=verdict, reason=f"reason of {name} {label}", samples=samples(values, traced=True), seconds=12.5)
    measured = [float(v) for phase, v in values if phase == "measure"]
    result.trends = [fit_trend("py_blocks", "blocks", measured, 64.0), fit_trend("gc_objects", "objects", [v // 4 for v in measured], 1.0)]
    result.attribution = Attribution(
        window_iterations=2, frames=5, traced=True, traced_growth_bytes=4096, traced_growth_per_iteration=2048.0,
        sites=[AllocationSite(site=f"/srv/app/{label}model.py:10", size_diff_bytes=4096, count_diff=3, size_bytes=8192, count=6, frames=[f"/srv/app/{label}main.py:1", f"/srv/app/{label}model.py:10"], first_own_frame=f"/srv/app/{label}main.py:1")],
        retained=[RetainedObject(type_name=f"{label}Model", repr=f"<{label}Model at 0x1>", size_bytes=20480, path=f"app.cache[{label!r}]", chain=["module", "dict", f"{label}Cache", f"{label}Model"], allocated_at=[f"/srv/{label}x.py:3"])],
        retained_bytes=20480, retained_roots=1,
    )
    result.type_growth = [TypeGrowth(type_name=f"{label}Model", before=1, after=7, delta=6, per_iteration=1.0)]
    return result


def hand_report(label: str = "", scenarios: int = 1) -> RunReport:
    """A report built by hand; *label* goes into every string that comes from the measured program."""
    report = RunReport(
        schema_version=SCHEMA_VERSION, tool_version="0.1.0", created="2026-11-29T07:00:00+00:00",
        command=["memleak", "run", f"{label}demo"], host={"python": "3.11.7", "implementation": "CPython", "platform": f"Linux {label}", "hostname": f"{label}host", "cpus": 2, "libraries": {"optuna": "5.0.0"}},
        settings={"iterations": 8, "warmup": 2, "window": 2, "frames": 5, "top": 10, "size": "small", "thresholds": {"heap_bytes": 65536, "rss_bytes": 524288, "gc_objects": 1.0, "py_blocks": 64.0, "retained_bytes": 16384, "vote": 0.7}},
    )
    for index in range(scenarios):
        leaky = variant("leaky", "LEAK", "LEAK", 300, label)
        fixed = variant("fixed", "CLEAN", "CLEAN", 0, label)
        fixed.fix_source = f"def fix():\n    cache.clear()  # {label}\n"
        other = variant(f"{label}other", "CLEAN", "ERROR", 0, label)
        other.error = f"Traceback: ValueError({label})"
        report.scenarios.append(ScenarioResult(name=f"{label}scenario{index}", description=f"{label} description", finding=f"{index}{label}", size="small", variants=[leaky, fixed, other], fix_effective=True))
    return report


@pytest.fixture(scope="module")
def real_report() -> RunReport:
    """A real 20-iteration run of the optuna scenario, all three variants (tests/data)."""
    return read_report(REAL_REPORT)


# --- the data in the page ---------------------------------------------------------------------

def test_page_embeds_the_whole_report_as_json(real_report: RunReport) -> None:
    page = render(real_report)
    data = embedded_data(page)
    assert data == json.loads(json.dumps(report_to_dict(real_report)))
    assert report_from_dict(data) == real_report


def test_page_shows_the_measured_numbers_and_summary(real_report: RunReport) -> None:
    page = render(real_report)
    scenario = real_report.scenarios[0]
    assert str(escape(summary_line(scenario))) in page
    for result in scenario.variants:
        assert f'data-variant="{result.variant}"' in page
        assert str(escape(result.reason)) in page
        for site in result.attribution.sites:
            assert f"{site.count_diff:+d}" in page
        for obj in result.attribution.retained:
            for hop in obj.chain:
                assert f">{escape(hop)}</li>" in page
    assert real_report.host["python"] in page
    assert str(escape(" ".join(real_report.command))) in page


def test_matrix_and_one_section_per_scenario_for_an_all_run() -> None:
    report = hand_report(scenarios=3)
    page = render(report)
    for index, scenario in enumerate(report.scenarios):
        assert page.count(f'id="scenario-{index}"') == 1
        assert f'href="#scenario-{index}">{scenario.name}</a>' in page
    start = page.index('<table class="matrix">')
    matrix = page[page.index("<tbody>", start) : page.index("</tbody>", start)]
    assert matrix.count("<tr>") == 3 * 3  # scenario × variant
    assert matrix.count('class="verdict v-leak"') == 3 and matrix.count('class="verdict v-error"') == 3
    assert "+300 blocks/it (Python heap blocks)" in matrix
    assert "20.0 KiB" in matrix and "12.5 s" in matrix


# --- the charts ---------------------------------------------------------------------------------

def test_fit_line_is_the_theil_sen_line_of_the_measured_samples(real_report: RunReport) -> None:
    from scipy.stats import theilslopes

    for result in real_report.scenarios[0].variants:
        measured = [s for s in result.samples if s.phase == "measure"]
        values = [float(s.py_blocks) for s in measured]
        fit = theilslopes(values, list(range(len(values))))
        first, start, last, end = fit_segment(result, "py_blocks")
        assert (first, last) == (measured[0].iteration, measured[-1].iteration)
        assert start == pytest.approx(fit.intercept, rel=1e-9)
        assert end == pytest.approx(fit.intercept + fit.slope * (len(values) - 1), rel=1e-9)


def test_intercept_is_stored_by_fit_trend_and_recomputed_for_older_reports() -> None:
    from scipy.stats import theilslopes

    values = [10.0, 13.0, 12.0, 20.0, 21.0, 19.0, 30.0]
    trend = fit_trend("py_blocks", "blocks", values, 1.0)
    assert trend.intercept == pytest.approx(theilslopes(values, list(range(len(values)))).intercept)
    assert theil_sen_intercept(values, trend.slope) == pytest.approx(trend.intercept)
    old = report_to_dict(hand_report())
    for v in old["scenarios"][0]["variants"]:
        for t in v["trends"]:
            del t["intercept"]  # a report written before the field existed
    rebuilt = report_from_dict(old)
    leaky_then, leaky_now = rebuilt.scenarios[0].variants[0], hand_report().scenarios[0].variants[0]
    assert leaky_then.trends[0].intercept is None
    assert fit_segment(leaky_then, "py_blocks") == pytest.approx(fit_segment(leaky_now, "py_blocks"))


def test_charts_shade_warmup_and_window_and_put_every_variant_on_the_same_axes() -> None:
    report = hand_report()
    charts = {c["trend"].metric: c for c in scenario_charts(report.scenarios[0].variants)}
    assert {"rss_bytes", "uss_bytes", "heap_bytes", "py_blocks", "gc_objects"} <= set(charts)
    assert "traced_bytes" not in charts  # window only: a bar per variant, not a chart of two dots
    chart = charts["py_blocks"]["trend"]
    assert [b.kind for b in chart.bands] == ["warmup", "window"]
    assert [line.variant for line in chart.lines] == ["leaky", "fixed", "other"]
    assert all(len(line.points) == 11 for line in chart.lines)
    assert chart.lines[0].fit is not None
    # the leaky line rises (smaller y is higher), the fixed one is flat
    x1, y1, x2, y2 = chart.lines[0].fit
    assert x2 > x1 and y2 < y1
    assert chart.lines[1].fit[1] == chart.lines[1].fit[3]
    # on the trend scale the leaky variant's 2 window points lie above every warm-up and measured
    # point of either variant: clamped to the edge (its baseline equals the flat fixed variant's)
    assert [p.clamped for p in chart.lines[0].points] == [False] * 9 + [True] * 2
    assert not any(p.clamped for p in charts["py_blocks"]["all"].lines[0].points)
    page = render(report)
    assert page.count('<svg class="chart chart-trend"') == len(charts)
    assert page.count('<svg class="chart chart-all"') == len(charts)
    assert page.count('<svg class="chart chart-zero"') == page.count('<svg class="chart chart-relative"') == len(charts)


# --- escaping ----------------------------------------------------------------------------------

@pytest.mark.parametrize("hostile", HOSTILE)
def test_strings_from_the_measured_program_appear_only_escaped(hostile: str) -> None:
    report = hand_report(hostile)
    page = render(report)
    assert hostile not in page
    assert "<img" not in page
    assert page.count("<script") == 2  # the JSON blob and the page's own script
    escaped = str(escape(hostile))
    for text in (report.scenarios[0].name, "reason of leaky " + hostile, hostile + "Model", f"/srv/app/{hostile}model.py:10", f"<{hostile}Model at 0x1>", f"app.cache[{hostile!r}]", f"{hostile}Cache", "cache.clear()  # " + hostile, f"ValueError({hostile})", f"Linux {hostile}"):
        assert str(escape(text)) in page, text
    assert escaped in page
    # inside the JSON blob, |tojson escapes < > & ' and the data still reads back whole
    blob = DATA_BLOB.search(page).group(1)
    assert "<" not in blob and ">" not in blob
    assert embedded_data(page) == json.loads(json.dumps(report_to_dict(report)))


def test_page_loads_nothing_from_the_network(real_report: RunReport) -> None:
    pages = [render(real_report), render(hand_report(IMG_TAG))]

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[tuple[str, dict[str, str | None]]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.found.append((tag, dict(attrs)))

    for page in pages:
        parser = Tags()
        parser.feed(page)
        tags = parser.found
        assert [t for t, _ in tags if t in ("link", "iframe", "img", "object", "embed")] == []
        scripts = [attrs for t, attrs in tags if t == "script"]
        assert len(scripts) == 2 and all("src" not in attrs for attrs in scripts)
        for tag, attrs in tags:
            for name, value in attrs.items():
                if name in ("src", "href", "xlink:href", "action"):
                    assert not re.match(r"\s*(https?:)?//", value or ""), (tag, name, value)
        assert not re.search(r"<(script|link)[^>]*(https?:)?//", page)
        assert "http://" not in page and "https://" not in page
        assert "default-src 'none'" in page  # and the browser refuses anything that slipped through


# --- size ----------------------------------------------------------------------------------------

def test_a_twenty_iteration_report_stays_under_two_mib(real_report: RunReport) -> None:
    assert real_report.settings["iterations"] == 20
    size = len(render(real_report).encode("utf-8"))
    assert size < TWO_MIB, size
    # an --all run of five such scenarios too
    many = copy.deepcopy(real_report)
    many.scenarios = [dataclasses.replace(copy.deepcopy(real_report.scenarios[0]), name=f"optuna{i}") for i in range(5)]
    size_all = len(render(many).encode("utf-8"))
    assert size < size_all < TWO_MIB, size_all


# --- the CLI -------------------------------------------------------------------------------------

def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_report_command_writes_the_page(tmp_path: Path, real_report: RunReport) -> None:
    source = tmp_path / "run.json"
    write_report(real_report, source)
    out = tmp_path / "out" / "page.html"
    result = invoke("report", str(source), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"HTML report: {out}"
    assert embedded_data(out.read_text(encoding="utf-8")) == json.loads(json.dumps(report_to_dict(real_report)))


def test_report_command_defaults_to_the_html_beside_the_json(tmp_path: Path) -> None:
    source = tmp_path / "run.json"
    write_report(hand_report(scenarios=2), source)
    result = invoke("report", str(source))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run.html").is_file()


def _bad_files(tmp_path: Path, real_report: RunReport) -> dict[str, tuple[Path, str]]:
    good = json.dumps(report_to_dict(real_report))
    truncated = tmp_path / "truncated.json"
    truncated.write_text(good[: len(good) // 2])
    not_json = tmp_path / "notes.json"
    not_json.write_text("this is not JSON\n")
    other = tmp_path / "v99.json"
    other.write_text(json.dumps({**report_to_dict(real_report), "schema_version": 99}))
    not_report = tmp_path / "list.json"
    not_report.write_text("[1, 2, 3]")
    return {
        "missing": (tmp_path / "nope.json", "cannot read"),
        "truncated": (truncated, "not valid JSON"),
        "not JSON": (not_json, "not valid JSON"),
        "other schema": (other, "schema version 99 is not supported"),
        "not a report": (not_report, "not a memleak report"),
    }


@pytest.mark.parametrize("case", ["missing", "truncated", "not JSON", "other schema", "not a report"])
def test_report_command_rejects_a_bad_file_in_one_line(tmp_path: Path, real_report: RunReport, case: str) -> None:
    path, message = _bad_files(tmp_path, real_report)[case]
    out = tmp_path / "page.html"
    result = invoke("report", str(path), "-o", str(out))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()
    assert list(tmp_path.glob("*.html")) == [] and list(tmp_path.glob(".*.tmp")) == []


def test_report_command_rejects_a_folder_as_output(tmp_path: Path) -> None:
    source = tmp_path / "run.json"
    write_report(hand_report(), source)
    result = invoke("report", str(source), "-o", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: report path") and "is a folder" in result.stderr


def test_run_checks_the_html_path_before_any_work(tmp_path: Path) -> None:
    json_path = tmp_path / "run.json"
    result = invoke("run", "optuna", "--size", "small", "-n", "5", "--json", str(json_path), "--html", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: report path") and "is a folder" in result.stderr
    assert not json_path.exists()


@pytest.mark.slow
def test_run_writes_the_page_of_the_report_it_measured(tmp_path: Path) -> None:
    json_path, html_path = tmp_path / "run.json", tmp_path / "pages" / "run.html"
    result = invoke("run", "tests.synthetic_scenarios:GROWING", "-n", "6", "--window", "1", "--json", str(json_path), "--html", str(html_path))
    assert result.exit_code == 0, result.output
    assert f"HTML report: {html_path}" in result.stdout
    page = html_path.read_text(encoding="utf-8")
    assert embedded_data(page) == json.loads(json_path.read_text(encoding="utf-8"))
    assert page.count('<svg class="chart chart-trend"') >= 5  # RSS, USS, C heap, blocks, objects (+ traced)


def test_console_script_keeps_the_exit_code(tmp_path: Path) -> None:
    """``python -m memleak_cli`` (main()) exits 2 with one line, like the app under CliRunner."""
    proc = subprocess.run([sys.executable, "-m", "memleak_cli", "report", str(tmp_path / "nope.json")], capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: cannot read {tmp_path / 'nope.json'}: No such file or directory"]


def test_terminal_and_html_share_the_summary_line() -> None:
    from memleak_cli.reporters import terminal

    assert terminal.summary_line is summary_line
    out = io.StringIO()
    terminal.TerminalReporter(width=120, color=False).render(hand_report(), out)
    assert "leaky grows +300 blocks per iteration" in out.getvalue()
    scenario = hand_report().scenarios[0]
    assert summary_line(scenario).startswith("leaky grows +300 blocks per iteration (Python heap blocks); fixed is flat; other crashed")


# --- a real browser -------------------------------------------------------------------------------

@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium: apt-get install -y chromium chromium-driver")
def test_report_draws_in_headless_chromium(tmp_path: Path, real_report: RunReport) -> None:
    page = tmp_path / "report.html"
    page.write_text(render(real_report), encoding="utf-8")
    shot = tmp_path / "report.png"
    proc = subprocess.run([sys.executable, str(SCRIPT), str(page), "--out", str(shot)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = json.loads(proc.stdout)
    assert found["problems"] == [] and found["console_problems"] == []
    # 5 metrics × 3 variants × 4 scales (the tracemalloc window is bars, not a chart)
    assert found["ready"] == 5 and found["charts"] == 20 and found["curves"] == 60
    # the page's own layout check: no label outside its chart or away from its band, no chart
    # without a series, no empty label
    assert found["clipped"] == [] and found["empty_charts"] == [] and found["empty_labels"] == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium: apt-get install -y chromium chromium-driver")
def test_browser_check_fails_on_a_script_error(tmp_path: Path, real_report: RunReport) -> None:
    page = tmp_path / "broken.html"
    page.write_text(render(real_report).replace('"use strict";', '"use strict"; undefinedFunction();'), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(SCRIPT), str(page), "--out", str(tmp_path / "b.png")], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 1
    found = json.loads(proc.stdout)
    assert found["ready"] is None
    assert any("undefinedFunction is not defined" in line for line in found["console_problems"])


def test_native_evidence_and_notes_are_shown_and_escaped(tmp_path):
    from memleak_cli.report.model import NativeSite, TypeSize

    report = read_report(REAL_REPORT)
    variant = report.scenarios[0].variants[0]
    variant.notes = ["native growth <b>58.9 KiB</b>/iteration not visible to tracemalloc"]
    variant.attribution.native = True
    variant.attribution.native_iterations = 3
    variant.attribution.native_growth_bytes = 3 * 60_000
    variant.attribution.native_sites = [
        NativeSite(60_000, 12, "MALLOC", "LightGBM::Tree::Tree(<script>x</script>)", "operator new", "scenarios/x.py:3", ["a at b:1"])
    ]
    variant.attribution.type_sizes = [TypeSize("numpy.ndarray", 3, 4096)]
    page = render(report)
    assert "LightGBM::Tree::Tree(&lt;script&gt;x&lt;/script&gt;)" in page
    assert "<script>x</script>" not in page
    assert "native growth &lt;b&gt;58.9 KiB&lt;/b&gt;/iteration" in page
    assert "numpy.ndarray" in page and "Native allocations kept over the memray window" in page


def test_the_window_sample_is_a_point_not_joined_to_the_curve(real_report: RunReport) -> None:
    variant = real_report.scenarios[0].variants[0]
    chart = build_chart("rss_bytes", "RSS", "bytes", [variant])
    window_points = [p for p, s in zip(chart.lines[0].points, [s for s in variant.samples if s.rss_bytes is not None], strict=True) if s.phase == "window"]
    assert window_points, "the report has a window sample"
    for point in window_points:
        assert f"{point.x},{point.y}" not in chart.lines[0].path


def test_a_user_scenario_has_no_empty_finding_label_and_reprs_are_cut_at_a_boundary(real_report: RunReport) -> None:
    from memleak_cli.reporters.html import clip_text

    real_report.scenarios[0].finding = ""
    long = "<DataFrame with columns ['age', 'income', 'score'] and the index named customer_id over 1000 rows x 4 columns>"
    real_report.scenarios[0].variants[0].attribution.retained[0].repr = long
    page = render(real_report)
    assert "user scenario" in page and not re.search(r"finding\s*<", page)
    shown = clip_text(long)
    assert shown == "<DataFrame with columns ['age', 'income', 'score'] and the index named customer_id over…"
    assert f'title="{escape(long)}">{escape(shown)}</span>' in page


# --- pages of the other producers of the report model ------------------------------------------

OTHER_REPORTS = {
    # `pytest --memleak --memleak-json` over tests/data/pytest_project (one scenario per test)
    "pytest-session": ROOT / "tests" / "data" / "pytest-session.json",
}


@pytest.mark.parametrize("name", sorted(OTHER_REPORTS))
def test_pages_of_other_producers_render_with_every_variant(name: str) -> None:
    report = read_report(OTHER_REPORTS[name])
    page = render(report)
    for scenario in report.scenarios:
        assert html.escape(scenario.name) in page
    assert "user scenario" in page  # no empty "finding" label


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Chromium: apt-get install -y chromium chromium-driver")
@pytest.mark.parametrize("name", sorted(OTHER_REPORTS))
def test_pages_of_other_producers_draw_in_headless_chromium(tmp_path: Path, name: str) -> None:
    page = tmp_path / f"{name}.html"
    page.write_text(render(read_report(OTHER_REPORTS[name])), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(SCRIPT), str(page), "--out", str(tmp_path / f"{name}.png")],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = json.loads(proc.stdout)
    assert found["problems"] == [] and found["console_problems"] == []
    assert found["clipped"] == [] and found["empty_charts"] == [] and found["empty_labels"] == []
