"""synth report: the page in a real browser, the images, and every figure against our own reader.

The browser is Debian's chromium, headless, driven by Playwright (the PyPI package, with its
own browser download never used: ``executable_path`` points at /usr/bin/chromium). The page is
opened from a file with no network: any request that is not for a file fails the test.
"""

from __future__ import annotations

import datetime as dt
import html.parser
import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import END
from hypothesis import given, settings
from hypothesis import strategies as st
from logread import Parsed

import synth
from synth.analysis import report_page
from synth.analysis.report import _logread_columns, build_report, read_columns
from synth.analysis.report_data import ALL_NEEDS, BUCKETS, CLASSES, Collector, Columns, collect
from synth.analysis.score import grade, parse_records
from synth.cli import main

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# A day with one window of each kind the page has a panel for; combined_timing carries %D,
# so latency shows. Offsets keep the windows apart, and each kind's day-before twin outside.
SCENARIO = {
    "name": "report-test", "days": 1.5, "rate": 0.3, "format": "combined_timing",
    "anomalies": [
        {"kind": "spike", "start": "+14h", "minutes": 30, "magnitude": 8},
        {"kind": "error_burst", "start": "+16h", "minutes": 20, "magnitude": 40, "status": 503},
        {"kind": "scan", "start": "+18h", "minutes": 20, "magnitude": 1},
        {"kind": "new_agent", "start": "+22h", "minutes": 20, "magnitude": 30},
        {"kind": "latency", "start": "+26h", "minutes": 30, "magnitude": 6},
        {"kind": "flood", "start": "+30h", "minutes": 30, "magnitude": 30},
        {"kind": "dip", "start": "+33h", "minutes": 40, "magnitude": 0.2},
    ],
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    scenario = folder / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    out = folder / "output"
    synth.generate(scenario, seed=21, out_dir=out, end=END)
    return out


@pytest.fixture(scope="module")
def truth(run):
    return json.loads((run / "anomalies.json").read_text())


@pytest.fixture(scope="module")
def parsed(run):
    return Parsed.read(run)


@pytest.fixture(scope="module")
def records_file(run, truth, tmp_path_factory):
    """Saved records as the get-records API returns them: the spike caught in its second
    bucket, the dip's job silent (missed), one false alarm far from any window."""
    spike = next(w for w in truth["anomalies"] if w["kind"] == "spike")
    span = 900
    first = spike["start_ms"] // (span * 1000) * span * 1000 + span * 1000
    manifest = json.loads((run / "manifest.json").read_text())
    records = [
        {"job_id": "smoke-request-count", "timestamp": first, "bucket_span": span, "record_score": 91.5,
         "is_interim": False},
        {"job_id": "smoke-request-count", "timestamp": manifest["start_ms"] + 3 * 3600_000, "bucket_span": span,
         "record_score": 40.0, "is_interim": False},
        {"job_id": "smoke-low-request-rate", "timestamp": manifest["start_ms"] + 3600_000, "bucket_span": span,
         "record_score": 5.0, "is_interim": False},
    ]
    path = tmp_path_factory.mktemp("records") / "records.json"
    path.write_text(json.dumps({"count": len(records), "records": records}))
    return path


def own_measure(parsed: Parsed, window: dict, start_ms: int, end_ms: int) -> float | None:
    """A window's measured figure, from our own reader's lines (see report_data.MEASURES)."""
    inside = (parsed.t * 1000 >= start_ms) & (parsed.t * 1000 < end_ms)
    p = parsed.take(inside)
    values = window["affected"]["values"]
    kind = window["kind"]
    if kind == "error_burst":
        return int(np.count_nonzero(p.status == int(values[0])))
    if kind == "scan":
        return float(np.mean([len(set(p.url[p.client == v])) for v in values]))
    if kind == "flood":
        return int(np.count_nonzero(np.isin(p.client, values)))
    if kind == "bytes":
        return int(p.size[np.isin(p.client, values)].sum())
    if kind == "new_agent":
        return int(np.count_nonzero(np.isin(p.agent, values)))
    if kind == "crowd":
        return len(set(p.client))
    if kind == "latency":
        return float(p.duration.mean()) if len(p.t) else None
    return len(p.t)


def own_twin(parsed: Parsed, window: dict) -> tuple[int, int] | None:
    day = 24 * 3600_000
    lo, hi = int(parsed.t.min()) * 1000, (int(parsed.t.max()) + 1) * 1000
    if window["start_ms"] - day >= lo:
        return window["start_ms"] - day, window["end_ms"] - day
    if window["end_ms"] + day <= hi:
        return window["start_ms"] + day, window["end_ms"] + day
    return None


class TableReader(html.parser.HTMLParser):
    """The windows table of a page: data-figure -> data-value, per data-window row."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.row: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-window" in a:
            self.row = a["data-window"]
            self.rows[self.row] = {}
        elif self.row and "data-figure" in a and "data-value" in a:
            self.rows[self.row][a["data-figure"]] = a["data-value"]


def value(text: str) -> float | None:
    return None if text in ("None", "") else float(text)


# --- the figures ---------------------------------------------------------------------------


def test_windows_table_equals_own_reader(run, truth, parsed, tmp_path):
    """Every window's measured figure in the page, and the same span a day away, equal what
    our own reader counts in the files; the expected figures are the truth's."""
    page = tmp_path / "report.html"
    assert main_exit(["report", str(run), "-o", str(page)]) == 0
    table = TableReader()
    table.feed(page.read_text())
    assert list(table.rows) == [w["id"] for w in truth["anomalies"]]
    for w in truth["anomalies"]:
        row = table.rows[w["id"]]
        assert value(row["measured"]) == pytest.approx(own_measure(parsed, w, w["start_ms"], w["end_ms"])), w["id"]
        twin = own_twin(parsed, w)
        expected_twin = own_measure(parsed, w, *twin) if twin else None
        assert value(row["compare"]) == pytest.approx(expected_twin), w["id"]
        assert value(row["during"]) == w["expected"]["during"]
        assert value(row["baseline"]) == w["expected"]["baseline"]
    burst = next(w for w in truth["anomalies"] if w["kind"] == "error_burst")
    inside = (parsed.t * 1000 >= burst["start_ms"]) & (parsed.t * 1000 < burst["end_ms"])
    share = np.count_nonzero(parsed.status[inside] == 503) / np.count_nonzero(inside)
    assert value(table.rows[burst["id"]]["share"]) == pytest.approx(share)


def test_bucket_counts_equal_own_reader(run, parsed):
    """Requests per bucket and status class, and per status code, are the files' own counts;
    clients first seen per bucket add up to the distinct clients."""
    data = build_report([run], bucket="15m").data
    k = (parsed.t * 1000 - data.start_ms) // data.bucket_ms
    assert data.lines == len(parsed.t) and data.unparsed == 0
    for c, name in enumerate(CLASSES[:5]):
        mask = parsed.status // 100 == c + 1
        assert np.array_equal(data.classes[:, c], np.bincount(k[mask], minlength=data.buckets)), name
    assert np.array_equal(data.statuses[404], np.bincount(k[parsed.status == 404], minlength=data.buckets))
    assert data.new_clients.sum() == len(set(parsed.client))
    busiest = np.zeros(data.buckets, np.int64)
    for b in np.unique(k):
        _, counts = np.unique(parsed.client[k == b], return_counts=True)
        busiest[b] = counts.max()
    labelled = np.maximum(data.other_requests, data.client_requests.max(axis=1))
    assert np.array_equal(labelled, busiest)


def test_fast_path_equals_logread(run, truth):
    """combined_timing read by one regex per block gives the same figures as logread's
    general reader, bucket by bucket and window by window."""
    files = sorted(run.glob("access.log-*")) + [run / "access.log"]
    manifest = json.loads((run / "manifest.json").read_text())
    span = (manifest["start_ms"], manifest["end_ms"])
    fast = collect(read_columns(files, "combined_timing", None), truth, "15m", [], None, span, ALL_NEEDS)
    slow = collect(_logread_columns(files, "combined_timing", None, ALL_NEEDS), truth, "15m", [], None, span,
                   ALL_NEEDS)
    assert fast.lines == slow.lines and fast.unparsed == slow.unparsed == 0
    for name in ("classes", "client_requests", "client_bytes", "client_urls", "other_requests", "other_bytes",
                 "other_urls", "clients", "new_clients", "new_agent_requests"):
        assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
    assert np.array_equal(fast.response_us, slow.response_us, equal_nan=True)
    assert [w.as_dict() for w in fast.windows] == [w.as_dict() for w in slow.windows]


def lines_of(n: int, rng: np.random.Generator, t0: int = 1_795_000_000_000) -> Columns:
    """n synthetic parsed lines over a few hours, in time order."""
    t = np.sort(t0 + rng.integers(0, 5 * 3600_000, n))
    pick = lambda values: np.array([values[i] for i in rng.integers(0, len(values), n)], object)  # noqa: E731
    return Columns(t_ms=t, client=pick([b"10.0.0.%d" % i for i in range(30)]),
                   target=pick([b"/p/%d" % i for i in range(200)]), status=rng.choice([200, 304, 404, 503], n),
                   bytes=rng.integers(-1, 5000, n), agent=pick([b"a%d" % i for i in range(5)]),
                   duration_us=rng.integers(-1, 90_000, n), lines=n, unparsed=0)


def split(columns: Columns, cuts: list[int]) -> list[Columns]:
    edges = [0, *sorted(set(cuts)), len(columns.t_ms)]
    out = []
    for a, z in zip(edges[:-1], edges[1:]):
        out.append(Columns(**{name: getattr(columns, name)[a:z] for name in
                              ("t_ms", "client", "target", "status", "bytes", "agent", "duration_us")},
                           lines=z - a, unparsed=0))
    return out


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 3000), max_size=12), st.sampled_from(["1m", "5m", "15m"]))
def test_batch_boundaries_change_nothing(cuts, bucket):
    """However the lines are cut into batches, every per-bucket figure is the same."""
    columns = lines_of(3000, np.random.default_rng(7))
    whole = collect(iter([columns]), None, bucket, [], needs=ALL_NEEDS)
    pieces = collect(iter(split(columns, cuts)), None, bucket, [], needs=ALL_NEEDS)
    for name in ("classes", "clients", "new_clients", "new_agent_requests", "other_requests", "other_bytes",
                 "other_urls"):
        assert np.array_equal(getattr(whole, name), getattr(pieces, name)), name
    assert np.array_equal(whole.response_us, pieces.response_us, equal_nan=True)
    assert pieces.late == 0


def test_lines_are_not_kept():
    """Between batches the collector holds only the lines of its still-open buckets (the
    last CLOSE_LAG + 1), however many lines went through."""
    rng = np.random.default_rng(3)
    collector = Collector(None, BUCKETS["1m"])
    for i in range(20):
        batch = lines_of(2000, rng, t0=1_795_000_000_000 + i * 5 * 3600_000)
        collector.add(batch)
        open_buckets = np.unique(collector.pending["k"])
        assert len(open_buckets) <= 2
        assert len(collector.pending["k"]) <= np.count_nonzero(batch.t_ms // 60_000 >= open_buckets.min())


# --- the files -----------------------------------------------------------------------------


def main_exit(args: list[str]) -> int:
    with pytest.raises(SystemExit) as e:
        main(args)
    return e.value.code


@pytest.fixture(scope="module")
def images(run, records_file, tmp_path_factory):
    """The command's PNG and SVG of the run with its ML records, 1000 x 1400 (about 8 s of CPU
    each: every assertion on an image reads these)."""
    folder = tmp_path_factory.mktemp("images")
    paths = {}
    for suffix in (".png", ".svg"):
        paths[suffix] = folder / f"report{suffix}"
        assert main_exit(["report", str(run), "--records", str(records_file), "-o", str(paths[suffix]),
                          "--width", "1000", "--height", "1400"]) == 0
    return paths


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_images_have_the_asked_size(images, suffix):
    """PNG and SVG are valid files of exactly the asked width and height."""
    path = images[suffix]
    if suffix == ".png":
        from PIL import Image
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (1000, 1400)
    else:
        root = ET.parse(path).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert (root.get("width"), root.get("height")) == ("1000", "1400")


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3 * 4 * report_page.MEASURE_BINS), st.integers(1, 3))
def test_a_measuring_draw_keeps_every_extreme(seed, n, n_series):
    """The images' measuring draw (whose axes must be those of the full draw) keeps the first and
    last times, every series, and each series' least and most value in every stretch of time."""
    rng = np.random.default_rng(seed)
    rows = [{"t": int(t) * 60_000, "series": "abc"[s], "value": int(v)} for t, s, v in
            zip(np.sort(rng.integers(0, 5000, n)), rng.integers(0, n_series, n), rng.integers(-50, 10**6, n))]
    kept = report_page._extremes({"kind:x": rows, "windows": rows[:3]})
    assert kept["windows"] == rows[:3]
    thin = kept["kind:x"]
    assert all(row in rows for row in thin)
    if len(rows) <= 4 * report_page.MEASURE_BINS:
        assert thin == rows
        return
    assert {r["series"] for r in thin} == {r["series"] for r in rows}
    times = [r["t"] for r in rows]
    assert {min(times), max(times)} <= {r["t"] for r in thin}
    first, span = min(times), max(1, max(times) - min(times))

    def ranges(of):
        out = {}
        for r in of:
            key = (r["series"], (r["t"] - first) * report_page.MEASURE_BINS // span)
            low, high = out.get(key, (r["value"], r["value"]))
            out[key] = (min(low, r["value"]), max(high, r["value"]))
        return out

    assert ranges(thin) == ranges(rows)


def test_svg_has_one_window_element_per_label(images, truth):
    """The SVG's whole-range chart holds one shaded window per label, named by its id (the ML
    chart's verdicts are marks of their own)."""
    path = images[".svg"]
    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.parse(path).getroot()
    groups = [g for g in root.iter(f"{{{ns['s']}}}g") if "windows_marks" in (g.get("class") or "").split()]
    assert len(groups) == 1  # the whole range's; panels name theirs panel_N_windows
    overview = groups[0]
    labels = [p.get("aria-label") for p in overview if p.get("aria-label", "").startswith("window ")]
    assert sorted(label.split(":")[0] for label in labels) == sorted(f"window {w['id']}" for w in truth["anomalies"])
    names = [g for g in root.iter(f"{{{ns['s']}}}g") if "window_names_marks" in (g.get("class") or "").split()][0]
    texts = [t.text for t in names]
    for w in truth["anomalies"]:
        assert sum(text.startswith(f"{w['id']} ") for text in texts) == 1


# --- the page in a real browser ------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (.ci/run installs it)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS[1:], headless=True)
        yield b
        b.close()


def test_page_in_browser(run, truth, parsed, records_file, browser, tmp_path):
    """Headless chromium draws every chart with no console error and no network; the DOM has
    one shaded window per label with its name, one panel per kind, the windows table with the
    files' own figures and the ML results; a screenshot is not blank."""
    page_file = tmp_path / "report.html"
    assert main_exit(["report", str(run), "--records", str(records_file), "-o", str(page_file), "--bucket", "15m"]) == 0
    context = browser.new_context(viewport={"width": 1366, "height": 900}, offline=True)
    page = context.new_page()
    errors, foreign = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:")) else foreign.append(r.url))
    page.goto(page_file.as_uri())
    page.wait_for_selector("body[data-charts=ready]", timeout=120_000)
    assert errors == [] and foreign == []

    labels = page.eval_on_selector_all("#chart-overview g.windows_marks path[aria-label]",
                                       "els => els.map(e => e.getAttribute('aria-label'))")
    assert sorted(label.split(":")[0] for label in labels) == sorted(f"window {w['id']}" for w in truth["anomalies"])
    names = page.eval_on_selector_all("#chart-overview g.window_names_marks text", "els => els.map(e => e.textContent)")
    for w in truth["anomalies"]:
        assert sum(name.startswith(f"{w['id']} ") for name in names) == 1

    kinds = page.eval_on_selector_all("section.kind-panel", "els => els.map(e => e.dataset.kind)")
    assert sorted(kinds) == sorted({w["kind"] for w in truth["anomalies"]})
    for kind in kinds:  # each panel: a chart a day around each window, and the whole range
        drawn = page.eval_on_selector_all(f"section[data-kind={kind}] .chart svg", "els => els.length")
        assert drawn == sum(w["kind"] == kind for w in truth["anomalies"]) + 1

    cells = page.eval_on_selector_all(
        "#windows tr[data-window]",
        "rows => rows.map(r => [r.dataset.window, r.querySelector('[data-figure=measured]').dataset.value,"
        " r.querySelector('[data-figure=verdict]').textContent])")
    assert [c[0] for c in cells] == [w["id"] for w in truth["anomalies"]]
    by_id = {w["id"]: w for w in truth["anomalies"]}
    for window_id, measured, _ in cells:
        w = by_id[window_id]
        assert value(measured) == pytest.approx(own_measure(parsed, w, w["start_ms"], w["end_ms"]))

    records = parse_records(json.loads(records_file.read_text()))
    expected = grade(records, truth, ["smoke-request-count", "smoke-low-request-rate"])
    verdicts = {c[0]: c[2] for c in cells}
    for r in expected.windows:
        assert verdicts[r.id] == ("late" if r.late else "caught" if r.caught else "missed")
    assert page.text_content("#ml-figures [data-figure=false_alarms]") == str(expected.figures["false_alarms"])
    assert page.text_content("#ml-figures [data-figure=recall]") == f"{expected.figures['recall']:.3f}"
    alarms = page.eval_on_selector_all("#chart-ml g.alarms_marks path, #chart-ml g.alarms_marks line",
                                       "els => els.length")
    assert alarms == len(expected.false_alarms) == 1

    from PIL import Image
    shot = Image.open(io.BytesIO(page.locator("#chart-overview").screenshot())).convert("RGB")
    colours = shot.getcolors(maxcolors=1 << 16)
    assert shot.width > 600 and shot.height > 150
    assert colours is None or len(colours) > 20  # axes, text, stacked areas and shaded windows
    ink = np.asarray(shot).min(axis=2) < 200
    assert ink.mean() > 0.02
    context.close()


# --- the command ---------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (["-o", "{tmp}/report.pdf"], "-o: "),
    (["--truth", "{tmp}/none.json"], "--truth: "),
    (["--records", "{tmp}/none.json"], "--records: "),
    (["--bucket", "2m"], "--bucket"),
])
def test_bad_input_is_one_line_and_writes_nothing(run, tmp_path, capsys, args, message):
    """A wrong option is one line on stderr naming it, exit status 2, and no file."""
    before = sorted(p.name for p in run.iterdir())
    code = main_exit(["report", str(run), *[a.format(tmp=tmp_path) for a in args]])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert "Traceback" not in err
    assert sorted(p.name for p in run.iterdir()) == before and list(tmp_path.iterdir()) == []


def test_logs_without_truth_and_records_need_truth(run, records_file, tmp_path, capsys):
    """Log files without a folder have no truth: the page still draws them; records then
    need --truth, and with it they are graded."""
    logs = [str(p) for p in sorted(run.glob("access.log*"))]
    page = tmp_path / "logs.html"
    assert main_exit(["report", *logs, "-o", str(page)]) == 0
    assert "No labelled windows" in page.read_text()
    assert main_exit(["report", *logs, "--records", str(records_file), "-o", str(tmp_path / "x.html")]) == 2
    assert "--truth" in capsys.readouterr().err
    assert main_exit(["report", *logs, "--records", str(records_file), "--truth", str(run),
                      "-o", str(tmp_path / "x.html")]) == 0


def test_generate_report_writes_it_beside_the_files(tmp_path, capsys):
    """synth generate --report writes report.html in the output folder; the folder stays
    synth's own, so the next run writes there again (and removes the stale report)."""
    out = tmp_path / "output"
    args = ["generate", "--days", "0.2", "--rate", "0.05", "--seed", "4", "--out", str(out), "-q",
            "--end", END.isoformat()]
    assert main_exit([*args, "--report"]) == 0
    assert "report.html" in capsys.readouterr().out
    assert (out / "report.html").stat().st_size > 100_000
    assert main_exit(args) == 0
    assert not (out / "report.html").exists()


@pytest.mark.parametrize("fmt", ["ecs_json", "nginx_combined", "vhost_combined"])
def test_other_formats_through_logread(tmp_path, fmt):
    """Formats outside the combined family are read through logread: every line counted,
    and a spike window's requests and an error burst's 503s equal what the lines say (ECS
    JSON read with json, the others with a regex of their own)."""
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump({"name": "fmt", "days": 0.3, "rate": 0.1, "format": fmt, "anomalies": [
        {"kind": "spike", "start": "+2h", "minutes": 20, "magnitude": 5},
        {"kind": "error_burst", "start": "+4h", "minutes": 20, "magnitude": 50, "status": 503}]}))
    out = tmp_path / "output"
    synth.generate(scenario, seed=5, out_dir=out, end=END)
    data = build_report([out]).data
    lines = [line for p in sorted(out.glob("access.log*")) for line in p.read_text().splitlines()]
    assert data.lines == len(lines) and data.unparsed == 0 and int(data.requests.sum()) == len(lines)
    if fmt == "ecs_json":
        docs = [json.loads(line) for line in lines]
        t = np.array([dt.datetime.fromisoformat(d["@timestamp"].replace("Z", "+00:00")).timestamp() * 1000
                      for d in docs])
        status = np.array([d["http"]["response"]["status_code"] for d in docs])
    else:
        stamp = re.compile(r"\[(\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] \"[^\"]*\" (\d{3}) ")
        found = [stamp.search(line).groups() for line in lines]
        t = np.array([dt.datetime.strptime(s, "%d/%b/%Y:%H:%M:%S %z").timestamp() * 1000 for s, _ in found])
        status = np.array([int(code) for _, code in found])
    for w in data.windows:
        inside = (t >= w.truth["start_ms"]) & (t < w.truth["end_ms"])
        expected = np.count_nonzero(inside & (status == 503)) if w.kind == "error_burst" else np.count_nonzero(inside)
        assert w.measured == expected, (fmt, w.id)


def test_records_from_the_cluster_are_graded_alike(run, records_file, tmp_path, monkeypatch):
    """--es and --job read the jobs' records from the cluster (the stand-in of the score tests)
    and the page grades them exactly as it grades the same records saved to a file."""
    from fake_elastic import FakeStack
    for name in ("SYNTH_ES", "SYNTH_ES_API_KEY", "SYNTH_ES_USER", "SYNTH_ES_PASSWORD", "SYNTH_ES_CA_CERTS"):
        monkeypatch.delenv(name, raising=False)
    saved = json.loads(records_file.read_text())["records"]
    jobs = sorted({r["job_id"] for r in saved})
    stack = FakeStack().start()
    try:
        stack.jobs = {job: {} for job in jobs}
        stack.job_state = {job: {} for job in jobs}
        stack.results = {job: [r for r in saved if r["job_id"] == job] for job in jobs}
        assert main_exit(["report", str(run), "--es", stack.es_url, "--job", ",".join(jobs),
                          "-o", str(tmp_path / "es.html")]) == 0
    finally:
        stack.stop()
    assert main_exit(["report", str(run), "--records", str(records_file), "--job", ",".join(jobs),
                      "-o", str(tmp_path / "file.html")]) == 0

    def ml_table(path):
        text = path.read_text()
        return text[text.index('<table id="ml-figures">'):text.index("</table>", text.index('id="ml-figures"'))]
    assert ml_table(tmp_path / "es.html") == ml_table(tmp_path / "file.html")
    assert 'data-figure="caught">1 (1)' in ml_table(tmp_path / "file.html")


def test_inject_report_shows_the_injected_windows(run, tmp_path, capsys):
    """synth inject --report writes report.html beside the injected copy, with a row per
    injected window measured from the copy's lines."""
    out = tmp_path / "injected"
    assert main_exit(["inject", str(run / "access.log"), "--anomaly", "spike:magnitude=4,minutes=20",
                      "--seed", "2", "--out", str(out), "-q", "--report"]) == 0
    assert "report.html" in capsys.readouterr().out
    truth = json.loads((out / "anomalies.json").read_text())
    table = TableReader()
    table.feed((out / "report.html").read_text())
    assert list(table.rows) == [w["id"] for w in truth["anomalies"]]
    copy = (out / "access.log").read_text().splitlines()
    stamp = re.compile(r"\[(\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\]")
    t = np.array([dt.datetime.strptime(stamp.search(line).group(1), "%d/%b/%Y:%H:%M:%S %z").timestamp() * 1000
                  for line in copy])
    for w in truth["anomalies"]:
        inside = np.count_nonzero((t >= w["start_ms"]) & (t < w["end_ms"]))
        assert value(table.rows[w["id"]]["measured"]) == inside
