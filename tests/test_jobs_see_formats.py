"""The table: for every built-in format and every anomaly kind, each job a window's label names
finds every field it reads (detectors, influencers, datafeed query, aggregations) in the
documents the run's pipeline makes of the run's lines, typed as the index template maps them;
where the format cannot carry the metric, the label names no job and says why, and indeed no
job that could catch the kind finds its fields."""

import datetime as dt
import json

import pytest
from conftest import END
from test_filebeat import _holds, _leaves, mapping_of
from test_mljobs import _fields

import synth
from synth.elastic.cluster import load_jobs
from synth.elastic.verify import pipeline_for_paths, verify_paths
from synth.generate.anomalies import JOB_NEEDS, KIND_CLASSES
from synth.render.lines import template_names

JOBS = {spec.job_id: spec for spec in load_jobs()}
KINDS = list(KIND_CLASSES)


def _reads(job_id: str) -> set[str]:
    spec = JOBS[job_id]
    return _fields(spec.job, spec.datafeed)


def _must_exist(job_id: str) -> list[str]:
    return [f["exists"]["field"] for f in JOBS[job_id].datafeed.get("query", {}).get("bool", {}).get("filter", [])
            if "exists" in f]


def _when(doc: dict) -> int:
    return int(dt.datetime.fromisoformat(doc["@timestamp"].replace("Z", "+00:00")).timestamp() * 1000)


@pytest.fixture(scope="module", params=template_names())
def run(request, tmp_path_factory):
    """Half a day of a small site in one format, with a quarter-hour window of every kind; each
    document as its leaves (dotted field -> value) with its time."""
    out = tmp_path_factory.mktemp(request.param)
    scenario = {"name": "table", "days": 0.5, "rate": 0.1,
                "anomalies": [{"kind": kind, "start": f"+{int((2 + 1.1 * i) * 60)}m", "minutes": 15}
                              for i, kind in enumerate(KINDS)]}
    synth.generate(scenario, seed=16, out_dir=out, format=request.param, end=END, workers=1)
    docs = []
    for result in verify_paths([out], pipeline=pipeline_for_paths([out])):
        assert result.failure is None, (request.param, result.failure)
        doc = {k: v for k, v in result.document.items() if not k.startswith("_")}
        docs.append((_when(doc), dict(_leaves(doc))))
    labels = json.loads((out / "anomalies.json").read_text())["anomalies"]
    return request.param, docs, {label["kind"]: label for label in labels}


def test_every_job_a_label_names_sees_its_fields(run):
    fmt, docs, labels = run
    assert sorted(labels) == sorted(KINDS)
    for kind, label in labels.items():
        inside = [leaves for when, leaves in docs if label["start_ms"] <= when < label["end_ms"]]
        assert inside, (fmt, kind)
        for job_id in label["jobs"]:
            # what the datafeed lets through in the window ...
            leaves = [d for d in inside if all(d.get(f) is not None for f in _must_exist(job_id))]
            assert leaves, f"{fmt}/{kind}: {job_id}'s datafeed query lets no document of the window through"
            for field in _reads(job_id):
                values = [leaf[field] for leaf in leaves if field in leaf]
                # ... holds every field the job reads, as the template maps it
                assert values, f"{fmt}/{kind}: {job_id} reads {field}, which no document of the window has"
                mapping = mapping_of(field)
                assert all(_holds(mapping, v) for v in values), (fmt, kind, job_id, field, mapping)
        if not label["jobs"]:
            assert label["jobs_note"], (fmt, kind)


def test_a_label_names_no_job_only_where_none_could_see_it(run):
    """No job left out that could have seen the window; every left-out one lacks a field."""
    fmt, docs, labels = run
    present = set()
    for _, leaves in docs:
        present |= {field for field, value in leaves.items() if value is not None}
    for kind, label in labels.items():
        candidates = KIND_CLASSES[kind].jobs
        seeing = [job for job in candidates if _reads(job) <= present]
        if label["jobs"]:
            assert label["jobs"] == seeing[:1], (fmt, kind, label["jobs"], seeing)
        else:
            assert not seeing, f"{fmt}/{kind}: the label names no job, yet {seeing} find their fields"
            for job in candidates:
                assert _reads(job) - present, (fmt, kind, job)


def test_the_job_needs_name_the_fields_jobs_read():
    """anomalies.JOB_NEEDS covers every bundled job, and each word stands for a field it reads."""
    assert set(JOB_NEEDS) == set(JOBS)
    word_fields = {"status": "http.response.status_code", "client": "source.address", "url": "url.original",
                   "agent": "user_agent.original", "body_bytes": "http.response.body.bytes",
                   "bytes_sent": "http.response.bytes", "duration": "event.duration"}
    for job_id, needs in JOB_NEEDS.items():
        assert {word_fields[w] for w in needs} == _reads(job_id), job_id
