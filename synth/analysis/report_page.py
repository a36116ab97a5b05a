"""The report as files: one self-contained HTML page, or a PNG or SVG of the same charts.

The page carries Vega, Vega-Lite and vega-embed inline (vl-convert's bundle of them, built
once per vl-convert version and kept in ``~/.cache/synth``), its styles and its data, so it
opens with no network. Charts are drawn as SVG in the browser, with
tooltips, and zoom and pan on the time axis (drag, wheel; double-click resets). When every
chart is drawn, ``<body data-charts="ready">``; a chart that fails says so on the page and in
the console (``data-charts="failed"``).

Images come from vl-convert (Vega's own renderer, no browser): the SVG is laid out to the
asked size and the PNG is that SVG rasterised, so both have exactly the asked width and
height in pixels.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any

import jinja2

from synth.analysis.report_charts import datasets, image_spec, page_charts, with_data
from synth.analysis.report_data import CLASSES, ReportData, iso_ms
from synth.analysis.score import Grade, Record, ratio_text, span_text
from synth.version import __version__

DEFAULT_WIDTH = 1200
# vl-convert's bundle ends by making its libraries global; a cached copy that does not is
# cut short, and is built again.
_BUNDLE_END = "window.vegaLite=__default1;"
_bundle: dict[str, Any] = {}
_bundle_lock = threading.Lock()


def bundle_cache() -> Path:
    """Where the bundle is kept between runs: ``$XDG_CACHE_HOME/synth`` (``~/.cache/synth``)."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    from importlib.metadata import version
    return Path(root) / "synth" / f"vega-bundle-{version('vl-convert-python')}.js"


def start_bundle() -> None:
    """Begin getting the inline JavaScript: from the cache, or built by vl-convert in a thread
    (a few seconds, without holding the GIL), so that building overlaps reading the logs."""
    with _bundle_lock:
        if "thread" in _bundle:
            return

        def build() -> None:
            try:
                import vl_convert
                cache = bundle_cache()
                try:
                    _bundle["js"] = cache.read_text(encoding="utf-8")
                    if _bundle["js"].endswith(_BUNDLE_END):
                        return
                except OSError:
                    pass
                _bundle["js"] = vl_convert.javascript_bundle()  # type: ignore[call-arg]
                try:  # a cache that cannot be written costs the next run a few seconds, nothing more
                    cache.parent.mkdir(parents=True, exist_ok=True)
                    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
                    tmp.write_text(_bundle["js"], encoding="utf-8")
                    os.replace(tmp, cache)
                except OSError:
                    pass
            except Exception as e:  # noqa: BLE001  (raised where the bundle is used)
                _bundle["error"] = e

        thread = threading.Thread(target=build, name="vega-bundle", daemon=True)
        _bundle["thread"] = thread
        thread.start()


def javascript_bundle() -> str:
    start_bundle()
    _bundle["thread"].join()
    if "error" in _bundle:
        raise _bundle["error"]
    return str(_bundle["js"])


def _script_safe(text: str) -> str:
    """Text that cannot end the <script> element it sits in."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def _figure(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def window_rows(data: ReportData, grade: Grade | None) -> list[dict[str, Any]]:
    """The windows table: each window's expected and measured effect (and verdict)."""
    verdicts = {r.id: r for r in grade.windows} if grade else {}
    rows = []
    for f in data.windows:
        expected = f.truth.get("expected") or {}
        share = f.share is not None
        row = {"id": f.id, "kind": f.kind, "span": span_text(int(f.truth["start_ms"]), int(f.truth["end_ms"])),
               "magnitude": f.truth.get("magnitude"), "metric": expected.get("metric") or f.measure,
               "measure": f.measure, "baseline": expected.get("baseline"), "during": expected.get("during"),
               "measured": f.measured, "compare": f.compare, "compare_label": f.compare_label or "",
               "digits": 1 if f.kind in ("scan", "latency") else 0,
               "share": f.share, "compare_share": f.compare_share, "share_during": expected.get("share_during"),
               "share_baseline": expected.get("share_baseline"), "has_share": share,
               "new_clients": f.new_clients, "expected_new": expected.get("new_clients"),
               "affected": ", ".join(str(v) for v in (f.truth.get("affected") or {}).get("values", [])),
               "jobs": ", ".join(f.truth.get("jobs") or [])}
        r = verdicts.get(f.id)
        if r is not None:
            row["verdict"] = "late" if r.late else "caught" if r.caught else "missed"
            row["delay"] = f"{(r.delay_s or 0) / 60:g} min" if r.caught else "-"
            row["score"] = f"{r.score:.1f}" if r.caught else "-"
        elif grade is not None:
            row["verdict"] = "not graded"
        rows.append(row)
    return rows


def summary(data: ReportData) -> dict[str, Any]:
    run = data.run or {}
    scenario = run.get("scenario") or {}
    return {"scenario": scenario.get("name"), "seed": run.get("seed"), "version": run.get("version"),
            "start": iso_ms(data.start_ms), "end": iso_ms(data.end_ms), "lines": data.lines,
            "unparsed": data.unparsed, "first_unparsed": data.first_unparsed, "late": data.late,
            "files": data.files, "bucket": data.bucket, "windows": len(data.windows),
            "requests": int(data.requests.sum()),
            "classes": {c: int(data.classes[:, i].sum()) for i, c in enumerate(CLASSES) if data.classes[:, i].any()}}


def page_html(data: ReportData, grade: Grade | None = None, records: list[Record] | None = None,
              min_score: float = 25.0) -> str:
    """The whole report as one HTML page that needs no network."""
    charts = page_charts(data, grade, min_score)
    shared = datasets(data, grade, records)
    payload = {"datasets": shared, "charts": charts, "config": with_data({}, {})["config"]}
    figures = grade.figures if grade else None
    page = _TEMPLATE.render(
        title=f"synth report: {summary(data)['scenario'] or ', '.join(Path(f).name for f in data.files[:3])}",
        summary=summary(data), windows=window_rows(data, grade), kinds=data.kinds, charts=charts, grade=grade,
        figures=figures, ratio=ratio_text, figure=_figure, min_score=min_score, version=__version__,
        payload=_script_safe(json.dumps(payload, separators=(",", ":"), allow_nan=False)),
        bundle=_script_safe(javascript_bundle()), false_alarms=grade.false_alarms if grade else [],
        iso=iso_ms)
    return page


def svg_image(data: ReportData, grade: Grade | None = None, records: list[Record] | None = None,
              min_score: float = 25.0, width: int = DEFAULT_WIDTH, height: int | None = None) -> str:
    """Every chart stacked in one SVG of exactly ``width`` x ``height`` pixels (height: as the
    charts need, when None)."""
    import vl_convert
    shared = datasets(data, grade, records, width_px=width - 120)
    rows = 1 + len(data.kinds) + (grade is not None)
    plot = width - 120
    # Vega sizes the plots; axes, legends and titles come around them. One measured correction
    # brings the whole to the asked size (within a pixel or two, which the frame absorbs). The
    # measuring draw needs the axes, not the lines: it gets the extremes of each series only.
    measured = vl_convert.vegalite_to_svg(with_data(image_spec(data, grade, min_score, plot), _extremes(shared)))
    got_w, got_h = _svg_size(measured)
    plot = max(200, plot + width - got_w)
    heights: dict[str, int] = {}
    if height is not None:
        extra = (height - got_h) / rows
        base = {"overview": 240, "ml": 200, **{k: 150 for k in data.kinds}}
        heights = {name: max(40, int(h + extra)) for name, h in base.items()}
    svg = vl_convert.vegalite_to_svg(with_data(image_spec(data, grade, min_score, plot, heights=heights), shared))
    return _frame(svg, width, height if height is not None else _svg_size(svg)[1])


MEASURE_BINS = 96  # time bins of a measuring draw's series


def _extremes(shared: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The datasets cut to what sets the charts' axes and legends: of a long series, in each of
    ``MEASURE_BINS`` stretches of time, the rows (every series' row at that time) where a value
    is at its least or most, with the first and last times and every series name."""
    out = {}
    for name, rows in shared.items():
        if len(rows) <= 4 * MEASURE_BINS or not all("t" in row for row in rows):
            out[name] = rows
            continue
        times = sorted({row["t"] for row in rows})
        first, span = times[0], max(1, times[-1] - times[0])
        best: dict[tuple, tuple[float, Any]] = {}  # (bin, series, field, least or most) -> (value, time)
        seen: dict[Any, Any] = {}
        for row in rows:
            series = row.get("series")
            seen.setdefault(series, row["t"])
            slot = (row["t"] - first) * MEASURE_BINS // span
            for field, value in row.items():
                if field in ("t", "t2") or not isinstance(value, int | float) or value != value:
                    continue
                for end, sign in (("least", 1), ("most", -1)):
                    key = (slot, series, field, end)
                    if key not in best or sign * value < sign * best[key][0]:
                        best[key] = (value, row["t"])
        keep = {times[0], times[-1], *seen.values(), *(t for _, t in best.values())}
        out[name] = [row for row in rows if row["t"] in keep]
    return out


def _svg_size(svg: str) -> tuple[int, int]:
    m = re.search(r'<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"', svg)
    if not m:
        raise ValueError("vl-convert returned an SVG without a size")
    return round(float(m.group(1))), round(float(m.group(2)))


def _frame(svg: str, width: int, height: int) -> str:
    """The SVG with exactly ``width`` x ``height``: its drawing scaled into the frame if it is
    larger, centred on white if smaller; never distorted."""
    w, h = _svg_size(svg)
    head = re.match(r"<svg[^>]*>", svg)
    assert head is not None
    tag = head.group(0)
    tag = re.sub(r'\swidth="[\d.]+"', f' width="{width}"', tag, count=1)
    tag = re.sub(r'\sheight="[\d.]+"', f' height="{height}"', tag, count=1)
    tag = re.sub(r'\sviewBox="[^"]*"', f' viewBox="0 0 {w} {h}" preserveAspectRatio="xMidYMin meet"', tag, count=1)
    body = svg[head.end():]
    # the white background of the drawing, stretched to the frame
    return tag + f'<rect x="-{width}" y="-{height}" width="{3 * width}" height="{3 * height}" fill="white"/>' + body


def png_image(data: ReportData, grade: Grade | None = None, records: list[Record] | None = None,
              min_score: float = 25.0, width: int = DEFAULT_WIDTH, height: int | None = None) -> bytes:
    """The SVG image rasterised: a PNG of exactly ``width`` x ``height`` pixels."""
    import vl_convert
    return bytes(vl_convert.svg_to_png(svg_image(data, grade, records, min_score, width, height), scale=1))


_TEMPLATE = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string("""\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="synth {{ version }}">
<title>{{ title }}</title>
<style>
  body { font: 14px/1.45 "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0 auto; padding: 16px 24px 48px;
         max-width: 1360px; color: #222; background: #fff; }
  h1 { font-size: 20px; margin: 8px 0 4px; }
  h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
  p.summary { margin: 0 0 12px; color: #444; }
  .chart { width: 100%; min-height: 120px; }
  .chart.failed { color: #b00; }
  .pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px 24px; }
  table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
  th, td { border-bottom: 1px solid #e4e4e4; padding: 3px 8px; text-align: left; vertical-align: top; }
  th { background: #f6f6f6; font-weight: 600; }
  td.span { white-space: nowrap; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  td.verdict-caught { color: #2e7d32; } td.verdict-late { color: #9a6b00; } td.verdict-missed { color: #c62828; }
  .note { color: #666; font-size: 12px; }
  code { font-size: 12px; }
  .wide { overflow-x: auto; }
</style>
</head>
<body data-charts="loading">
<h1>{{ title }}</h1>
<p class="summary">
  {{ summary.start }} to {{ summary.end }} (UTC) &middot; {{ "{:,}".format(summary.lines) }} lines in
  {{ summary.files|length }} file{{ "s" if summary.files|length != 1 }}
  {% if summary.seed is not none %}&middot; seed {{ summary.seed }}{% endif %}
  &middot; buckets of {{ summary.bucket }} &middot; {{ summary.windows }} labelled window{{ "s" if summary.windows != 1 }}
  {% if summary.unparsed %}&middot; {{ "{:,}".format(summary.unparsed) }} lines not read (first: {{ summary.first_unparsed }}){% endif %}
</p>
{% if summary.late %}
<p class="note">{{ "{:,}".format(summary.late) }} lines came more than a bucket out of time order: in their buckets,
distinct counts, busiest clients and percentiles are approximate (every count is exact).</p>
{% endif %}

<section id="whole-range">
<div class="chart" id="chart-overview"></div>
<p class="note">Drag or scroll on a chart to pan and zoom its time axis; double-click to reset. Times are UTC.</p>
</section>

<section id="windows-section">
<h2>Labelled windows</h2>
{% if windows %}
<div class="wide"><table id="windows">
<thead><tr><th>window</th><th>kind</th><th>window (UTC)</th><th>magnitude</th><th>metric</th>
<th>expected normal</th><th>expected during</th><th>measured during</th><th>measured, same span</th>
{% if grade %}<th>ML</th><th>delay</th><th>score</th>{% endif %}</tr></thead>
<tbody>
{% for w in windows %}
<tr data-window="{{ w.id }}" data-kind="{{ w.kind }}">
<td>{{ w.id }}</td><td>{{ w.kind }}</td><td class="span">{{ w.span }}</td><td class="num">{{ w.magnitude }}</td>
<td>{{ w.metric }}{% if w.affected %}<br><span class="note">{{ w.affected }}</span>{% endif %}</td>
<td class="num" data-figure="baseline" data-value="{{ w.baseline }}">{{ figure(w.baseline) if w.baseline is number else "-" }}</td>
<td class="num" data-figure="during" data-value="{{ w.during }}">{{ figure(w.during) if w.during is number else "-" }}</td>
<td class="num" data-figure="measured" data-value="{{ w.measured }}">{{ figure(w.measured, w.digits) }}
{% if w.has_share %}<br><span class="note" data-figure="share" data-value="{{ w.share }}">{{ "%.2f"|format(100 * w.share) }} % of requests</span>{% endif %}
{% if w.new_clients is not none %}<br><span class="note" data-figure="new_clients" data-value="{{ w.new_clients }}">{{ figure(w.new_clients) }} new clients (expected {{ w.expected_new }})</span>{% endif %}
</td>
<td class="num" data-figure="compare" data-value="{{ w.compare }}">{{ figure(w.compare, w.digits) }}{% if w.compare_label %}<br><span class="note">{{ w.compare_label }}</span>{% endif %}
{% if w.has_share and w.compare_share is not none %}<br><span class="note">{{ "%.2f"|format(100 * w.compare_share) }} %</span>{% endif %}
</td>
{% if grade %}<td class="verdict-{{ w.verdict }}" data-figure="verdict">{{ w.verdict }}</td><td class="num">{{ w.delay or "-" }}</td><td class="num">{{ w.score or "-" }}</td>{% endif %}
</tr>
{% endfor %}
</tbody></table></div>
<p class="note">Expected figures are the ground truth's (anomalies.json: the window's metric without the anomaly, and
with it). Measured figures are counted from the lines whose time is in the window; "same span" is the same
metric over the same clock time a day before (a day after when that is outside the logs).</p>
{% else %}
<p>No labelled windows{% if not summary.seed %} (give <code>--truth anomalies.json</code> to see them){% endif %}.</p>
{% endif %}
</section>

{% for kind in kinds %}
<section class="kind-panel" id="kind-{{ kind }}" data-kind="{{ kind }}">
<h2>{{ kind }}</h2>
<div class="pair">
{% for chart in charts if chart.kind == kind %}
<div class="chart" id="chart-{{ chart.id }}"></div>
{% endfor %}
</div>
</section>
{% endfor %}

{% if grade %}
<section id="ml-section">
<h2>ML results against the truth</h2>
<div class="chart" id="chart-ml"></div>
<table id="ml-figures">
<tr><th>jobs</th><td>{{ grade.jobs|join(", ") }}</td></tr>
<tr><th>records with record_score &ge; {{ "%g"|format(min_score) }}</th><td class="num" data-figure="counted">{{ grade.counted }}</td></tr>
<tr><th>windows graded</th><td class="num" data-figure="windows">{{ figures.windows }}</td></tr>
<tr><th>caught (late)</th><td class="num" data-figure="caught">{{ figures.caught }} ({{ figures.late }})</td></tr>
<tr><th>missed</th><td class="num" data-figure="missed">{{ figures.missed }}</td></tr>
<tr><th>false alarms</th><td class="num" data-figure="false_alarms">{{ figures.false_alarms }}</td></tr>
<tr><th>precision</th><td class="num" data-figure="precision">{{ ratio(figures.precision) }}</td></tr>
<tr><th>recall</th><td class="num" data-figure="recall">{{ ratio(figures.recall) }}</td></tr>
<tr><th>F1</th><td class="num" data-figure="f1">{{ ratio(figures.f1) }}</td></tr>
<tr><th>NAB-style score</th><td class="num" data-figure="nab">{{ "n/a" if figures.nab is none else "%.1f"|format(figures.nab) }}</td></tr>
</table>
{% if grade.not_graded %}<p class="note">Not graded (no given job is expected to catch them): {{ grade.not_graded|join(", ") }}.</p>{% endif %}
{% if false_alarms %}
<details><summary>{{ false_alarms|length }} false alarm{{ "s" if false_alarms|length != 1 }}</summary>
<table id="false-alarms"><tr><th>job</th><th>bucket (UTC)</th><th>record_score</th></tr>
{% for f in false_alarms %}<tr><td>{{ f.job_id }}</td><td>{{ iso(f.timestamp) }}</td><td class="num">{{ "%.1f"|format(f.score) }}</td></tr>{% endfor %}
</table></details>
{% endif %}
<p class="note">As <code>synth score</code> grades them: see its help for the definitions.</p>
</section>
{% endif %}

<p class="note">Made by synth {{ version }} with Vega-Lite. The page works offline: its scripts and data are inside it.</p>
<script>{{ bundle|safe }}</script>
<script type="application/json" id="report-data">{{ payload|safe }}</script>
<script>
(function () {
  var payload = JSON.parse(document.getElementById("report-data").textContent);
  var jobs = payload.charts.map(function (chart) {
    var spec = Object.assign({"$schema": "https://vega.github.io/schema/vega-lite/v6.json",
                              config: payload.config, datasets: payload.datasets}, chart.spec);
    var el = document.getElementById("chart-" + chart.id);
    return vegaEmbed(el, spec, {renderer: "svg", actions: false, tooltip: true}).catch(function (error) {
      el.className += " failed";
      el.textContent = "This chart could not be drawn: " + error;
      console.error("chart " + chart.id + ": " + error);
      throw error;
    });
  });
  Promise.all(jobs).then(function () { document.body.dataset.charts = "ready"; },
                         function () { document.body.dataset.charts = "failed"; });
})();
</script>
</body>
</html>
""")
