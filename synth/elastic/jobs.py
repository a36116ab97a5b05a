"""Running the ML jobs over a generated run's range, and reading their records back.

``run_requests`` opens each job and starts its datafeed over the run's range (start inclusive,
end exclusive: a lookback that stops and closes its job itself); ``run_jobs`` waits for the
run's documents, runs the jobs and collects their top records; ``fetch_records`` pages through
a job's records for ``synth score``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synth.elastic.client import Cluster, ElasticError, Request, SetupError
from synth.elastic.setup import INDEX_PATTERN, JobSpec

RECORDS_PAGE = 500
RECORDS_LIMIT = 10_000  # from + size of the records API stops at index.max_result_window


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
