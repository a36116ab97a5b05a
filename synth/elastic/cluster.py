"""Elasticsearch and Kibana: what ``synth setup`` puts there, running the ML jobs over a run,
and reading their anomaly records back for ``synth score``.

Every request is a plain ``Request(method, path, body)``. ``setup_requests`` and
``run_requests`` list what an empty cluster needs, in a working order (the template and the
pipeline before any data, each job before its datafeed, a job opened before its datafeed
starts); ``--dry-run`` prints that list as Kibana Dev Tools console text, and a real setup
sends the same requests through the official ``elasticsearch`` client, each only when a GET
shows it is missing or different. That client is imported only when a cluster is contacted
(``pip install 'synth-logs[es]'``), so the rest of synth works without it.

    >>> from synth.elastic import load_jobs, setup_requests, console_text
    >>> print(console_text(setup_requests(load_jobs(["smoke-request-count"]), kibana=False))[:60])
    # ingest pipeline smoke_event-access (filebeat/smoke_event-a
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synth.elastic.pipelines import JSON_PIPELINE_FILE, JSON_PIPELINE_ID, PIPELINE_ID
from synth.elastic.verify import PIPELINE_FILE, TEMPLATE_FILE
from synth.resources import resource_dir

ES, KIBANA = "es", "kibana"
# Both bundled pipelines: text lines of any built-in format, and --format ecs_json documents.
PIPELINES = [(PIPELINE_ID, PIPELINE_FILE), (JSON_PIPELINE_ID, JSON_PIPELINE_FILE)]
TEMPLATE_NAME = "smoke_event"
INDEX_PATTERN = "smoke_event-*"
DATA_VIEW = {"title": INDEX_PATTERN, "name": "smoke_event (synth)", "timeFieldName": "@timestamp"}
MISSING_CLIENT = ("this needs the Elasticsearch Python client: pip install 'synth-logs[es]' "
                  "(in a checkout: pip install -e '.[es]')")
RECORDS_PAGE = 500
RECORDS_LIMIT = 10_000  # from + size of the records API stops at index.max_result_window


class SetupError(ValueError):
    """Bad input (an unknown job, a folder without a manifest): the message names the option."""


class ElasticError(RuntimeError):
    """Elasticsearch or Kibana could not be reached, refused the credentials or a request: one line."""


@dataclass(frozen=True)
class Request:
    """One HTTP request; ``path`` starts with ``/`` and may carry a query string."""

    method: str
    path: str
    body: Any = None
    target: str = ES
    title: str = ""

    def console(self) -> str:
        """As Kibana Dev Tools console text: ``PUT _ingest/pipeline/x`` then the body."""
        path = f"kbn:{self.path}" if self.target == KIBANA else self.path.lstrip("/")
        lines = [f"# {self.title}"] if self.title else []
        lines.append(f"{self.method} {path}")
        if self.body is not None:
            lines.append(json.dumps(self.body, indent=2))
        return "\n".join(lines)


def console_text(requests: Iterable[Request]) -> str:
    """Requests as Dev Tools console text, a blank line between them."""
    return "\n\n".join(r.console() for r in requests) + "\n"


# --- what we put -------------------------------------------------------------------------------

@dataclass(frozen=True)
class JobSpec:
    """One file of ml/jobs: the job's and its datafeed's ids and bodies."""

    job_id: str
    datafeed_id: str
    job: dict[str, Any]
    datafeed: dict[str, Any]
    file: str

    @property
    def job_path(self) -> str:
        return f"/_ml/anomaly_detectors/{self.job_id}"

    @property
    def datafeed_path(self) -> str:
        return f"/_ml/datafeeds/{self.datafeed_id}"


def load_jobs(ids: Iterable[str] | None = None) -> list[JobSpec]:
    """The jobs of ml/jobs (all, or those named, in the order named)."""
    folder = resource_dir("ml") / "jobs"
    specs = {}
    for path in sorted(folder.glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        specs[spec["job_id"]] = JobSpec(spec["job_id"], spec["datafeed_id"], spec["job"], spec["datafeed"],
                                        f"ml/jobs/{path.name}")
    if ids is None:
        return list(specs.values())
    wanted = list(dict.fromkeys(ids))
    unknown = [i for i in wanted if i not in specs]
    if unknown:
        raise SetupError(f"--jobs: no job {', '.join(unknown)} in ml/jobs (there: {', '.join(specs)})")
    return [specs[i] for i in wanted]


def read_bundled(name: str) -> dict[str, Any]:
    return json.loads((resource_dir("filebeat") / name).read_text(encoding="utf-8"))


def pipeline_request(pipeline_id: str, file: str) -> Request:
    return Request("PUT", f"/_ingest/pipeline/{pipeline_id}", read_bundled(file),
                   title=f"ingest pipeline {pipeline_id} (filebeat/{file})")


def template_request() -> Request:
    return Request("PUT", f"/_index_template/{TEMPLATE_NAME}", read_bundled(TEMPLATE_FILE),
                   title=f"index template {TEMPLATE_NAME} for {INDEX_PATTERN} (filebeat/{TEMPLATE_FILE})")


def job_request(spec: JobSpec) -> Request:
    return Request("PUT", spec.job_path, spec.job, title=f"anomaly detection job {spec.job_id} ({spec.file})")


def datafeed_request(spec: JobSpec) -> Request:
    return Request("PUT", spec.datafeed_path, spec.datafeed, title=f"its datafeed {spec.datafeed_id}")


def data_view_request() -> Request:
    return Request("POST", "/api/data_views/data_view", {"data_view": dict(DATA_VIEW)}, target=KIBANA,
                   title=f"Kibana data view {INDEX_PATTERN}, time field @timestamp")


def setup_requests(jobs: list[JobSpec], kibana: bool) -> list[Request]:
    """Everything an empty cluster needs, in a working order."""
    requests = [pipeline_request(*pipeline) for pipeline in PIPELINES] + [template_request()]
    for spec in jobs:
        requests += [job_request(spec), datafeed_request(spec)]
    if kibana:
        requests.append(data_view_request())
    return requests


@dataclass(frozen=True)
class RunRange:
    """The time range of a generated run, from its manifest.json."""

    folder: str
    start: str
    end: str
    start_ms: int
    end_ms: int
    lines: int


def read_run(folder: str | Path) -> RunRange:
    path = Path(folder) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SetupError(f"--run: {folder}: no manifest.json (give the folder synth generate wrote)") from None
    except (OSError, ValueError) as e:
        raise SetupError(f"--run: {path}: cannot read it ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("generator") != "synth":
        raise SetupError(f"--run: {path}: not a manifest synth wrote")
    if not manifest.get("complete"):
        raise SetupError(f"--run: {path}: the run is incomplete; generate it again")
    try:
        return RunRange(str(folder), manifest["start"], manifest["end"], int(manifest["start_ms"]),
                        int(manifest["end_ms"]), int(manifest["lines"]))
    except (KeyError, TypeError, ValueError) as e:
        raise SetupError(f"--run: {path}: lacks {e}") from None


def open_request(spec: JobSpec) -> Request:
    return Request("POST", f"{spec.job_path}/_open", title=f"run {spec.job_id}")


def start_request(spec: JobSpec, run: RunRange) -> Request:
    # start inclusive, end exclusive: a lookback-only datafeed, which stops and closes its job itself
    return Request("POST", f"{spec.datafeed_path}/_start", {"start": run.start, "end": run.end})


def run_requests(jobs: list[JobSpec], run: RunRange) -> list[Request]:
    requests = []
    for spec in jobs:
        requests += [open_request(spec), start_request(spec, run)]
    return requests


def records_path(job_id: str, min_score: float = 0.0, size: int = RECORDS_PAGE, start: int = 0,
                 sort: str = "record_score", desc: bool = True) -> str:
    return (f"/_ml/anomaly_detectors/{job_id}/results/records?record_score={min_score:g}&sort={sort}"
            f"&desc={'true' if desc else 'false'}&exclude_interim=true&from={start}&size={size}")


# --- comparing what is there with what we put --------------------------------------------------

def leaf(value: Any) -> str:
    """A value as Elasticsearch may echo it: settings come back as strings, numbers as they like."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if value is None:
        return "null"
    return str(value)


def differences(ours: Any, theirs: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, ours, theirs) wherever ``theirs`` lacks or differs from a key ``ours`` sets. Keys
    only the server has (defaults it fills in, creation times) do not count; lists must match
    in length and order."""
    if isinstance(ours, dict):
        if not isinstance(theirs, dict):
            return [(path, ours, theirs)]
        found = []
        for key, value in ours.items():
            where = f"{path}.{key}" if path else key
            if key not in theirs:
                found.append((where, value, None))
            else:
                found += differences(value, theirs[key], where)
        return found
    if isinstance(ours, list):
        if not isinstance(theirs, list) or len(ours) != len(theirs):
            return [(path, ours, theirs)]
        return [d for i, (a, b) in enumerate(zip(ours, theirs)) for d in differences(a, b, f"{path}[{i}]")]
    return [] if leaf(ours) == leaf(theirs) else [(path, ours, theirs)]


def flat_settings(settings: Any, prefix: str = "") -> dict[str, Any]:
    """Index settings as ``index.x.y`` keys, whichever form they were given or echoed in."""
    flat: dict[str, Any] = {}
    for key, value in (settings or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_settings(value, f"{name}."))
        else:
            flat[name if name.startswith("index.") else f"index.{name}"] = value
    return flat


def comparable_template(body: dict[str, Any]) -> dict[str, Any]:
    body = json.loads(json.dumps(body))
    template = body.get("template") or {}
    if "settings" in template:
        template["settings"] = flat_settings(template["settings"])
    return body


def difference_text(found: list[tuple[str, Any, Any]], source: str) -> str:
    path, ours, theirs = found[0]
    more = f"; {len(found) - 1} more difference{'s' if len(found) > 2 else ''}" if len(found) > 1 else ""
    there = "missing" if theirs is None else json.dumps(theirs)
    return f"{path or 'the body'} is {there} there, {json.dumps(ours)} in {source}{more}"


# --- talking to the servers ----------------------------------------------------------------------

@dataclass(frozen=True)
class Credentials:
    api_key: str | None = None
    user: str | None = None
    password: str | None = None
    ca_certs: str | None = None
    verify: bool = True


def _short_reason(error: Exception) -> str:
    """The useful end of a transport error: 'Connection refused', 'certificate verify failed: ...'."""
    text = str(error)
    for pattern in (r"\[SSL: [A-Z_]+\] ([^(]+?)\s*\(_ssl", r"\[Errno -?\d+\] ([^)'\"]+)", r"(timed out)"):
        found = re.search(pattern, text)
        if found:
            return found.group(1).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _error_reason(body: Any) -> tuple[str, str]:
    """(type, reason) from an Elasticsearch error body."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return str(error.get("type", "error")), str(error.get("reason", ""))
    if isinstance(body, dict) and "error" in body:
        return str(body["error"]), str(body.get("message", ""))
    return "error", str(body)[:200]


class Cluster:
    """Elasticsearch through the official client; every failure becomes one ElasticError line."""

    def __init__(self, url: str, creds: Credentials, timeout: float = 30.0):
        try:
            import elasticsearch
        except ImportError:
            raise ElasticError(MISSING_CLIENT) from None
        self.es = elasticsearch
        self.url = url.rstrip("/")
        options: dict[str, Any] = {"request_timeout": timeout, "max_retries": 1, "retry_on_timeout": False}
        if creds.api_key:
            options["api_key"] = creds.api_key
        elif creds.user is not None:
            options["basic_auth"] = (creds.user, creds.password or "")
        if self.url.startswith("https:"):
            if creds.ca_certs:
                options["ca_certs"] = creds.ca_certs
            if not creds.verify:
                options.update(verify_certs=False, ssl_show_warn=False)
        try:
            self.client = elasticsearch.Elasticsearch(self.url, **options)
        except ValueError as e:
            raise SetupError(f"--es: {url}: {e}") from None

    def send(self, request: Request, missing_ok: bool = False) -> Any:
        """The response body; None for a 404 when ``missing_ok``."""
        es = self.es
        headers = {"accept": "application/json"}
        if request.body is not None:
            headers["content-type"] = "application/json"
        try:
            return self.client.perform_request(request.method, request.path, headers=headers, body=request.body).body
        except es.UnsupportedProductError:
            raise ElasticError(f"{self.url} does not answer as Elasticsearch does") from None
        except es.ApiError as e:
            if e.meta.status == 404 and missing_ok:
                return None
            raise self._api_error(request, e.meta.status, _error_reason(e.body)) from None
        except es.SSLError as e:
            raise ElasticError(f"cannot connect to Elasticsearch at {self.url}: {_short_reason(e)} "
                               "(give the cluster's CA with --ca-certs, or --insecure)") from None
        except es.ConnectionError as e:
            raise ElasticError(f"cannot connect to Elasticsearch at {self.url}: {_short_reason(e)}") from None
        except es.TransportError as e:
            raise ElasticError(f"Elasticsearch at {self.url}: {request.method} {request.path}: {_short_reason(e)}") from None

    def _api_error(self, request: Request, status: int, error: tuple[str, str]) -> ElasticError:
        kind, reason = error
        if status == 401:
            return ElasticError(f"Elasticsearch at {self.url} refused the credentials (401 {kind}): {reason}")
        if status == 403:
            return ElasticError(f"Elasticsearch at {self.url}: {request.method} {request.path} is not allowed "
                                f"for this user (403 {kind}): {reason}")
        if kind == "media_type_header_exception":
            # a 9.x client talking to an 8.x server: the 8.x client speaks to both
            return ElasticError(f"Elasticsearch at {self.url} is older than this Python client "
                                f"({self.es.__versionstr__}): pip install 'elasticsearch>=8.13,<9'")
        return ElasticError(f"Elasticsearch at {self.url}: {request.method} {request.path} failed "
                            f"({status} {kind}): {reason}")

    def get(self, path: str) -> Any:
        """A GET's body, or None when Elasticsearch answers 404."""
        return self.send(Request("GET", path), missing_ok=True)


class Kibana:
    """Kibana's HTTP API with the same credentials (plain urllib: Kibana is not Elasticsearch)."""

    def __init__(self, url: str, creds: Credentials, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.headers = {"kbn-xsrf": "synth", "Accept": "application/json"}
        if creds.api_key:
            self.headers["Authorization"] = f"ApiKey {creds.api_key}"
        elif creds.user is not None:
            token = base64.b64encode(f"{creds.user}:{creds.password or ''}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"
        self.context = None
        if self.url.startswith("https:"):
            self.context = ssl.create_default_context(cafile=creds.ca_certs)
            if not creds.verify:
                self.context.check_hostname = False
                self.context.verify_mode = ssl.CERT_NONE

    def send(self, request: Request, missing_ok: bool = False) -> Any:
        data = None
        headers = dict(self.headers)
        if request.body is not None:
            data = json.dumps(request.body).encode()
            headers["Content-Type"] = "application/json"
        http = urllib.request.Request(self.url + request.path, data=data, method=request.method, headers=headers)
        try:
            with urllib.request.urlopen(http, timeout=self.timeout, context=self.context) as response:
                text = response.read()
        except urllib.error.HTTPError as e:
            if e.code == 404 and missing_ok:
                return None
            try:
                body = json.loads(e.read() or b"{}")
            except ValueError:
                body = {}
            message = body.get("message") or e.reason
            if e.code == 401:
                raise ElasticError(f"Kibana at {self.url} refused the credentials (401): {message}") from None
            raise ElasticError(f"Kibana at {self.url}: {request.method} {request.path} failed ({e.code}): {message}") from None
        except urllib.error.URLError as e:
            raise ElasticError(f"cannot connect to Kibana at {self.url}: {_short_reason(e.reason) if isinstance(e.reason, Exception) else e.reason}") from None
        except OSError as e:
            raise ElasticError(f"cannot connect to Kibana at {self.url}: {_short_reason(e)}") from None
        try:
            return json.loads(text) if text else {}
        except ValueError:
            raise ElasticError(f"{self.url} does not answer as Kibana does ({request.method} {request.path})") from None

    def get(self, path: str) -> Any:
        return self.send(Request("GET", path, target=KIBANA), missing_ok=True)


# --- setup ---------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What setup did with one thing: created, updated, unchanged, or a conflict it left alone."""

    what: str
    status: str
    detail: str = ""

    @property
    def conflict(self) -> bool:
        return self.status == "conflict"


def server_version(cluster: Cluster) -> str:
    info = cluster.send(Request("GET", "/"))
    return str((info or {}).get("version", {}).get("number", "?"))


def put_if_different(cluster: Cluster, request: Request, current: Any, what: str, comparable: Callable[[Any], Any]
                     ) -> Outcome:
    if current is None:
        cluster.send(request)
        return Outcome(what, "created")
    if differences(comparable(request.body), comparable(current)):
        cluster.send(request)
        return Outcome(what, "updated")
    return Outcome(what, "unchanged")


def setup_pipeline(cluster: Cluster, pipeline_id: str, file: str) -> Outcome:
    request = pipeline_request(pipeline_id, file)
    current = (cluster.get(request.path) or {}).get(pipeline_id)
    return put_if_different(cluster, request, current, f"ingest pipeline {pipeline_id}", lambda body: body)


def setup_template(cluster: Cluster) -> Outcome:
    request = template_request()
    found = (cluster.get(request.path) or {}).get("index_templates") or []
    current = next((t["index_template"] for t in found if t.get("name") == TEMPLATE_NAME), None)
    return put_if_different(cluster, request, current, f"index template {TEMPLATE_NAME}", comparable_template)


def setup_job(cluster: Cluster, spec: JobSpec) -> list[Outcome]:
    """The job, then its datafeed. A job that exists with another definition is left alone and
    reported: its analysis_config cannot be changed, and replacing it would drop its results."""
    what = f"job {spec.job_id}"
    found = (cluster.get(spec.job_path) or {}).get("jobs") or []
    if not found:
        cluster.send(job_request(spec))
        outcomes = [Outcome(what, "created")]
    else:
        diff = differences(spec.job, found[0])
        if diff:
            return [Outcome(what, "conflict", (
                f"{what} exists with another definition ({difference_text(diff, spec.file)}); to replace it, "
                f"DELETE _ml/datafeeds/{spec.datafeed_id}?force=true and DELETE "
                f"_ml/anomaly_detectors/{spec.job_id}?force=true, then run synth setup again"))]
        outcomes = [Outcome(what, "unchanged")]
    what = f"datafeed {spec.datafeed_id}"
    found = (cluster.get(spec.datafeed_path) or {}).get("datafeeds") or []
    if not found:
        cluster.send(datafeed_request(spec))
        outcomes.append(Outcome(what, "created"))
    elif found[0].get("job_id") != spec.job_id:
        outcomes.append(Outcome(what, "conflict", f"{what} exists for job {found[0].get('job_id')}, not {spec.job_id}"))
    elif differences(spec.datafeed, found[0]):
        # unlike a job, a datafeed can be changed in place (the job id cannot, and is not sent)
        body = {k: v for k, v in spec.datafeed.items() if k != "job_id"}
        cluster.send(Request("POST", f"{spec.datafeed_path}/_update", body))
        outcomes.append(Outcome(what, "updated"))
    else:
        outcomes.append(Outcome(what, "unchanged"))
    return outcomes


def setup_data_view(kibana: Kibana) -> Outcome:
    what = f"data view {INDEX_PATTERN} (Kibana)"
    listed = (kibana.get("/api/data_views") or {}).get("data_view") or []
    same = next((v for v in listed if v.get("title") == INDEX_PATTERN), None)
    if same is None:
        kibana.send(data_view_request())
        return Outcome(what, "created")
    view = (kibana.get(f"/api/data_views/data_view/{same['id']}") or {}).get("data_view") or {}
    if view.get("timeFieldName") != DATA_VIEW["timeFieldName"]:
        # someone's own data view, perhaps on the `timestamp` field the original tool suggested:
        # theirs to keep, and Discover shows the same documents either way
        return Outcome(what, "kept", f"time field {view.get('timeFieldName')!r}, not '@timestamp'")
    return Outcome(what, "unchanged")


def apply_setup(cluster: Cluster, kibana: Kibana | None, jobs: list[JobSpec],
                on_outcome: Callable[[Outcome], None] = lambda outcome: None) -> list[Outcome]:
    """Put the pipelines, the template, each job and datafeed, and the data view: what is missing
    or (template, pipeline, datafeed) different. A second run changes nothing."""
    outcomes: list[Outcome] = []

    def note(outcome: Outcome) -> None:
        outcomes.append(outcome)
        on_outcome(outcome)

    for pipeline in PIPELINES:
        note(setup_pipeline(cluster, *pipeline))
    note(setup_template(cluster))
    for spec in jobs:
        for outcome in setup_job(cluster, spec):
            note(outcome)
    if kibana is not None:
        note(setup_data_view(kibana))
    return outcomes


# --- running the jobs ----------------------------------------------------------------------------

@dataclass
class JobState:
    """A job and its datafeed as their _stats say."""

    job_id: str
    state: str = "closed"
    datafeed_state: str = "stopped"
    processed: int = 0
    buckets: int = 0
    latest_ms: int | None = None

    @property
    def done(self) -> bool:
        return self.datafeed_state == "stopped" and self.state in ("closed", "failed")


def job_states(cluster: Cluster, jobs: list[JobSpec]) -> dict[str, JobState]:
    ids = ",".join(s.job_id for s in jobs)
    datafeeds = ",".join(s.datafeed_id for s in jobs)
    states = {s.job_id: JobState(s.job_id) for s in jobs}
    for item in (cluster.send(Request("GET", f"/_ml/anomaly_detectors/{ids}/_stats")) or {}).get("jobs", []):
        state = states.get(item.get("job_id"))
        if state is not None:
            counts = item.get("data_counts") or {}
            state.state = item.get("state", "closed")
            state.processed = int(counts.get("processed_record_count") or 0)
            state.buckets = int(counts.get("bucket_count") or 0)
            state.latest_ms = counts.get("latest_record_timestamp")
    by_datafeed = {s.datafeed_id: s.job_id for s in jobs}
    for item in (cluster.send(Request("GET", f"/_ml/datafeeds/{datafeeds}/_stats")) or {}).get("datafeeds", []):
        job_id = by_datafeed.get(item.get("datafeed_id"))
        if job_id is not None:
            states[job_id].datafeed_state = item.get("state", "stopped")
    return states


def check_before_run(cluster: Cluster, jobs: list[JobSpec], reset: bool) -> list[str]:
    """Jobs that have already analysed data, or are running: reset them when told to (stopping
    and closing them first), else one line each saying so; a datafeed that starts again would
    carry on after its last record and analyse nothing."""
    refused = []
    for spec in jobs:
        state = job_states(cluster, [spec])[spec.job_id]
        busy = state.state != "closed" or state.datafeed_state != "stopped"
        if not busy and not state.processed:
            continue
        if not reset:
            what = (f"is {state.state} (datafeed {state.datafeed_state})" if busy
                    else f"has already analysed {state.processed:,} documents")
            refused.append(f"job {spec.job_id} {what}: add --reset to clear its results and run it again")
            continue
        if state.datafeed_state not in ("stopped",):
            cluster.send(Request("POST", f"{spec.datafeed_path}/_stop", {"force": True}))
        if state.state not in ("closed",):
            cluster.send(Request("POST", f"{spec.job_path}/_close", {"force": True}))
        cluster.send(Request("POST", f"{spec.job_path}/_reset"))
    return refused


def count_documents(cluster: Cluster, run: RunRange) -> int:
    body = {"query": {"range": {"@timestamp": {"gte": run.start_ms, "lt": run.end_ms, "format": "epoch_millis"}}}}
    return int((cluster.send(Request("POST", f"/{INDEX_PATTERN}/_count", body)) or {}).get("count", 0))


def wait_for_documents(cluster: Cluster, run: RunRange, poll: float = 2.0, stall: float = 120.0,
                       on_count: Callable[[int], None] = lambda count: None,
                       sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> int:
    """Wait until smoke_event-* holds the run's lines (Filebeat may still be shipping them); an
    ElasticError when the count has not grown for ``stall`` seconds."""
    count = count_documents(cluster, run)
    last, since = count, clock()
    while count < run.lines:
        on_count(count)
        if clock() - since >= stall:
            raise ElasticError(f"{INDEX_PATTERN} holds {count:,} of the run's {run.lines:,} lines and has not "
                               f"grown for {stall:g} s: is Filebeat shipping {run.folder}?")
        sleep(poll)
        count = count_documents(cluster, run)
        if count != last:
            last, since = count, clock()
    on_count(count)
    return count


def start_jobs(cluster: Cluster, jobs: list[JobSpec], run: RunRange) -> None:
    for request in run_requests(jobs, run):
        cluster.send(request)


def wait_for_jobs(cluster: Cluster, jobs: list[JobSpec], timeout: float, poll: float = 2.0, grace: float = 300.0,
                  on_states: Callable[[dict[str, JobState]], None] = lambda states: None,
                  sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic
                  ) -> dict[str, JobState]:
    """Poll the datafeeds' and jobs' stats until every datafeed has stopped and every job closed.
    A job still open ``grace`` seconds after its datafeed stopped is stuck (a lookback that ends
    closes its job within seconds): an ElasticError, rather than waiting out the timeout."""
    began = clock()
    stopped_at: dict[str, float] = {}
    while True:
        states = job_states(cluster, jobs)
        on_states(states)
        if all(s.done for s in states.values()):
            break
        now = clock()
        for s in states.values():
            if s.datafeed_state == "stopped" and not s.done:
                if now - stopped_at.setdefault(s.job_id, now) >= grace:
                    raise ElasticError(f"the datafeed of job {s.job_id} stopped, but the job is still {s.state} after "
                                       f"{grace:g} s: see its messages in Kibana (Machine Learning, Anomaly Detection)")
            else:
                stopped_at.pop(s.job_id, None)
        if now - began >= timeout:
            waiting = ", ".join(f"{s.job_id} ({s.state}, datafeed {s.datafeed_state})"
                                for s in states.values() if not s.done)
            raise ElasticError(f"timed out after {timeout:g} s waiting for {waiting}")
        sleep(poll)
    failed = [s.job_id for s in states.values() if s.state == "failed"]
    if failed:
        raise ElasticError(f"job {', '.join(failed)} failed: see its messages in Kibana (Machine Learning, "
                           "Anomaly Detection)")
    return states


class RunRefused(ElasticError):
    """Jobs that cannot be run as asked (already run, open without a datafeed, ...)."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass
class JobsRun:
    """What running the jobs over a run's range gave: the documents seen, each job's final
    state and its top records."""

    documents: int
    states: dict[str, JobState]
    records: dict[str, list[dict[str, Any]]]


def _nothing(*_: Any) -> None:
    return None


def run_jobs(cluster: Cluster, jobs: list[JobSpec], run: RunRange, reset: bool, timeout: float, *,
             on_documents: Callable[[int], None] = _nothing, on_counted: Callable[[int], None] = _nothing,
             on_started: Callable[[], None] = _nothing,
             on_states: Callable[[dict[str, JobState]], None] = _nothing, top: int = 5) -> JobsRun:
    """Wait until the run's documents are in, run the jobs over its range, and collect each
    job's top records. Raises RunRefused when a job cannot be run as asked."""
    refused = check_before_run(cluster, jobs, reset)
    if refused:
        raise RunRefused(refused)
    count = wait_for_documents(cluster, run, on_count=on_documents)
    on_counted(count)
    start_jobs(cluster, jobs, run)
    on_started()
    states = wait_for_jobs(cluster, jobs, timeout, on_states=on_states)
    records = {spec.job_id: top_records(cluster, spec.job_id, size=top) for spec in jobs}
    return JobsRun(documents=count, states=states, records=records)


def top_records(cluster: Cluster, job_id: str, size: int = 5) -> list[dict[str, Any]]:
    return (cluster.send(Request("GET", records_path(job_id, size=size))) or {}).get("records", [])


def fetch_records(cluster: Cluster, job_id: str, min_score: float) -> list[dict[str, Any]]:
    """Every non-interim record of a job with ``record_score >= min_score``, page by page."""
    records: list[dict[str, Any]] = []
    while True:
        page = cluster.send(Request("GET", records_path(job_id, min_score, RECORDS_PAGE, len(records),
                                                        sort="timestamp", desc=False)))
        if page is None:
            break
        count = int(page.get("count", 0))
        if count > RECORDS_LIMIT:
            raise ElasticError(f"job {job_id} has {count:,} records with record_score >= {min_score:g}, more than "
                               f"the records API pages through ({RECORDS_LIMIT:,}): raise --min-score")
        records += page.get("records", [])
        if not page.get("records") or len(records) >= count:
            break
    return records


def entity(record: dict[str, Any]) -> str:
    """The partition, by and over values of a record, ``field=value`` each."""
    parts = [f"{record[k + '_field_name']}={record.get(k + '_field_value')}"
             for k in ("partition", "by", "over") if record.get(k + "_field_name")]
    return " ".join(parts) or "-"


def number_text(values: Any) -> str:
    if not isinstance(values, list) or not values:
        return "-"
    x = float(values[0])
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def iter_record_rows(job_id: str, records: list[dict[str, Any]]) -> Iterator[tuple[str, ...]]:
    from synth.analysis.score import minute_text
    for r in records:
        detector = r.get("function", "?") + (f"({r['field_name']})" if r.get("field_name") else "")
        actual, typical = r.get("actual"), r.get("typical")
        if actual is None and r.get("causes"):
            actual, typical = r["causes"][0].get("actual"), r["causes"][0].get("typical")
        yield (job_id, minute_text(r.get("timestamp")), f"{float(r.get('record_score', 0)):.1f}", detector, entity(r),
               number_text(actual), number_text(typical))
