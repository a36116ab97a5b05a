"""ml/jobs: bodies the 8.x/9.x APIs accept, ids by the rules, and every field a job names is one
our pipeline writes into documents and our template maps as a keyword or a number."""

import json
import re

import pytest
from helpers import generated_run
from test_filebeat import mapping_of

from synth.elastic.verify import verify_paths
from synth.resources import resource_dir

JOBS = sorted((resource_dir("ml") / "jobs").glob("*.json"))
JOB_ID = re.compile(r"^[a-z0-9](?:[a-z0-9_\-]*[a-z0-9])?$")
SPLITTABLE = {"keyword", "long", "integer", "short", "byte", "double", "float"}


def _fields(job: dict, datafeed: dict) -> set[str]:
    """Every field a job or its datafeed names (time field aside)."""
    config = job["analysis_config"]
    names = set(config.get("influencers", []))
    for detector in config["detectors"]:
        names |= {detector[k] for k in ("field_name", "by_field_name", "over_field_name", "partition_field_name")
                  if k in detector}

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "field" and isinstance(value, str):  # exists, aggregations
                    names.add(value)
                elif key in ("term", "terms", "match") and isinstance(value, dict):
                    names.update(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(datafeed.get("query", {}))
    walk(datafeed.get("aggregations", {}))
    return names - {"@timestamp"}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Dotted paths of every field the pipeline writes into documents of a generated run."""
    folder = tmp_path_factory.mktemp("ml")
    # Combined lines, and lines with response times for the job that reads them.
    generated_run(7, "+0000", folder / "access.log", days=0.3, rate=0.1)
    generated_run(7, "+0000", folder / "access.log.1", days=0.05, rate=0.1, format="combined_timing")
    generated_run(7, "+0000", folder / "access.log.2", days=0.05, rate=0.1, format="vhost_combined")  # %O
    fields = set()

    def leaves(node, prefix=""):
        for key, value in node.items():
            if isinstance(value, dict):
                leaves(value, f"{prefix}{key}.")
            else:
                fields.add(prefix + key)
    for result in verify_paths([folder / "access.log", folder / "access.log.1", folder / "access.log.2"]):
        assert result.failure is None
        leaves({k: v for k, v in result.document.items() if not k.startswith("_")})
    return fields


@pytest.mark.parametrize("path", JOBS, ids=lambda p: p.stem)
def test_job_file_is_a_valid_job_and_datafeed(path):
    spec = json.loads(path.read_text())
    job_id, job, datafeed = spec["job_id"], spec["job"], spec["datafeed"]
    assert path.stem == job_id and JOB_ID.match(job_id) and len(job_id) <= 64
    assert spec["datafeed_id"] == f"datafeed-{job_id}" and JOB_ID.match(spec["datafeed_id"])
    assert job["analysis_config"]["bucket_span"] in ("15m", "30m", "1h")
    assert job["analysis_config"]["detectors"] and all("function" in d for d in job["analysis_config"]["detectors"])
    assert job["data_description"] == {"time_field": "@timestamp", "time_format": "epoch_ms"}
    assert datafeed["job_id"] == job_id and datafeed["indices"] == ["smoke_event-*"]
    assert "job_id" not in job  # the id is the URL's
    if "aggregations" in datafeed:
        histogram = datafeed["aggregations"]["buckets"]
        assert histogram["date_histogram"]["field"] == "@timestamp"
        assert histogram["aggregations"]["@timestamp"] == {"max": {"field": "@timestamp"}}
        assert job["analysis_config"].get("summary_count_field_name")


@pytest.mark.parametrize("path", JOBS, ids=lambda p: p.stem)
def test_every_field_named_is_written_and_mapped(path, written):
    spec = json.loads(path.read_text())
    for field in _fields(spec["job"], spec["datafeed"]):
        assert field in written, f"{path.stem}: {field} is not written by the pipeline"
        mapping = mapping_of(field)
        assert mapping is not None and mapping["type"] in SPLITTABLE, (path.stem, field, mapping)
