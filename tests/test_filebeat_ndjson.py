"""filebeat/filebeat-ndjson.yml, the second input config: ecs_json lines decoded by Filebeat's
ndjson parser, then routed by smoke_event-ndjson. Checked by what verify makes of a run's lines
shipped that way: every document in the index of its own day with its own @timestamp, fields
as the template maps them; and the same config without overwrite_keys shown wrong."""

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from conftest import END, REFERENCE
from test_filebeat import _holds, _leaves, config_keys, mapping_of, reference_keys

import synth
from synth.elastic.ingest import Pipeline
from synth.elastic.ndjson import bundled_options, verify_ndjson
from synth.elastic.pipelines import ndjson_pipeline

FILEBEAT = Path(__file__).resolve().parent.parent / "filebeat"
CONFIG = yaml.safe_load((FILEBEAT / "filebeat-ndjson.yml").read_text())
MAIN = yaml.safe_load((FILEBEAT / "filebeat.yml").read_text())
READ = dt.datetime(2027, 1, 15, 9, 30, tzinfo=dt.UTC)  # when Filebeat reads the files: weeks after the run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ndjson") / "output"
    synth.generate("classic", seed=12, out_dir=out, days=1.2, rate=0.05, format="ecs_json", end=END, workers=1,
                   rotate="hour")
    return out


def pipeline():
    return Pipeline.load(FILEBEAT / "smoke_event-ndjson.pipeline.json")


def test_a_complete_input_config_beside_filebeat_yml():
    (inp,) = CONFIG["filebeat.inputs"]
    (main,) = MAIN["filebeat.inputs"]
    assert inp["type"] == "filestream" and inp["id"] != main["id"]  # Filebeat 9 refuses two inputs with one id
    for key in ("paths", "prospector.scanner.exclude_files", "prospector.scanner.fingerprint.offset",
                "prospector.scanner.fingerprint.length"):
        assert inp[key] == main[key], key
    assert inp["parsers"] == [{"ndjson": {"target": "", "overwrite_keys": True, "add_error_key": True}}]
    out = CONFIG["output.elasticsearch"]
    assert out["pipeline"] == "smoke_event-ndjson"
    for key in ("hosts", "api_key", "username", "password", "index"):
        assert out[key] == MAIN["output.elasticsearch"][key], key
    for key in ("setup.template.enabled", "setup.template.name", "setup.template.pattern", "setup.ilm.enabled"):
        assert CONFIG[key] == MAIN[key], key
    assert json.loads((FILEBEAT / "smoke_event-ndjson.pipeline.json").read_text()) == ndjson_pipeline()


# The ndjson parser's options: libbeat/reader/readjson/json_config.go (ParserConfig: target and
# field, with Config inline: message_key, document_id, keys_under_root, overwrite_keys,
# add_error_key, ignore_decoding_error, expand_keys).
NDJSON_OPTIONS = {"target", "field", "message_key", "document_id", "keys_under_root", "overwrite_keys",
                  "add_error_key", "ignore_decoding_error", "expand_keys"}


@pytest.mark.reference
def test_every_key_exists_in_the_reference_config():
    """Every key is in Filebeat's reference config; the reference comments the ndjson options
    one level up (at the indent of `- ndjson:`), so those are matched there, and each is an
    option of the parser's Go config."""
    keys = reference_keys((REFERENCE / "filebeat" / "filebeat.reference.yml").read_text())
    parser = "filebeat.inputs.[type=filestream].parsers.[].ndjson."
    for key in config_keys(CONFIG):
        if key.startswith(parser):
            option = key[len(parser):]
            assert option in NDJSON_OPTIONS, option
            assert option == "target" or parser[:-len("ndjson.")] + option in keys, key
        else:
            assert key in keys, key


def test_every_document_lands_on_its_own_day(run):
    lines = [json.loads(line) for p in sorted(run.glob("access.log*")) for line in p.read_text().splitlines()]
    results = list(verify_ndjson([run], pipeline(), read_time=READ))
    assert len(results) == len(lines) > 100
    ids, days = set(), set()
    for result in results:
        assert result.failure is None, result.failure
        doc = dict(result.document)
        index, _id = doc.pop("_index"), doc.pop("_id")
        day = dt.datetime.fromisoformat(doc["@timestamp"].replace("Z", "+00:00")).strftime("%Y.%m.%d")
        assert index == f"smoke_event-{day}"
        ids.add(_id)
        days.add(day)
        for field, value in _leaves(doc):
            mapping = mapping_of(field)
            if mapping is None:  # left to the dynamic keyword rule
                assert field == "input.type" or isinstance(value, str), field
                continue
            values = value if isinstance(value, list) else [value]  # a keyword field may hold several
            assert values and all(_holds(mapping, v) for v in values), (field, value)
    assert sorted(r.document["@timestamp"] for r in results) == sorted(line["@timestamp"] for line in lines)
    assert len(ids) == len(results)  # one document per line, shipped twice or not
    assert READ.strftime("%Y.%m.%d") not in days and len(days) == 2
    for field in ("event.duration", "http.response.status_code", "http.response.body.bytes", "source.address",
                  "url.original", "user_agent.original", "user_agent.name"):
        assert any(field in dict(_leaves(r.document)) for r in results), field


def test_without_overwrite_keys_every_event_is_the_read_day(run):
    """What the commented-out alternative in filebeat.yml used to offer: Filebeat keeps its read
    time, so everything goes to the index of the day it was shipped."""
    options = dataclasses.replace(bundled_options(), overwrite_keys=False)
    results = list(verify_ndjson([run], pipeline(), options=options, read_time=READ))
    assert {r.document["_index"] for r in results} == {f"smoke_event-{READ:%Y.%m.%d}"}


def test_a_line_that_is_not_json_is_kept_apart(tmp_path):
    log = tmp_path / "access.log"
    log.write_text('{"@timestamp":"2026-11-28T10:00:00.000Z","source":{"address":"1.2.3.4"}}\nnot json\n')
    first, second = verify_ndjson([log], pipeline(), read_time=READ)
    assert first.document["_index"] == "smoke_event-2026.11.28" and first.failure is None
    assert second.document["_index"] == "failed-smoke_event" and second.document["message"] == "not json"
    assert second.document["error"]["type"] == "json"
