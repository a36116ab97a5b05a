"""``synth score``: records in the get-records API's shape against labelled windows: one caught on
time, one caught late, one missed, one no graded job is expected to catch, false alarms (one
per bucket), an incidental record; every figure exact, from files and from a cluster."""

import json
import math

import pytest
from fake_elastic import FakeStack, free_port
from test_cli import run_cli

from synth.analysis.score import ScoreError, grade, parse_records
from synth.elastic import jobs as elastic_jobs

T0 = 1795780800000  # 2026-11-27T12:00:00Z
MIN = 60_000
H = 60 * MIN
GRADED = ["smoke-request-count", "smoke-status-code-rate", "smoke-url-scanning"]



@pytest.fixture(autouse=True)
def no_connection_settings(monkeypatch):
    """The options' environment variables of whoever runs the tests play no part."""
    for name in ("SYNTH_ES", "SYNTH_ES_API_KEY", "SYNTH_ES_USER", "SYNTH_ES_PASSWORD", "SYNTH_ES_CA_CERTS", "SYNTH_KIBANA"):
        monkeypatch.delenv(name, raising=False)


def window(id_, kind, start, minutes, jobs):
    import datetime as dt

    def iso(ms):
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"id": id_, "kind": kind, "start": iso(start), "end": iso(start + minutes * MIN), "start_ms": start,
            "end_ms": start + minutes * MIN, "minutes": float(minutes), "magnitude": 10.0, "params": {},
            "affected": {"field": None, "values": []}, "expected": {}, "jobs": jobs}


TRUTH = {"anomalies": [
    window("spike-1", "spike", T0 + 2 * H, 30, ["smoke-request-count"]),
    window("error_burst-1", "error_burst", T0 + 6 * H + 10 * MIN, 30, ["smoke-status-code-rate"]),
    window("scan-1", "scan", T0 + 10 * H, 30, ["smoke-url-scanning"]),
    window("crowd-1", "crowd", T0 + 14 * H, 30, ["smoke-visitor-rate"]),
]}


def record(job, timestamp, score, span=900, interim=False, **more):
    """A record as GET _ml/anomaly_detectors/<job>/results/records returns it (ML.md §4)."""
    return {"job_id": job, "result_type": "record", "probability": 1e-6, "multi_bucket_impact": 0,
            "record_score": score, "initial_record_score": score, "bucket_span": span, "detector_index": 0,
            "is_interim": interim, "timestamp": timestamp, "function": "count", "function_description": "count",
            "typical": [10.0], "actual": [100.0], **more}


RECORDS = {
    "smoke-request-count": [
        record("smoke-request-count", T0 + 2 * H, 91.2),  # spike-1, from its first bucket
        record("smoke-request-count", T0 + 2 * H + 15 * MIN, 60.0),  # spike-1 again
        record("smoke-request-count", T0 + 2 * H + 45 * MIN, 30.0),  # just after spike-1: a false alarm
        record("smoke-request-count", T0 + 20 * H, 40.0),  # a false alarm ...
        record("smoke-request-count", T0 + 20 * H, 30.0, partition_field_name="x", partition_field_value="y"),  # same bucket
        record("smoke-request-count", T0 + 21 * H, 24.9),  # under the minimum
    ],
    "smoke-status-code-rate": [
        record("smoke-status-code-rate", T0 + 6 * H + 15 * MIN, 10.0),  # in error_burst-1 but under the minimum
        record("smoke-status-code-rate", T0 + 6 * H + 30 * MIN, 55.0),  # error_burst-1, 20 minutes late
        record("smoke-status-code-rate", T0 + 2 * H + 15 * MIN, 70.0),  # in spike-1, not its job: incidental
    ],
    "smoke-url-scanning": [
        record("smoke-url-scanning", T0 + 9 * H, 35.0, span=3600),  # ends where scan-1 starts: a false alarm
        record("smoke-url-scanning", T0 + 10 * H, 80.0, span=3600, interim=True),  # interim: does not count
    ],
    "smoke-visitor-rate": [
        record("smoke-visitor-rate", T0 + 14 * H, 99.0),  # not graded
        record("smoke-visitor-rate", T0 + 30 * H, 99.0),
    ],
}


def sigma(y):
    return -1.0 if y >= 3 else 2 / (1 + math.exp(5 * y)) - 1


# the NAB-style score written out for these records:
# spike-1 from its start (y = -1): +1; error_burst-1 20 of 30 minutes in (y = -1/3); scan-1 missed: -1;
# false alarms: 15 minutes after spike-1 (y = 0.5), and two more than 3 window lengths from any window
RAW = 1 + sigma(-1 / 3) / sigma(-1) - 1 + 0.11 * sigma(0.5) - 0.11 - 0.11
NAB = 100 * (RAW + 3) / 6


def all_records():
    return [r for rs in RECORDS.values() for r in rs]


def test_windows_false_alarms_and_figures_are_exact():
    result = grade(parse_records({"count": 13, "records": all_records()}), TRUTH, GRADED, min_score=25)
    by_id = {w.id: w for w in result.windows}
    assert list(by_id) == ["spike-1", "error_burst-1", "scan-1"]
    assert result.not_graded == ["crowd-1"]
    spike, burst, scan = by_id["spike-1"], by_id["error_burst-1"], by_id["scan-1"]
    assert (spike.caught, spike.late, spike.job, spike.first_bucket_ms, spike.delay_s, spike.score, spike.buckets) == (
        True, False, "smoke-request-count", T0 + 2 * H, 0.0, 91.2, 2)
    assert (burst.caught, burst.late, burst.first_bucket_ms, burst.delay_s, burst.score, burst.buckets) == (
        True, True, T0 + 6 * H + 30 * MIN, 1200.0, 55.0, 1)
    assert (scan.caught, scan.job, scan.delay_s, scan.score) == (False, None, None, None)
    assert [(f.job_id, f.timestamp, f.score) for f in result.false_alarms] == [
        ("smoke-request-count", T0 + 2 * H + 45 * MIN, 30.0),
        ("smoke-url-scanning", T0 + 9 * H, 35.0),
        ("smoke-request-count", T0 + 20 * H, 40.0)]
    assert result.incidental == 1
    assert result.counted == 8
    f = result.figures
    assert (f["windows"], f["caught"], f["late"], f["missed"], f["false_alarms"]) == (3, 2, 1, 1, 3)
    assert f["precision"] == pytest.approx(2 / 5, abs=1e-12)
    assert f["recall"] == pytest.approx(2 / 3, abs=1e-12)
    assert f["f1"] == pytest.approx(0.5, abs=1e-12)
    assert f["nab_raw"] == pytest.approx(RAW, abs=1e-12)
    assert f["nab"] == pytest.approx(NAB, abs=1e-9)
    assert round(f["nab"], 3) == 56.303


def test_min_score_moves_the_line():
    """At 60, the late window's 55 no longer counts, nor the false alarms under 60."""
    f = grade(parse_records(all_records()), TRUTH, GRADED, min_score=60).figures
    assert (f["caught"], f["missed"], f["false_alarms"]) == (1, 2, 0)
    assert f["precision"] == 1.0 and f["recall"] == pytest.approx(1 / 3)
    assert f["nab"] == pytest.approx(100 * ((1 - 2) + 3) / 6)


def test_nothing_to_grade_is_na():
    """No window expected of the jobs, nothing flagged: the figures that need them are None."""
    result = grade([], TRUTH, ["smoke-bytes-per-client"])
    f = result.figures
    assert (f["windows"], f["precision"], f["recall"], f["f1"], f["nab"]) == (0, None, None, None, None)
    lines = result.lines()
    assert lines[0] == "no window of anomalies.json is expected of these jobs"
    assert lines[-1].startswith("precision n/a  recall n/a  F1 n/a  NAB n/a")
    only_alarms = grade(parse_records(RECORDS["smoke-request-count"][3:4]), TRUTH, ["smoke-request-count"]).figures
    assert (only_alarms["precision"], only_alarms["recall"], only_alarms["f1"]) == (0.0, 0.0, 0.0)
    assert only_alarms["nab"] == pytest.approx(100 * (-1 - 0.11 + 1) / 2)


def test_records_in_every_shape_the_api_gives():
    """A response, a list of responses, a list of records; a record without its keys is refused."""
    one = parse_records({"count": 2, "records": RECORDS["smoke-url-scanning"]})
    assert parse_records([{"count": 1, "records": RECORDS["smoke-url-scanning"][:1]},
                          {"count": 1, "records": RECORDS["smoke-url-scanning"][1:]}]) == one
    assert parse_records(RECORDS["smoke-url-scanning"]) == one
    assert one[1].interim and one[0].bucket_span == 3600
    with pytest.raises(ScoreError, match=r"record 0 lacks job_id, timestamp, bucket_span or record_score"):
        parse_records({"records": [{"job_id": "x", "timestamp": 1}]})
    with pytest.raises(ScoreError, match=r'no "records" key'):
        parse_records({"buckets": []})


@pytest.fixture
def files(tmp_path):
    truth = tmp_path / "anomalies.json"
    truth.write_text(json.dumps(TRUTH))
    records = tmp_path / "records.json"
    records.write_text(json.dumps({"count": 13, "records": all_records()}))
    return truth, records


def test_score_prints_a_row_per_window_and_the_figures(files, capsys):
    truth, records = files
    code, out, err = run_cli(["score", "--records", str(records), "--truth", str(truth),
                              "--job", "smoke-request-count,smoke-status-code-rate", "--job", "smoke-url-scanning"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["window", "kind", "window", "(UTC)", "jobs", "caught", "first", "flagged", "(UTC)",
                                "delay", "score"]
    assert lines[1].split() == ["spike-1", "spike", "2026-11-27", "14:00", "to", "14:30", "smoke-request-count", "yes",
                                "2026-11-27", "14:00", "0", "min", "91.2"]
    assert lines[2].split() == ["error_burst-1", "error_burst", "2026-11-27", "18:10", "to", "18:40",
                                "smoke-status-code-rate", "late", "2026-11-27", "18:30", "20", "min", "55.0"]
    assert lines[3].split() == ["scan-1", "scan", "2026-11-27", "22:00", "to", "22:30", "smoke-url-scanning", "no",
                                "-", "-", "-"]
    assert ("false alarms: 3 buckets (smoke-request-count 2, smoke-url-scanning 1); records in windows other jobs "
            "are expected to catch: 1") in lines
    assert "not graded: 1 window no given job is expected to catch (crowd-1)" in lines
    assert lines[-2] == ("records with record_score >= 25: 8; 3 windows graded, 2 caught (1 late), 1 missed, "
                         "3 false alarms")
    assert lines[-1] == ("precision 0.400  recall 0.667  F1 0.500  NAB 56.3 "
                         "(standard profile: A_TP 1, A_FP 0.11, A_FN 1)")


def test_score_json(files, capsys):
    truth, records = files
    code, out, _ = run_cli(["score", "--records", str(records), "--truth", str(truth.parent), "--json",
                            "--job", ",".join(GRADED)], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["figures"]["nab"] == pytest.approx(NAB, abs=1e-9)
    assert data["figures"]["f1"] == pytest.approx(0.5)
    late = data["windows"][1]
    assert (late["id"], late["late"], late["delay_s"], late["first_bucket"]) == (
        "error_burst-1", True, 1200.0, "2026-11-27T18:30:00Z")
    assert data["false_alarms"][0] == {"job_id": "smoke-request-count", "timestamp": "2026-11-27T14:45:00Z",
                                       "timestamp_ms": T0 + 2 * H + 45 * MIN, "bucket_span": 900, "score": 30.0}
    assert data["per_job"] == [
        {"job_id": "smoke-request-count", "windows": 1, "caught": 1, "false_alarms": 2},
        {"job_id": "smoke-status-code-rate", "windows": 1, "caught": 1, "false_alarms": 0},
        {"job_id": "smoke-url-scanning", "windows": 1, "caught": 0, "false_alarms": 1}]


def test_score_from_the_cluster_is_the_same(files, capsys, monkeypatch):
    """--es reads each job's records (counting ones only, page by page) and grades them alike."""
    truth, records = files
    monkeypatch.setattr(elastic_jobs, "RECORDS_PAGE", 2)  # where fetch_records reads it
    stack = FakeStack().start()
    try:
        stack.jobs = {job: {} for job in RECORDS}
        stack.job_state = {job: {} for job in RECORDS}
        stack.results = RECORDS
        code, from_es, err = run_cli(["score", "--es", stack.es_url, "--truth", str(truth), "--json",
                                      "--job", ",".join(GRADED)], capsys)
        pages = [s.path for s in stack.seen if s.route.endswith("/results/records")]
    finally:
        stack.stop()
    assert code == 0, err
    code, from_file, _ = run_cli(["score", "--records", str(records), "--truth", str(truth), "--json",
                                  "--job", ",".join(GRADED)], capsys)
    assert json.loads(from_es) == json.loads(from_file)
    assert pages[0] == ("/_ml/anomaly_detectors/smoke-request-count/results/records?record_score=25&sort=timestamp"
                        "&desc=false&exclude_interim=true&from=0&size=2")
    assert [p.split("/")[3] for p in pages] == ["smoke-request-count"] * 3 + ["smoke-status-code-rate"] + \
        ["smoke-url-scanning"]


BAD = [
    (["--records", "{records}"], "Missing option '--job'"),
    (["--job", "x", "--records", "{records}", "--truth", "{missing}"], "--truth: {missing}: no such file"),
    (["--job", "x", "--records", "{records}", "--truth", "{records}"], "--truth: {records}: expected"),
    (["--job", "x", "--records", "{notjson}"], "--records: {notjson}: not JSON"),
    (["--job", "x", "--records", "{badrecord}"], "--records: {badrecord}: record 0 lacks"),
    (["--job", "x"], "--es or --records: say where the records are"),
    (["--job", "x", "--records", "{records}", "--es", "http://x"], "--es, --records: give one of them"),
    (["--job", "x", "--records", "{records}", "--min-score", "101"], "--min-score"),
]


@pytest.mark.parametrize("args, message", BAD)
def test_bad_input_is_one_line_exit_2(files, tmp_path, capsys, args, message):
    truth, records = files
    (tmp_path / "bad.json").write_text("{")
    (tmp_path / "badrecord.json").write_text(json.dumps({"records": [{"job_id": "x"}]}))
    fill = {"records": str(records), "missing": str(tmp_path / "nope.json"), "notjson": str(tmp_path / "bad.json"),
            "badrecord": str(tmp_path / "badrecord.json")}
    default_truth = [] if "--truth" in args else ["--truth", str(truth)]
    code, out, err = run_cli(["score", *default_truth, *[a.format(**fill) for a in args]], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message.format(**fill) in err, err


def test_records_files_win_over_synth_es_from_the_environment(files, capsys, monkeypatch):
    """SYNTH_ES exported for setup does not clash with --records; --es typed does."""
    truth, records = files
    monkeypatch.setenv("SYNTH_ES", f"http://127.0.0.1:{free_port()}")
    code, out, err = run_cli(["score", "--records", str(records), "--truth", str(truth), "--job", "smoke-request-count"],
                             capsys)
    assert code == 0, err
    assert "spike-1" in out


def test_a_refused_connection_is_one_line_exit_1(files, capsys):
    truth, _ = files
    url = f"http://127.0.0.1:{free_port()}"
    code, _, err = run_cli(["score", "--es", url, "--truth", str(truth), "--job", "smoke-request-count"], capsys)
    assert code == 1
    assert err.strip() == f"synth: cannot connect to Elasticsearch at {url}: Connection refused"
