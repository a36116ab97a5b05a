"""The shipped Elastic configuration: filebeat.yml against Filebeat's reference configuration,
and the ingest pipeline against the index template (every field it writes mapped, right type)."""

import fnmatch
import functools
import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import REFERENCE
from helpers import generated_run
from test_verify import EDGE

from synth.elastic.ingest import is_ip
from synth.elastic.javatime import DateFormatter, DateParseError
from synth.elastic.verify import PIPELINE_FILE, TEMPLATE_FILE, bundled_pipeline, verify_paths

ROOT = Path(__file__).resolve().parent.parent
FILEBEAT = ROOT / "filebeat"
CONFIG = yaml.safe_load((FILEBEAT / "filebeat.yml").read_text())
TEMPLATE = json.loads((FILEBEAT / TEMPLATE_FILE).read_text())
ENV = re.compile(r"\$\{([A-Z_]+):([^}]*)\}")


def _item_segment(item: dict) -> str:
    return f"[type={item['type']}]" if "type" in item else "[]"


def config_keys(node, prefix=""):
    """Every key path of a YAML document: ``output.elasticsearch.hosts``; list items of inputs
    are told apart by their type: ``filebeat.inputs.[type=filestream].id``."""
    for key, value in node.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, dict):
            yield from config_keys(value, path + ".")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from config_keys(item, f"{path}.{_item_segment(item)}.")


_KEY_LINE = re.compile(r"^( *)#?(- )?([A-Za-z_@][\w.@-]*):(?:\s+(.*?))?\s*$")


def reference_keys(text: str) -> set[str]:
    """The key paths of Filebeat's reference configuration, commented-out keys included (a key
    is commented as ``#key:``; prose is ``# text``). Nesting follows the indentation of the key
    or of its ``#``."""
    keys: set[str] = set()
    stack: list[tuple[int, str, bool]] = []  # (indent, segment, is a list item)
    for line in text.splitlines():
        m = _KEY_LINE.match(line)
        if not m:
            continue
        indent, item, key, value = len(m.group(1)), m.group(2), m.group(3), (m.group(4) or "")
        if item:
            while stack and (stack[-1][0] > indent or (stack[-1][0] == indent and stack[-1][2])):
                stack.pop()
            stack.append((indent, f"[type={value}]" if key == "type" else "[]", True))
            indent += 2
        while stack and stack[-1][0] >= indent and not (stack[-1][2] and stack[-1][0] < indent):
            stack.pop()
        keys.add(".".join([s for _, s, _ in stack] + [key]))
        stack.append((indent, key, False))
    return keys


@functools.cache
def reference_key_set() -> frozenset[str]:
    return frozenset(reference_keys((REFERENCE / "filebeat" / "filebeat.reference.yml").read_text()))


@pytest.mark.reference
def test_reference_keys_are_read_right():
    REFERENCE_KEYS = reference_key_set()
    """The reader of the reference finds known keys where they are, and no prose."""
    for key in ("filebeat.inputs.[type=filestream].id", "filebeat.inputs.[type=filestream].prospector.scanner.exclude_files",
                "filebeat.inputs.[type=log].exclude_files", "output.elasticsearch.hosts",
                "output.elasticsearch.pipeline", "setup.template.enabled", "setup.ilm.enabled"):
        assert key in REFERENCE_KEYS, key
    assert "filebeat.inputs.[type=filestream].exclude_files" not in REFERENCE_KEYS
    assert not any(k.startswith(("Note", "Unique")) for k in REFERENCE_KEYS)


@pytest.mark.reference
def test_every_key_exists_in_the_reference_config():
    REFERENCE_KEYS = reference_key_set()
    missing = sorted(k for k in config_keys(CONFIG) if k not in REFERENCE_KEYS)
    assert not missing, f"keys not in filebeat.reference.yml: {missing}"


def test_one_filestream_input_with_a_fixed_id_reading_access_logs_only():
    (inp,) = CONFIG["filebeat.inputs"]
    assert inp["type"] == "filestream" and inp["enabled"] is True
    assert re.fullmatch(r"[a-z0-9-]+", inp["id"])
    (pattern,) = inp["paths"]
    variable, default = ENV.match(pattern).groups()
    assert variable == "SYNTH_OUTPUT" and (ROOT / default).is_dir()  # the repository's output/
    glob = ENV.sub(lambda m: m.group(2), pattern)
    for name in ("access.log", "access.log-20261128", "access.log-2026112812", "access.log.1", "access.log.12"):
        assert fnmatch.fnmatch(f"{default}/{name}", glob), name
    for name in ("manifest.json", "anomalies.json", ".gitkeep"):
        assert not fnmatch.fnmatch(f"{default}/{name}", glob), name


def test_output_and_index_management():
    """Our pipeline on every event; our own template, no data streams, no ILM; credentials and
    hosts from the environment; a custom index with template name and pattern set."""
    out = CONFIG["output.elasticsearch"]
    assert out["pipeline"] == "smoke_event-access" == PIPELINE_FILE.removesuffix(".pipeline.json")
    assert all(ENV.fullmatch(host) for host in out["hosts"])
    assert ENV.fullmatch(out["username"]) and ENV.fullmatch(out["password"])
    assert CONFIG["setup.template.enabled"] is False and CONFIG["setup.ilm.enabled"] is False
    assert CONFIG["setup.template.name"] == "smoke_event"
    assert fnmatch.fnmatch(out["index"].replace("%{+yyyy.MM.dd}", "2026.11.28"), CONFIG["setup.template.pattern"])
    assert CONFIG["setup.template.pattern"] in TEMPLATE["index_patterns"]


def test_template_is_plain_indices_above_builtin_templates():
    """Composable, no data stream, a pattern that matches the daily indices and not the
    failure index, a priority above the built-in logs-*-* (100)."""
    assert "data_stream" not in TEMPLATE and TEMPLATE["priority"] > 100
    patterns = TEMPLATE["index_patterns"]
    assert any(fnmatch.fnmatch("smoke_event-2026.11.28", p) for p in patterns)
    assert not any(fnmatch.fnmatch("failed-smoke_event", p) for p in patterns + ["smoke_event*"])


# -- pipeline and template agree -------------------------------------------------------------------

MAPPINGS = TEMPLATE["template"]["mappings"]
COMPATIBLE = {"STRING": {"keyword", "match_only_text", "text"}, "INTEGER": {"long", "integer"},
              "LONG": {"long"}, "DATE": {"date"}, "IP": {"ip"}}
# Fields written by set/rename, with the kind of value they hold.
WRITTEN = {"event.original": "STRING", "event.ingested": "DATE", "@timestamp": "DATE"}


def mapping_of(path: str) -> dict | None:
    node = {"properties": MAPPINGS["properties"]}
    for key in path.split("."):
        node = node.get("properties", {}).get(key)
        if node is None:
            return None
    return node


def test_every_field_the_pipeline_declares_is_mapped():
    """Grok captures with their types, the date target, convert's ip, set's event.ingested and
    user_agent's fields: each explicitly mapped with a type that holds its values; ML's split
    fields are keywords; timestamp is a date in the format Apache writes."""
    declared = bundled_pipeline().declared_fields()
    assert {"source.address", "user.name", "apache.access.user.identity", "http.response.status_code",
            "source.ip", "user_agent.os.full", "event.ingested", "event.duration"} <= set(declared)
    removed = [p["remove"]["field"] for p in bundled_pipeline().body["processors"] if "remove" in p]
    for field, kind in declared.items():
        if field.split(".")[0] in removed:  # scratch the pipeline removes again before indexing
            continue
        mapping = mapping_of(field)
        assert mapping is not None, f"{field} is not mapped"
        kind = WRITTEN.get(field, kind) if kind in ("SET", "RENAME") else kind
        if kind == "STRING" and mapping["type"] == "date":  # text a date format of its own reads
            assert "format" in mapping, field
            continue
        assert mapping["type"] in COMPATIBLE[kind], (field, kind, mapping)
    for field in ("source.address", "url.original", "http.request.method", "user_agent.name", "user_agent.os.name"):
        assert mapping_of(field)["type"] == "keyword", field
    assert mapping_of("source.ip")["type"] == "ip"
    # Month names: English whatever locale database Elasticsearch uses (CLDR from 8.16 and 9.0).
    assert mapping_of("timestamp")["locale"] == "en"
    stamp = DateFormatter(mapping_of("timestamp")["format"])
    assert stamp.parse("31/Dec/2026:20:00:00 -0800").isoformat() == "2026-12-31T20:00:00-08:00"


def _leaves(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


@functools.cache
def date_formatter(pattern: str) -> DateFormatter:
    return DateFormatter(pattern)  # compiled once per format, not once per value


def _holds(mapping: dict, value) -> bool:
    kind = mapping["type"]
    if kind in ("keyword", "match_only_text"):
        return isinstance(value, str)
    if kind == "long":
        return isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63
    if kind == "ip":
        return isinstance(value, str) and is_ip(value)
    if kind == "date":
        try:
            date_formatter(mapping.get("format", "strict_date_optional_time||epoch_millis")).parse(str(value))
            return True
        except DateParseError:
            return False
    raise AssertionError(f"no check for mapping type {kind}")


def test_documents_fit_the_mappings(tmp_path):
    """Every field of every document that lands in smoke_event-* (generated lines and the edge
    lines) is mapped explicitly and holds a value of its type; only Filebeat's own input.type
    is left to the dynamic keyword rule."""
    log = tmp_path / "access.log"
    generated_run(21, "-0500", log, days=0.05, rate=1.0)
    with log.open("a") as fh:
        fh.write("".join(line + "\n" for line, _ in EDGE))
    checked = set()
    for result in verify_paths([log]):
        doc = dict(result.document)
        index, _ = doc.pop("_index"), doc.pop("_id")
        if not index.startswith("smoke_event-"):
            continue
        for field, value in _leaves(doc):
            mapping = mapping_of(field)
            if mapping is None:
                assert field == "input.type", f"{field} is not mapped"
                assert MAPPINGS["dynamic_templates"][0]["strings_as_keyword"]["mapping"]["type"] == "keyword"
                continue
            assert _holds(mapping, value), (field, value, mapping)
            checked.add(field)
    assert {"@timestamp", "timestamp", "source.ip", "http.response.body.bytes", "user_agent.os.version",
            "event.ingested", "log.offset", "user.name"} <= checked


@pytest.mark.parametrize("name", [PIPELINE_FILE, TEMPLATE_FILE])
def test_json_files_are_bodies_for_the_api(name):
    """PUT _ingest/pipeline/<id> and PUT _index_template/<name> take these files as they are."""
    body = json.loads((FILEBEAT / name).read_text())
    assert "_meta" in body and isinstance(body.get("version"), int)
