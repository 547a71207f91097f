#!/usr/bin/env python3
"""Open a memleak HTML report in headless Chromium: screenshot it and check it drew.

Usage::

    python scripts/screenshot_report.py REPORT.html [--out report.png] [--window-size 1400,3000]
    python scripts/screenshot_report.py RUN.json --out report.png   # renders the page first

Two Chromium runs with a throw-away profile and no network features:

1. ``--dump-dom`` with ``--enable-logging=stderr``: the DOM after the page's script ran. The
   check fails when the script did not finish (it sets ``data-memleak-ready`` on ``<html>`` as
   its last act), when no chart SVG with a drawn curve is in the page, or when the console got
   anything but the script's one "memleak report ready" line (Chromium logs errors, uncaught
   exceptions and resources refused by the page's ``default-src 'none'`` Content-Security-Policy
   all alike, so any other line counts as a problem), and when the page's own layout check
   (``data-memleak-clipped``, ``-empty-charts``, ``-empty-labels`` on ``<html>``: bounding boxes
   of chart labels against their chart and band, charts without a series, labels without text)
   lists anything.
2. ``--screenshot`` of a ``--window-size`` window.

Prints one JSON line with what it found; exit status 0 all checks passed, 1 a check failed,
2 Chromium or the report is missing.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
# Chromium logs every console message (log, error, uncaught exception, CSP violation) as
# ``INFO:CONSOLE:<line>] "<message>"``; the report's script logs exactly one line, READY_LINE.
CONSOLE_LINE = re.compile(r":CONSOLE[:(]")
READY_LINE = "memleak report ready"
READY = re.compile(r'<html[^>]*\sdata-memleak-ready="(\d+)"')
# the page's self-check (see report.html's script): JSON lists of clipped labels, empty charts, empty labels
SELF_CHECKS = {
    "clipped": ("data-memleak-clipped", "labels drawn outside their box"),
    "empty_charts": ("data-memleak-empty-charts", "charts without a drawn series"),
    "empty_labels": ("data-memleak-empty-labels", "labels without text"),
}
CHART = re.compile(r'<svg class="chart chart-(\w+)"[^>]*>(.*?)</svg>', re.S)
CURVE = re.compile(r'<path class="curve" d="M[\d.]+,[\d.]+(?: L[\d.]+,[\d.]+)*"')


def chromium(binary: str, profile: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with the fixed flags, a private profile and *args*."""
    command = [binary, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def check_dom(dom: str, log: str) -> dict[str, object]:
    """What the page showed after its script ran: charts, drawn curves, console problems.

    Returns a dict with ``ready`` (charts the script counted, or ``None`` when it did not
    finish), ``charts`` (chart SVGs in the DOM), ``curves`` (curves with at least one point),
    ``console_problems`` (console lines other than the ready line) and ``problems`` (why the check failed; empty when fine).
    """
    ready_match = READY.search(dom)
    charts = CHART.findall(dom)
    curves = sum(len(CURVE.findall(body)) for _, body in charts)
    console = [line.strip() for line in log.splitlines() if CONSOLE_LINE.search(line)]
    console_problems = [line for line in console if READY_LINE not in line]
    problems = []
    if ready_match is None:
        problems.append("the page's script did not finish (no data-memleak-ready on <html>)")
    if not charts:
        problems.append("no chart SVG in the page")
    elif curves == 0:
        problems.append("the chart SVGs have no drawn curve")
    if ready_match is not None and charts and int(ready_match.group(1)) != sum(1 for scale, _ in charts if scale == "trend"):
        problems.append(f"the script counted {ready_match.group(1)} visible charts, the page has {len(charts)} SVGs")
    found: dict[str, object] = {}
    for key, (attribute, what) in SELF_CHECKS.items():
        match = re.search(rf'<html[^>]*\s{attribute}="([^"]*)"', dom)
        listed = json.loads(html.unescape(match.group(1))) if match else None
        found[key] = listed
        if listed is None:
            problems.append(f"the page did not report its {what} ({attribute})")
        elif listed:
            problems.append(f"{what}: {', '.join(map(str, listed))}")
    if not any(READY_LINE in line for line in console):
        problems.append(f"Chromium logged no {READY_LINE!r} console line: console errors cannot be checked")
    problems += [f"console: {line}" for line in console_problems]
    return {
        "ready": int(ready_match.group(1)) if ready_match else None,
        "charts": len(charts),
        "curves": curves,
        "console_problems": console_problems,
        **found,
        "problems": problems,
    }


def render_json(json_path: Path, html_path: Path) -> None:
    """Render a JSON report to an HTML page with memleak's own reporter."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from memleak_cli.report.jsonio import read_report
    from memleak_cli.reporters.html import write_html

    write_html(read_report(json_path), html_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="an HTML report, or a JSON report to render first")
    parser.add_argument("--out", type=Path, default=Path("report.png"), help="screenshot file (PNG) [report.png]")
    parser.add_argument("--window-size", default="1400,3000", help="WIDTH,HEIGHT of the window [1400,3000]")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"Chromium binary [{CHROMIUM}]")
    args = parser.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"error: no Chromium at {args.chromium}: apt-get install -y chromium chromium-driver", file=sys.stderr)
        return 2
    if not args.report.is_file():
        print(f"error: no report at {args.report}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="memleak-shot-") as tmp:
        page = args.report.resolve()
        if page.suffix == ".json":
            page = Path(tmp) / (args.report.stem + ".html")
            render_json(args.report, page)
        url = page.as_uri()
        dumped = chromium(args.chromium, Path(tmp) / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom", url)
        result = check_dom(dumped.stdout, dumped.stderr)
        problems: list[str] = result["problems"]  # type: ignore[assignment]
        if dumped.returncode != 0:
            problems.insert(0, f"chromium --dump-dom exited {dumped.returncode}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.unlink(missing_ok=True)
        shot = chromium(args.chromium, Path(tmp) / "profile", f"--screenshot={args.out.resolve()}", f"--window-size={args.window_size}", url)
        if shot.returncode != 0 or not args.out.is_file() or args.out.stat().st_size == 0:
            problems.append(f"no screenshot written (chromium exited {shot.returncode})")
    result["screenshot"] = str(args.out)
    print(json.dumps(result))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
