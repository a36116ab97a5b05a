"""Messy lines: each kind at its share, written as Apache writes it, labelled in messy.jsonl with
exactly what `synth verify --json` reports for the line; the clean lines stay as they were."""

import ipaddress
import json
import math
import re
import shutil
import subprocess
from collections import Counter

import pytest
from conftest import END

import synth
from synth.cli import main
from synth.render.messy import KINDS, TRUNCATED
from synth.run.messy import document_fields

# Elastic's own Apache integration pipeline (elastic/integrations, packages/apache/data_stream/
# access/elasticsearch/ingest_pipeline/default.yml) parses a quoted request of any shape with
# its first pattern: `"(%{DATA:apache.access.tls_handshake.error})?(...)?"` (TLS bytes, "-",
# SSH banners, HTTP/0.9, raw spaces), an IPORHOST client (host names), and any agent; its test
# log test-access-basic.log holds `"-" 408`, `"\x16\x03\x03..." 400` and `<SCRIPT>` lines. A line
# cut short matches none of its patterns. The bundled pipeline parses and fails the same kinds.
PARSED_BY_ELASTIC = {k.name for k in KINDS}
FAILED_BY_ELASTIC = {TRUNCATED}


@pytest.fixture(scope="module")
def messy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("messy") / "out"
    run = synth.generate("classic", seed=21, out_dir=out, days=0.5, rate=1.0, messy=0.2, end=END, rotate="hour")
    records = [json.loads(line) for line in (out / "messy.jsonl").read_text().splitlines()]
    return run, out, records


def test_every_kind_at_its_share(messy_run):
    """About a fifth of the lines are messy, and each kind's count is its weight's share of them
    (within five standard deviations of the binomial count); one line, the last, is cut short."""
    run, _, records = messy_run
    counts = Counter(r["kind"] for r in records)
    n = sum(counts[k.name] for k in KINDS)
    assert abs(n - 0.2 * run.lines) < 5 * math.sqrt(run.lines * 0.2 * 0.8)
    total = sum(k.weight for k in KINDS)
    for kind in KINDS:
        p = kind.weight / total
        assert abs(counts[kind.name] - n * p) < 5 * math.sqrt(n * p * (1 - p)) + 1, kind.name
    assert counts[TRUNCATED] == 1


def test_truth_file_is_what_verify_reports(messy_run, capsys):
    """Each messy.jsonl record equals `synth verify --json` for its line: parsed with those
    fields, or sent to failed-smoke_event with that error; the kinds parse as Elastic's
    pipeline parses them."""
    _, out, records = messy_run
    where = _verified(out, records, capsys)
    for record in records:
        doc = where[(record["file"], record["line"])]
        if record["parsed"]:
            assert doc["_index"].startswith("smoke_event-") and record["kind"] in PARSED_BY_ELASTIC
            assert document_fields(doc) == record["fields"], record
        else:
            assert doc["_index"] == "failed-smoke_event" and record["kind"] in FAILED_BY_ELASTIC
            assert doc["error"]["message"] == record["error"]
    assert {r["kind"] for r in records if r["parsed"]} == PARSED_BY_ELASTIC


def _verified(out, records, capsys):
    """`synth verify --json` of a run's messy lines: (file, line number) -> its document. The lines
    go to verify as their files hold them, in a file of their own beside a copy of the run's
    manifest, so verify ships them through the run's own pipeline as it ships the run's folder
    (the clean lines between them are not what the records judge)."""
    text = {f: (out / f).read_bytes().split(b"\n") for f in {r["file"] for r in records}}
    keys = [(r["file"], r["line"]) for r in records]
    lines = [text[f][number - 1] for f, number in keys]
    assert all(lines)
    folder = out.parent / "messy-lines"
    folder.mkdir()
    shutil.copy(out / "manifest.json", folder / "manifest.json")
    (folder / "lines.log").write_bytes(b"\n".join(lines))
    with pytest.raises(SystemExit):
        main(["verify", "--json", str(folder / "lines.log")])
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(documents) == len(keys)
    return dict(zip(keys, documents))


def test_lines_as_apache_writes_them(messy_run):
    """Spot checks of each kind's shape: escaped bytes, "-" 408 -, the 414 cut at LimitRequestLine."""
    _, out, records = messy_run
    text = {}
    for f in {r["file"] for r in records}:
        text[f] = (out / f).read_bytes().split(b"\n")
    lines = {r["kind"]: text[r["file"]][r["line"] - 1] for r in records}
    assert b'] "-" 408 - "-" "-"' in lines["empty_request"]
    assert b'"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03' in lines["tls_handshake"]
    assert b'" 400 226 ' in lines["tls_handshake"] and b'"SSH-2.0-' in lines["ssh_handshake"]
    assert b'\\"' in lines["raw_quote"] and b"\\x" in lines["non_utf8"]
    assert b'" 414 ' in lines["long_url"] and len(lines["long_url"]) > 8190
    assert b'"GET /" 200 ' in lines["http09"] and b'"CONNECT ' in lines["connect"]
    assert b"${jndi:" in lines["scanner_jndi"] and b"<script>" in lines["scanner_xss"]
    host = lines["hostname"].split(b" ")[0]
    assert b":" not in host and host.endswith((b".net", b".de", b".jp"))
    assert all(line.isascii() for line in text["access.log"])


def test_share_zero_changes_nothing(tmp_path):
    """messy 0 (the default): the same bytes as before, and no messy.jsonl; with messy, the clean
    lines are the same lines at the same places."""
    clean = synth.generate("classic", seed=4, out_dir=tmp_path / "a", days=0.1, rate=1, end=END, rotate="none")
    zero = synth.generate("classic", seed=4, out_dir=tmp_path / "b", days=0.1, rate=1, end=END, rotate="none", messy=0)
    messy = synth.generate("classic", seed=4, out_dir=tmp_path / "c", days=0.1, rate=1, end=END, rotate="none",
                           messy=0.1)
    a, b = (tmp_path / "a" / "access.log").read_bytes(), (tmp_path / "b" / "access.log").read_bytes()
    assert a == b and clean.lines == zero.lines and not (tmp_path / "b" / "messy.jsonl").exists()
    c = (tmp_path / "c" / "access.log").read_bytes().split(b"\n")
    records = [json.loads(line) for line in (tmp_path / "c" / "messy.jsonl").read_text().splitlines()]
    marked = {r["line"] for r in records}
    a_lines = a.split(b"\n")
    assert len(c) == len(a_lines) - 1 and messy.lines == clean.lines - 1  # the last line is cut short
    assert all(x == y for i, (x, y) in enumerate(zip(a_lines, c), 1) if i not in marked)
    assert sum(x != y for x, y in zip(a_lines, c)) > 0.05 * len(c)


def test_goaccess_counts_as_on_a_real_log(messy_run, tmp_path):
    """goaccess (COMBINED) reads every messy kind Apache writes except a host name in %h (it
    wants an address) and a 414 line past its 4 KB read buffer (each 4 KB piece counted as a
    line that fails). The last line, cut short, it reads as far as it goes: a cut inside the
    request it counts as a request all the same, a cut inside the agent's quotes as a failure;
    either way it is counted once, where Elasticsearch's pipelines always fail it."""
    assert shutil.which("goaccess")
    run, out, records = messy_run
    manifest = json.loads((out / "manifest.json").read_text())
    files = [str(out / f["name"]) for f in manifest["files"]]
    report, invalid = tmp_path / "report.json", tmp_path / "invalid.log"
    subprocess.run(["goaccess", *files, "--log-format=COMBINED", "--no-progress", "-o", str(report),
                    f"--invalid-requests={invalid}"], check=True, capture_output=True)
    general = json.loads(report.read_bytes().decode("utf-8", errors="replace"))["general"]
    counts = Counter(r["kind"] for r in records)
    text = {f: (out / f).read_bytes().split(b"\n") for f in {r["file"] for r in records}}
    long_pieces = sum(math.ceil((len(text[r["file"]][r["line"] - 1]) + 1) / 4096) for r in records
                      if r["kind"] == "long_url")
    (cut,) = [text[r["file"]][r["line"] - 1] for r in records if r["kind"] == TRUNCATED]
    cut_failed = int(cut in invalid.read_bytes().split(b"\n"))
    assert general["failed_requests"] == counts["hostname"] + long_pieces + cut_failed
    assert general["valid_requests"] == run.lines + counts[TRUNCATED] - cut_failed - counts["hostname"] - counts["long_url"]


@pytest.mark.parametrize("value", ["-0.1", "0.9", "lots"])
def test_bad_share_is_one_line_exit_2(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "--messy", value, "--out", str(tmp_path / "never")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "--messy" in err and err.count("\n") == 1
    assert not (tmp_path / "never").exists()


NGINX_CUSTOM = '$remote_addr [$time_local] "$request" $status $body_bytes_sent "$http_user_agent" m=$request_method u=$request_uri p=$server_protocol'
NGINX_JSON = 'escape=json {"t":"$time_iso8601","r":"$request","s":$status,"a":"$http_user_agent","m":"$request_method"}'


@pytest.fixture(scope="module", params=[{"format": "nginx_combined"}, {"nginx_log_format": NGINX_CUSTOM},
                                        {"nginx_log_format": NGINX_JSON}], ids=["nginx_combined", "custom", "json"])
def nginx_run(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("nginx") / "out"
    synth.generate("classic", seed=21, out_dir=out, days=0.05, rate=1.0, messy=0.2, end=END, rotate="none",
                   **request.param)
    records = [json.loads(line) for line in (out / "messy.jsonl").read_text().splitlines()]
    text = (out / "access.log").read_bytes().split(b"\n")
    by_kind = {}
    for r in records:
        by_kind.setdefault(r["kind"], []).append(text[r["line"] - 1])
    return request.param, by_kind


def test_nginx_lines_as_nginx_writes_them(nginx_run):
    """In nginx formats each kind is what nginx writes for it (synth/render/messy.py cites the
    nginx source): an empty request `"" 400 0`, a request line it cannot parse a 400 with its own
    157-byte page, no agent, and no method, URI or protocol; a too long one 414 with the first
    8,192 bytes; a request cut short 400 or 408 with nothing sent; no host names; nginx's
    uppercase \\xHH escapes."""
    param, by_kind = nginx_run
    assert set(by_kind) >= {k.name for k in KINDS} and min(len(lines) for lines in by_kind.values()) >= 5
    if "escape=json" in param.get("nginx_log_format", ""):
        docs = {kind: [json.loads(line) for line in lines] for kind, lines in by_kind.items()}
        assert all(d["r"] == "" and d["s"] == 400 and d["m"] == "" and d["a"] == "" for d in docs["empty_request"])
        assert all(d["r"] and d["s"] in (400, 408) and d["m"] == "" and d["a"] == "" for d in docs[TRUNCATED])
        for kind in ("tls_handshake", "ssh_handshake", "raw_space", "connect"):
            assert all(d["s"] == 400 and d["m"] == "" and d["a"] == "" for d in docs[kind]), kind
        assert all(d["s"] == 414 and len(d["r"]) == 8192 for d in docs["long_url"])
        assert all(d["r"].startswith("\u0016\u0003\u0001") for d in docs["tls_handshake"])
        return
    custom = "nginx_log_format" in param
    tail = b' "-" m=- u=- p=-' if custom else b' "-" "-"'
    for line in by_kind["empty_request"]:
        assert b'] "" 400 0' + tail in line
    for line in by_kind[TRUNCATED]:  # a request line that stops part way; nothing sent
        assert re.search(rb'\] "[A-Z][^"]*" 40[08] 0' + re.escape(tail) + b"$", line), line
    for kind in ("tls_handshake", "ssh_handshake", "raw_space", "connect"):
        for line in by_kind[kind]:
            assert line.endswith(b'" 400 157' + tail), (kind, line)
    assert all(b'"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03' in line for line in by_kind["tls_handshake"])
    for line in by_kind["long_url"]:
        request = line.split(b'] "', 1)[1].rsplit(b'" 414 177', 1)[0]
        assert len(request) == 8192 and line.endswith(b'" 414 177' + tail)
    for line in by_kind["hostname"]:
        ipaddress.ip_address(line.split(b" ")[0].decode())
    assert all(b"\\x22" in line for line in by_kind["raw_quote"])
    assert all(re.search(rb"\\x[C-F][0-9A-F]", line) for line in by_kind["non_utf8"])
    assert all(b'"GET /" 200 ' in line for line in by_kind["http09"])
    if custom:
        assert all(line.endswith(b" p=-") and b" m=GET u=/ " in line for line in by_kind["http09"])


# nginx's own 400 and 414 answers, byte for byte: the header ngx_http_header_filter writes (status
# line, Server with server_tokens on, Date, Content-Type, Content-Length, Connection: close) and
# ngx_http_error_400_page / _414_page with ngx_http_error_full_tail (ngx_http_special_response.c).
def _nginx_answer(status: bytes) -> bytes:
    page = (b"<html>\r\n<head><title>" + status + b"</title></head>\r\n<body>\r\n<center><h1>" + status +
            b"</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n")
    return (b"HTTP/1.1 " + status + b"\r\nServer: nginx/1.24.0\r\nDate: Tue, 01 Dec 2026 21:00:00 GMT\r\n"
            b"Content-Type: text/html\r\nContent-Length: " + str(len(page)).encode() + b"\r\nConnection: close\r\n\r\n"
            + page)


NGINX_ANSWERS = {400: _nginx_answer(b"400 Bad Request"), 414: _nginx_answer(b"414 Request-URI Too Large")}
NGINX_BYTES = ('$remote_addr [$time_local] "$request" $status $body_bytes_sent $bytes_sent $request_length '
               '"$http_referer" "$http_user_agent" m=$request_method')
_BYTES_LINE = re.compile(rb'^(\S+) \[([^]]+)\] "((?:[^"\\]|\\.)*)" (\d+) (\d+) (\d+) (\d+) "((?:[^"\\]|\\.)*)" '
                         rb'"((?:[^"\\]|\\.)*)" m=(\S+)$')


def _nginx_raw(text: bytes) -> bytes:
    """A value nginx wrote with escape=default, as the bytes it was."""
    return re.sub(rb"\\x([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]), text)


@pytest.fixture(scope="module")
def nginx_pair(tmp_path_factory):
    """The same small nginx run with messy lines and without, and the messy run's records."""
    base = tmp_path_factory.mktemp("nginx_pair")
    runs = {}
    for name, share in (("messy", 0.3), ("clean", 0)):
        synth.generate("classic", seed=8, out_dir=base / name, days=0.02, rate=1.0, messy=share, end=END, spike_minutes=10,
                       rotate="none", nginx_log_format=NGINX_BYTES)
        runs[name] = [_BYTES_LINE.match(line) for line in (base / name / "access.log").read_bytes().splitlines()]
    records = [json.loads(line) for line in (base / "messy" / "messy.jsonl").read_text().splitlines()]
    return base / "messy", runs["messy"], runs["clean"], records


def test_nginx_truncated_is_a_request_line_cut_short(nginx_pair):
    """nginx writes every line whole: its truncated lines are clients that sent part of a request
    line and closed (400) or went quiet until client_header_timeout (408). The line is whole,
    $request is the bytes that came (a start of the clean request, without its end), nothing was
    sent (0 0), the request line never parsed ($request_length 0, no method, no headers); the
    file's last line is not cut."""
    out, messy, clean, records = nginx_pair
    assert len(messy) == len(clean) and all(messy) and all(clean)
    cut = [r for r in records if r["kind"] == TRUNCATED]
    assert len(cut) >= 3 and {messy[r["line"] - 1].group(4) for r in cut} == {b"400", b"408"}
    for r in cut:
        m, c = messy[r["line"] - 1], clean[r["line"] - 1]
        request, original = _nginx_raw(m.group(3)), _nginx_raw(c.group(3))
        assert original.startswith(request) and 0 < len(request) <= len(original), (request, original)
        assert m.groups()[4:] == (b"0", b"0", b"0", b"-", b"-", b"-") and m.group(1, 2) == c.group(1, 2)
    assert (out / "access.log").read_bytes().endswith(b"\n")
    assert all(r["kind"] != TRUNCATED or not r["parsed"] for r in records)


def test_nginx_bytes_sent_and_request_length_follow_the_messy_request(nginx_pair):
    """$bytes_sent and $request_length as nginx counts them for the request it was sent: its own
    400 and 414 pages go out whole with their header (NGINX_ANSWERS: 309 and 339 bytes), a
    connection that closed or timed out got nothing (0); a request line that never parsed is 0
    bytes long; an HTTP/0.9 request has no headers and gets no header back; any other request is
    the clean one's length with its own request line, User-Agent and Referer in place of the
    clean one's, and its response's header is the same size for the same status."""
    _, messy, clean, records = nginx_pair
    seen, headers = set(), {}
    for r in records:
        m, c = messy[r["line"] - 1], clean[r["line"] - 1]
        status, body, sent, length = (int(x) for x in m.group(4, 5, 6, 7))
        request = _nginx_raw(m.group(3))
        if m.group(10) == b"-":  # the request line never parsed
            assert length == 0 and m.group(8, 9) == (b"-", b"-"), r
            answer = NGINX_ANSWERS[status] if body else b""  # closed or timed out: nothing was sent
            page = answer.split(b"\r\n\r\n", 1)[1] if answer else b""
            assert (sent, body) == (len(answer), len(page)) and status in (400, 408, 414), r
        elif r["kind"] == "http09":
            assert request == b"GET /" and length == len(b"GET /\r\n") and sent == body, r
        else:
            def header(name, value, sent_dash=False):  # dash_header's client sends "-" itself
                value = _nginx_raw(value)
                return 0 if value == b"-" and not sent_dash else len(name) + 2 + len(value) + 2
            dash = r["kind"] == "dash_header"
            delta = (len(request) - len(_nginx_raw(c.group(3))) + header("User-Agent", m.group(9), dash)
                     - header("User-Agent", c.group(9)) + header("Referer", m.group(8), dash)
                     - header("Referer", c.group(8)))
            assert length - int(c.group(7)) == delta, r
            if r["kind"] not in ("dash_header", "hostname"):  # a response of its own: its header and its body
                headers.setdefault(status, set()).add(sent - body)
            else:
                assert (sent, body) == (int(c.group(6)), int(c.group(5))), r
        seen.add(r["kind"])
    assert seen >= {k.name for k in KINDS} | {TRUNCATED}
    assert all(len(sizes) == 1 and min(sizes) > len(b"HTTP/1.1 404 Not Found\r\n") for sizes in headers.values())


def test_nginx_truth_is_what_its_own_pipeline_makes(nginx_pair, capsys):
    """For a --nginx-log-format run, messy.jsonl says what the pipeline `synth pipeline
    --nginx-log-format` gives for that format makes of each line (the one `synth verify` ships the
    run through), not the bundled Apache pipeline, which reads none of these lines: every record
    equals verify's document for its line. With this format's `m=$request_method` (a WORD), the
    lines whose request line nginx could not parse (method "-") fail, every other kind parses,
    with the fields the format carries ($request_length among them)."""
    from synth.elastic.verify import bundled_pipeline
    out, messy, _, records = nginx_pair
    where = _verified(out, records, capsys)
    bundled = bundled_pipeline()
    for record in records:
        doc, line = where[(record["file"], record["line"])], messy[record["line"] - 1]
        assert record["parsed"] == (line.group(10) != b"-"), record
        if record["parsed"]:
            assert doc["_index"].startswith("smoke_event-") and document_fields(doc) == record["fields"]
            assert record["fields"]["http.request.bytes"] == int(line.group(7))
        else:
            assert doc["_index"] == "failed-smoke_event" and doc["error"]["message"] == record["error"]
            assert "synth pipeline" in record["error"]
        assert bundled.run({"message": line.group(0).decode("utf-8", "replace")}, "t").failure is not None
    assert {r["kind"] for r in records if r["parsed"]} >= {"scanner_sql", "http09", "non_utf8", "dash_header"}
