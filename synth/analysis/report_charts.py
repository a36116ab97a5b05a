"""The charts of ``synth report`` as Vega-Lite specifications (plain dicts, JSON-ready).

One set of specs serves the HTML page (rendered in the browser by vega-embed, with tooltips
and zoom) and the PNG and SVG images (rendered by vl-convert). The data lives in named
datasets (``datasets()``), shared by every chart that uses it:

``buckets``   a row per time bucket: ``t``, ``t2`` (its end), a count per status class, ``total``
``windows``   a row per labelled window: ``id``, ``kind``, ``start``, ``end``, ``label``, ``lane``
``kind:K``    a row per bucket and series of kind K's panel: ``t``, ``series``, ``value``
``records``   ML records: ``t``, ``t2``, ``job``, ``score`` (with ML results only)
``verdicts``  a row per graded window: its span, ``verdict`` (caught, late, missed) and label
``alarms``    a row per false alarm: ``t``, ``t2``, ``job``, ``score``

In the whole-range chart, every shaded window is a ``rect`` mark of the unit ``windows`` (SVG
group class ``windows_marks``) whose ``aria-label`` starts with ``window <id>:``; its name is a
``text`` mark of the unit ``window_names``. Panels name theirs ``panel_N_windows``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from synth.analysis.report_data import CLASSES, QUANTILES, ReportData, iso_ms
from synth.analysis.score import Grade, Record

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
CLASS_COLORS = {"1xx": "#b279a2", "2xx": "#4c78a8", "3xx": "#72b7b2", "4xx": "#f58518", "5xx": "#e45756",
                "other": "#9d755d"}
WINDOW_FILL = "#f2b701"
VERDICT_COLORS = {"caught": "#54a24b", "late": "#eeca3b", "missed": "#e45756"}
DAY_MS = 24 * 3600 * 1000
LANE_PX = 13
PANEL_AXIS_PX = 90
LABEL_PX_PER_CHAR = 6.4

# What each kind's panel shows: the metric its job watches, and the job.
PANELS = {  # kind: (what the panel shows, its y axis, the job that watches it)
    "spike": ("requests", "requests", "smoke-request-count"),
    "dip": ("requests", "requests", "smoke-low-request-rate"),
    "error_burst": ("share of requests answered with the status", "% of requests", "smoke-status-code-rate"),
    "scan": ("distinct request targets per client", "targets", "smoke-url-scanning"),
    "flood": ("requests per client", "requests", "smoke-source-request-rate"),
    "crowd": ("clients never seen before", "new clients", "smoke-visitor-rate"),
    "bytes": ("response bytes per client", "bytes", "smoke-bytes-per-client"),
    "new_agent": ("requests by user agents first seen within a day", "requests", "smoke-rare-agent"),
    "latency": ("response time percentiles", "ms", "smoke-response-time"),
}

_panel_numbers = itertools.count(1)

TIME_AXIS = {"title": None, "format": "%a %d %b %H:%M", "labelOverlap": True, "grid": True}
ZOOM_AXIS = {"title": None, "format": "%H:%M", "labelOverlap": True, "grid": True}


def _time(field: str = "t", axis: dict[str, Any] | None = None, domain: list[int] | None = None) -> dict[str, Any]:
    encoding: dict[str, Any] = {"field": field, "type": "temporal", "scale": {"type": "utc"},
                                "axis": axis if axis is not None else TIME_AXIS}
    if domain is not None:
        encoding["scale"]["domain"] = domain
    return encoding


def _number(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def window_label(w: dict[str, Any]) -> str:
    if "label" in w:
        return str(w["label"])
    magnitude = w.get("magnitude")
    return f"{w['id']} x{magnitude:g}" if isinstance(magnitude, (int, float)) else str(w["id"])


def _lanes(windows: list[dict[str, Any]], start_ms: int, end_ms: int, width_px: float) -> list[int]:
    """A text row for each window's name, so that no two names overlap at ``width_px``."""
    span = max(1, end_ms - start_ms)
    ends: list[float] = []  # per lane: the x where its last name ends
    lanes = []
    for w in sorted(windows, key=lambda w: w["start_ms"]):
        x = (w["start_ms"] - start_ms) / span * width_px
        text_end = x + 4 + LABEL_PX_PER_CHAR * len(window_label(w))
        for lane, end in enumerate(ends):
            if x >= end:
                ends[lane] = text_end
                break
        else:
            lane = len(ends)
            ends.append(text_end)
        lanes.append((w["id"], lane))
    by_id = dict(lanes)
    return [by_id[w["id"]] for w in windows]


def datasets(data: ReportData, grade: Grade | None = None, records: list[Record] | None = None,
             width_px: float = 1100) -> dict[str, list[dict[str, Any]]]:
    """The named datasets every chart draws from (see the module docstring)."""
    t = data.times_ms.tolist()
    present = [c for i, c in enumerate(CLASSES) if data.classes[:, i].any()] or ["2xx"]
    columns = {c: data.classes[:, CLASSES.index(c)].tolist() for c in present}
    total = data.requests.tolist()
    rows = []
    for i, start in enumerate(t):
        row = {"t": start, "t2": start + data.bucket_ms, "total": total[i]}
        for c in present:
            row[c] = columns[c][i]
        rows.append(row)
    windows = [w.truth for w in data.windows]
    lanes = _lanes(windows, data.start_ms, data.end_ms, width_px)
    out: dict[str, list[dict[str, Any]]] = {
        "buckets": rows,
        "windows": [{"id": w["id"], "kind": w["kind"], "start": int(w["start_ms"]), "end": int(w["end_ms"]),
                     "magnitude": w.get("magnitude"), "label": window_label(w), "lane": lane,
                     "lane_y": 2 + lane * LANE_PX,
                     "from": iso_ms(int(w["start_ms"])), "to": iso_ms(int(w["end_ms"])),
                     "description": f"window {w['id']}: {w['kind']}, magnitude {w.get('magnitude')}, "
                                    f"{iso_ms(int(w['start_ms']))} to {iso_ms(int(w['end_ms']))}"}
                    for w, lane in zip(windows, lanes)],
    }
    for kind in data.kinds:
        out[f"kind:{kind}"] = _series_rows(data, kind)
    if grade is not None:
        graded = {r.id: r for r in grade.windows}
        out["verdicts"] = []
        for w in windows:
            r = graded.get(w["id"])
            if r is None:
                continue
            verdict = "late" if r.late else "caught" if r.caught else "missed"
            delay = f" +{(r.delay_s or 0) / 60:g} min" if r.late else ""
            text = f"{r.id} caught{delay}" if r.caught else f"{r.id} missed"
            out["verdicts"].append({"id": r.id, "start": r.start_ms, "end": r.end_ms, "verdict": verdict,
                                    "label": text, "job": r.job or ", ".join(r.jobs), "score": r.score,
                                    "description": f"window {r.id}: {text}"})
        spans = [{"id": v["id"], "start_ms": v["start"], "label": v["label"]} for v in out["verdicts"]]
        for v, lane in zip(out["verdicts"], _lanes(spans, data.start_ms, data.end_ms, width_px)):
            v["lane_y"] = 2 + lane * LANE_PX
        jobs = set(grade.jobs)
        out["records"] = [{"t": r.timestamp, "t2": r.end, "job": r.job_id, "score": round(r.score, 2)}
                          for r in (records or []) if r.job_id in jobs and not r.interim]
        out["alarms"] = [{"t": f.timestamp, "t2": f.timestamp + f.bucket_span * 1000, "job": f.job_id,
                          "score": round(f.score, 2), "description": f"false alarm: {f.job_id} at {iso_ms(f.timestamp)}"}
                         for f in grade.false_alarms]
    return out


def _series_rows(data: ReportData, kind: str) -> list[dict[str, Any]]:
    """Kind ``kind``'s panel as rows of (t, series, value)."""
    t = data.times_ms
    total = data.requests
    series: dict[str, np.ndarray] = {}
    windows = [w.truth for w in data.windows if w.kind == kind]
    affected = [str(v) for w in windows for v in (w.get("affected") or {}).get("values", [])]
    if kind in ("spike", "dip"):
        series["requests"] = total
    elif kind == "error_burst":
        for code in dict.fromkeys(int(v) for v in affected):
            counts = data.statuses.get(code, np.zeros_like(total))
            share = np.where(total > 0, 100.0 * counts / np.maximum(total, 1), np.nan)
            series[f"{code}"] = np.round(share, 3)
    elif kind in ("scan", "flood", "bytes"):
        grid, other = {"scan": (data.client_urls, data.other_urls), "flood": (data.client_requests, data.other_requests),
                       "bytes": (data.client_bytes, data.other_bytes)}[kind]
        for address in dict.fromkeys(affected):
            series[address] = grid[:, data.labelled_clients.index(address)]
        series["busiest other client"] = other
    elif kind == "crowd":
        series["new clients"] = data.new_clients
    elif kind == "new_agent":
        series["requests of new agents"] = data.new_agent_requests
    elif kind == "latency":
        for j, q in enumerate(QUANTILES):
            series[f"p{q * 100:g}"] = np.round(data.response_us[:, j] / 1000, 3)
    rows = []
    times = t.tolist()
    for name, values in series.items():
        for start, value in zip(times, values.tolist()):
            rows.append({"t": start, "series": name, "value": _number(value)})
    return rows


# --- the charts -----------------------------------------------------------------------------


def _window_layers(domain: list[int] | None, kind: str | None = None, lanes: bool = True) -> list[dict[str, Any]]:
    """The shaded windows (unit ``windows``) and their names (unit ``window_names``)."""
    transform: list[dict[str, Any]] = [{"filter": {"field": "kind", "equal": kind}}] if kind else []
    if domain is not None:
        transform.append({"filter": f"datum.end > {domain[0]} && datum.start < {domain[1]}"})
    tooltip: list[dict[str, Any]] = [{"field": "id"}, {"field": "kind"}, {"field": "magnitude"},
                                     {"field": "from", "title": "start (UTC)"}, {"field": "to", "title": "end (UTC)"}]
    # the overview's units are named windows and window_names; a panel's, panel_windows and
    # panel_window_names with a number (unit names are unique across one image)
    prefix = "" if kind is None else f"panel_{next(_panel_numbers)}_"
    return [
        {"name": f"{prefix}windows", "data": {"name": "windows"}, "transform": transform,
         "mark": {"type": "rect", "color": WINDOW_FILL, "opacity": 0.3},
         "encoding": {"x": _time("start", domain=domain), "x2": {"field": "end"},
                      "description": {"field": "description"}, "tooltip": tooltip}},
        {"name": f"{prefix}window_names", "data": {"name": "windows"}, "transform": transform,
         "mark": {"type": "text", "align": "left", "baseline": "top", "dx": 3, "fontSize": 11,
                  "fontWeight": "bold", "color": "#6b4e00"},
         "encoding": {"x": _time("start", domain=domain),
                      "y": ({"field": "lane_y", "type": "quantitative", "scale": None} if lanes else {"value": 2}),
                      "text": {"field": "label"}, "description": {"field": "description"}}},
    ]


def overview(width: int | str, height: int, present: list[str]) -> dict[str, Any]:
    """Requests per bucket over the whole range, stacked by status class, every window shaded."""
    classes = [c for c in CLASSES if c in present]
    tooltip = [{"field": "t", "type": "temporal", "title": "bucket (UTC)", "format": "%Y-%m-%d %H:%M",
                "scale": {"type": "utc"}}, {"field": "total", "title": "requests", "format": ","}]
    tooltip += [{"field": c, "format": ","} for c in classes]
    return {
        "width": width, "height": height,
        "title": {"text": "Requests per bucket, by status class, with every labelled window", "anchor": "start"},
        "layer": [
            {"data": {"name": "buckets"}, "transform": [{"fold": classes, "as": ["class", "requests"]}],
             "mark": {"type": "area", "interpolate": "step-after"},
             "encoding": {"x": _time(), "y": {"field": "requests", "type": "quantitative", "stack": "zero",
                                              "title": "requests"},
                          "color": {"field": "class", "type": "nominal", "title": "status",
                                    "scale": {"domain": classes, "range": [CLASS_COLORS[c] for c in classes]},
                                    "sort": classes},
                          "order": {"field": "class", "sort": "ascending"}}},
            *_window_layers(None),
            {"name": "buckets_hover", "data": {"name": "buckets"},
             "params": [{"name": "zoom", "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales"}],
             "mark": {"type": "rect", "opacity": 0, "color": "#000"},
             "encoding": {"x": _time(), "x2": {"field": "t2"}, "y": {"value": 0}, "y2": {"value": height},
                          "tooltip": tooltip}},
        ],
        "resolve": {"scale": {"color": "independent"}},
    }


def panel(kind: str, width: int | str, height: int, domain: list[int] | None, title: dict[str, Any]) -> dict[str, Any]:
    """Kind ``kind``'s metric, over ``domain`` (a day around one window) or the whole range."""
    transform: list[dict[str, Any]] = [{"filter": "isValid(datum.value)"}]
    if domain is not None:
        transform.append({"filter": f"datum.t >= {domain[0]} && datum.t < {domain[1]}"})
    axis = ZOOM_AXIS if domain is not None else TIME_AXIS
    y_title = PANELS.get(kind, ("", "value", ""))[1]
    line: dict[str, Any] = {
        "data": {"name": f"kind:{kind}"}, "transform": transform,
        "mark": {"type": "line", "interpolate": "step-after", "strokeWidth": 1.5},
        "encoding": {"x": _time(axis=axis, domain=domain),
                     "y": {"field": "value", "type": "quantitative", "title": y_title,
                           "axis": {"format": "~s"}},
                     "color": {"field": "series", "type": "nominal", "title": None,
                               "legend": {"orient": "top", "labelLimit": 320}},
                     "tooltip": [{"field": "t", "type": "temporal", "title": "bucket (UTC)",
                                  "format": "%Y-%m-%d %H:%M", "scale": {"type": "utc"}},
                                 {"field": "series"}, {"field": "value", "format": ",.4~f"}]}}
    if domain is None:
        line["params"] = [{"name": f"zoom_{kind.replace('-', '_')}",
                           "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales"}]
    if isinstance(width, int):  # an image: titles never widen the row
        title = {**title, "limit": width, "subtitleLimit": width}
    return {"width": width, "height": height, "title": title,
            "layer": [*_window_layers(domain, kind, lanes=domain is None), line]}


def ml_chart(width: int | str, height: int, min_score: float, domain: list[int]) -> dict[str, Any]:
    """The ML records' scores over the whole range: graded windows coloured by their verdict,
    false alarms marked, the counting threshold drawn."""
    verdicts = list(VERDICT_COLORS)
    return {
        "width": width, "height": height,
        "title": {"text": "ML anomaly records: record_score per bucket; windows caught, late or missed",
                  "anchor": "start"},
        "layer": [
            {"name": "verdicts", "data": {"name": "verdicts"},
             "mark": {"type": "rect", "opacity": 0.3},
             "encoding": {"x": _time("start", domain=domain), "x2": {"field": "end"},
                          "color": {"field": "verdict", "type": "nominal", "title": "window",
                                    "scale": {"domain": verdicts, "range": [VERDICT_COLORS[v] for v in verdicts]}},
                          "description": {"field": "description"},
                          "tooltip": [{"field": "id"}, {"field": "label", "title": "verdict"}, {"field": "job"},
                                      {"field": "score", "format": ".1f"}]}},
            {"name": "verdict_names", "data": {"name": "verdicts"},
             "mark": {"type": "text", "align": "left", "baseline": "top", "dx": 3, "fontSize": 11},
             "encoding": {"x": _time("start"), "y": {"field": "lane_y", "type": "quantitative", "scale": None},
                          "text": {"field": "label"}}},
            {"name": "alarms", "data": {"name": "alarms"},
             "mark": {"type": "rule", "color": "#d62728", "strokeWidth": 1.5, "strokeDash": [3, 2]},
             "encoding": {"x": _time(), "description": {"field": "description"},
                          "tooltip": [{"field": "job"}, {"field": "t", "type": "temporal", "title": "bucket (UTC)",
                                       "format": "%Y-%m-%d %H:%M", "scale": {"type": "utc"}},
                                      {"field": "score", "format": ".1f"}]}},
            {"data": {"values": [{"y": min_score}]},
             "mark": {"type": "rule", "color": "#888", "strokeDash": [6, 3]},
             "encoding": {"y": {"field": "y", "type": "quantitative"}}},
            {"name": "records", "data": {"name": "records"},
             "params": [{"name": "zoom_ml", "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales"}],
             "mark": {"type": "point", "filled": True, "size": 28},
             "encoding": {"x": _time(), "y": {"field": "score", "type": "quantitative", "title": "record_score",
                                              "scale": {"domain": [0, 100]}},
                          "shape": {"field": "job", "type": "nominal", "title": "job"},
                          "color": {"field": "job", "type": "nominal", "title": "job",
                                    "scale": {"scheme": "tableau10"}},
                          "tooltip": [{"field": "job"}, {"field": "t", "type": "temporal", "title": "bucket (UTC)",
                                       "format": "%Y-%m-%d %H:%M", "scale": {"type": "utc"}},
                                      {"field": "score", "format": ".1f"}]}},
        ],
        "resolve": {"scale": {"color": "independent", "shape": "independent"}},
    }


def zoom_domain(window: dict[str, Any], data: ReportData) -> list[int]:
    """A day around the window, kept inside the range where the range allows."""
    middle = (int(window["start_ms"]) + int(window["end_ms"])) // 2
    span = max(DAY_MS, int(window["end_ms"]) - int(window["start_ms"]) + 2 * 3600_000)
    lo = middle - span // 2
    lo = max(data.start_ms, min(lo, data.end_ms - span))
    return [lo, lo + span]


def panel_title(kind: str, window: dict[str, Any] | None, data: ReportData) -> dict[str, Any]:
    what, _, job = PANELS.get(kind, ("", "", ""))
    where = f"{window['id']}, a day around it" if window else "the whole range"
    return {"text": f"{kind}: {what}, per {data.bucket}", "subtitle": f"{where} · job {job}", "anchor": "start",
            "fontSize": 12, "subtitleFontSize": 11, "subtitleColor": "#555"}


def page_charts(data: ReportData, grade: Grade | None, min_score: float) -> list[dict[str, Any]]:
    """The charts of the HTML page, each ``{"id", "kind", "spec"}`` (specs without data)."""
    present = [c for i, c in enumerate(CLASSES) if data.classes[:, i].any()] or ["2xx"]
    charts = [{"id": "overview", "kind": None, "spec": overview("container", 280, present)}]
    for kind in data.kinds:
        for w in (f.truth for f in data.windows if f.kind == kind):
            charts.append({"id": f"zoom-{w['id']}", "kind": kind,
                           "spec": panel(kind, "container", 200, zoom_domain(w, data), panel_title(kind, w, data))})
        charts.append({"id": f"whole-{kind}", "kind": kind,
                       "spec": panel(kind, "container", 200, None, panel_title(kind, None, data))})
    if grade is not None:
        charts.append({"id": "ml", "kind": None, "spec": ml_chart("container", 240, min_score, [data.start_ms, data.end_ms])})
    return charts


def image_spec(data: ReportData, grade: Grade | None, min_score: float, width: int,
               heights: dict[str, int] | None = None) -> dict[str, Any]:
    """One spec of every chart, stacked, for PNG and SVG: the overview, a row per kind (a day
    around each of its windows, then the whole range), and the ML results."""
    heights = heights or {}
    present = [c for i, c in enumerate(CLASSES) if data.classes[:, i].any()] or ["2xx"]
    rows: list[dict[str, Any]] = [overview(width, heights.get("overview", 240), present)]
    # the hover rect and zoom are for the browser
    rows[0]["layer"] = [layer for layer in rows[0]["layer"] if layer.get("name") != "buckets_hover"]
    for kind in data.kinds:
        kind_windows = [f.truth for f in data.windows if f.kind == kind]
        cells = len(kind_windows) + 1
        # each panel's y axis and padding take about PANEL_AXIS_PX beside its plot; the rows stay
        # narrower than the overview, whose width sets the image's
        cell = max(100, (width - PANEL_AXIS_PX * (cells - 1) - 20) // cells)
        row = [panel(kind, cell, heights.get(kind, 150), zoom_domain(w, data), panel_title(kind, w, data))
               for w in kind_windows]
        row.append(panel(kind, cell, heights.get(kind, 150), None, panel_title(kind, None, data)))
        for spec in row:
            for layer in spec["layer"]:
                layer.pop("params", None)
        rows.append({"hconcat": row, "resolve": {"scale": {"color": "independent", "y": "independent"}}})
    if grade is not None:
        ml = ml_chart(width, heights.get("ml", 200), min_score, [data.start_ms, data.end_ms])
        for layer in ml["layer"]:
            layer.pop("params", None)
        rows.append(ml)
    return {"vconcat": rows, "spacing": 24, "resolve": {"scale": {"color": "independent"}}}


def with_data(spec: dict[str, Any], data: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A spec ready to render: the schema, the config and the datasets it names."""
    return {"$schema": SCHEMA, "config": CONFIG, "datasets": data, **spec}


CONFIG = {
    "font": "DejaVu Sans, Helvetica, Arial, sans-serif",
    "view": {"stroke": "#ddd"},
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "gridColor": "#eee"},
    "legend": {"labelFontSize": 11, "titleFontSize": 11},
    "title": {"fontSize": 13},
    "background": "white",
}
