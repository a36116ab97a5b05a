"""A stand-in for Elasticsearch and Kibana on 127.0.0.1, for the tests of ``synth setup`` and
``synth score``: it answers the endpoints they use with the shapes of Elasticsearch's API
reference (../shared/reference/elasticsearch/ML.md, FACTS.md) and Kibana's data view API,
keeps state (a second run sees what the first created), records every request, and can answer
401, 400 with an Elasticsearch error body, or any status asked of it.

A started datafeed runs for ``polls_to_finish`` job-stats polls, then stops and closes its job
(a lookback-only datafeed does so itself), and the job's records in ``records`` appear.
"""

from __future__ import annotations

import base64
import copy
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

VERSION = "9.5.7"


@dataclass
class Seen:
    """One request the fake received."""

    target: str  # "es" or "kibana"
    method: str
    path: str  # with the query string, as sent
    body: Any
    headers: dict[str, str]

    @property
    def route(self) -> str:
        return urlsplit(self.path).path


def es_error(status: int, kind: str, reason: str, **extra: Any) -> dict[str, Any]:
    """Elasticsearch's error body: {"error": {"root_cause": [...], "type", "reason"}, "status"}."""
    cause = {"type": kind, "reason": reason, **extra}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


def free_port() -> int:
    """A port nothing listens on (bound, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeStack:
    """Elasticsearch on one port, Kibana on another, one shared state."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[Seen] = []
        self.pipelines: dict[str, Any] = {}
        self.templates: dict[str, Any] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.datafeeds: dict[str, dict[str, Any]] = {}
        self.data_views: dict[str, dict[str, Any]] = {}
        self.index_patterns: dict[str, dict[str, Any]] = {}  # Kibana 8.0 to 8.3
        self.roles: dict[str, dict[str, Any]] = {}
        self.api_keys: list[dict[str, Any]] = []
        self.kibana_version = "9.5.7"  # set by tests: "8.2.3" has no data views API with names
        self.security = True  # False: the security APIs answer as a cluster with security off
        self.job_state: dict[str, dict[str, Any]] = {}
        self.datafeed_state: dict[str, dict[str, Any]] = {}
        self.results: dict[str, list[dict[str, Any]]] = {}
        # set by tests
        self.auth: tuple[str, str] | None = None  # require these basic credentials (or api_key)
        self.api_key: str | None = None
        self.fail: dict[tuple[str, str], tuple[int, Any]] = {}  # (method, route) -> (status, body)
        self.records: dict[str, list[dict[str, Any]]] = {}  # what a job finds when it runs
        self.documents: list[int] = [0]  # _count answers, one per call; the last one repeats
        self.polls_to_finish = 1
        self.product_header = True  # X-Elastic-Product: Elasticsearch, which the client checks
        self.servers: list[ThreadingHTTPServer] = []

    # --- life ---
    def start(self) -> FakeStack:
        for target in ("es", "kibana"):
            server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self, target))
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            self.servers.append(server)
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()

    @property
    def es_url(self) -> str:
        return f"http://127.0.0.1:{self.servers[0].server_address[1]}"

    @property
    def kibana_url(self) -> str:
        return f"http://127.0.0.1:{self.servers[1].server_address[1]}"

    def sent(self, target: str | None = None, writes_only: bool = False) -> list[tuple[str, str, Any]]:
        """(method, path, body) of what was received, in order."""
        return [(s.method, s.path, s.body) for s in self.seen
                if (target is None or s.target == target) and not (writes_only and s.method == "GET")]

    # --- authentication ---
    def authorised(self, headers: dict[str, str]) -> str | None:
        """None when the request may go on, else the reason it may not."""
        if self.auth is None and self.api_key is None:
            return None
        given = headers.get("authorization", "")
        if not given:
            return "missing authentication credentials for REST request"
        if self.api_key is not None and given == f"ApiKey {self.api_key}":
            return None
        if self.auth is not None and given == "Basic " + base64.b64encode(":".join(self.auth).encode()).decode():
            return None
        user = "?"
        if given.startswith("Basic "):
            user = base64.b64decode(given[6:]).decode().split(":")[0]
        return f"unable to authenticate user [{user}] for REST request"

    # --- Elasticsearch ---
    def es(self, method: str, route: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        parts = [p for p in route.split("/") if p]
        if method == "GET" and not parts:
            return 200, {"name": "fake-node", "cluster_name": "synth-test", "cluster_uuid": "fake",
                         "version": {"number": VERSION, "build_flavor": "default"}, "tagline": "You Know, for Search"}
        if parts[:2] == ["_ingest", "pipeline"] and len(parts) == 3:
            return self.pipeline(method, parts[2], body)
        if parts[:1] == ["_index_template"] and len(parts) == 2:
            return self.template(method, parts[1], body)
        if parts[:2] == ["_ml", "anomaly_detectors"]:
            return self.ml_job(method, parts[2:], query, body)
        if parts[:2] == ["_ml", "datafeeds"]:
            return self.ml_datafeed(method, parts[2:], body)
        if parts[:1] == ["_security"]:
            return self.security_api(method, parts[1:], query, body)
        if len(parts) == 2 and parts[1] == "_count":
            count = self.documents.pop(0) if len(self.documents) > 1 else self.documents[0]
            return 200, {"count": count, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}}
        return 400, {"error": f"no handler found for uri [{route}] and method [{method}]"}

    def security_api(self, method: str, rest: list[str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        """PUT/GET _security/role/<name>, POST/GET _security/api_key, as Elasticsearch answers them
        (create role: {"role": {"created": true}}; create key: id, name, api_key, encoded)."""
        if not self.security:
            return 500, es_error(500, "security_exception", "Security must be explicitly enabled when using a "
                                                            "[basic] license. Enable security by setting "
                                                            "[xpack.security.enabled] to [true]")
        if rest[:1] == ["role"] and len(rest) == 2:
            name = rest[1]
            if method == "PUT":
                created = name not in self.roles
                self.roles[name] = copy.deepcopy(body)
                return 200, {"role": {"created": created}}
            if name not in self.roles:
                return 404, {}
            stored = {"cluster": [], "indices": [], "applications": [], "run_as": [], "metadata": {},
                      "transient_metadata": {"enabled": True}, **copy.deepcopy(self.roles[name])}
            for entry in stored["indices"]:
                entry.setdefault("allow_restricted_indices", False)
            return 200, {name: stored}
        if rest == ["api_key"] and method == "POST":
            key = {"id": uuid.uuid4().hex[:20], "name": body["name"], "api_key": uuid.uuid4().hex[:22]}
            key["encoded"] = base64.b64encode(f"{key['id']}:{key['api_key']}".encode()).decode()
            self.api_keys.append({"id": key["id"], "name": key["name"], "invalidated": False,
                                  "role_descriptors": copy.deepcopy(body.get("role_descriptors")),
                                  "metadata": copy.deepcopy(body.get("metadata", {}))})
            return 200, key
        if rest == ["api_key"] and method == "GET":
            keys = [k for k in self.api_keys if "name" not in query or k["name"] == query["name"]]
            return 200, {"api_keys": copy.deepcopy(keys)}
        return 400, {"error": f"no handler found for uri [/_security/{'/'.join(rest)}] and method [{method}]"}

    def pipeline(self, method: str, name: str, body: Any) -> tuple[int, Any]:
        if method == "PUT":
            self.pipelines[name] = copy.deepcopy(body)
            return 200, {"acknowledged": True}
        if name in self.pipelines:
            return 200, {name: self.pipelines[name]}
        return 404, {}

    def template(self, method: str, name: str, body: Any) -> tuple[int, Any]:
        if method == "PUT":
            self.templates[name] = copy.deepcopy(body)
            return 200, {"acknowledged": True}
        if name not in self.templates:
            return 404, es_error(404, "resource_not_found_exception", f"index template matching [{name}] not found")
        stored = copy.deepcopy(self.templates[name])
        # Elasticsearch echoes settings nested under "index" and as strings
        settings = stored.get("template", {}).get("settings")
        if settings:
            stored["template"]["settings"] = {"index": {k: json.dumps(v) if not isinstance(v, str) else v
                                                        for k, v in settings.get("index", settings).items()}}
        return 200, {"index_templates": [{"name": name, "index_template": stored}]}

    def ml_job(self, method: str, rest: list[str], query: dict[str, str], body: Any) -> tuple[int, Any]:
        job_id = rest[0] if rest else ""
        action = rest[1] if len(rest) > 1 else None
        if action == "_stats":
            return 200, self.job_stats(job_id.split(","))
        if job_id not in self.jobs and not (method == "PUT" and action is None):
            return 404, es_error(404, "resource_not_found_exception", f"No known job with id '{job_id}'")
        if action is None and method == "PUT":
            if job_id in self.jobs:
                return 400, es_error(400, "resource_already_exists_exception",
                                     f"The job cannot be created with the Id '{job_id}'. The Id is already used.")
            self.jobs[job_id] = with_job_defaults(job_id, body)
            self.job_state[job_id] = {"state": "closed", "processed": 0, "latest": None, "polls": 0}
            return 200, self.jobs[job_id]
        if action is None:
            return 200, {"count": 1, "jobs": [self.jobs[job_id]]}
        state = self.job_state[job_id]
        if action == "_open":
            state["state"] = "opened"
            return 200, {"opened": True, "node": "fake-node"}
        if action == "_close":
            state["state"] = "closed"
            return 200, {"closed": True}
        if action == "_reset":
            if state["state"] != "closed":
                return 409, es_error(409, "status_exception", f"cannot reset job [{job_id}] while it is open")
            state.update(processed=0, latest=None, polls=0)
            self.results[job_id] = []
            return 200, {"acknowledged": True}
        if action == "results" and rest[2:] == ["records"]:
            return 200, self.get_records(job_id, query, body)
        return 400, {"error": f"no handler found for uri [/_ml/anomaly_detectors/{'/'.join(rest)}] and method [{method}]"}

    def job_stats(self, ids: list[str]) -> dict[str, Any]:
        jobs = []
        for job_id in ids:
            if job_id not in self.jobs:
                continue
            state = self.job_state[job_id]
            feed = next((d for d, f in self.datafeeds.items() if f["job_id"] == job_id), None)
            running = feed is not None and self.datafeed_state[feed]["state"] == "started"
            if running:
                state["polls"] += 1
                span = self.datafeed_state[feed]["range"]
                if state["polls"] >= self.polls_to_finish:
                    # the lookback is over: the datafeed stops and closes its job
                    self.datafeed_state[feed]["state"] = "stopped"
                    state.update(state="closed", processed=self.documents[-1], latest=span[1] - 1000)
                    self.results[job_id] = copy.deepcopy(self.records.get(job_id, []))
                else:
                    state["latest"] = span[0] + (span[1] - span[0]) * state["polls"] // self.polls_to_finish
            bucket_ms = 900_000
            buckets = 0 if state["latest"] is None else (state["latest"] - self.job_state[job_id].get("start", 0)) // bucket_ms
            jobs.append({"job_id": job_id, "state": state["state"],
                         "data_counts": {"job_id": job_id, "processed_record_count": state["processed"],
                                         "bucket_count": max(0, buckets), "latest_record_timestamp": state["latest"]},
                         "model_size_stats": {"job_id": job_id, "result_type": "model_size_stats"},
                         "forecasts_stats": {"total": 0}})
        return {"count": len(jobs), "jobs": jobs}

    def get_records(self, job_id: str, query: dict[str, str], body: Any) -> dict[str, Any]:
        options = {**query, **(body or {})}
        page = options.get("page") or {}
        start = int(page.get("from", options.get("from", 0)))
        size = int(page.get("size", options.get("size", 100)))
        least = float(options.get("record_score", 0))
        skip_interim = str(options.get("exclude_interim", "false")).lower() == "true"
        sort = options.get("sort", "record_score")
        desc = str(options.get("desc", "false")).lower() == "true"
        found = [r for r in self.results.get(job_id, [])
                 if r["record_score"] >= least and not (skip_interim and r.get("is_interim"))]
        found.sort(key=lambda r: r[sort], reverse=desc)
        return {"count": len(found), "records": found[start:start + size]}

    def ml_datafeed(self, method: str, rest: list[str], body: Any) -> tuple[int, Any]:
        feed_id = rest[0] if rest else ""
        action = rest[1] if len(rest) > 1 else None
        if action == "_stats":
            feeds = [{"datafeed_id": f, "state": self.datafeed_state[f]["state"], "timing_stats": {"job_id": self.datafeeds[f]["job_id"]}}
                     for f in feed_id.split(",") if f in self.datafeeds]
            return 200, {"count": len(feeds), "datafeeds": feeds}
        if method == "PUT" and action is None:
            if feed_id in self.datafeeds:
                return 400, es_error(400, "resource_already_exists_exception",
                                     f"A datafeed with id [{feed_id}] already exists")
            if body.get("job_id") not in self.jobs:
                return 404, es_error(404, "resource_not_found_exception", f"No known job with id '{body.get('job_id')}'")
            self.datafeeds[feed_id] = with_datafeed_defaults(feed_id, body)
            self.datafeed_state[feed_id] = {"state": "stopped", "range": None}
            return 200, self.datafeeds[feed_id]
        if feed_id not in self.datafeeds:
            return 404, es_error(404, "resource_not_found_exception", f"No datafeed with id [{feed_id}] exists")
        if action is None:
            return 200, {"count": 1, "datafeeds": [self.datafeeds[feed_id]]}
        if action == "_update":
            self.datafeeds[feed_id].update(copy.deepcopy(body))
            return 200, self.datafeeds[feed_id]
        job_id = self.datafeeds[feed_id]["job_id"]
        if action == "_start":
            if self.job_state[job_id]["state"] != "opened":
                return 409, es_error(409, "status_exception",
                                     f"cannot start datafeed [{feed_id}] because job [{job_id}] is closed")
            span = (to_ms(body["start"]), to_ms(body["end"]))
            self.datafeed_state[feed_id].update(state="started", range=span)
            self.job_state[job_id].update(polls=0, start=span[0])
            return 200, {"started": True, "node": "fake-node"}
        if action == "_stop":
            self.datafeed_state[feed_id]["state"] = "stopped"
            return 200, {"stopped": True}
        return 400, {"error": f"no handler found for uri [/_ml/datafeeds/{'/'.join(rest)}] and method [{method}]"}

    # --- Kibana ---
    def kibana(self, method: str, route: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        if route == "/api/status" and method == "GET":
            return 200, {"name": "fake-kibana", "version": {"number": self.kibana_version, "build_snapshot": False}}
        old = tuple(int(p) for p in self.kibana_version.split(".")[:2]) < (8, 4)
        if old:
            return self.kibana_index_patterns(method, route, headers, body)
        if route == "/api/data_views" and method == "GET":
            return 200, {"data_view": [{"id": v["id"], "namespaces": ["default"], "title": v["title"],
                                        "name": v.get("name", v["title"]), "typeMeta": {}}
                                       for v in self.data_views.values()]}
        if route == "/api/data_views/data_view" and method == "POST":
            if "kbn-xsrf" not in headers:
                return 400, {"statusCode": 400, "error": "Bad Request", "message": "Request must contain a kbn-xsrf header."}
            view = dict(body["data_view"])
            view.setdefault("id", str(uuid.uuid4()))
            view.update(version="WzEsMV0=", sourceFilters=[], fields={}, typeMeta={}, fieldFormats={}, fieldAttrs={},
                        runtimeFieldMap={}, allowNoIndex=False, namespaces=["default"])
            self.data_views[view["id"]] = view
            return 200, {"data_view": view}
        if route.startswith("/api/data_views/data_view/") and method == "GET":
            view = self.data_views.get(route.rsplit("/", 1)[1])
            if view is None:
                return 404, {"statusCode": 404, "error": "Not Found", "message": "Saved object not found"}
            return 200, {"data_view": view}
        return 404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"}


    def kibana_index_patterns(self, method: str, route: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        """Kibana 8.0 to 8.3: the index pattern API and saved objects; no list of data views, and
        a data view body with a name key is refused (the schema has no such key)."""
        if route == "/api/saved_objects/_find" and method == "GET":
            return 200, {"page": 1, "per_page": 100, "total": len(self.index_patterns),
                         "saved_objects": [{"type": "index-pattern", "id": v["id"], "attributes": {
                             "title": v["title"], "timeFieldName": v.get("timeFieldName")}}
                             for v in self.index_patterns.values()]}
        if route == "/api/index_patterns/index_pattern" and method == "POST":
            if "kbn-xsrf" not in headers:
                return 400, {"statusCode": 400, "error": "Bad Request", "message": "Request must contain a kbn-xsrf header."}
            pattern = dict(body["index_pattern"])
            if "name" in pattern:
                return 400, {"statusCode": 400, "error": "Bad Request",
                             "message": "[request body.index_pattern.name]: definition for this key is missing"}
            pattern.setdefault("id", str(uuid.uuid4()))
            self.index_patterns[pattern["id"]] = pattern
            return 200, {"index_pattern": pattern}
        if route == "/api/data_views/data_view" and method == "POST":
            return 400, {"statusCode": 400, "error": "Bad Request",
                         "message": "[request body.data_view.name]: definition for this key is missing"}
        return 404, {"statusCode": 404, "error": "Not Found", "message": "Not Found"}


def to_ms(value: Any) -> int:
    if isinstance(value, (int, float)) or str(value).isdigit():
        return int(value)
    import datetime as dt
    return int(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000)


def with_job_defaults(job_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A job as GET returns it: ours plus the defaults Elasticsearch fills in (ML.md §1)."""
    job = copy.deepcopy(body)
    config = job["analysis_config"]
    for i, detector in enumerate(config["detectors"]):
        detector["detector_index"] = i
    config.setdefault("model_prune_window", "30d")
    limits = job.setdefault("analysis_limits", {})
    limits.setdefault("model_memory_limit", "1024mb")
    limits.setdefault("categorization_examples_limit", 4)
    plot = job.setdefault("model_plot_config", {"enabled": False})
    plot.setdefault("annotations_enabled", plot["enabled"])
    job.update(job_id=job_id, job_type="anomaly_detector", job_version="12.0.0", create_time=int(time.time() * 1000),
               model_snapshot_retention_days=10, daily_model_snapshot_retention_after_days=1, allow_lazy_open=False)
    job.setdefault("results_index_name", "shared")
    return job


def with_datafeed_defaults(feed_id: str, body: dict[str, Any]) -> dict[str, Any]:
    feed = copy.deepcopy(body)
    feed.setdefault("query", {"match_all": {"boost": 1.0}})
    feed.setdefault("scroll_size", 1000)
    feed.update(datafeed_id=feed_id, query_delay="90000ms", chunking_config={"mode": "auto"},
                delayed_data_check_config={"enabled": True},
                indices_options={"expand_wildcards": ["open"], "ignore_unavailable": False,
                                 "allow_no_indices": True, "ignore_throttled": True})
    return feed


def handler_for(stack: FakeStack, target: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            split = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            with stack.lock:
                stack.seen.append(Seen(target, self.command, self.path, body, headers))
                refused = stack.authorised(headers)
                if refused is not None:
                    if target == "es":
                        status, answer = 401, es_error(401, "security_exception", f"{refused} [{split.path}]",
                                                       header={"WWW-Authenticate": ['Basic realm="security", charset="UTF-8"', "ApiKey"]})
                    else:
                        status, answer = 401, {"statusCode": 401, "error": "Unauthorized",
                                               "message": f"[security_exception]: {refused}"}
                elif (self.command, split.path) in stack.fail:
                    status, answer = stack.fail[(self.command, split.path)]
                elif target == "es":
                    status, answer = stack.es(self.command, split.path, query, body)
                else:
                    status, answer = stack.kibana(self.command, split.path, headers, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if target == "es" and stack.product_header:
                self.send_header("X-Elastic-Product", "Elasticsearch")
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="security", charset="UTF-8"')
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    return Handler
