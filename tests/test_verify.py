"""synth verify: every generated line through the bundled pipeline, checked against the
generator's own values; hand-written edge lines against whole expected documents; the
deterministic _id; the command's summary, JSON output and exit statuses."""

import base64
import datetime as dt
import hashlib
import json
import struct

import pytest
from conftest import END, REFERENCE
from helpers import generated_run

from synth.cli import main
from synth.elastic.ingest import Pipeline
from synth.elastic.javatime import DateFormatter
from synth.elastic.verify import bundled_pipeline, log_files, verify_files, verify_paths

UTC = dt.UTC


@pytest.fixture(scope="module")
def pipeline():
    return bundled_pipeline()


@pytest.mark.parametrize("seed, tz", [(1, "+0000"), (2, "-0800"), (3, "+0530")])
def test_every_generated_line_parses_into_the_generators_values(tmp_path, pipeline, seed, tz):
    """Each ECS field equals the value the generator drew for that event; @timestamp is the
    event's second exactly, whatever the zone offset written; _index is its UTC day."""
    log = tmp_path / "access.log"
    expected = generated_run(seed, tz, log, days=0.03)
    results = list(verify_paths([log], pipeline))
    assert len(results) == len(expected) > 3000
    clients = set()
    for result, want in zip(results, expected):
        doc = result.document
        assert result.failure is None, (want["line"], result.failure)
        when = dt.datetime.fromtimestamp(want["second"], UTC)
        assert doc["event"]["original"] == want["line"]
        assert doc["_index"] == f"smoke_event-{when:%Y.%m.%d}"
        assert doc["@timestamp"] == when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert doc["timestamp"] == want["values"]["time"][1:-1]
        assert doc["source"] == {"address": want["address"], "ip": want["address"]}
        assert doc["http"]["request"]["method"] == want["method"]
        assert doc["url"]["original"] == want["target"]
        assert "HTTP/" + doc["http"]["version"] == want["proto"]
        assert doc["http"]["response"]["status_code"] == want["status"]
        assert doc["http"]["response"].get("body", {}).get("bytes") == (want["size"] or None)
        assert doc["http"]["request"].get("referrer") == (None if want["referrer"] == "-" else want["referrer"])
        assert doc["user_agent"]["original"] == want["agent"]
        assert doc["user_agent"]["name"] and doc["user_agent"]["device"]["name"]
        assert "user" not in doc and "apache" not in doc  # "-" ident and user are not captured
        assert set(doc) == {"_index", "_id", "@timestamp", "timestamp", "event", "source", "http", "url",
                            "user_agent", "log", "input"}
        clients.add(":" in want["address"])
    assert clients == {False, True}, "the run should have IPv4 and IPv6 clients"
    ids = [r.document["_id"] for r in results]
    assert len(set(ids)) == len(ids), "distinct lines must get distinct _ids"


def _id_of(line, offset):
    """The fingerprint processor's SHA-1 over event.original then log.offset (an Integer), each after a 0 byte."""
    data = b"\x00" + line.encode() + b"\x00" + struct.pack("<i", offset)
    return base64.b64encode(hashlib.sha1(data).digest()).decode()


EDGE = [
    # IPv6 client
    ('2001:db8:85a3::8a2e:370:7334 - - [28/Nov/2026:10:15:30 +0000] "GET /docs/ HTTP/2.0" 200 5120 '
     '"https://www.google.com/" "Mozilla/5.0 (X11; Linux x86_64; rv:146.0) Gecko/20100101 Firefox/146.0"',
     {"_index": "smoke_event-2026.11.28", "@timestamp": "2026-11-28T10:15:30.000Z",
      "timestamp": "28/Nov/2026:10:15:30 +0000",
      "source": {"address": "2001:db8:85a3::8a2e:370:7334", "ip": "2001:db8:85a3::8a2e:370:7334"},
      "http": {"request": {"method": "GET", "referrer": "https://www.google.com/"}, "version": "2.0",
               "response": {"status_code": 200, "body": {"bytes": 5120}}},
      "url": {"original": "/docs/"},
      "user_agent": {"original": "Mozilla/5.0 (X11; Linux x86_64; rv:146.0) Gecko/20100101 Firefox/146.0",
                     "name": "Firefox", "version": "146.0", "os": {"name": "Linux"}, "device": {"name": "Other"}}}),
    # a host name as client: source.address only
    ('crawl-66-249-70-211.googlebot.com - - [28/Nov/2026:10:15:31 +0000] "GET /robots.txt HTTP/1.1" 200 412 "-" '
     '"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"',
     {"_index": "smoke_event-2026.11.28", "@timestamp": "2026-11-28T10:15:31.000Z",
      "timestamp": "28/Nov/2026:10:15:31 +0000", "source": {"address": "crawl-66-249-70-211.googlebot.com"},
      "http": {"request": {"method": "GET"}, "version": "1.1", "response": {"status_code": 200, "body": {"bytes": 412}}},
      "url": {"original": "/robots.txt"},
      "user_agent": {"original": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                     "name": "Googlebot", "version": "2.1", "device": {"name": "Spider"}}}),
    # "-" bytes: no body.bytes
    ('203.0.113.7 - - [28/Nov/2026:10:15:32 +0000] "HEAD / HTTP/1.1" 200 - "-" '
     '"Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"',
     {"_index": "smoke_event-2026.11.28", "@timestamp": "2026-11-28T10:15:32.000Z",
      "timestamp": "28/Nov/2026:10:15:32 +0000", "source": {"address": "203.0.113.7", "ip": "203.0.113.7"},
      "http": {"request": {"method": "HEAD"}, "version": "1.1", "response": {"status_code": 200}},
      "url": {"original": "/"},
      "user_agent": {"original": "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
                     "name": "UptimeRobot", "version": "2.0", "device": {"name": "Spider"}}}),
    # common format: no referrer, no agent; a user name
    ('198.51.100.23 - frank [28/Nov/2026:10:15:33 +0000] "POST /login HTTP/1.0" 302 231',
     {"_index": "smoke_event-2026.11.28", "@timestamp": "2026-11-28T10:15:33.000Z",
      "timestamp": "28/Nov/2026:10:15:33 +0000", "source": {"address": "198.51.100.23", "ip": "198.51.100.23"},
      "user": {"name": "frank"},
      "http": {"request": {"method": "POST"}, "version": "1.0", "response": {"status_code": 302, "body": {"bytes": 231}}},
      "url": {"original": "/login"}}),
    # a connection closed before any request: "-" request, 408
    ('192.0.2.44 - - [28/Nov/2026:10:15:34 +0000] "-" 408 - "-" "-"',
     {"_index": "smoke_event-2026.11.28", "@timestamp": "2026-11-28T10:15:34.000Z",
      "timestamp": "28/Nov/2026:10:15:34 +0000", "source": {"address": "192.0.2.44", "ip": "192.0.2.44"},
      "http": {"response": {"status_code": 408}}}),
    # escaped quotes in the request and the agent stay as logged
    ('203.0.113.9 - - [28/Nov/2026:10:15:35 +0000] "GET /search?q=\\"elastic\\" HTTP/1.1" 200 1043 "-" '
     '"curl/8.5.0 \\"scripted\\""',
     {"_index": "smoke_event-2026.11.28", "@timestamp": "2026-11-28T10:15:35.000Z",
      "timestamp": "28/Nov/2026:10:15:35 +0000", "source": {"address": "203.0.113.9", "ip": "203.0.113.9"},
      "http": {"request": {"method": "GET"}, "version": "1.1", "response": {"status_code": 200, "body": {"bytes": 1043}}},
      "url": {"original": '/search?q=\\"elastic\\"'},
      "user_agent": {"original": 'curl/8.5.0 \\"scripted\\"', "name": "curl", "version": "8.5.0",
                     "device": {"name": "Other"}}}),
    # -0800 on New Year's Eve: the event is in the next UTC day and year
    ('2001:db8::1 - - [31/Dec/2026:20:00:00 -0800] "GET /news/ HTTP/1.1" 200 12000 "-" "-"',
     {"_index": "smoke_event-2027.01.01", "@timestamp": "2027-01-01T04:00:00.000Z",
      "timestamp": "31/Dec/2026:20:00:00 -0800", "source": {"address": "2001:db8::1", "ip": "2001:db8::1"},
      "http": {"request": {"method": "GET"}, "version": "1.1", "response": {"status_code": 200, "body": {"bytes": 12000}}},
      "url": {"original": "/news/"}}),
    # not a log line: kept whole, with the error, outside smoke_event-*
    ("this is not an access log line",
     {"_index": "failed-smoke_event",
      "event": {"kind": "pipeline_error"},
      "error": {"message": "Processor grok with tag parse-line in pipeline smoke_event-access failed with message: "
                           "Provided Grok expressions do not match field value: [this is not an access log line]"}}),
]


def test_edge_lines_give_their_expected_documents(tmp_path, pipeline):
    """Whole documents for IPv6 and host-name clients, "-" bytes, common format, a "-" request,
    escaped quotes, an offset that moves the event into the next year, and a line that is no log."""
    log = tmp_path / "edge.log"
    log.write_text("".join(line + "\n" for line, _ in EDGE))
    results = list(verify_paths([log], pipeline))
    assert len(results) == len(EDGE)
    offset = 0
    for result, (line, want) in zip(results, EDGE):
        doc = dict(result.document)
        assert result.failed == (want["_index"] == "failed-smoke_event")
        ingested = doc["event"].pop("ingested", None)
        if not result.failed:
            assert DateFormatter("strict_date_optional_time").parse(ingested)  # a date Elasticsearch reads
        expected = json.loads(json.dumps(want))
        expected["_id"] = _id_of(line, offset)
        expected.setdefault("event", {})["original"] = line
        expected["log"] = {"offset": offset, "file": {"path": str(log.resolve())}}
        expected["input"] = {"type": "filestream"}
        assert doc == expected, line
        offset += len(line) + 1


def test_same_files_twice_same_ids_and_identical_lines_apart(tmp_path, pipeline):
    """Verifying the same input twice gives the same _ids; the same line twice in a file (same
    client, asset and second) is two documents, told apart by their offsets."""
    line = '203.0.113.7 - - [28/Nov/2026:10:15:32 +0000] "GET /static/app.js HTTP/1.1" 200 92000 "-" "curl/8.5.0"'
    log = tmp_path / "access.log"
    log.write_text(f"{line}\n{line}\n")
    first = [r.document["_id"] for r in verify_paths([log], pipeline)]
    second = [r.document["_id"] for r in verify_paths([log], pipeline)]
    assert first == second
    assert first[0] != first[1] and first == [_id_of(line, 0), _id_of(line, len(line) + 1)]
    renamed = tmp_path / "access.log-20261128"
    log.rename(renamed)
    assert [r.document["_id"] for r in verify_paths([renamed], pipeline)] == first  # rotation renames


def test_workers_give_the_same_documents(tmp_path, pipeline):
    """Chunks run in parallel give the documents, in the order, that one process gives."""
    log = tmp_path / "access.log"
    generated_run(5, "+0100", log, days=0.05, rate=1.0)

    def documents(workers):
        lines = []
        for _, text in verify_files([log], pipeline, as_json=True, workers=workers):
            lines += [json.loads(t) for t in text.splitlines()]
        for doc in lines:
            doc["event"].pop("ingested")
        return lines

    sequential = documents(1)
    assert log.stat().st_size > 3 << 20  # several of verify's 1 MB chunks
    assert len(sequential) > 1000 and documents(2) == sequential


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def test_cli_summary_and_exit_status(tmp_path, capsys):
    """The summary counts lines, parsed and failed, names each reason with a count and its
    first line, and the exit status is 1 when a line failed, 0 when none did."""
    good = tmp_path / "good.log"
    good.write_text("".join(line + "\n" for line, want in EDGE if want["_index"] != "failed-smoke_event"))
    code, out, err = run_cli(["verify", str(good)], capsys)
    assert code == 0, err
    assert out.startswith("verified 7 lines in 1 file with pipeline smoke_event-access: 7 parsed, 0 failed")
    mixed = tmp_path / "mixed.log"
    mixed.write_text("not a line\n" + EDGE[0][0] + "\n\nalso not\n")
    code, out, err = run_cli(["verify", str(mixed)], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("verified 3 lines in 1 file with pipeline smoke_event-access: 1 parsed, 2 failed")
    # one reason for both lines: the processor and the kind of error, not the line's text
    assert lines[1:] == [f"  2 x grok (tag parse-line): Provided Grok expressions do not match field value: [...]  "
                         f"(first: {mixed} line 1)"]


def test_cli_json_is_one_document_per_line_in_order(tmp_path, capsys):
    """--json writes the stored document of each line, in order, with _index and _id on top."""
    log = tmp_path / "edge.log"
    log.write_text("".join(line + "\n" for line, _ in EDGE))
    code, out, _ = run_cli(["verify", "--json", str(log)], capsys)
    assert code == 1  # the last edge line fails
    docs = [json.loads(line) for line in out.splitlines()]
    assert [d["event"]["original"] for d in docs] == [line for line, _ in EDGE]
    assert [d["_index"] for d in docs] == [want["_index"] for _, want in EDGE]
    assert list(docs[0])[:2] == ["_index", "_id"]


def test_cli_folder_means_its_logs_in_manifest_order(tmp_path, capsys):
    """A folder of a run is its access.log* files, oldest first, never its JSON files."""
    import synth
    synth.generate("classic", seed=4, out_dir=tmp_path / "out", days=2, rate=0.02, spike_minutes=5, end=END)
    files = log_files([tmp_path / "out"])
    assert [f.name for f in files] == [f["name"] for f in json.loads((tmp_path / "out" / "manifest.json").read_text())["files"]]
    assert files[-1].name == "access.log" and len(files) == 3
    code, out, _ = run_cli(["verify", str(tmp_path / "out")], capsys)
    assert code == 0 and "in 3 files" in out and " 0 failed" in out


@pytest.mark.parametrize("args, named", [
    (["verify", "/no/such/file.log"], "/no/such/file.log"),
    (["verify", "--pipeline", "/no/such.json", "x.log"], "--pipeline"),
])
def test_cli_missing_paths_exit_2(args, named, capsys):
    code, out, err = run_cli(args, capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and named in err


@pytest.mark.parametrize("body, named", [
    ({"processors": [{"script": {"source": "ctx.a = 1"}}]}, "[script]"),
    ({"processors": [{"set": {"field": "a", "value": 1, "if": "ctx.a = null"}}]}, "unsupported Painless: ctx.a = null"),
    ({"processors": [{"grok": {"field": "message", "patterns": ["%{NOPE:x}"]}}]}, "NOPE"),
    ({"processors": [{"set": {"field": "a", "value": 1, "colour": "red"}}]}, "colour"),
    ({"processor": []}, "processor"),
])
def test_cli_bad_user_pipeline_exit_2(tmp_path, capsys, body, named):
    """A pipeline synth cannot run is one line naming what is wrong, exit 2, nothing on stdout."""
    pipeline = tmp_path / "mine.json"
    pipeline.write_text(json.dumps(body))
    log = tmp_path / "a.log"
    log.write_text("x\n")
    code, out, err = run_cli(["verify", "--pipeline", str(pipeline), str(log)], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and named in err, err


def test_cli_bad_patterns_dir_exit_2(tmp_path, capsys):
    """--patterns that is no folder, or a folder without pattern definitions: one line, exit 2."""
    log = tmp_path / "a.log"
    log.write_text(EDGE[0][0] + "\n")
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "nope", tmp_path / "empty"):
        code, out, err = run_cli(["verify", "--patterns", str(folder), str(log)], capsys)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
        assert "--patterns" in err and str(folder) in err


@pytest.mark.reference
def test_user_pipeline_and_patterns_dir(tmp_path, capsys):
    """A grok exercise: the user's own pipeline (as GET _ingest/pipeline returns it), legacy
    field names, Elasticsearch's pattern files given with --patterns."""
    reference = REFERENCE / "grok"
    mine = tmp_path / "exercise.json"
    mine.write_text(json.dumps({"exercise": {"processors": [
        {"grok": {"field": "message", "patterns": ["%{COMBINEDAPACHELOG}"]}},
        {"convert": {"field": "response", "type": "integer"}}]}}))
    log = tmp_path / "a.log"
    log.write_text(EDGE[0][0] + "\n")
    code, out, err = run_cli(["verify", "--json", "--pipeline", str(mine), "--patterns", str(reference), str(log)], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["clientip"] == "2001:db8:85a3::8a2e:370:7334" and doc["response"] == 200
    assert doc["agent"].startswith('"Mozilla/5.0') and doc["_id"] is None
    assert Pipeline.load(mine).id == "exercise"
