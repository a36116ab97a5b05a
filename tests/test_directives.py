"""Every directive and modifier of Apache 2.4's mod_log_config (and mod_logio's %I %O %S) in one
LogFormat: the lines parse with the pipeline `synth pipeline --log-format` makes, field by field
equal to what the generator wrote, and the values hang together as on a real server."""

import datetime as dt
import locale
from collections import defaultdict

import pytest
from helpers import generated_run
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.elastic.ingest import Pipeline
from synth.elastic.pipelines import pipeline_for
from synth.elastic.verify import verify_paths
from synth.render import strftime
from synth.render.formats import custom_format
from synth.render.logformat import grok_plan

# Each directive once (and the forms with arguments); free text in quotes, as configs do.
EVERY = ('%a %{c}a %A %B %b "%{PHPSESSID}C" "%{_ga}C" %D "%{UNIQUE_ID}e" "%{SSL_PROTOCOL}e" %f %h %{c}h %H '
         '"%{Cookie}i" "%{Accept-Language}i" %k %l %L %{c}L %m "%{ratio}n" "%{Content-Type}o" %p %{canonical}p '
         '%{local}p %{remote}p %P %{pid}P %{tid}P %{hextid}P %q "%r" %R %s %<s %>s %t '
         '[%{end:%d/%b/%Y:%H:%M:%S %z}t] %{begin:sec}t %{msec}t %{usec}t %{msec_frac}t %{usec_frac}t %{end:usec}t '
         '%T %{s}T %{ms}T %{us}T %u %<u %U %>U %v %V %X %I %O %S "%{Foo}^ti" "%{Bar}^to" '
         '"%400,501{User-agent}i" "%!200,304{Referer}i" %!200>s %200,304b 100%%')


def _get(doc, dotted):
    for key in dotted.split("."):
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def _as_document(field, label, text):
    """What a field of the document holds, from the text the directive wrote (None: absent)."""
    if field == "apache.access.connection_status":  # - is a value here: the connection was closed
        return text
    if text == "-" or text == "":
        return None
    if label == "request":
        method, target, proto = text.split(" ")
        return {"http.request.method": method, "url.original": target, "http.version": proto.split("/")[1]}[field]
    if field == "http.version":
        return text.split("/")[1]
    if field == "url.query":
        return text[1:] or None
    return text


@pytest.fixture(scope="module")
def every(tmp_path_factory):
    path = tmp_path_factory.mktemp("every") / "access.log"
    rows = generated_run(5, "+0530", path, days=0.03, rate=1.0, log_format=EVERY)
    pipeline = Pipeline(pipeline_for(custom_format(EVERY), "+0530"), "under-test")
    return rows, list(verify_paths([path], pipeline))


def test_every_directive_reads_back_field_by_field(every):
    """Each field the pipeline fills holds exactly what its directive wrote."""
    rows, results = every
    plan = grok_plan(EVERY)
    assert len(rows) == len(results) > 1000
    expected_fields = {"source.ip", "client.ip", "destination.ip", "http.response.body.bytes", "process.pid",
                       "apache.access.cookies.phpsessid", "apache.access.env.unique_id", "file.path",
                       "source.address", "client.address", "http.request.headers.cookie", "url.port",
                       "apache.access.keepalive_requests", "apache.access.log_id", "source.port",
                       "destination.port", "process.thread.id", "apache.access.thread_hex", "url.query",
                       "url.original", "apache.access.handler", "http.response.status_code", "network.bytes",
                       "apache.access.connection_status", "url.domain", "destination.domain",
                       "apache.access.trailers_in.foo", "apache.access.notes.ratio", "user_agent.original",
                       "http.request.referrer", "apache.access.response_time_ms", "http.request.bytes"}
    assert expected_fields <= set(plan.fields)
    for row, result in zip(rows, results):
        assert result.failure is None, (result.failure, row["line"])
        for field, label in plan.labels.items():
            if field == "timestamp":
                continue
            want = _as_document(field, label, row["values"][label])
            got = _get(result.document, field)
            assert (None if got is None else str(got)) == want, (field, label, row["line"])
        when = dt.datetime.fromisoformat(result.document["@timestamp"].replace("Z", "+00:00"))
        assert int(when.timestamp()) == row["second"]


def test_values_hang_together(every):
    """One thread of one child per connection, from one client port; %k counts up within a
    connection and never past 99; %X is - after a response Apache drops the connection on;
    %S = %I + %O; the end time is the start plus %D; the status conditions as Apache applies them."""
    rows, _ = every
    by_conn = defaultdict(list)
    for row in rows:
        v = row["values"]
        by_conn[(row["client"], v["remote_port"], v["tid"])].append(v)
        assert int(v["bytes_total"]) == int(v["bytes_in"]) + int(v["bytes_out"])
        begin_us = int(v['time_format("usec")'])
        assert begin_us == row["t_ms"] * 1000 and int(v['time_format("begin:sec")']) == row["second"]
        assert int(v['time_format("end:usec")']) == begin_us + row["duration_us"]
        assert v['time_format("msec_frac")'] == f"{row['t_ms'] % 1000:03d}"
        status = row["status"]
        assert v['only("400,501|agent|")'] == (row["agent"] if status in (400, 501) else "-")
        assert v['only("!200,304|referer|")'] == (row["referrer"] if status not in (200, 304) else "-")
        assert v['only("!200|status|")'] == ("-" if status == 200 else str(status))
        assert v['only("200,304|bytes|")'] == (str(row["size"] or "-") if status in (200, 304) else "-")
        assert v["conn_status"] in "+-X"
        if status in (400, 408, 500, 503):
            assert v["conn_status"] == "-"
        assert v["log_id"] != "-" if status >= 500 or status in (400, 403, 408) else v["log_id"] == "-"
        assert v['cookie("PHPSESSID")'] == "-" or len(v['cookie("PHPSESSID")']) == 26
        assert int(v["tid"]) == int(v["hextid"], 16)
    assert max(len(c) for c in by_conn.values()) > 3  # pages and their assets share connections
    pids = {v["pid"] for c in by_conn.values() for v in c}
    assert 1 < len(pids) <= 3  # a few children serve everything
    for conn in by_conn.values():
        assert len({v["pid"] for v in conn}) == 1
        counts = [int(v["keepalive"]) for v in conn]
        # One connection from that port and thread, or several one after the other: each
        # starts at 0 and counts up by one.
        for a, b in zip(counts, counts[1:]):
            assert b == a + 1 or b == 0
        assert counts[0] == 0 and max(counts) < 100


CONVERSIONS = [c for c in strftime.CONVERSIONS if c not in "nt%"]


@pytest.mark.parametrize("code", CONVERSIONS)
def test_every_strftime_conversion_is_what_glibc_writes(code):
    """Each conversion as the C library writes it in the C locale (Apache's apr_strftime hands
    the format to strftime): held against glibc itself, through Python's strftime, over a year
    of instants (%s, %z and %Z, which Python handles itself, against their definitions)."""
    locale.setlocale(locale.LC_TIME, "C")
    zone = dt.timezone(dt.timedelta(hours=5, minutes=30))
    for day in range(0, 366, 7):
        for hour in (0, 5, 11, 12, 13, 23):
            when = dt.datetime(2026, 1, 1, hour, 7, 9, tzinfo=zone) + dt.timedelta(days=day)
            ours = strftime.format_time(f"%{code}", when)
            if code == "s":
                assert ours == str(int(when.timestamp()))
            elif code == "z":
                assert ours == "+0530"
            elif code == "Z":
                assert ours == "+0530"
            else:
                assert ours == when.strftime(f"%{code}"), (code, when)
            assert strftime.format_time(f"%E{code}" if code in "cCxXyY" else f"%O{code}" if code in "deHImMSuUVwWy"
                                        else f"%{code}", when) == ours


def test_strftime_times_parse_back_to_the_second(tmp_path):
    """A strftime %{...}t as the only time (no %t): every conversion Elasticsearch can read
    gives back the second the generator drew; the others are matched and left unread."""
    fmt = ('[%{%a %A %b %B %C %d %D %e %F %g %G %h %I %j %k %l %m %p %P %r %R %s %u %U %V %w %W %x %X %y %Z}t] '
           '%{%Y-%m-%dT%H:%M:%S %z}t %h "%r" %>s %b')
    rows = generated_run(3, "-0800", tmp_path / "access.log", days=0.05, rate=0.5, log_format=fmt)
    pipeline = Pipeline(pipeline_for(custom_format(fmt), "-0800"), "under-test")
    results = list(verify_paths([tmp_path / "access.log"], pipeline))
    assert len(results) == len(rows) > 50
    for row, result in zip(rows, results):
        assert result.failure is None, row["line"]
        when = dt.datetime.fromisoformat(result.document["@timestamp"].replace("Z", "+00:00"))
        assert int(when.timestamp()) == row["second"]


_RAW = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"])
               | st.sampled_from(['"', "\\", "\n", "\r", "\t", "\x00", "\x7f", "\udce9", "\udcff"]), max_size=40)


@settings(max_examples=200, deadline=None)
@given(request=_RAW, agent=_RAW)
def test_no_value_breaks_an_apache_line_or_forges_a_field(request, agent):
    """Whatever bytes a client sends (quotes, backslashes, control bytes, bytes that are not
    UTF-8), Apache's escaping keeps them inside their field: the line is one printable ASCII
    line, the bundled pipeline reads the agent and the status it was given, and the escaped
    text unescapes to the bytes sent."""
    from synth.elastic.verify import bundled_pipeline
    from synth.escape import apache_unescape
    from synth.render.messy import _apache
    r, a = _apache(request), _apache(agent)
    line = f'192.0.2.1 - - [28/Nov/2026:12:00:00 +0000] "{r}" 404 196 "-" "{a}"'
    assert line.isascii() and line.isprintable()
    for raw, text in ((request, r), (agent, a)):
        if raw:
            assert apache_unescape(text).encode("utf-8", "surrogateescape") == raw.encode("utf-8", "surrogateescape")
    outcome = _PIPELINE.setdefault("p", bundled_pipeline()).run({"message": line}, "smoke_event-x")
    assert outcome.failure is None, line
    doc = outcome.doc.source
    assert doc["http"]["response"]["status_code"] == 404
    assert doc.get("user_agent", {}).get("original") == (None if a == "-" else a)


_PIPELINE: dict = {}
