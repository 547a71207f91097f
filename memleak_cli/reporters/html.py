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

from memleak_cli.analysis.lead import held_since_warmup, lead_trend
from memleak_cli.report.jsonio import report_to_dict, write_text_atomic
from memleak_cli.report.model import MetricTrend, RunReport, ScenarioResult, VariantResult
from memleak_cli.reporters.summary import (
    METRIC_LABEL,
    amount,
    judgement,
    not_growing_evidence,
    short_path,
    summary_line,
)
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


# a repr shown in a table cell: longer ones are cut at a word boundary, the whole text on hover
REPR_SHOWN = 90


def clip_text(text: str, limit: int = REPR_SHOWN) -> str:
    """*text* cut to at most *limit* characters at a word or punctuation boundary (never in
    the middle of a word when a boundary lies in the last third), ``…`` marking the cut."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    cut = max(head.rfind(c) for c in " ,;:)]}>=")
    if cut >= limit * 2 // 3:
        head = head[: cut + (0 if head[cut] == " " else 1)]
    return head.rstrip() + "…"


def judged_growth(trend: MetricTrend | None) -> str:
    """:func:`growth_text` and, for a number that is not a leak, what was decided about it."""
    verdict = judgement(trend) if trend is not None else ""
    return growth_text(trend) + (f" ({verdict})" if verdict else "")


def sites_heading(result: VariantResult) -> str:
    """The allocation-site table's heading: "grew" only for a LEAK (see the terminal's ``sites_title``)."""
    n = result.attribution.window_iterations if result.attribution else 0
    if result.verdict == "LEAK":
        return f"Allocation sites that grew over the window ({n} iterations, tracemalloc diff)"
    return (
        f"Allocation sites still holding memory after the window ({n} iterations, tracemalloc diff): "
        f"bounded / filling, nothing grows steadily ({not_growing_evidence(result)})"
    )


def held_text(result: VariantResult, metric: str) -> str:
    """How much *metric* rose from the end of warm-up to the last measured sample, or ``n/a``."""
    held = held_since_warmup(result, metric)
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
            leaky.attribution.retained_text() if leaky and leaky.attribution else "n/a",
            result.attribution.retained_text() if result.attribution else "n/a",
        ))
        for metric, label in METRIC_LABEL.items():
            pair = [t for t in (result.trend(metric), leaky.trend(metric) if leaky else None) if t is not None]
            if not pair or (metric not in EFFECT_METRICS and not any(t.leaking for t in pair)):
                continue
            rows.append((f"{label}, growth/iteration", judged_growth(leaky.trend(metric)) if leaky else "n/a", judged_growth(result.trend(metric))))
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
        from memleak_cli.reporters.charts import (
            SCALE_LABEL,
            SCALES,
            scenario_charts,
            variant_colour,
            window_bars,
        )

        env = make_environment()
        template = env.get_template(self.template_name)
        scenarios = []
        for index, scenario in enumerate(report.scenarios):
            scenarios.append({
                "anchor": f"scenario-{index}",
                "result": scenario,
                "summary": summary_line(scenario),
                "charts": scenario_charts(scenario.variants),
                "bars": window_bars(scenario.variants),
                "colours": {v.variant: variant_colour(v.variant, i) for i, v in enumerate(scenario.variants)},
                "metrics": [(m, label) for m, label in METRIC_LABEL.items() if any(v.trend(m) for v in scenario.variants)],
                "fixes": fix_effects(scenario),
            })
        return str(template.render(report=report, scenarios=scenarios, data=report_to_dict(report), data_id=DATA_ELEMENT_ID,
                                   scales=[(scale, SCALE_LABEL[scale]) for scale in SCALES]))


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
        judged_growth=judged_growth,
        judgement=judgement,
        clip=clip_text,
        lead_growth=lead_growth,
        path_hops=path_hops,
    )
    env.globals.update(held=held_text, metric_label=METRIC_LABEL, sites_heading=sites_heading)
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
