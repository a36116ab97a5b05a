"""Every kind of anomaly, measured from the files alone the way the ML job meant to catch it
looks at them: inside the window the metric departs from the same window on the other days by
at least the kind's factor; outside every window it never departs by as much."""

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from logread import Parsed

import synth
from synth.generate.anomalies import KIND_CLASSES
from synth.generate.scenario import KINDS, builtin_names, load_scenario

END = dt.datetime(2026, 11, 27, 9, 0, 0, tzinfo=dt.UTC)
JOBS = Path(__file__).resolve().parent.parent / "ml" / "jobs"


def _codes(column):
    """Each value's number, in order of first appearance, and how many values there are."""
    numbers: dict = {}
    return np.array([numbers.setdefault(v, len(numbers)) for v in column], np.int64), len(numbers)


def _max_per_bucket(bucket, value):
    out = np.zeros(int(bucket.max()) + 1 if len(bucket) else 0)
    np.maximum.at(out, bucket, value)
    return out


def count(p, bucket):
    return np.bincount(bucket).astype(float)


def status_503(p, bucket):
    return np.bincount(bucket, weights=(p.status == 503).astype(float))


# A (bucket, client) cell is one number, bucket * clients + client: unique() sorts plain integers.

def max_distinct_urls(p, bucket):
    (client, clients), (url, urls) = _codes(p.client), _codes(p.url)
    pairs = np.unique((bucket * clients + client) * urls + url)  # distinct (bucket, client, url)
    cells, per_cell = np.unique(pairs // urls, return_counts=True)
    return _max_per_bucket(cells // clients, per_cell)


def max_client_requests(p, bucket):
    client, clients = _codes(p.client)
    cells, per_cell = np.unique(bucket * clients + client, return_counts=True)
    return _max_per_bucket(cells // clients, per_cell)


def distinct_clients(p, bucket):
    client, clients = _codes(p.client)
    cells = np.unique(bucket * clients + client)
    return np.bincount(cells // clients).astype(float)


def max_client_bytes(p, bucket):
    client, clients = _codes(p.client)
    cells, which = np.unique(bucket * clients + client, return_inverse=True)
    sums = np.bincount(which.ravel(), weights=p.size.astype(float))
    return _max_per_bucket(cells // clients, sums)


def mean_duration(p, bucket):
    return np.bincount(bucket, weights=p.duration.astype(float)) / np.maximum(np.bincount(bucket), 1)


def per_bucket(parsed, start, span, metric):
    """metric(bucket) for every bucket of ``span`` seconds from ``start``, as a dict."""
    bucket = (parsed.t - start) // span
    values = metric(parsed, bucket)
    present = np.unique(bucket)
    return {int(b): float(values[b]) for b in present}


# kind: (metric, bucket seconds, factor inside vs other days, direction)
METRICS = {
    "spike": (count, 900, 5.0, "up"),
    "dip": (count, 900, 5.0, "down"),
    "error_burst": (status_503, 900, 5.0, "up"),
    "scan": (max_distinct_urls, 3600, 5.0, "up"),
    "flood": (max_client_requests, 3600, 5.0, "up"),
    "crowd": (distinct_clients, 900, 2.0, "up"),
    "bytes": (max_client_bytes, 900, 10.0, "up"),
    "latency": (mean_duration, 900, 3.0, "up"),
}


def departure(values, b, per_day, direction):
    """How far bucket b departs from the same bucket on the other days (+1 keeps zeros finite)."""
    others = [values.get(b + d * per_day, 0.0) for d in range(-7, 8) if d and (b + d * per_day) in values]
    if len(others) < 2:
        return None
    base = float(np.mean(others))
    return (values.get(b, 0.0) + 1) / (base + 1) if direction == "up" else (base + 1) / (values.get(b, 0.0) + 1)


@pytest.fixture(scope="module", params=sorted(KINDS))
def single(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    # Response times show only in a format that writes them.
    fmt = "combined_timing" if request.param == "latency" else "combined"
    run = synth.generate({"days": 3, "rate": 0.4, "format": fmt, "anomalies": [{"kind": request.param}]}, seed=101,
                         out_dir=out, end=END, workers=1)
    return request.param, run, Parsed.read(out)


def test_kind_departs_inside_and_nowhere_else(single):
    kind, run, parsed = single
    window = run.windows[0]
    if kind == "new_agent":
        # `rare` by agent: the new agent appears in the window, never elsewhere, and no other
        # agent first seen after the first day comes anywhere near its count in a bucket.
        (agent,) = run.truth["anomalies"][0]["affected"]["values"]
        mine = parsed.agent == agent.replace('"', '\\"')
        assert mine.sum() >= 0.9 * window.magnitude * window.minutes
        assert ((parsed.t[mine] >= window.start) & (parsed.t[mine] < window.end)).all()
        first_seen = {}
        for t, a in zip(parsed.t, parsed.agent):
            first_seen.setdefault(a, t)
        late = {a for a, t in first_seen.items() if t > run.start + 86400 and a != agent}
        late_counts = Counter(((t - run.start) // 900, a) for t, a in zip(parsed.t, parsed.agent) if a in late)
        assert max(late_counts.values(), default=0) * 10 < mine.sum() / (window.minutes / 15)
        return
    metric, span, factor, direction = METRICS[kind]
    values = per_bucket(parsed, run.start, span, metric)
    per_day = 86400 // span
    inside = [b for b in range((window.start - run.start) // span, (window.end - 1 - run.start) // span + 1)
              if window.start <= run.start + b * span and run.start + (b + 1) * span <= window.end] or \
             [(window.start - run.start) // span]
    best_inside = max(departure(values, b, per_day, direction) or 0 for b in inside)
    assert best_inside >= factor, (kind, best_inside)
    touched = set(range((window.start - run.start) // span - 1, (window.end - run.start) // span + 2))
    outside = [departure(values, b, per_day, direction) for b in values if b not in touched]
    worst = max(d for d in outside if d is not None)
    assert worst < factor, (kind, worst)


def test_labels_name_the_jobs_and_the_targets(single):
    """anomalies.json gives the kind's parameters, the affected values as they appear in the
    files (inside the window only, for the new entities), the expected effect and the jobs."""
    kind, run, parsed = single
    (label,) = run.truth["anomalies"]
    window = run.windows[0]
    # combined (combined_timing for latency) carries every field: the first job that can catch the kind
    assert label["kind"] == kind and label["jobs"] == [KIND_CLASSES[kind].jobs[0]] and label["jobs_note"] is None
    assert label["start_ms"] == window.start * 1000 and label["end_ms"] == window.end * 1000
    assert set(label["expected"]) >= {"metric", "baseline", "during"}
    field, values = label["affected"]["field"], label["affected"]["values"]
    column = {"source.address": parsed.client, "user_agent.original": parsed.agent,
              "http.request.referrer": parsed.referrer, "http.response.status_code": parsed.status}.get(field)
    if kind in ("scan", "new_agent", "crowd"):  # entities that exist only for the anomaly
        hits = np.isin(column, values)
        assert hits.sum() > 0
        assert (parsed.t[hits] >= window.start).all()
        if kind != "crowd":  # a crowd's visits may run on past the window's end
            assert (parsed.t[hits] < window.end).all()
    if kind == "bytes":
        inside = (parsed.t >= window.start) & (parsed.t < window.end) & np.isin(parsed.client, values)
        assert parsed.size[inside].sum() == pytest.approx(label["expected"]["during"], rel=0.15)


def test_every_kind_has_jobs_that_exist():
    """Each kind names at least one job; each job file says which kinds it is for."""
    files = {p.stem: json.loads(p.read_text()) for p in JOBS.glob("*.json")}
    for kind, cls in KIND_CLASSES.items():
        assert cls.jobs, kind
        for job in cls.jobs:
            assert job in files, job
            assert kind in files[job]["job"]["custom_settings"]["anomaly_kinds"]
    assert set(KIND_CLASSES) == set(KINDS)


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_scenarios_generate_with_true_labels(name, tmp_path):
    """Each built-in scenario loads, generates (at a lower rate and over 3 days where its windows
    are drawn, to stay quick), and every label lies in the range, carries its jobs and the
    parameters it was made with, and its expected figure for the watched metric is what the
    files show."""
    scenario = load_scenario(name)
    assert scenario.description and scenario.anomalies
    # Windows placed at given offsets keep the scenario's days; drawn ones fit in any range.
    days = scenario.days if any(a.offset is not None for a in scenario.anomalies) else 3
    run = synth.generate(name, seed=5, rate=0.15, days=days, out_dir=tmp_path, end=END, workers=1)
    parsed = Parsed.read(tmp_path)
    assert len(parsed.t) == run.lines
    labels = json.loads((tmp_path / "anomalies.json").read_text())["anomalies"]
    assert [a["kind"] for a in labels] == [s.kind for s in scenario.anomalies]
    for label in labels:
        assert run.start * 1000 <= label["start_ms"] < label["end_ms"] <= run.end * 1000
        assert label["jobs"]
        inside = (parsed.t >= label["start_ms"] // 1000) & (parsed.t < label["end_ms"] // 1000)
        assert set(label["params"]) == set(KINDS[label["kind"]].params)
        during = label["expected"]["during"]
        values = label["affected"]["values"]
        kind = label["kind"]
        if kind == "dip" and label["magnitude"] == 0:
            assert inside.sum() == 0
        elif kind in ("spike", "dip"):
            assert_near(inside.sum(), during)
        elif kind == "error_burst":
            assert values == [label["params"]["status"]]
            assert_near((parsed.status[inside] == label["params"]["status"]).sum(), during)
        elif kind == "scan":  # distinct URLs per scanning client
            for address in values:
                assert_near(len(set(parsed.url[inside & (parsed.client == address)])), during)
        elif kind == "flood":
            assert_near((inside & (parsed.client == values[0])).sum(), during)
        elif kind == "crowd":  # the new visitors, who all land through the new referrer
            newcomers = set(parsed.client[inside & (parsed.referrer == values[0])])
            assert_near(len(newcomers), label["expected"]["new_clients"])
        elif kind == "bytes":
            assert parsed.size[inside & (parsed.client == values[0])].sum() == pytest.approx(during, rel=0.15)
        elif kind == "new_agent":
            assert_near((inside & (parsed.agent == values[0])).sum(), during)
        elif kind == "latency":
            assert parsed.duration[inside].mean() * 1000 == pytest.approx(during, rel=0.25)  # %D in µs, event.duration in ns


def assert_near(observed, expected):
    """Within noise: requests come in visits of several, so allow 5 Poisson sigmas and 10%."""
    assert abs(observed - expected) <= 5 * np.sqrt(expected) + 0.1 * expected, (observed, expected)


def test_error_burst_label_says_the_factor_it_applied(tmp_path):
    """The magnitude multiplies the status's normal share; a status rarer than 0.1% of requests
    counts as 0.1%, and the label says so and gives the true factor over the normal share."""
    run = synth.generate({"anomalies": [{"kind": "error_burst", "start": "+1d", "magnitude": 10, "status": 404},
                                        {"kind": "error_burst", "start": "+2d", "magnitude": 10, "status": 507}]},
                         seed=4, days=3, rate=0.5, out_dir=tmp_path, end=END, workers=1)
    common, rare = (a["expected"] for a in run.truth["anomalies"])
    assert common["share_floor"] is None
    assert common["factor"] == 10.0 == pytest.approx(common["share_during"] / common["share_baseline"], rel=1e-3)
    assert rare["share_baseline"] < 0.001 and rare["share_floor"] == 0.001
    assert rare["share_during"] == pytest.approx(0.01)
    assert rare["factor"] is None if rare["share_baseline"] == 0 else rare["factor"] > 10
