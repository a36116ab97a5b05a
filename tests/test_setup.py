"""``synth setup`` against a local stand-in for Elasticsearch and Kibana (tests/fake_elastic.py):
the exact requests, in a working order, with our files as bodies; a second run that changes
nothing; what differs updated or reported; --run over the manifest's range; --dry-run text
that replays into the same requests; every failure one line."""

import json
import re
import sys
import urllib.request
from pathlib import Path

import pytest
from conftest import END
from fake_elastic import FakeStack, es_error, free_port
from test_cli import run_cli

import synth
from synth.elastic import cluster as elastic
from synth.elastic.cluster import ElasticError

ROOT = Path(__file__).resolve().parent.parent
JOB_FILES = sorted((ROOT / "ml" / "jobs").glob("*.json"))
SPECS = [json.loads(p.read_text()) for p in JOB_FILES]
PIPELINE = json.loads((ROOT / "filebeat" / "smoke_event-access.pipeline.json").read_text())
JSON_PIPELINE = json.loads((ROOT / "filebeat" / "smoke_event-json.pipeline.json").read_text())
NDJSON_PIPELINE = json.loads((ROOT / "filebeat" / "smoke_event-ndjson.pipeline.json").read_text())
TEMPLATE = json.loads((ROOT / "filebeat" / "smoke_event.template.json").read_text())
FAILED_TEMPLATE = json.loads((ROOT / "filebeat" / "failed-smoke_event.template.json").read_text())
# The roles and the key as the Elasticsearch security API takes them (PUT _security/role/<name>,
# POST _security/api_key with role_descriptors): spelled out here, not taken from the code.
ROLES = {
    "synth_filebeat_writer": {"cluster": ["monitor", "read_pipeline"],
                              "indices": [{"names": ["smoke_event-*", "failed-smoke_event"],
                                           "privileges": ["create_doc", "create_index"]}],
                              "metadata": {"managed_by": "synth"}},
    "synth_ml": {"cluster": ["manage_ml"],
                 "indices": [{"names": ["smoke_event-*"], "privileges": ["read", "view_index_metadata"]}],
                 "metadata": {"managed_by": "synth"}},
}
KEY_BODY = {"name": "synth-filebeat",
            "role_descriptors": {"synth_filebeat_writer": {k: v for k, v in ROLES["synth_filebeat_writer"].items()
                                                           if k != "metadata"}},
            "metadata": {"managed_by": "synth"}}



@pytest.fixture(autouse=True)
def no_connection_settings(monkeypatch):
    """The options' environment variables of whoever runs the tests play no part."""
    for name in ("SYNTH_ES", "SYNTH_ES_API_KEY", "SYNTH_ES_USER", "SYNTH_ES_PASSWORD", "SYNTH_ES_CA_CERTS", "SYNTH_KIBANA"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def stack():
    fake = FakeStack().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A small generated run: its manifest gives --run the range and the number of lines."""
    out = tmp_path_factory.mktemp("setup") / "output"
    synth.generate("classic", seed=3, days=0.1, rate=0.05, spike_minutes=10, end=END, out_dir=out)
    return out


def manifest(out):
    return json.loads((out / "manifest.json").read_text())


def setup_args(stack, *more, kibana=True):
    return ["setup", "--es", stack.es_url, *(["--kibana", stack.kibana_url] if kibana else []), *more]


def expected_setup(specs=SPECS, kibana=True):
    """(method, path, body) of every request setup sends to an empty cluster: a GET to look,
    then a PUT with the file's content, in a working order."""
    sent = [("GET", "/", None),
            ("GET", "/_ingest/pipeline/smoke_event-access", None), ("PUT", "/_ingest/pipeline/smoke_event-access", PIPELINE),
            ("GET", "/_ingest/pipeline/smoke_event-json", None), ("PUT", "/_ingest/pipeline/smoke_event-json", JSON_PIPELINE),
            ("GET", "/_ingest/pipeline/smoke_event-ndjson", None),
            ("PUT", "/_ingest/pipeline/smoke_event-ndjson", NDJSON_PIPELINE),
            ("GET", "/_index_template/smoke_event", None), ("PUT", "/_index_template/smoke_event", TEMPLATE),
            ("GET", "/_index_template/failed-smoke_event", None),
            ("PUT", "/_index_template/failed-smoke_event", FAILED_TEMPLATE)]
    for role in ("synth_filebeat_writer", "synth_ml"):
        sent += [("GET", f"/_security/role/{role}", None), ("PUT", f"/_security/role/{role}", ROLES[role])]
    sent += [("GET", "/_security/api_key?name=synth-filebeat", None), ("POST", "/_security/api_key", KEY_BODY)]
    for spec in specs:
        job, feed = f"/_ml/anomaly_detectors/{spec['job_id']}", f"/_ml/datafeeds/{spec['datafeed_id']}"
        sent += [("GET", job, None), ("PUT", job, spec["job"]), ("GET", feed, None), ("PUT", feed, spec["datafeed"])]
    if kibana:
        sent += [("GET", "/api/status", None), ("GET", "/api/data_views", None),
                 ("POST", "/api/data_views/data_view", "data view")]
    return sent


def without_data_view_body(sent):
    return [(m, p, "data view" if p == "/api/data_views/data_view" else b) for m, p, b in sent]


def changes(stack):
    """What changed the cluster: every request but the GETs and document counts."""
    return [(m, p, b) for m, p, b in stack.sent() if m != "GET" and not p.endswith("/_count")]


def one_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_setup_sends_our_files_in_a_working_order(stack, capsys):
    """Against an empty cluster: look, then put both pipelines, the template, each job then its
    datafeed, the data view; every body is our file, byte for byte as JSON."""
    code, out, err = run_cli(setup_args(stack), capsys)
    assert code == 0, err
    assert without_data_view_body(stack.sent()) == expected_setup()
    view = stack.sent("kibana")[-1][2]["data_view"]
    assert view["title"] == "smoke_event-*" and view["timeFieldName"] == "@timestamp"
    assert stack.seen[-1].headers.get("kbn-xsrf")
    assert out.splitlines()[0] == f"Elasticsearch 9.5.7 at {stack.es_url}"
    # 3 pipelines, 2 templates, 2 roles, 1 API key; each job and datafeed; the data view
    assert sum(line.split()[0] == "created" for line in out.splitlines()[1:]) == 8 + 2 * len(SPECS) + 1
    assert err == ""


def test_a_second_run_changes_nothing(stack, capsys):
    """Run twice: the second only looks, and says every thing is unchanged; the data view is
    found by its title, not made twice."""
    assert run_cli(setup_args(stack), capsys)[0] == 0
    before = (json.dumps(stack.pipelines), json.dumps(stack.templates), json.dumps(stack.jobs),
              json.dumps(stack.datafeeds), json.dumps(stack.data_views))
    first = len(stack.seen)
    code, out, err = run_cli(setup_args(stack), capsys)
    assert code == 0 and err == ""
    assert [s.method for s in stack.seen[first:]] == ["GET"] * (len(stack.seen) - first)
    assert all(line.split()[0] == "unchanged" for line in out.splitlines()[1:])
    assert (json.dumps(stack.pipelines), json.dumps(stack.templates), json.dumps(stack.jobs),
            json.dumps(stack.datafeeds), json.dumps(stack.data_views)) == before


def test_only_the_jobs_named(stack, capsys):
    """--jobs keeps to those jobs, in the order given; no --kibana, no data view."""
    ids = ["smoke-url-scanning", "smoke-request-count"]
    code, _, err = run_cli(setup_args(stack, "--jobs", ",".join(ids), kibana=False), capsys)
    assert code == 0, err
    specs = [next(s for s in SPECS if s["job_id"] == i) for i in ids]
    assert stack.sent() == expected_setup(specs, kibana=False)


def test_what_differs_is_updated_and_a_changed_job_reported(stack, capsys):
    """A pipeline, template or datafeed that differs is put again (a datafeed through _update,
    without job_id); a job with another definition is reported on one line, exit 1, and left
    alone with its datafeed; the rest goes on."""
    assert run_cli(setup_args(stack, kibana=False), capsys)[0] == 0
    stack.pipelines["smoke_event-access"]["processors"].pop()
    stack.templates["smoke_event"]["template"]["settings"]["index"]["number_of_shards"] = 2
    stack.datafeeds["datafeed-smoke-url-scanning"]["scroll_size"] = 500
    stack.jobs["smoke-request-count"]["analysis_config"]["bucket_span"] = "30m"
    first = len(stack.seen)
    code, out, err = run_cli(setup_args(stack, kibana=False), capsys)
    assert code == 1
    line = one_line(err)
    assert line.startswith("synth: job smoke-request-count exists with another definition")
    assert '"30m" there, "15m" in ml/jobs/smoke-request-count.json' in line
    assert "DELETE _ml/anomaly_detectors/smoke-request-count?force=true" in line
    scanning = next(s for s in SPECS if s["job_id"] == "smoke-url-scanning")
    update = {k: v for k, v in scanning["datafeed"].items() if k != "job_id"}
    assert [(m, p, b) for m, p, b in stack.sent()[first:] if m != "GET"] == [
        ("PUT", "/_ingest/pipeline/smoke_event-access", PIPELINE),
        ("PUT", "/_index_template/smoke_event", TEMPLATE),
        ("POST", "/_ml/datafeeds/datafeed-smoke-url-scanning/_update", update)]
    assert ("GET", "/_ml/datafeeds/datafeed-smoke-request-count", None) not in stack.sent()[first:]
    assert stack.jobs["smoke-request-count"]["analysis_config"]["bucket_span"] == "30m"
    statuses = dict(reversed(line.split(None, 1)) for line in out.splitlines()[1:])
    assert statuses["job smoke-request-count"] == "conflict"
    assert statuses["ingest pipeline smoke_event-access"] == "updated"
    assert statuses["datafeed datafeed-smoke-url-scanning"] == "updated"


def test_server_defaults_and_string_settings_are_not_differences():
    """What GET adds (detector_index, model_prune_window, annotations_enabled, ...) and settings
    echoed as strings do not count; a value we set that differs does, named by its path."""
    spec = SPECS[0]
    from fake_elastic import with_job_defaults
    echoed = with_job_defaults(spec["job_id"], spec["job"])
    assert elastic.differences(spec["job"], echoed) == []
    echoed["analysis_limits"]["model_memory_limit"] = "128mb"
    assert elastic.differences(spec["job"], echoed) == [("analysis_limits.model_memory_limit", "64mb", "128mb")]
    ours = {"template": {"settings": {"index": {"number_of_shards": 1, "hidden": False}}}}
    theirs = {"template": {"settings": {"index.number_of_shards": "1", "index": {"hidden": "false"}}}}
    assert elastic.differences(elastic.comparable_template(ours), elastic.comparable_template(theirs)) == []


def test_a_data_view_of_theirs_is_kept(stack, capsys):
    """A smoke_event-* data view with another time field (the seed's `timestamp`) is left as it is."""
    stack.data_views["mine"] = {"id": "mine", "title": "smoke_event-*", "timeFieldName": "timestamp"}
    code, out, _ = run_cli(setup_args(stack, "--jobs", "smoke-request-count"), capsys)
    assert code == 0
    assert "kept       data view smoke_event-* (Kibana) (time field 'timestamp', not '@timestamp')" in out
    assert ("POST", "/api/data_views/data_view") not in [(m, p) for m, p, _ in stack.sent()]


# --- credentials and failures ---

def test_credentials_are_sent(stack, capsys):
    """Basic credentials and an API key reach both Elasticsearch and Kibana."""
    stack.auth = ("elastic", "s3cret")
    assert run_cli(setup_args(stack, "--user", "elastic", "--password", "s3cret", "--jobs", "smoke-request-count"),
                   capsys)[0] == 0
    assert {s.headers["authorization"] for s in stack.seen} == {"Basic " + "ZWxhc3RpYzpzM2NyZXQ="}
    stack.auth, stack.api_key = None, "a2V5OnNlY3JldA=="
    first = len(stack.seen)
    code, out, err = run_cli(setup_args(stack, "--api-key", "a2V5OnNlY3JldA==", "--jobs", "smoke-request-count"), capsys)
    assert code == 0, err
    assert {s.headers["authorization"] for s in stack.seen[first:]} == {"ApiKey a2V5OnNlY3JldA=="}


@pytest.mark.parametrize("target", ["es", "kibana"])
def test_401_is_one_line_exit_1(stack, capsys, target):
    """Wrong credentials: one line naming the server and the 401, exit 1, nothing written."""
    if target == "es":
        stack.auth = ("elastic", "right")
        args = setup_args(stack, "--user", "elastic", "--password", "wrong")
    else:
        stack.fail[("GET", "/api/data_views")] = (401, {"statusCode": 401, "error": "Unauthorized",
                                                         "message": "[security_exception]: unable to authenticate user [elastic]"})
        args = setup_args(stack, "--jobs", "smoke-request-count")
    code, out, err = run_cli(args, capsys)
    assert code == 1
    line = one_line(err)
    if target == "es":
        assert line == (f"synth: Elasticsearch at {stack.es_url} refused the credentials (401 security_exception): "
                        "unable to authenticate user [elastic] for REST request [/]")
        assert changes(stack) == []
    else:
        assert line == (f"synth: Kibana at {stack.kibana_url} refused the credentials (401): "
                        "[security_exception]: unable to authenticate user [elastic]")


def test_400_with_a_reason_is_one_line_exit_1(stack, capsys):
    """Elasticsearch refusing a body: the request, the status, the error type and its reason."""
    path = "/_ml/anomaly_detectors/smoke-url-scanning"
    stack.fail[("PUT", path)] = (400, es_error(400, "illegal_argument_exception",
                                               "[model_memory_limit] must be less than the value of xpack.ml.max_model_memory_limit"))
    code, _, err = run_cli(setup_args(stack, "--jobs", "smoke-request-count,smoke-url-scanning"), capsys)
    assert code == 1
    assert one_line(err) == (f"synth: Elasticsearch at {stack.es_url}: PUT {path} failed (400 illegal_argument_exception): "
                             "[model_memory_limit] must be less than the value of xpack.ml.max_model_memory_limit")


def test_an_older_server_or_another_product_is_one_line(stack, capsys):
    """An 8.x server refusing a 9.x client's headers: the client to install; a server that does
    not say it is Elasticsearch: said so."""
    stack.fail[("GET", "/")] = (400, es_error(400, "media_type_header_exception",
                                              "Invalid media-type value on headers [Accept, Content-Type]"))
    code, _, err = run_cli(["setup", "--es", stack.es_url], capsys)
    assert code == 1
    assert one_line(err).endswith("pip install 'elasticsearch>=8.13,<9'")
    stack.fail.clear()
    stack.product_header = False
    code, _, err = run_cli(["setup", "--es", stack.es_url], capsys)
    assert code == 1
    assert one_line(err) == f"synth: {stack.es_url} does not answer as Elasticsearch does"


def test_refused_connections_are_one_line_exit_1(stack, capsys):
    """Nothing listening: one line each for Elasticsearch and for Kibana."""
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = run_cli(["setup", "--es", url], capsys)
    assert code == 1 and out == ""
    assert one_line(err) == f"synth: cannot connect to Elasticsearch at {url}: Connection refused"
    code, _, err = run_cli(["setup", "--es", stack.es_url, "--kibana", url, "--jobs", "smoke-request-count"], capsys)
    assert code == 1
    assert one_line(err) == f"synth: cannot connect to Kibana at {url}: Connection refused"


def test_a_tls_failure_says_what_to_give(tmp_path, capsys):
    """A server that does not speak TLS to an https URL: one line, with the options that help."""
    stack = FakeStack().start()
    try:
        url = stack.es_url.replace("http:", "https:")
        code, _, err = run_cli(["setup", "--es", url, "--jobs", "smoke-request-count"], capsys)
    finally:
        stack.stop()
    assert code == 1
    line = one_line(err)
    assert line.startswith(f"synth: cannot connect to Elasticsearch at {url}: ")
    assert line.endswith("(give the cluster's CA with --ca-certs, or --insecure)")


def test_without_the_client_one_line_says_how_to_install_it(stack, capsys, monkeypatch, run_dir):
    """No elasticsearch package: one line naming the extra, exit 1; --dry-run needs no client."""
    monkeypatch.setitem(sys.modules, "elasticsearch", None)
    code, _, err = run_cli(setup_args(stack), capsys)
    assert code == 1
    assert one_line(err) == ("synth: this needs the Elasticsearch Python client: pip install 'synth-logs[es]' "
                             "(in a checkout: pip install -e '.[es]')")
    assert stack.seen == []
    code, out, _ = run_cli(["setup", "--dry-run", "--run", str(run_dir)], capsys)
    assert code == 0 and "PUT _ingest/pipeline/smoke_event-access" in out


BAD = [
    ([], "--es: give Elasticsearch's URL"),
    (["--es", "localhost:9200"], "--es: localhost:9200: must start with http:// or https://"),
    (["--es", "http://a b:9200"], "--es: http://a b:9200: Could not parse URL"),
    (["--es", "http://x", "--kibana", "x:5601"], "--kibana: x:5601: must start with"),
    (["--es", "http://x", "--api-key", "k", "--user", "u", "--password", "p"], "--api-key, --user: give one of them"),
    (["--es", "http://x", "--password", "p"], "--password: only with --user"),
    (["--es", "http://x", "--user", "elastic"], "--password: needed with --user"),
    (["--es", "http://x", "--insecure"], "--insecure: only for https:// URLs"),
    (["--es", "https://x", "--insecure", "--ca-certs", "{ca}"], "--ca-certs, --insecure: give one of them"),
    (["--es", "https://x", "--ca-certs", "{missing}"], "--ca-certs"),
    (["--es", "http://x", "--jobs", "nope,smoke-request-count"], "--jobs: no job nope in ml/jobs (there: "),
    (["--es", "http://x", "--jobs", ","], "--jobs: give job ids"),
    (["--es", "http://x", "--run", "{empty}"], "--run: {empty}: no manifest.json"),
    (["--es", "http://x", "--reset"], "--reset: only with --run"),
    (["--es", "http://x", "--timeout", "0"], "--timeout"),
]


@pytest.mark.parametrize("args, message", BAD)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, monkeypatch, args, message):
    """Each bad option: one line naming it, exit 2, before any connection."""
    (tmp_path / "ca.crt").write_text("x")
    (tmp_path / "empty").mkdir()
    fill = {"ca": str(tmp_path / "ca.crt"), "missing": str(tmp_path / "none.crt"), "empty": str(tmp_path / "empty")}
    code, out, err = run_cli(["setup", *[a.format(**fill) for a in args]], capsys)
    assert code == 2 and out == ""
    assert message.format(**fill) in one_line(err)


# --- --run ---

def with_records(stack, out, records=None):
    """The stand-in finds the run's lines in smoke_event-* and, for the spike job, records."""
    stack.documents = [manifest(out)["lines"]]
    start = manifest(out)["start_ms"]
    stack.records = {"smoke-request-count": records or [
        {"job_id": "smoke-request-count", "result_type": "record", "timestamp": start + 3_600_000, "bucket_span": 900,
         "detector_index": 0, "function": "count", "function_description": "count", "record_score": 88.5,
         "initial_record_score": 80.1, "probability": 1e-12, "actual": [120.0], "typical": [11.2], "is_interim": False},
        {"job_id": "smoke-request-count", "result_type": "record", "timestamp": start + 5_400_000, "bucket_span": 900,
         "detector_index": 0, "function": "count", "record_score": 3.2, "actual": [14.0], "typical": [11.0],
         "is_interim": False}]}


def test_run_starts_each_datafeed_over_the_manifest_range(stack, capsys, run_dir):
    """--run: counts the run's documents, opens each job then starts its datafeed with the
    manifest's start and end, waits, and prints the top anomalies; no progress off a terminal."""
    with_records(stack, run_dir)
    m = manifest(run_dir)
    ids = ["smoke-request-count", "smoke-status-code-rate"]
    code, out, err = run_cli(setup_args(stack, "--jobs", ",".join(ids), "--run", str(run_dir), kibana=False), capsys)
    assert code == 0, err
    assert err == ""
    run = [(m_, p, b) for m_, p, b in stack.sent() if "_open" in p or "_start" in p]
    assert run == [("POST", "/_ml/anomaly_detectors/smoke-request-count/_open", None),
                   ("POST", "/_ml/datafeeds/datafeed-smoke-request-count/_start", {"start": m["start"], "end": m["end"]}),
                   ("POST", "/_ml/anomaly_detectors/smoke-status-code-rate/_open", None),
                   ("POST", "/_ml/datafeeds/datafeed-smoke-status-code-rate/_start", {"start": m["start"], "end": m["end"]})]
    count = next(s for s in stack.seen if s.route.endswith("/_count"))
    assert count.body == {"query": {"range": {"@timestamp": {"gte": m["start_ms"], "lt": m["end_ms"],
                                                             "format": "epoch_millis"}}}}
    assert f"smoke_event-* holds {m['lines']:,} documents in {m['start']} to {m['end']}" in out
    top = out[out.index("top anomalies"):].splitlines()
    assert top[1].split() == ["job", "bucket", "(UTC)", "score", "detector", "entity", "actual", "typical"]
    assert top[2].split()[:5] == ["smoke-request-count", *time_words(m["start_ms"] + 3_600_000), "88.5", "count"]
    assert top[3].split()[3] == "3.2"
    assert "no anomalies: smoke-status-code-rate" in out
    assert f"synth score --es {stack.es_url} --job smoke-request-count,smoke-status-code-rate" in out


def time_words(ms):
    from synth.analysis.score import minute_text
    return minute_text(ms).split()


def test_run_again_needs_reset(stack, capsys, run_dir):
    """A job that has analysed data is refused (one line each, exit 1, nothing opened) unless
    --reset, which clears its results first."""
    with_records(stack, run_dir)
    args = setup_args(stack, "--jobs", "smoke-request-count,smoke-visitor-rate", "--run", str(run_dir), kibana=False)
    assert run_cli(args, capsys)[0] == 0
    first = len(stack.seen)
    code, _, err = run_cli(args, capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert lines == [f"synth: job {j} has already analysed {manifest(run_dir)['lines']:,} documents: add --reset "
                     "to clear its results and run it again" for j in ("smoke-request-count", "smoke-visitor-rate")]
    assert not [p for _, p, _ in stack.sent()[first:] if "_open" in p or "_reset" in p]
    first = len(stack.seen)
    code, _, err = run_cli([*args, "--reset"], capsys)
    assert code == 0, err
    writes = [p for m, p, _ in stack.sent()[first:] if m == "POST" and not p.endswith("_count")]
    assert writes == ["/_ml/anomaly_detectors/smoke-request-count/_reset", "/_ml/anomaly_detectors/smoke-visitor-rate/_reset",
                      "/_ml/anomaly_detectors/smoke-request-count/_open", "/_ml/datafeeds/datafeed-smoke-request-count/_start",
                      "/_ml/anomaly_detectors/smoke-visitor-rate/_open", "/_ml/datafeeds/datafeed-smoke-visitor-rate/_start"]


def test_reset_stops_and_closes_a_running_job_first(stack, capsys, run_dir):
    """A datafeed still started: --reset stops it and closes its job before the reset."""
    with_records(stack, run_dir)
    stack.polls_to_finish = 10**6
    spec = elastic.load_jobs(["smoke-request-count"])
    cluster = elastic.Cluster(stack.es_url, elastic.Credentials())
    elastic.apply_setup(cluster, None, spec)
    elastic.start_jobs(cluster, spec, elastic.read_run(run_dir))
    first = len(stack.seen)
    assert elastic.check_before_run(cluster, spec, reset=False) == [
        "job smoke-request-count is opened (datafeed started): add --reset to clear its results and run it again"]
    assert elastic.check_before_run(cluster, spec, reset=True) == []
    assert [(m, p) for m, p, _ in stack.sent()[first:] if m == "POST"] == [
        ("POST", "/_ml/datafeeds/datafeed-smoke-request-count/_stop"),
        ("POST", "/_ml/anomaly_detectors/smoke-request-count/_close"),
        ("POST", "/_ml/anomaly_detectors/smoke-request-count/_reset")]


def test_a_job_in_conflict_is_not_run(stack, capsys, run_dir):
    """--run runs the jobs that match our files and leaves the one reported; exit 1."""
    with_records(stack, run_dir)
    args = setup_args(stack, "--jobs", "smoke-request-count,smoke-url-scanning", kibana=False)
    assert run_cli(args, capsys)[0] == 0
    stack.jobs["smoke-url-scanning"]["analysis_config"]["detectors"][0]["function"] = "distinct_count"
    code, out, err = run_cli([*args, "--run", str(run_dir)], capsys)
    assert code == 1
    assert "exists with another definition" in one_line(err)
    opened = [p for _, p, _ in stack.sent() if p.endswith("/_open")]
    assert opened == ["/_ml/anomaly_detectors/smoke-request-count/_open"]


def test_waiting_for_jobs_polls_until_stopped_and_closed(stack, run_dir):
    """The datafeed runs for three polls; progress sees it advance through the range, then done."""
    with_records(stack, run_dir)
    stack.polls_to_finish = 3
    specs = elastic.load_jobs(["smoke-request-count"])
    cluster = elastic.Cluster(stack.es_url, elastic.Credentials())
    elastic.apply_setup(cluster, None, specs)
    run = elastic.read_run(run_dir)
    elastic.start_jobs(cluster, specs, run)
    seen, naps = [], []
    states = elastic.wait_for_jobs(cluster, specs, timeout=60, poll=7,
                                   on_states=lambda s: seen.append((s["smoke-request-count"].latest_ms, s["smoke-request-count"].done)),
                                   sleep=naps.append)
    span = run.end_ms - run.start_ms
    assert seen == [(run.start_ms + span // 3, False), (run.start_ms + 2 * span // 3, False), (run.end_ms - 1000, True)]
    assert naps == [7, 7]
    assert states["smoke-request-count"].state == "closed"
    assert states["smoke-request-count"].processed == run.lines


def test_progress_bars_follow_the_documents_and_the_jobs():
    """On a terminal: a bar for the documents, one per job through the run's range, full when done."""
    from synth.run.report import StackProgress
    with StackProgress(enabled=True) as progress:
        progress.documents(50, 200)
        progress.jobs({"a": elastic.JobState("a", state="opened", datafeed_state="started", latest_ms=1_250)}, 1_000, 2_000)
        bars = {t.description: (t.completed, t.total) for t in progress._bar.tasks}
        assert bars == {"documents in smoke_event-*": (50, 200), "a": (250, 1_000)}
        progress.jobs({"a": elastic.JobState("a", state="closed", latest_ms=1_900)}, 1_000, 2_000)
        assert progress._bar.tasks[1].completed == 1_000
    with StackProgress(enabled=False) as quiet:
        quiet.documents(1, 2)
        assert quiet._bar is None


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_waiting_gives_up_with_one_line(stack, run_dir):
    """A job that never finishes: timed out, naming it; a job left open after its datafeed
    stopped: stuck; documents that stop arriving: a stall."""
    with_records(stack, run_dir)
    stack.polls_to_finish = 10**6
    specs = elastic.load_jobs(["smoke-request-count"])
    cluster = elastic.Cluster(stack.es_url, elastic.Credentials())
    elastic.apply_setup(cluster, None, specs)
    run = elastic.read_run(run_dir)
    elastic.start_jobs(cluster, specs, run)
    clock = Clock()
    with pytest.raises(ElasticError) as error:
        elastic.wait_for_jobs(cluster, specs, timeout=30, poll=10, sleep=clock.sleep, clock=clock)
    assert str(error.value) == "timed out after 30 s waiting for smoke-request-count (opened, datafeed started)"
    stack.datafeed_state["datafeed-smoke-request-count"]["state"] = "stopped"
    clock = Clock()
    with pytest.raises(ElasticError) as error:
        elastic.wait_for_jobs(cluster, specs, timeout=3600, poll=10, grace=60, sleep=clock.sleep, clock=clock)
    assert str(error.value) == ("the datafeed of job smoke-request-count stopped, but the job is still opened after 60 s: "
                                "see its messages in Kibana (Machine Learning, Anomaly Detection)")
    assert clock.now == 60
    stack.documents = [10, 20, 20, 20, 20]
    clock = Clock()
    counts = []
    with pytest.raises(ElasticError) as error:
        elastic.wait_for_documents(cluster, run, poll=30, stall=60, on_count=counts.append, sleep=clock.sleep, clock=clock)
    assert counts == [10, 20, 20, 20]
    assert str(error.value) == (f"smoke_event-* holds 20 of the run's {run.lines:,} lines and has not grown for 60 s: "
                                f"is Filebeat shipping {run_dir}?")
    stack.documents = [0, run.lines // 2, run.lines]
    clock = Clock()
    assert elastic.wait_for_documents(cluster, run, poll=5, sleep=clock.sleep, clock=clock) == run.lines
    assert clock.now == 10


def test_a_failed_job_is_one_line(stack, capsys, run_dir):
    """A job whose state is failed when its datafeed stops."""
    with_records(stack, run_dir)
    specs = elastic.load_jobs(["smoke-request-count"])
    cluster = elastic.Cluster(stack.es_url, elastic.Credentials())
    elastic.apply_setup(cluster, None, specs)
    stack.fail[("GET", "/_ml/anomaly_detectors/smoke-request-count/_stats")] = (200, {"count": 1, "jobs": [
        {"job_id": "smoke-request-count", "state": "failed", "data_counts": {"processed_record_count": 5}}]})
    with pytest.raises(ElasticError, match=r"^job smoke-request-count failed: "):
        elastic.wait_for_jobs(cluster, specs, timeout=5, poll=0, sleep=lambda s: None)


# --- --dry-run ---

METHOD_LINE = re.compile(r"^(GET|PUT|POST|DELETE) (\S+)$")


def parse_console(text):
    """Kibana Dev Tools console text back into (target, method, path, body): a method line,
    then the JSON body up to the next one; # lines are comments."""
    requests, body = [], []

    def close():
        if requests:
            target, method, path = requests[-1]
            requests[-1] = (target, method, path, json.loads("\n".join(body)) if body else None)
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        found = METHOD_LINE.match(line)
        if found:
            close()
            body = []
            method, path = found.groups()
            requests.append(("kibana", method, path[4:]) if path.startswith("kbn:") else ("es", method, "/" + path))
        elif line.strip():
            body.append(line)
    close()
    return requests


def replay(stack, requests):
    for target, method, path, body in requests:
        url = (stack.kibana_url if target == "kibana" else stack.es_url) + path
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", **({"kbn-xsrf": "console"} if target == "kibana" else {})}
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=headers)) as r:
            assert r.status == 200


def state(stack):
    jobs = {k: {key: v for key, v in job.items() if key != "create_time"} for k, job in stack.jobs.items()}
    views = sorted((v["title"], v["timeFieldName"]) for v in stack.data_views.values())
    return stack.pipelines, stack.templates, jobs, stack.datafeeds, views


def test_dry_run_replays_into_the_same_requests(stack, capsys, run_dir):
    """Every request --dry-run prints, pasted (here: parsed and sent), is what setup sends an
    empty cluster, and leaves the same pipelines, templates, jobs, datafeeds, data view and
    datafeed ranges; --dry-run itself sends nothing."""
    with_records(stack, run_dir)
    code, text, err = run_cli(["setup", "--dry-run", "--es", stack.es_url, "--kibana", stack.kibana_url,
                               "--run", str(run_dir)], capsys)
    assert code == 0, err
    assert stack.seen == []
    printed = parse_console(text)
    code, _, err = run_cli(setup_args(stack, "--run", str(run_dir)), capsys)
    assert code == 0, err
    assert [(m, p, b) for _, m, p, b in printed] == changes(stack)
    replayed = FakeStack().start()
    try:
        replay(replayed, printed)
        assert state(replayed) == state(stack)
        assert ({k: v["range"] for k, v in replayed.datafeed_state.items()}
                == {k: v["range"] for k, v in stack.datafeed_state.items()})
    finally:
        replayed.stop()
    assert "\n# GET _ml/anomaly_detectors/smoke-request-count/results/records?" in text
