"""The offline ingest engine: each processor and the failure handling behave as Elasticsearch's."""

import base64
import datetime as dt
import hashlib
import struct

import pytest

from synth.elastic.ingest import Pipeline, PipelineError, resolve_index
from synth.elastic.javatime import DateFormatter, DateParseError, java_datetime_text

UTC = dt.UTC
NOON = dt.datetime(2026, 11, 28, 12, 0, 0, 250000, tzinfo=UTC)


def run(processors, source, on_failure=None, index="target"):
    body = {"processors": processors}
    if on_failure is not None:
        body["on_failure"] = on_failure
    return Pipeline(body, "test").run(source, index, timestamp=NOON)


# -- failure handling ----------------------------------------------------------------------------

def test_processor_on_failure_continues_pipeline_on_failure_stops():
    """A processor's own handler runs and the pipeline goes on; the pipeline's handler runs and
    nothing after the failed processor does; the document is still indexed."""
    own = run([{"rename": {"field": "nope", "target_field": "x", "tag": "r",
                           "on_failure": [{"set": {"field": "why", "value": "{{{_ingest.on_failure_message}}}"}}]}},
               {"set": {"field": "after", "value": True}}], {"a": 1})
    assert own.failure is None and own.doc.source == {"a": 1, "why": "field [nope] doesn't exist", "after": True}
    assert "on_failure_message" not in own.doc.ingest  # the metadata is gone after the handler

    stopped = run([{"rename": {"field": "nope", "target_field": "x", "tag": "r"}},
                   {"set": {"field": "after", "value": True}}], {"a": 1},
                  on_failure=[{"set": {"field": "error.message",
                                       "value": "{{{_ingest.on_failure_processor_type}}}/{{{_ingest.on_failure_processor_tag}}}"
                                                "/{{{_ingest.on_failure_pipeline}}}: {{{_ingest.on_failure_message}}}"}}])
    assert not stopped.rejected and stopped.failure.processor_type == "rename"
    assert stopped.doc.source == {"a": 1, "error": {"message": "rename/r/test: field [nope] doesn't exist"}}


def test_ignore_failure_and_rejection():
    """ignore_failure skips the processor; with no handler at all the document is refused."""
    ignored = run([{"convert": {"field": "a", "type": "ip", "ignore_failure": True}}, {"set": {"field": "b", "value": 2}}],
                  {"a": "example.com"})
    assert ignored.failure is None and ignored.doc.source == {"a": "example.com", "b": 2}
    refused = run([{"convert": {"field": "a", "type": "ip"}}], {"a": "example.com"})
    assert refused.rejected and refused.failure.message == "[example.com] is not a valid ip address"


# -- set, mustache, rename, remove, convert --------------------------------------------------------

def test_set_templates_and_options():
    """{{{x}}} is inserted as is, {{x}} escaped for JSON (the default media type); missing names
    render empty; override false keeps a value; copy_from copies; ignore_empty_value skips."""
    doc = run([{"set": {"field": "raw", "value": "{{{q}}}"}},
               {"set": {"field": "escaped", "value": "{{q}}"}},
               {"set": {"field": "plain", "value": "{{q}}", "media_type": "text/plain"}},
               {"set": {"field": "missing", "value": "<{{nothing.here}}>"}},
               {"set": {"field": "keep", "value": "new", "override": False}},
               {"set": {"field": "copy.of", "copy_from": "nested"}},
               {"set": {"field": "empty", "value": "{{{nothing}}}", "ignore_empty_value": True}},
               {"set": {"field": "{{{name}}}", "value": 3}},
               {"set": {"field": "when", "value": "{{_ingest.timestamp}}"}}],
              {"q": 'say "hi"\\', "keep": "old", "nested": {"a": [1, 2]}, "name": "dynamic"}).doc.source
    assert doc["raw"] == 'say "hi"\\' and doc["escaped"] == 'say \\"hi\\"\\\\' and doc["plain"] == 'say "hi"\\'
    assert doc["missing"] == "<>" and doc["keep"] == "old" and doc["copy"] == {"of": {"a": [1, 2]}}
    assert "empty" not in doc and doc["dynamic"] == 3 and doc["when"] == "2026-11-28T12:00:00.250Z"


def test_java_timestamp_text():
    """_ingest.timestamp renders as ZonedDateTime.toString: zero seconds and fractions dropped."""
    assert java_datetime_text(dt.datetime(2026, 11, 28, 12, 0, tzinfo=UTC)) == "2026-11-28T12:00Z"
    assert java_datetime_text(dt.datetime(2026, 11, 28, 12, 0, 5, tzinfo=UTC)) == "2026-11-28T12:00:05Z"
    assert java_datetime_text(dt.datetime(2026, 11, 28, 12, 0, 5, 123456, tzinfo=UTC)) == "2026-11-28T12:00:05.123456Z"


def test_rename_remove_and_paths():
    """rename refuses a missing source and an existing target; remove refuses a missing field
    unless ignore_missing; writing through a string is Elasticsearch's error."""
    moved = run([{"rename": {"field": "a.b", "target_field": "c.d"}}, {"remove": {"field": ["x", "y"], "ignore_missing": True}}],
                {"a": {"b": 1}, "x": 0}).doc.source
    assert moved == {"a": {}, "c": {"d": 1}}
    assert run([{"rename": {"field": "a", "target_field": "b"}}], {"a": 1, "b": 2}).failure.message == \
        "field [b] already exists"
    assert run([{"remove": {"field": "gone"}}], {}).failure.message == "field [gone] not present as part of path [gone]"
    assert run([{"set": {"field": "a.b", "value": 1}}], {"a": "text"}).failure.message == \
        "cannot set [b] with parent object of type [java.lang.String] as part of path [a.b]"
    kept = run([{"remove": {"keep": ["a.b", "z"]}}], {"a": {"b": 1}, "c": 2, "z": 3}).doc.source
    assert kept == {"a": {"b": 1}, "z": 3}


@pytest.mark.parametrize("kind, value, expected", [
    ("integer", "42", 42), ("integer", "0x1f", 31), ("long", "9000000000", 9000000000), ("double", "2.5", 2.5),
    ("float", "1.1", 1.1), ("boolean", "TRUE", True), ("string", 12, "12"), ("string", 2.0, "2.0"),
    ("ip", "2001:db8::1", "2001:db8::1"), ("auto", "false", False), ("auto", "17", 17), ("auto", "x1", "x1"),
    ("integer", ["1", "2"], [1, 2]),
])
def test_convert(kind, value, expected):
    assert run([{"convert": {"field": "v", "type": kind}}], {"v": value}).doc.source["v"] == expected


@pytest.mark.parametrize("kind, value, message", [
    ("integer", "4.5", "unable to convert [4.5] to integer"),
    ("integer", "2147483648", "unable to convert [2147483648] to integer"),
    ("boolean", "yes", "[yes] is not a boolean value, cannot convert to boolean"),
    ("ip", "010.1.1.1", "[010.1.1.1] is not a valid ip address"),
    ("ip", "www.example.com", "[www.example.com] is not a valid ip address"),
])
def test_convert_failures(kind, value, message):
    assert run([{"convert": {"field": "v", "type": kind}}], {"v": value}).failure.message == message


# -- dates ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, formats, zone, expected", [
    ("28/Nov/2026:23:30:00 -0800", ["dd/MMM/yyyy:HH:mm:ss Z"], "UTC", "2026-11-29T07:30:00.000Z"),
    ("28/Nov/2026:23:30:00 +0530", ["dd/MMM/yyyy:HH:mm:ss Z"], "UTC", "2026-11-28T18:00:00.000Z"),
    ("2026-11-28 23:30:00", ["yyyy-MM-dd HH:mm:ss"], "Europe/Amsterdam", "2026-11-28T23:30:00.000+01:00"),
    ("2026-11-28T23:30:00.5Z", ["ISO8601"], "UTC", "2026-11-28T23:30:00.500Z"),
    ("1795000000", ["UNIX"], "UTC", "2026-11-18T11:06:40.000Z"),
    ("1795000000123", ["UNIX_MS"], "UTC", "2026-11-18T11:06:40.123Z"),
    ("nope", ["yyyy"], "UTC", None),
    ("garbage 28/Nov/2026:23:30:00", ["dd/MMM/yyyy:HH:mm:ss", "ISO8601"], "UTC", None),
])
def test_date_processor(text, formats, zone, expected):
    """Offsets in the text win; else the timezone option; the result is written in that zone."""
    outcome = run([{"date": {"field": "t", "formats": formats, "timezone": zone}}], {"t": text})
    if expected is None:
        assert outcome.failure.message == f"unable to parse date [{text}]"
    else:
        assert outcome.doc.source["@timestamp"] == expected


def test_strict_dates():
    """STRICT resolution: 31 February, second 60 and a one-digit day in dd are errors, not rolled over."""
    fmt = DateFormatter("dd/MMM/yyyy:HH:mm:ss Z")
    for text in ("31/Feb/2026:10:00:00 +0000", "28/Feb/2026:10:00:60 +0000", "1/Feb/2026:10:00:00 +0000",
                 "28/feb/2026:10:00:00 +0000"):
        with pytest.raises(DateParseError):
            fmt.parse(text)
    assert fmt.parse("29/Feb/2028:10:00:00 +0000") == dt.datetime(2028, 2, 29, 10, tzinfo=UTC)


def test_date_index_name_and_its_resolution():
    """date_index_name writes a date-math name; resolving it, as indexing does, gives the day
    (or week, month) of the event in the processor's zone."""
    def name(rounding, fmt, zone="UTC"):
        out = run([{"date_index_name": {"field": "t", "index_name_prefix": "logs-", "date_rounding": rounding,
                                        "index_name_format": fmt, "timezone": zone, "date_formats": ["ISO8601"]}}],
                  {"t": "2027-01-01T04:00:00.000Z"})
        return out.doc.meta["_index"]
    assert name("d", "yyyy.MM.dd") == "<logs-{2027.01.01||/d{yyyy.MM.dd|UTC}}>"
    assert resolve_index(name("d", "yyyy.MM.dd")) == "logs-2027.01.01"
    assert resolve_index(name("d", "yyyy.MM.dd", "America/Los_Angeles")) == "logs-2026.12.31"
    assert resolve_index(name("M", "yyyy.MM")) == "logs-2027.01"
    assert resolve_index(name("w", "yyyy.MM.dd")) == "logs-2026.12.28"  # the Monday of that week
    assert resolve_index("plain") == "plain"


# -- fingerprint and user_agent ----------------------------------------------------------------------

def test_fingerprint_bytes_as_elasticsearch_hashes_them():
    """Fields sorted by name; each value after a 0 byte: strings UTF-8, Integers 4 bytes and
    Longs 8 bytes little-endian, booleans 1/2, objects key then value in key order; base64."""
    doc = run([{"fingerprint": {"fields": ["z", "a", "n", "big"], "method": "SHA-256", "salt": "pepper"}}],
              {"a": "é", "z": {"y": True, "x": [1]}, "n": 7, "big": 2**40}).doc.source
    data = (b"pepper" + b"\x00" + "é".encode() + b"\x00" + struct.pack("<q", 2**40) + b"\x00" + struct.pack("<i", 7)
            + b"\x00x" + b"\x00" + struct.pack("<i", 1) + b"\x00y" + b"\x00\x01")
    assert doc["fingerprint"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    missing = run([{"fingerprint": {"fields": ["a", "b"]}}], {"a": "x"})
    assert missing.failure.message == "missing field [b] when calculating fingerprint"
    skipped = run([{"fingerprint": {"fields": ["b"], "ignore_missing": True}}], {"a": "x"})
    assert "fingerprint" not in skipped.doc.source


def test_user_agent_fields():
    """name (Other when unknown), version, os.name/version/full, device.name; ignore_missing."""
    doc = run([{"user_agent": {"field": "ua"}}],
              {"ua": "Mozilla/5.0 (iPhone; CPU iPhone OS 26_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                     "Version/26.1 Mobile/15E148 Safari/604.1"}).doc.source
    assert doc["user_agent"]["name"] == "Mobile Safari" and doc["user_agent"]["version"] == "26.1"
    assert doc["user_agent"]["os"] == {"name": "iOS", "version": "26.1", "full": "iOS 26.1"}
    assert doc["user_agent"]["device"] == {"name": "iPhone"}
    unknown = run([{"user_agent": {"field": "ua", "target_field": "agent", "properties": ["name", "device"]}}],
                  {"ua": "a-thing-nobody-knows"}).doc.source
    assert unknown["agent"] == {"name": "Other", "device": {"name": "Other"}}
    assert run([{"user_agent": {"field": "ua", "ignore_missing": True}}], {}).doc.source == {}
    assert run([{"user_agent": {"field": "ua"}}], {}).failure.message == "field [ua] not present as part of path [ua]"


# -- loading --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, message", [
    ({"processors": [{"script": {"source": "ctx.a = 1"}}]}, "processor [script] is not one synth's offline engine runs"),
    ({"processors": [{"nope": {}}]}, "No processor type exists with name [nope]"),
    ({"processors": [{"set": {"field": "a", "value": 1, "if": "ctx.a = 1"}}]},
     "processors[0].if: unsupported Painless: ctx.a = 1"),
    ({"processors": [{"set": {"field": "a"}}]}, "[value] required property is missing"),
    ({"processors": [{"date": {"field": "a", "formats": ["yyyy-MM-dd Q"]}}]}, "pattern letter 'Q'"),
    ({"processors": [{"grok": {"field": "a", "patterns": ["%{NOPE:x}"]}}]}, "Unable to find pattern [NOPE]"),
    ({"processors": [{"set": {"field": "a", "value": 1}}], "on_failure": []}, "pipeline [p] cannot have an empty on_failure option defined"),
    ({"processors": [{"set": {"field": "a", "value": 1, "tag": "t", "bogus": 1}}]}, "parameters [bogus]"),
])
def test_pipelines_refused_at_load(body, message):
    with pytest.raises(PipelineError) as e:
        Pipeline(body, "p")
    assert message in str(e.value) and "\n" not in str(e.value)
