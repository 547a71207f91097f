"""Geometry of the HTML report's memory charts, computed in Python and drawn as inline SVG.

One chart per metric puts every variant of a scenario on the same axes: one point per
iteration (baseline, warm-up, measured, attribution window), the warm-up and the attribution
window as shaded bands, and the Theil–Sen line fitted over the measured (post-warm-up) points.
No numbers are made up here: points are the samples' own values, the line is the stored slope
and intercept (or, for reports written before the intercept was stored, the intercept by
``scipy.stats.theilslopes``' convention from the same measured samples).

Four y scales are prepared for each chart: ``trend`` fits the warm-up and measured points (the
ones the verdict is made from) and clamps the others to the plot's edge as hollow markers;
``all`` fits every point; ``zero`` starts the axis at zero, so ±1 MiB of noise on a 200 MiB
process looks like what it is; ``relative`` draws each variant's change from the end of its
warm-up. Around each fitted line the slope's 95 % interval is shaded (the noise band: every line
inside it fits the measured points as well). A chart is drawn only for a metric with a series (at
least :data:`MIN_SERIES` points outside the attribution window); what tracemalloc traced, which
exists only in the window, is drawn as one bar per variant (:func:`window_bars`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from memleak_cli.analysis.trend import theil_sen_intercept
from memleak_cli.report.model import Sample, VariantResult
from memleak_cli.units import format_bytes

# Metrics drawn, in order, with their label and unit.
CHART_METRICS = (
    ("rss_bytes", "RSS", "bytes"),
    ("uss_bytes", "USS", "bytes"),
    ("heap_bytes", "C heap in use (malloc)", "bytes"),
    ("py_blocks", "Python heap blocks (sys.getallocatedblocks)", "blocks"),
    ("gc_objects", "gc-tracked objects", "objects"),
    ("traced_bytes", "traced Python heap (tracemalloc, window only)", "bytes"),
)
SCALES = ("trend", "all", "zero", "relative")
SCALE_LABEL = {"trend": "fit to the trend", "all": "all points", "zero": "from zero", "relative": "change since warm-up"}
# a chart needs a series: this many points of one variant outside the attribution window
MIN_SERIES = 3
# band labels sit in the margin above the plot, at their band's left edge, or ending at its right
# edge when they would run past the chart (px per character of the 10 px label font: generous)
LABEL_CHAR_PX = 6.2
# the trend scale spans less than this share of the level: the caption says the axis is zoomed
ZOOMED_SHARE = 0.1
VARIANT_COLOURS = {"leaky": "#d62728", "fixed": "#2ca02c"}
OTHER_COLOURS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")
TREND_PHASES = ("warmup", "measure")


def variant_colour(name: str, index: int) -> str:
    """The colour of variant *name* (the *index*-th of its scenario): leaky red, fixed green."""
    return VARIANT_COLOURS.get(name, OTHER_COLOURS[index % len(OTHER_COLOURS)])


@dataclass
class Point:
    """One sample drawn: pixel position, whether it lies outside the scale, and its tooltip."""

    x: float
    y: float
    clamped: bool
    title: str


@dataclass
class Line:
    """A variant's polyline, its points and its fitted Theil–Sen segment (pixels)."""

    variant: str
    colour: str
    points: list[Point]
    path: str
    fit: tuple[float, float, float, float] | None
    fit_title: str
    noise: str = ""  # polygon points of the slope's 95 % interval around the fit ("" without a fit)


@dataclass
class Band:
    """A shaded span of iterations (``warmup`` or ``window``), in pixels."""

    kind: str
    x: float
    width: float
    label: str
    label_x: float = 0.0
    anchor: str = "start"


@dataclass
class Tick:
    """An axis tick: pixel position and label."""

    pos: float
    label: str


@dataclass
class Chart:
    """One metric's chart at one y scale, ready for the template (all coordinates in pixels)."""

    metric: str
    title: str
    unit: str
    scale: str
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    lines: list[Line] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    xticks: list[Tick] = field(default_factory=list)
    yticks: list[Tick] = field(default_factory=list)
    clamped: int = 0
    zoom_note: str = ""


def format_value(value: float, unit: str) -> str:
    """A value as shown on an axis or tooltip: binary byte units, or a count with thousands separators."""
    if unit == "bytes":
        return format_bytes(value)
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:,.1f}"


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """About *count* round tick values covering ``[low, high]`` (steps of 1, 2, 2.5 or 5 × 10^k)."""
    if high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(value)
        value += step
    return ticks


def place_label(band_x: float, band_width: float, label: str, chart_width: int) -> tuple[float, str]:
    """``(x, text-anchor)`` of a band's label in the margin above the plot: from the band's left
    edge, or ending at its right edge when it would otherwise run past the chart (a narrow
    attribution window at the right end of the axis: its label was clipped to ``attribu``)."""
    if band_x + 2 + len(label) * LABEL_CHAR_PX <= chart_width - 2:
        return round(band_x + 2, 1), "start"
    return round(min(band_x + band_width, chart_width - 2), 1), "end"


def has_series(variants: Sequence[VariantResult], metric: str) -> bool:
    """Whether any variant has :data:`MIN_SERIES` values of *metric* outside the attribution window."""
    return any(sum(1 for s in v.samples if s.phase != "window" and getattr(s, metric, None) is not None) >= MIN_SERIES for v in variants)


def reference_value(variant: VariantResult, metric: str) -> float | None:
    """The value the ``relative`` scale subtracts: the last warm-up sample's, else the baseline's."""
    for phase in ("warmup", "baseline"):
        found = [s for s in variant.samples if s.phase == phase and getattr(s, metric, None) is not None]
        if found:
            return float(getattr(found[-1], metric))
    return None


def axis_ticks(low: float, high: float, unit: str, position: Callable[[float], tuple[float, bool]], *, signed: bool = False) -> list[Tick]:
    """Round ticks for a y axis from *low* to *high*, labelled with as many decimals as the step needs.

    Byte axes tick in one binary unit (KiB, MiB or GiB, chosen by the larger end) so that a
    range of a few KiB within 160 MiB still reads ``159.80 MiB``, ``159.82 MiB``.
    """
    divisor, name = 1.0, ""
    if unit == "bytes":
        for candidate, candidate_name in ((1024.0**3, "GiB"), (1024.0**2, "MiB"), (1024.0, "KiB"), (1.0, "B")):
            if max(abs(low), abs(high)) >= candidate or candidate == 1.0:
                divisor, name = candidate, candidate_name
                break
    values = nice_ticks(low / divisor, high / divisor)
    step = values[1] - values[0] if len(values) > 1 else 1.0
    power = math.floor(math.log10(step))
    decimals = min(6, max(0, -power) + (1 if round(step / 10**power, 3) == 2.5 else 0))
    ticks = []
    for value in values:
        label = (f"{value:+,.{decimals}f}" if signed and value != 0 else f"{value:,.{decimals}f}") + (f" {name}" if name else "")
        ticks.append(Tick(pos=position(value * divisor)[0], label=label))
    return ticks


def fit_segment(variant: VariantResult, metric: str) -> tuple[int, float, int, float] | None:
    """``(first iteration, value, last iteration, value)`` of the Theil–Sen line over the measured samples.

    Uses the stored ``MetricTrend.slope``/``intercept``; an intercept missing from an older report
    is computed from the same measured samples (:func:`theil_sen_intercept`). ``None`` when the
    metric has no trend (not measured, or too few samples).
    """
    trend = variant.trend(metric)
    measured = [s for s in variant.samples if s.phase == "measure" and getattr(s, metric, None) is not None]
    if trend is None or len(measured) < 2:
        return None
    intercept = trend.intercept
    if intercept is None:
        intercept = theil_sen_intercept([float(getattr(s, metric)) for s in measured], trend.slope)
    last = len(measured) - 1
    return measured[0].iteration, intercept, measured[-1].iteration, intercept + trend.slope * last


def _span(samples: Sequence[Sample], phase: str) -> tuple[int, int] | None:
    its = [s.iteration for s in samples if s.phase == phase]
    return (min(its), max(its)) if its else None


def build_chart(
    metric: str,
    title: str,
    unit: str,
    variants: Sequence[VariantResult],
    *,
    scale: str = "trend",
    width: int = 620,
    height: int = 250,
) -> Chart | None:
    """The chart of *metric* for *variants* on shared axes, or ``None`` when no variant measured it.

    Args:
        scale: ``trend`` fits the y axis to warm-up and measured points and clamps the others;
            ``all`` fits every point; ``zero`` fits every point and zero; ``relative`` draws
            each variant's change from its last warm-up sample (:func:`reference_value`).
    """
    series = [(v, [s for s in v.samples if getattr(s, metric, None) is not None]) for v in variants]
    if not any(points for _, points in series):
        return None
    left, right, top, bottom = 78, 12, 20, 34
    chart = Chart(metric=metric, title=title, unit=unit, scale=scale, width=width, height=height, left=left, top=top, right=width - right, bottom=height - bottom)
    all_samples = [s for v in variants for s in v.samples]
    iterations = [s.iteration for s in all_samples] or [0]
    x_low, x_high = min(iterations) - 0.5, max(iterations) + 0.5
    offsets = {v.variant: (reference_value(v, metric) or 0.0) if scale == "relative" else 0.0 for v, _ in series}
    fits = {}
    for v, _ in series:
        fit = fit_segment(v, metric)
        off = offsets[v.variant]
        fits[v.variant] = None if fit is None else (fit[0], fit[1] - off, fit[2], fit[3] - off)

    def scaled(samples_phase: Sequence[str] | None) -> list[float]:
        values = [float(getattr(s, metric)) - offsets[v.variant] for v, points in series for s in points if samples_phase is None or s.phase in samples_phase]
        for fit in fits.values():
            if fit is not None:
                values += [fit[1], fit[3]]
        return values

    values = scaled(TREND_PHASES if scale == "trend" else None) or scaled(None)
    if scale == "zero":
        values.append(0.0)
    y_low, y_high = min(values), max(values)
    if y_high == y_low:
        pad = abs(y_high) * 0.01 or 1.0
    else:
        pad = (y_high - y_low) * 0.08
    y_low, y_high = y_low - pad, y_high + pad
    if scale == "zero" and min(values) >= 0:
        y_low = 0.0
    if scale == "trend":
        level = max(abs(y_low), abs(y_high))
        if level > 0 and (y_high - y_low) < ZOOMED_SHARE * level:
            chart.zoom_note = f"zoomed: the axis spans {format_value(y_high - y_low, unit)}, {(y_high - y_low) / level:.1%} of {format_value(level, unit)}"

    def px(iteration: float) -> float:
        return round(chart.left + (iteration - x_low) / (x_high - x_low) * (chart.right - chart.left), 1)

    def py(value: float) -> tuple[float, bool]:
        clamped = value < y_low or value > y_high
        value = min(max(value, y_low), y_high)
        return round(chart.bottom - (value - y_low) / (y_high - y_low) * (chart.bottom - chart.top), 1), clamped

    for kind, label in (("warmup", "warm-up"), ("window", "attribution window")):
        span = _span(all_samples, kind)
        if span is not None:
            x0, x1 = px(span[0] - 0.5), px(span[1] + 0.5)
            band_width = round(x1 - x0, 1)
            label_x, anchor = place_label(x0, band_width, label, chart.width)
            chart.bands.append(Band(kind=kind, x=x0, width=band_width, label=label, label_x=label_x, anchor=anchor))
    for index, (variant, points) in enumerate(series):
        drawn = []
        off = offsets[variant.variant]
        for s in points:
            value = float(getattr(s, metric)) - off
            y, clamped = py(value)
            chart.clamped += clamped
            phase = "baseline (before the first iteration)" if s.phase == "baseline" else s.phase
            shown = format_value(value + off, unit) + (f", {_signed(value, unit)} since warm-up" if scale == "relative" else "")
            drawn.append(Point(x=px(s.iteration), y=y, clamped=clamped, title=f"{variant.variant}, iteration {s.iteration} ({phase}): {shown}"))
        fit = fits[variant.variant]
        segment = None
        fit_title = ""
        noise = ""
        trend = variant.trend(metric)
        if fit is not None and trend is not None:
            segment = (px(fit[0]), py(fit[1])[0], px(fit[2]), py(fit[3])[0])
            slope = format_bytes(trend.slope, signed=True) if unit == "bytes" else f"{trend.slope:+,.1f} {unit}"
            fit_title = (
                f"{variant.variant}: Theil–Sen slope {slope} per iteration over iterations {fit[0]}–{fit[2]}, "
                f"95 % interval [{_signed(trend.slope_low, unit)}, {_signed(trend.slope_high, unit)}] (the shaded band)"
            )
            noise = _noise_polygon(fit, trend.slope, trend.slope_low, trend.slope_high, px, py)
        # the curve joins baseline, warm-up and measured points; the window's sample is drawn as a
        # point only: tracing and the heap mark change the process, and a line into it would read
        # as a late jump of the workload
        phases = [s.phase for s in points]
        path = " ".join(
            f"{'M' if i == 0 or phases[i] == 'window' else 'L'}{p.x},{p.y}" for i, p in enumerate(drawn) if phases[i] != "window"
        )
        chart.lines.append(Line(variant=variant.variant, colour=variant_colour(variant.variant, index), points=drawn, path=path, fit=segment, fit_title=fit_title, noise=noise))
    chart.yticks = axis_ticks(y_low, y_high, unit, py, signed=scale == "relative")
    step = max(1, math.ceil((x_high - x_low) / 12))
    chart.xticks = [Tick(pos=px(i), label=str(i)) for i in range(math.ceil(x_low), math.floor(x_high) + 1) if i % step == 0]
    return chart


def _signed(value: float, unit: str) -> str:
    return format_bytes(value, signed=True) if unit == "bytes" else f"{value:+,.1f}"


def _noise_polygon(
    fit: tuple[int, float, int, float], slope: float, low: float, high: float,
    px: Callable[[float], float], py: Callable[[float], tuple[float, bool]],
) -> str:
    """The slope's 95 % interval as a band around the fitted line: lines through the fit's middle
    with the interval's slopes, from the first measured iteration to the last (a bow tie; a line
    anywhere inside it fits the measured points about as well)."""
    x0, y0, x1, y1 = fit
    mid_x, mid_y = (x0 + x1) / 2, (y0 + y1) / 2
    corners = []
    for x, slopes in ((x0, (high, low)), (x1, (low, high))):
        for k in slopes:
            corners.append((px(x), py(mid_y + k * (x - mid_x))[0]))
    # x0 at the high slope is lowest, x1 at the high slope highest: trace the outline in order
    a, b, c, d = corners
    return " ".join(f"{x},{y}" for x, y in (a, (px(mid_x), py(mid_y)[0]), d, c, (px(mid_x), py(mid_y)[0]), b))


@dataclass
class Bar:
    """One variant's bar in :func:`window_bars`: value, bar width in pixels, label."""

    variant: str
    colour: str
    value: float
    x: float
    width: float
    label: str


def window_bars(variants: Sequence[VariantResult], width: int = 620) -> list[Bar]:
    """What tracemalloc traced over the attribution window, growth per iteration, one bar per
    variant on a shared zero-based axis (bars to the left of zero for a shrinking heap); empty
    when no variant traced. Drawn instead of a chart: the traced heap exists only in the window,
    three or four points that no curve can be drawn through."""
    traced = [(i, v, v.attribution.traced_growth_per_iteration) for i, v in enumerate(variants)
              if v.attribution is not None and v.attribution.traced and v.attribution.traced_growth_per_iteration is not None]
    if not traced:
        return []
    left, right = 150, width - 110
    low, high = min(0.0, *(t[2] for t in traced)), max(0.0, *(t[2] for t in traced))
    span = (high - low) or 1.0
    zero = left + (0.0 - low) / span * (right - left)
    bars = []
    for index, variant, value in traced:
        end = left + (value - low) / span * (right - left)
        bars.append(Bar(variant=variant.variant, colour=variant_colour(variant.variant, index), value=value,
                        x=round(min(zero, end), 1), width=round(max(abs(end - zero), 1.0), 1), label=f"{format_bytes(value, signed=True)}/it"))
    return bars


def scenario_charts(variants: Sequence[VariantResult]) -> list[dict[str, Chart]]:
    """For each metric with a series (:func:`has_series`), one chart per y scale of :data:`SCALES`
    (same data): ``{"trend": Chart, "all": Chart, "zero": Chart, "relative": Chart}``."""
    charts = []
    for metric, title, unit in CHART_METRICS:
        if not has_series(variants, metric):
            continue
        built = {scale: build_chart(metric, title, unit, variants, scale=scale) for scale in SCALES}
        drawn = {scale: chart for scale, chart in built.items() if chart is not None}
        if len(drawn) == len(built):
            charts.append(drawn)
    return charts
