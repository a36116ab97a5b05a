"""The processors beyond synth's own pipeline, each against the examples of Elasticsearch's
processor reference (docs/reference/enrich-processor/<name>-processor.md in elastic/elasticsearch,
https://www.elastic.co/docs/reference/enrichment-processor/) and its source for the options,
defaults and error messages named in each test."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest

import synth.elastic
from synth.elastic.ingest import Pipeline, PipelineError
from synth.elastic.ingest.processors.hashing import murmur3_128
from synth.elastic.pipelines import json_pipeline

NOON = dt.datetime(2026, 11, 28, 12, 0, 0, tzinfo=dt.UTC)


def simulate(processors, source, **body):
    """One document through an inline pipeline: its answer entry (doc, error or None)."""
    answer = synth.elastic.simulate({"processors": processors, **body}, [{"_index": "i", "_id": "1", "_source": source}],
                                    timestamp=NOON)
    return answer["docs"][0]


def source_of(processors, source):
    result = simulate(processors, source)
    assert result is not None and "doc" in result, result
    return result["doc"]["_source"]


def reason_of(processors, source):
    result = simulate(processors, source)
    assert result is not None and "error" in result, result
    return result["error"]["reason"]


def refused(processors):
    with pytest.raises(PipelineError) as e:
        Pipeline({"processors": processors})
    return e.value.reason


# -- dissect: docs' examples for each modifier (DissectParser's javadoc has the same) ---------------

@pytest.mark.parametrize("pattern, text, expected, separator", [
    ('%{clientip} %{ident} %{auth} [%{@timestamp}] "%{verb} %{request} HTTP/%{httpversion}" %{status} %{size}',
     '1.2.3.4 - - [30/Apr/1998:22:00:52 +0000] "GET /english/venues/cities/images/montpellier/18.gif HTTP/1.0" 200 3171',
     {"clientip": "1.2.3.4", "ident": "-", "auth": "-", "@timestamp": "30/Apr/1998:22:00:52 +0000", "verb": "GET",
      "request": "/english/venues/cities/images/montpellier/18.gif", "httpversion": "1.0", "status": "200",
      "size": "3171"}, ""),
    ("%{ts->} %{level}", "1998-08-10T17:15:42,466          WARN", {"ts": "1998-08-10T17:15:42,466", "level": "WARN"}, ""),
    ("[%{ts}]%{->}[%{level}]", "[1998-08-10T17:15:42,466]            [WARN]",
     {"ts": "1998-08-10T17:15:42,466", "level": "WARN"}, ""),
    ("%{+name} %{+name} %{+name} %{+name}", "john jacob jingleheimer schmidt",
     {"name": "john jacob jingleheimer schmidt"}, " "),
    ("%{+name/2} %{+name/4} %{+name/3} %{+name/1}", "john jacob jingleheimer schmidt",
     {"name": "schmidt,john,jingleheimer,jacob"}, ","),
    ("%{clientip} %{?ident} %{?auth} [%{@timestamp}]", "1.2.3.4 - - [30/Apr/1998:22:00:52 +0000]",
     {"clientip": "1.2.3.4", "@timestamp": "30/Apr/1998:22:00:52 +0000"}, ""),
    ("[%{ts}] [%{level}] %{*p1}:%{&p1} %{*p2}:%{&p2}", "[2018-08-10T17:15:42,466] [ERR] ip:1.2.3.4 error:REFUSED",
     {"ts": "2018-08-10T17:15:42,466", "level": "ERR", "ip": "1.2.3.4", "error": "REFUSED"}, ""),
    ("%{a},%{b},%{c},%{d}", "foo,,,", {"a": "foo", "b": "", "c": "", "d": ""}, ""),
])
def test_dissect(pattern, text, expected, separator):
    """Keys and delimiters; -> skips repeated delimiters; + and +/n append (in order); ? skips;
    *k/&k name a field by another's value; consecutive delimiters give empty values."""
    out = source_of([{"dissect": {"field": "message", "pattern": pattern, "append_separator": separator}}],
                    {"message": text})
    assert {k: v for k, v in out.items() if k != "message"} == expected


def test_dissect_failures():
    """All or nothing (DissectException.FindMatch's words); a pattern without keys is refused."""
    assert reason_of([{"dissect": {"field": "m", "pattern": "%{a},%{b}:%{c}"}}], {"m": "foo,bar,baz"}) == \
        "Unable to find match for dissect pattern: %{a},%{b}:%{c} against source: foo,bar,baz"
    assert "Unable to find any keys or delimiters" in refused([{"dissect": {"field": "m", "pattern": "no keys"}}])
    assert source_of([{"dissect": {"field": "m", "pattern": "%{a}", "ignore_missing": True}}], {}) == {}


# -- kv ------------------------------------------------------------------------------------------

def test_kv():
    """The docs' example; repeated keys become a list; include/exclude, prefix, target_field,
    trim_key/trim_value and strip_brackets; a pair without value_split fails."""
    assert source_of([{"kv": {"field": "message", "field_split": " ", "value_split": "="}}],
                     {"message": "ip=1.2.3.4 error=REFUSED"}) == \
        {"message": "ip=1.2.3.4 error=REFUSED", "ip": "1.2.3.4", "error": "REFUSED"}
    assert source_of([{"kv": {"field": "m", "field_split": "&", "value_split": "=", "target_field": "q",
                              "prefix": "p_", "include_keys": ["a", "b"]}}], {"m": "a=1&b=2&a=3&c=4"})["q"] == \
        {"p_a": ["1", "3"], "p_b": "2"}
    assert source_of([{"kv": {"field": "m", "field_split": ",", "value_split": ":", "trim_key": " ",
                              "trim_value": " ", "strip_brackets": True, "exclude_keys": ["x"]}}],
                     {"m": " k :(v), x:1, s:<w>"}) == {"m": " k :(v), x:1, s:<w>", "k": "v", "s": "w"}
    assert reason_of([{"kv": {"field": "m", "field_split": " ", "value_split": "="}}], {"m": "a=1 b"}) == \
        "field [m] does not contain value_split [=]"
    assert reason_of([{"kv": {"field": "m", "field_split": " ", "value_split": "="}}], {}) == "field [m] doesn't exist"
    assert refused([{"kv": {"field": "m", "value_split": "="}}]) == "[field_split] required property is missing"


# -- csv -----------------------------------------------------------------------------------------

def test_csv():
    """RFC 4180 fields: quotes, doubled quotes, separators inside quotes; empty fields skipped
    unless empty_value; trim; fewer fields than targets leave the rest out."""
    processor = {"csv": {"field": "m", "target_fields": ["a", "b", "c", "d"]}}
    assert source_of([processor], {"m": 'x,"y, ""z""",,w'}) == {"m": 'x,"y, ""z""",,w', "a": "x", "b": 'y, "z"',
                                                               "d": "w"}
    assert source_of([{"csv": {**processor["csv"], "empty_value": "", "separator": ";"}}], {"m": "1;;3"}) == \
        {"m": "1;;3", "a": "1", "b": "", "c": "3"}
    assert source_of([{"csv": {**processor["csv"], "trim": True}}], {"m": " 1 , 2 "}) == {"m": " 1 , 2 ", "a": "1",
                                                                                        "b": "2"}
    assert reason_of([processor], {"m": '"open'}) == "Unmatched quote"
    assert refused([{"csv": {"field": "m", "target_fields": ["a"], "quote": "''"}}]) == \
        "quote has to be single character like \" or '"


# -- urldecode, uri_parts, bytes -------------------------------------------------------------------

def test_urldecode():
    """URLDecoder.decode: %hh as UTF-8 bytes, + as a space; lists item by item."""
    assert source_of([{"urldecode": {"field": "u", "target_field": "d"}}],
                     {"u": "http%3A%2F%2Fexample.com%2Fcaf%C3%A9%3Fq%3Da+b"})["d"] == "http://example.com/café?q=a b"
    assert source_of([{"urldecode": {"field": "u"}}], {"u": ["a%20b", "c+d"]}) == {"u": ["a b", "c d"]}
    assert "Illegal hex characters" in reason_of([{"urldecode": {"field": "u"}}], {"u": "%zz"})


def test_uri_parts():
    """The docs' example, parts of java.net.URI; keep_original (default true) and remove_if_successful."""
    url = "http://myusername:mypassword@www.example.com:80/foo.gif?key1=val1&key2=val2#fragment"
    assert source_of([{"uri_parts": {"field": "input_field", "target_field": "url", "keep_original": True,
                                     "remove_if_successful": False}}], {"input_field": url})["url"] == {
        "path": "/foo.gif", "fragment": "fragment", "extension": "gif", "password": "mypassword", "original": url,
        "scheme": "http", "port": 80, "user_info": "myusername:mypassword", "domain": "www.example.com",
        "query": "key1=val1&key2=val2", "username": "myusername"}
    assert source_of([{"uri_parts": {"field": "u", "remove_if_successful": True, "keep_original": False}}],
                     {"u": "https://example.com/a%20b/"}) == {"url": {"domain": "example.com", "path": "/a b/",
                                                                      "scheme": "https"}}
    assert reason_of([{"uri_parts": {"field": "u"}}], {"u": "not a uri"}) == "unable to parse URI [not a uri]"


def test_bytes():
    """ByteSizeValue: units b, kb, mb, gb, tb, pb (and their one-letter forms), any case; a bare
    number other than 0 or -1 is refused."""
    out = source_of([{"bytes": {"field": "s", "target_field": "n"}}], {"s": "1kb"})
    assert out["n"] == 1024
    assert source_of([{"bytes": {"field": "s"}}], {"s": ["2MB", "1.5k", "0"]}) == {"s": [2 * 1024 ** 2, 1536, 0]}
    assert reason_of([{"bytes": {"field": "s"}}], {"s": "123"}) == \
        "failed to parse setting [s] with value [123] as a size in bytes: unit is missing or unrecognized"


# -- drop, foreach, fail, pipeline ----------------------------------------------------------------

def test_drop():
    """The docs' example: a drop processor with a condition; a dropped document is null in simulate."""
    processors = [{"drop": {"description": "Drop documents with 'network.name' of 'Guest'",
                            "if": "ctx?.network?.name == 'Guest'"}}]
    assert simulate(processors, {"network": {"name": "Guest"}}) is None
    assert source_of(processors, {"network": {"name": "Staff"}}) == {"network": {"name": "Staff"}}


def test_foreach():
    """The docs' examples: uppercase each item (_ingest._value); each object's field; an object's
    entries (_ingest._key, _ingest._value); a missing field fails unless ignore_missing."""
    assert source_of([{"foreach": {"field": "values", "processor": {"uppercase": {"field": "_ingest._value"}}}}],
                     {"values": ["foo", "bar", "baz"]}) == {"values": ["FOO", "BAR", "BAZ"]}
    persons = {"persons": [{"id": "1", "name": "John Doe"}, {"id": "2", "name": "Jane Doe"}]}
    assert source_of([{"foreach": {"field": "persons", "processor": {"remove": {"field": "_ingest._value.id"}}}}],
                     persons) == {"persons": [{"name": "John Doe"}, {"name": "Jane Doe"}]}
    assert source_of([{"foreach": {"field": "products", "processor": {
        "uppercase": {"field": "_ingest._key"}}}}], {"products": {"widgets": {"price": 1}}}) == \
        {"products": {"WIDGETS": {"price": 1}}}
    assert reason_of([{"foreach": {"field": "nope", "processor": {"uppercase": {"field": "_ingest._value"}}}}], {}) == \
        "field [nope] not present as part of path [nope]"


def test_fail_and_pipeline():
    """fail's message is a template (fail_processor_exception); pipeline runs a stored one."""
    result = simulate([{"fail": {"message": "The production tag is not present, found tags: {{{tags}}}"}}],
                      {"tags": "dev"})
    assert result["error"]["type"] == "fail_processor_exception"
    assert result["error"]["reason"] == "The production tag is not present, found tags: dev"
    answer = synth.elastic.simulate({"processors": [{"pipeline": {"name": "pipelineB"}}]},
                                    [{"_source": {"field": "value"}}],
                                    {"pipelineB": {"processors": [{"set": {"field": "inner", "value": "{{_ingest.pipeline}}"}}]}})
    assert answer["docs"][0]["doc"]["_source"] == {"field": "value", "inner": "pipelineB"}
    assert answer["docs"][0]["doc"]["_index"] == "_index" and answer["docs"][0]["doc"]["_version"] == "-3"


# -- json ----------------------------------------------------------------------------------------

def test_json_options():
    """The docs' examples: into target_field, in place, to the root (replace or merge);
    allow_duplicate_keys; strict_json_parsing; the refusals JsonProcessor.Factory words."""
    text = '{"foo": 2000}'
    assert source_of([{"json": {"field": "string_source", "target_field": "json_target"}}],
                     {"string_source": text}) == {"string_source": text, "json_target": {"foo": 2000}}
    assert source_of([{"json": {"field": "s"}}], {"s": "[1, true, null]"}) == {"s": [1, True, None]}
    root = {"source_and_target": '{"foo": {"bar": 1}}', "foo": {"baz": 2}}
    assert source_of([{"json": {"field": "source_and_target", "add_to_root": True}}], dict(root))["foo"] == {"bar": 1}
    assert source_of([{"json": {"field": "source_and_target", "add_to_root": True,
                                "add_to_root_conflict_strategy": "merge"}}], dict(root))["foo"] == {"bar": 1, "baz": 2}
    assert "Duplicate field 'a'" in reason_of([{"json": {"field": "s"}}], {"s": '{"a": 1, "a": 2}'})
    assert source_of([{"json": {"field": "s", "allow_duplicate_keys": True}}], {"s": '{"a": 1, "a": 2}'}) == {"s": {"a": 2}}
    assert reason_of([{"json": {"field": "s"}}], {"s": '123 "foo"'}) == \
        'The input 123 "foo" is not valid JSON and the strict_json_parsing parameter is true'
    assert source_of([{"json": {"field": "s", "strict_json_parsing": False}}], {"s": '123 "foo"'}) == {"s": 123}
    assert refused([{"json": {"field": "s", "add_to_root": True, "target_field": "t"}}]) == \
        "[target_field] Cannot set a target field while also setting `add_to_root` to true"
    assert refused([{"json": {"field": "s", "add_to_root_conflict_strategy": "merge"}}]) == \
        "[add_to_root_conflict_strategy] Cannot set `add_to_root_conflict_strategy` if `add_to_root` is false"
    assert refused([{"json": {"field": "s", "add_to_root": True, "add_to_root_conflict_strategy": "x"}}]) == \
        "[add_to_root_conflict_strategy] conflict strategy [x] not supported, cannot convert field."


def test_json_add_to_root_reads_a_literal_key():
    """With add_to_root, JsonProcessor reads ctx.get(field): a dotted name is one literal key, so
    `event.original` is not found and the processor fails (elastic/elasticsearch#135170)."""
    nested = {"event": {"original": '{"a": 1}'}}
    assert reason_of([{"json": {"field": "event.original", "add_to_root": True}}], nested) == \
        "cannot add non-map fields to root of document"
    assert source_of([{"json": {"field": "event.original", "add_to_root": True}}],
                     {"event.original": '{"a": 1}'})["a"] == 1


# The smoke_event-json pipeline as it was shipped before (filebeat/smoke_event-json.pipeline.json,
# version 1): the raw line renamed to event.original, then decoded from there to the root.
OLD_JSON_PIPELINE = {
    "processors": [
        {"rename": {"tag": "keep-raw-line", "field": "message", "target_field": "event.original"}},
        {"fingerprint": {"tag": "document-id", "fields": ["event.original", "log.offset"], "target_field": "_id",
                         "ignore_missing": True}},
        {"json": {"tag": "decode", "field": "event.original", "add_to_root": True}},
        {"set": {"tag": "ingested", "field": "event.ingested", "value": "{{{_ingest.timestamp}}}"}},
    ],
    "on_failure": [{"set": {"field": "error.message", "value": "{{{_ingest.on_failure_message}}}"}},
                   {"set": {"field": "_index", "value": "failed-smoke_event"}}],
}
ECS_LINE = ('{"@timestamp":"2026-11-28T11:59:58.250Z","source":{"address":"192.0.2.7","ip":"192.0.2.7"},'
            '"http":{"request":{"method":"GET"},"response":{"status_code":200}},'
            '"event":{"kind":"event","category":["web"],"duration":27420000},'
            '"user_agent":{"original":"curl/8.5.0"},"ecs":{"version":"8.11.0"}}')


def _filebeat_event(line):
    return {"message": line, "log": {"offset": 4096, "file": {"path": "/var/log/access.log"}},
            "input": {"type": "filestream"}}


def test_old_json_pipeline_fails_every_line_the_new_one_does_not():
    """Through the engine: the old smoke_event-json sends an ECS line to failed-smoke_event with
    Elasticsearch's message; the shipped one indexes it by its day, with event.original the raw
    line, the line's own event fields merged beside it and Filebeat's log.* kept."""
    old = Pipeline(OLD_JSON_PIPELINE, "smoke_event-json").run(_filebeat_event(ECS_LINE), "smoke_event-x")
    assert old.failure is not None and old.failure.message == "cannot add non-map fields to root of document"
    assert old.doc.meta["_index"] == "failed-smoke_event"

    new = Pipeline(json_pipeline(), "smoke_event-json").run(_filebeat_event(ECS_LINE), "smoke_event-x")
    assert new.failure is None
    source = new.doc.source
    assert source["event"]["original"] == ECS_LINE and source["event"]["kind"] == "event"
    assert source["event"]["duration"] == 27420000 and "message" not in source
    assert source["log"] == {"offset": 4096, "file": {"path": "/var/log/access.log"}}
    assert source["@timestamp"] == "2026-11-28T11:59:58.250Z"
    assert synth.elastic.ingest.resolve_index(new.doc.meta["_index"]) == "smoke_event-2026.11.28"
    assert json.loads(source["event"]["original"])["source"] == source["source"]


# -- date_index_name, fingerprint, community_id, network_direction ---------------------------------

def test_date_index_name():
    """The docs' example: a month-rounded date-math index name from a field."""
    result = simulate([{"date_index_name": {"field": "date1", "index_name_prefix": "my-index-", "date_rounding": "M"}}],
                      {"date1": "2016-04-25T12:02:01.789Z"})
    assert result["doc"]["_index"] == "<my-index-{2016-04-25||/M{yyyy-MM-dd|UTC}}>"
    assert synth.elastic.ingest.resolve_index(result["doc"]["_index"]) == "my-index-2016-04-01"
    assert "[date_rounding] required property is missing" in refused([{"date_index_name": {"field": "d"}}])


@pytest.mark.parametrize("method, digest", [
    ("MD5", hashlib.md5), ("SHA-1", hashlib.sha1), ("SHA-256", hashlib.sha256), ("SHA-512", hashlib.sha512),
    ("MurmurHash3", None),
])
def test_fingerprint_methods_salt_and_ignore_missing(method, digest):
    """FingerprintProcessor: the salt, then for each field in name order a 0 byte and the value's
    bytes; MurmurHash3 is the 128-bit x64 hash; ignore_missing skips missing fields."""
    out = source_of([{"fingerprint": {"fields": ["b", "a"], "method": method, "salt": "pepper"}}], {"a": "x", "b": "y"})
    data = b"pepper" + b"\x00x" + b"\x00y"
    expected = murmur3_128(data) if digest is None else digest(data).digest()
    assert out["fingerprint"] == base64.b64encode(expected).decode()
    assert reason_of([{"fingerprint": {"fields": ["a", "z"], "method": method}}], {"a": "x"}) == \
        "missing field [z] when calculating fingerprint"
    assert source_of([{"fingerprint": {"fields": ["z"], "ignore_missing": True}}], {"a": 1}) == {"a": 1}


def test_murmur3_reference_vectors():
    """MurmurHash3_x64_128 of the reference implementation (smhasher): empty input with seed 0
    is all zero; 'hello' gives cbd8a7b341bd9b02 5b1e906a48ae1d19."""
    assert murmur3_128(b"") == bytes(16)
    assert murmur3_128(b"hello").hex() == "cbd8a7b341bd9b025b1e906a48ae1d19"


@pytest.mark.parametrize("source, destination, extra, expected", [
    # The processor reference's example.
    ({"ip": "123.124.125.126", "port": 12345}, {"ip": "55.56.57.58", "port": 80}, {"network": {"transport": "TCP"}},
     "1:9qr9Z1LViXcNwtLVOHZ3CL8MlyM="),
    # corelight/community-id-spec baseline_default.json: ICMPv6 both ways, a one-way type.
    ({"ip": "fe80::200:86ff:fe05:80da"}, {"ip": "fe80::260:97ff:fe07:69ea"},
     {"network": {"iana_number": 58}, "icmp": {"type": 135, "code": 0}}, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="),
    ({"ip": "fe80::260:97ff:fe07:69ea"}, {"ip": "fe80::200:86ff:fe05:80da"},
     {"network": {"iana_number": 58}, "icmp": {"type": 136, "code": 0}}, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="),
    ({"ip": "3ffe:501:1800:2345::2"}, {"ip": "3ffe:507:0:1:200:86ff:fe05:80da"},
     {"network": {"iana_number": 58}, "icmp": {"type": 3, "code": 0}}, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="),
    ({"ip": "3ffe:507:0:1:200:86ff:fe05:80da"}, {"ip": "3ffe:501:0:1001::2"},
     {"network": {"iana_number": 58}, "icmp": {"type": 128, "code": 0}}, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="),
])
def test_community_id(source, destination, extra, expected):
    """Community ID v1: the processor reference's TCP example and the specification's vectors."""
    out = source_of([{"community_id": {}}], {"source": source, "destination": destination, **extra})
    assert out["network"]["community_id"] == expected


def test_network_direction():
    """Named networks and CIDRs decide internal, outbound, inbound or external."""
    processors = [{"network_direction": {"internal_networks": ["private", "192.0.2.0/24"]}}]
    for source, destination, direction in [("128.232.110.120", "192.168.1.1", "inbound"),
                                           ("10.0.0.1", "8.8.8.8", "outbound"), ("10.0.0.1", "192.0.2.5", "internal"),
                                           ("8.8.8.8", "1.1.1.1", "external")]:
        out = source_of(processors, {"source": {"ip": source}, "destination": {"ip": destination}})
        assert out["network"]["direction"] == direction
    assert source_of(processors, {}) == {}
    assert "cannot both be null" in refused([{"network_direction": {}}])
