"""Elasticsearch and Kibana in one namespace, for callers that want one import: the clients
(``synth.elastic.client``), what ``synth setup`` puts there (``synth.elastic.setup``,
``synth.elastic.security``) and running the ML jobs over a run (``synth.elastic.jobs``).

    >>> from synth.elastic import cluster
    >>> print(cluster.console_text(cluster.setup_requests(cluster.load_jobs(["smoke-request-count"]), kibana=False))[:60])
    # ingest pipeline smoke_event-access (filebeat/smoke_event-a
"""

from __future__ import annotations

from synth.elastic.client import (
    ES,
    KIBANA,
    MISSING_CLIENT,
    Cluster,
    Credentials,
    ElasticError,
    Kibana,
    Request,
    SetupError,
    console_text,
)
from synth.elastic.jobs import (
    RECORDS_LIMIT,
    RECORDS_PAGE,
    JobsRun,
    JobState,
    RunRange,
    RunRefused,
    check_before_run,
    count_documents,
    fetch_records,
    job_states,
    open_request,
    read_run,
    records_path,
    run_jobs,
    run_requests,
    start_jobs,
    start_request,
    top_records,
    wait_for_documents,
    wait_for_jobs,
)
from synth.elastic.setup import (
    DATA_VIEW,
    INDEX_PATTERN,
    PIPELINES,
    TEMPLATE_NAME,
    JobSpec,
    Outcome,
    apply_setup,
    comparable_template,
    data_view_request,
    datafeed_request,
    difference_text,
    differences,
    flat_settings,
    job_request,
    leaf,
    load_jobs,
    pipeline_request,
    put_if_different,
    read_bundled,
    server_version,
    setup_data_view,
    setup_job,
    setup_pipeline,
    setup_requests,
    setup_template,
    template_request,
)

__all__ = [
    "ES", "KIBANA", "MISSING_CLIENT", "Cluster", "Credentials", "ElasticError", "Kibana", "Request", "SetupError",
    "console_text", "RECORDS_LIMIT", "RECORDS_PAGE", "JobsRun", "JobState", "RunRange", "RunRefused",
    "check_before_run", "count_documents", "fetch_records", "job_states",
    "open_request", "read_run", "records_path", "run_jobs", "run_requests", "start_jobs",
    "start_request", "top_records", "wait_for_documents", "wait_for_jobs", "DATA_VIEW", "INDEX_PATTERN",
    "PIPELINES", "TEMPLATE_NAME", "JobSpec", "Outcome", "apply_setup", "comparable_template", "data_view_request",
    "datafeed_request", "difference_text", "differences", "flat_settings", "job_request", "leaf", "load_jobs",
    "pipeline_request", "put_if_different", "read_bundled", "server_version", "setup_data_view", "setup_job",
    "setup_pipeline", "setup_requests", "setup_template", "template_request",
]
