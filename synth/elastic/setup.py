"""What ``synth setup`` puts in Elasticsearch and Kibana, and putting it there idempotently.

``setup_requests`` lists what an empty cluster needs, in a working order (the template and the
pipeline before any data, each job before its datafeed); ``--dry-run`` prints that list as
Kibana Dev Tools console text, and ``apply_setup`` sends each request only when a GET shows the
thing missing or different.

    >>> from synth.elastic.setup import load_jobs, setup_requests
    >>> from synth.elastic.client import console_text
    >>> print(console_text(setup_requests(load_jobs(["smoke-request-count"]), kibana=False))[:60])
    # ingest pipeline smoke_event-access (filebeat/smoke_event-a
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from synth.elastic.client import KIBANA, Cluster, ElasticError, Kibana, Request, SetupError
from synth.elastic.pipelines import (
    FAILED_INDEX,
    JSON_PIPELINE_FILE,
    JSON_PIPELINE_ID,
    NDJSON_PIPELINE_FILE,
    NDJSON_PIPELINE_ID,
    PIPELINE_ID,
)
from synth.elastic.verify import PIPELINE_FILE, TEMPLATE_FILE
from synth.resources import resource_dir

# The bundled pipelines: text lines of any built-in format, --format ecs_json documents as lines,
# and as Filebeat's ndjson parser decodes them (filebeat-ndjson.yml).
PIPELINES = [(PIPELINE_ID, PIPELINE_FILE), (JSON_PIPELINE_ID, JSON_PIPELINE_FILE),
             (NDJSON_PIPELINE_ID, NDJSON_PIPELINE_FILE)]
TEMPLATE_NAME = "smoke_event"
INDEX_PATTERN = "smoke_event-*"
DATA_VIEW = {"title": INDEX_PATTERN, "name": "smoke_event (synth)", "timeFieldName": "@timestamp"}
# The lines the pipeline cannot read have an index of their own, outside smoke_event-*, so its
# mappings (error.message as text, the raw line kept but not indexed) need a template of their own.
FAILED_TEMPLATE_NAME = FAILED_INDEX
FAILED_TEMPLATE_FILE = f"{FAILED_INDEX}.template.json"


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


def failed_template_request() -> Request:
    return Request("PUT", f"/_index_template/{FAILED_TEMPLATE_NAME}", read_bundled(FAILED_TEMPLATE_FILE),
                   title=f"index template {FAILED_TEMPLATE_NAME} for the lines the pipeline cannot read "
                         f"(filebeat/{FAILED_TEMPLATE_FILE})")


def job_request(spec: JobSpec) -> Request:
    return Request("PUT", spec.job_path, spec.job, title=f"anomaly detection job {spec.job_id} ({spec.file})")


def datafeed_request(spec: JobSpec) -> Request:
    return Request("PUT", spec.datafeed_path, spec.datafeed, title=f"its datafeed {spec.datafeed_id}")


def data_view_request() -> Request:
    return Request("POST", "/api/data_views/data_view", {"data_view": dict(DATA_VIEW)}, target=KIBANA,
                   title=f"Kibana data view {INDEX_PATTERN}, time field @timestamp (Kibana 8.4 and later; on 8.0 "
                         f"to 8.3, POST kbn:/api/index_patterns/index_pattern with the same body under "
                         f"\"index_pattern\" and no \"name\")")


def setup_requests(jobs: list[JobSpec], kibana: bool, security: bool = True) -> list[Request]:
    """Everything an empty cluster needs, in a working order."""
    from synth.elastic.security import security_requests
    requests = [pipeline_request(*pipeline) for pipeline in PIPELINES] + [template_request(),
                                                                           failed_template_request()]
    if security:
        requests += security_requests()
    for spec in jobs:
        requests += [job_request(spec), datafeed_request(spec)]
    if kibana:
        requests.append(data_view_request())
    return requests


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


def setup_failed_template(cluster: Cluster) -> Outcome:
    request = failed_template_request()
    found = (cluster.get(request.path) or {}).get("index_templates") or []
    current = next((t["index_template"] for t in found if t.get("name") == FAILED_TEMPLATE_NAME), None)
    return put_if_different(cluster, request, current, f"index template {FAILED_TEMPLATE_NAME}", comparable_template)


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


# Kibana 8.4 and later take a data view with a name (POST /api/data_views/data_view, listed by
# GET /api/data_views); 8.0 to 8.3 have only the index pattern API, which has no name key and
# refuses one (Kibana docs: "Create index pattern API", "Get all data views API").
DATA_VIEWS_SINCE = (8, 4)


def index_pattern_request() -> Request:
    body = {"index_pattern": {k: v for k, v in DATA_VIEW.items() if k != "name"}}
    return Request("POST", "/api/index_patterns/index_pattern", body, target=KIBANA,
                   title=f"Kibana 8.0 to 8.3: index pattern {INDEX_PATTERN}, time field @timestamp")


def kibana_version(kibana: Kibana) -> tuple[int, ...]:
    """Kibana's version from GET /api/status, as numbers: (9, 5, 7)."""
    number = str(((kibana.get("/api/status") or {}).get("version") or {}).get("number") or "")
    parts = tuple(int(p) for p in re.findall(r"\d+", number)[:3])
    if not parts:
        raise ElasticError(f"Kibana at {kibana.url} does not say its version (GET /api/status)")
    return parts


def setup_data_view(kibana: Kibana) -> Outcome:
    """The data view smoke_event-* on @timestamp: through the data views API on Kibana 8.4 and
    later, through the index pattern API on 8.0 to 8.3."""
    what = f"data view {INDEX_PATTERN} (Kibana)"
    version = kibana_version(kibana)
    if version < (8, 0):
        return Outcome(what, "kept", f"Kibana {'.'.join(map(str, version))} is older than 8.0: make the index "
                                     f"pattern {INDEX_PATTERN} on @timestamp by hand (Stack Management)")
    if version < DATA_VIEWS_SINCE:
        found = (kibana.get(f"/api/saved_objects/_find?type=index-pattern&search_fields=title&search="
                            f"{urllib.parse.quote(json.dumps(INDEX_PATTERN))}&per_page=100") or {})
        views = [{"id": o.get("id"), **(o.get("attributes") or {})} for o in found.get("saved_objects") or []]
        same = next((v for v in views if v.get("title") == INDEX_PATTERN), None)
        if same is None:
            kibana.send(index_pattern_request())
            return Outcome(what, "created")
        view = same
    else:
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
                on_outcome: Callable[[Outcome], None] = lambda outcome: None, key_file: str | None = None,
                security: bool = True) -> list[Outcome]:
    """Put the pipelines, the templates, the roles and Filebeat's API key (``security``), each
    job and datafeed, and the data view: what is missing or (template, pipeline, role,
    datafeed) different. A second run changes nothing."""
    from synth.elastic.security import apply_security, security_off
    outcomes: list[Outcome] = []

    def note(outcome: Outcome) -> None:
        outcomes.append(outcome)
        on_outcome(outcome)

    for pipeline in PIPELINES:
        note(setup_pipeline(cluster, *pipeline))
    note(setup_template(cluster))
    note(setup_failed_template(cluster))
    if security:
        try:
            for outcome in apply_security(cluster, key_file):
                note(outcome)
        except ElasticError as e:
            if not security_off(e):
                raise
            note(Outcome("roles and Filebeat's API key", "kept", "security is off on this cluster: nothing to "
                                                                 "log in with"))
    for spec in jobs:
        for outcome in setup_job(cluster, spec):
            note(outcome)
    if kibana is not None:
        note(setup_data_view(kibana))
    return outcomes
