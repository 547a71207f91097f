"""The self-contained HTML report: one file, no network, the report's data embedded as JSON.

The page is rendered by jinja2 from the package's ``templates/`` with autoescape on, so every
string from the measured program (reprs, type names, paths, scenario names) is escaped; the
whole report also goes into the page as JSON through ``|tojson``, which escapes ``<``, ``>``,
``&`` and ``'``. Charts are inline SVG computed in :mod:`memleak_cli.reporters.charts`; CSS and
the little JavaScript (a y-scale toggle) are inline too. Nothing is fetched when it opens.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from memleak_cli.analysis.lead import held_since_baseline, lead_trend
from memleak_cli.report.jsonio import report_to_dict, write_text_atomic
from memleak_cli.report.model import MetricTrend, RunReport, ScenarioResult, VariantResult
from memleak_cli.reporters.summary import METRIC_LABEL, amount, short_path, summary_line
from memleak_cli.reporters.text import for_html
from memleak_cli.units import format_bytes

DATA_ELEMENT_ID = "memleak-report-data"
# Metrics always shown beside a fix; the others only when they leak in either variant.
EFFECT_METRICS = ("gc_objects", "py_blocks", "heap_bytes", "uss_bytes")


def growth_text(trend: MetricTrend | None) -> str:
    """``+1.2 KiB/it [+672 B, +1.8 KiB]``: the slope per iteration and its 95 % interval, or ``n/a``."""
    if trend is None:
        return "n/a"
    return f"{amount(trend.slope, trend.unit)}/it [{amount(trend.slope_low, trend.unit)}, {amount(trend.slope_high, trend.unit)}]"


def lead_growth(result: VariantResult) -> str:
    """The growth a matrix cell shows: the lead metric's slope (:func:`memleak_cli.analysis.lead.lead_trend`)."""
    trend = lead_trend(result)
    if trend is None:
        return "n/a"
    unit = "" if trend.unit == "bytes" else f" {trend.unit}"
    return f"{amount(trend.slope, trend.unit)}{unit}/it ({METRIC_LABEL.get(trend.metric, trend.metric)})"


def held_text(result: VariantResult, metric: str) -> str:
    """How much *metric* rose from the baseline sample to the last measured one, or ``n/a``."""
    held = held_since_baseline(result, metric)
    return "n/a" if held is None else amount(held, "bytes" if metric.endswith("_bytes") else "count")


def fix_effects(scenario: ScenarioResult) -> list[dict[str, Any]]:
    """For each variant with a fix: its source beside the leaky variant's numbers and its own.

    Returns dicts with ``variant`` (the fixed :class:`VariantResult`), ``leaky`` (or ``None``)
    and ``rows``: ``(label, leaky value, fixed value)`` for the verdict, retained bytes and the
    growth per iteration of :data:`EFFECT_METRICS` and of any metric that leaks in either.
    """
    leaky = scenario.variant("leaky")
    effects = []
    for result in scenario.variants:
        if not result.fix_source or result is leaky:
            continue
        rows = [("verdict", leaky.verdict if leaky else "n/a", result.verdict)]
        rows.append((
            "retained after the work",
            format_bytes(leaky.attribution.retained_bytes) if leaky and leaky.attribution else "n/a",
            format_bytes(result.attribution.retained_bytes) if result.attribution else "n/a",
        ))
        for metric, label in METRIC_LABEL.items():
            pair = [t for t in (result.trend(metric), leaky.trend(metric) if leaky else None) if t is not None]
            if not pair or (metric not in EFFECT_METRICS and not any(t.leaking for t in pair)):
                continue
            rows.append((f"{label}, growth/iteration", growth_text(leaky.trend(metric)) if leaky else "n/a", growth_text(result.trend(metric))))
        effects.append({"variant": result, "leaky": leaky, "rows": rows})
    return effects


class HtmlReporter:
    """Renders a :class:`RunReport` as one self-contained HTML page (same interface as the terminal reporter)."""

    template_name = "report.html"

    def render(self, report: RunReport, file: IO[str]) -> None:
        """Write the page for *report* to *file*."""
        file.write(self.render_to_string(report))

    def render_to_string(self, report: RunReport) -> str:
        """The page for *report* as a string (jinja2, autoescape on)."""
        from memleak_cli.reporters.charts import scenario_charts, variant_colour

        env = make_environment()
        template = env.get_template(self.template_name)
        scenarios = []
        for index, scenario in enumerate(report.scenarios):
            scenarios.append({
                "anchor": f"scenario-{index}",
                "result": scenario,
                "summary": summary_line(scenario),
                "charts": scenario_charts(scenario.variants),
                "colours": {v.variant: variant_colour(v.variant, i) for i, v in enumerate(scenario.variants)},
                "metrics": [(m, label) for m, label in METRIC_LABEL.items() if any(v.trend(m) for v in scenario.variants)],
                "fixes": fix_effects(scenario),
            })
        return str(template.render(report=report, scenarios=scenarios, data=report_to_dict(report), data_id=DATA_ELEMENT_ID))


def path_hops(path: str) -> list[str]:
    """A reference path cut into hops for the chips: ``svc.history[*]['x']`` → ``svc``,
    ``history``, ``[*]``, ``['x']`` (keys in brackets stay whole)."""
    import re

    return [hop for hop in re.findall(r"\[[^\]]*\]|[^.\[]+", path) if hop]


def make_environment() -> Any:
    """The jinja2 environment: package templates, autoescape on, undefined names an error, shared filters."""
    import jinja2
    import markupsafe

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("memleak_cli", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # every {{ value }} from the measured program: surrogates and control characters escaped
        # before autoescape (a lone surrogate cannot be written as UTF-8)
        # (markup such as |tojson's output is already safe and is left as it is)
        finalize=lambda value: for_html(value) if isinstance(value, str) and not isinstance(value, markupsafe.Markup) else value,
    )
    env.filters.update(
        bytes=_page_bytes,
        sbytes=lambda v: format_bytes(v, signed=True),
        short_path=short_path,
        growth=growth_text,
        lead_growth=lead_growth,
        path_hops=path_hops,
    )
    env.globals.update(held=held_text, metric_label=METRIC_LABEL)
    return env


def _page_bytes(value: Any) -> str:
    """:func:`format_bytes` for a value from the report's free-form ``settings`` (``n/a`` when it
    is not a number: a hand-edited report must still draw)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "n/a"
    return format_bytes(value)


def write_html(report: RunReport, path: Path) -> None:
    """Render *report* and write it to *path* atomically (whole or absent).

    Raises:
        ReportFileError: the folder cannot be created or written.
    """
    write_text_atomic(Path(path), HtmlReporter().render_to_string(report))
