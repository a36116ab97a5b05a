"""nginx log_format strings: every variable, each escape mode, read back field by field by the
pipeline `synth pipeline --nginx-log-format` makes; goaccess reads what it supports; no value
breaks a line or forges a field."""

import json
import shutil
import subprocess

import pytest
from conftest import END
from helpers import generated_run
from hypothesis import given, settings
from hypothesis import strategies as st

import synth
from synth.cli import main
from synth.elastic.ingest import Pipeline
from synth.elastic.pipelines import pipeline_for
from synth.elastic.verify import verify_paths
from synth.render.formats import grok_plan_of, nginx_format
from synth.render.nginx import VARIABLES, escape_value

EVERY = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
         '"$http_user_agent" rt=$request_time uct="$upstream_connect_time" uht="$upstream_header_time" '
         'urt="$upstream_response_time" ua="$upstream_addr" us="$upstream_status" $connection '
         '$connection_requests $pid $pipe $ssl_protocol $ssl_cipher "$gzip_ratio" $request_id $scheme $host '
         '$server_name $server_port "$uri" "$args" "$query_string" $request_uri $request_method $server_protocol '
         '$bytes_sent $request_length $time_iso8601 $msec "$http_x_forwarded_for" "$http_accept_language" '
         '"$sent_http_content_type" $remote_port $server_addr')
JSON = ('escape=json {"time":"$time_iso8601","ip":"$remote_addr","user":"$remote_user","request":"$request",'
        '"status":$status,"bytes":$body_bytes_sent,"referer":"$http_referer","agent":"$http_user_agent",'
        '"rt":$request_time,"upstream":"$upstream_addr","urt":"$upstream_response_time","id":"$request_id"}')
NONE = 'escape=none $remote_addr [$time_local] "$request" $status $bytes_sent "$http_user_agent" $msec'


def _get(doc, dotted):
    for key in dotted.split("."):
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def _read_back(tmp_path, text):
    rows = generated_run(4, "+0100", tmp_path / "access.log", days=0.05, rate=0.5, nginx_log_format=text)
    line_format = nginx_format(text)
    results = list(verify_paths([tmp_path / "access.log"], Pipeline(pipeline_for(line_format, "+0100"), "t")))
    return rows, results, grok_plan_of(line_format)


def test_every_variable_is_listed():
    from synth.render.nginx import Variable, parse
    names = {item.name for item in parse(EVERY).items if isinstance(item, Variable)}
    assert set(VARIABLES) <= names


@pytest.mark.parametrize("text", [EVERY, JSON, NONE], ids=["default", "json", "none"])
def test_every_variable_reads_back_field_by_field(tmp_path, text):
    """Each field the pipeline fills holds what the variable wrote (``-``, or "" in json, is no value)."""
    rows, results, plan = _read_back(tmp_path, text)
    assert len(rows) == len(results) > 50
    for row, result in zip(rows, results):
        assert result.failure is None, (result.failure, row["line"])
        if text == JSON:
            json.loads(row["line"])  # escape=json lines are JSON
        for field, label in plan.labels.items():
            if field == "timestamp":
                continue
            written = row["values"][label]
            if label.endswith('|request")'):
                parts = written.split(" ")
                written = {"http.request.method": parts[0], "url.original": parts[1],
                           "http.version": parts[2].split("/")[1]}[field]
            elif field == "http.version":
                written = written.split("/")[1]
            want = None if written in ("-", "") else written
            got = _get(result.document, field)
            if isinstance(got, float):
                assert want is not None and float(want) == pytest.approx(got), (field, row["line"])
            else:
                assert (None if got is None else str(got)) == want, (field, label, row["line"])


def test_upstream_lists(tmp_path):
    """Pages go to one PHP-FPM upstream; downloads through X-Accel-Redirect list two, ` : ` between."""
    rows = generated_run(4, "+0000", tmp_path / "access.log", days=0.25, rate=0.3,
                         nginx_log_format='$remote_addr [$time_local] "$request" $status "$upstream_addr" '
                                          '"$upstream_status" "$upstream_response_time" $request_time')
    addrs = [r["values"]['nginx("default|upstream_addr")'] for r in rows]
    assert any(a.startswith("10.0.1.") and "," not in a for a in addrs) and "-" in addrs  # static files: none
    for r in rows:
        v = r["values"]
        n = v['nginx("default|upstream_addr")'].count(":") - v['nginx("default|upstream_addr")'].count(" : ")
        if n:
            assert len(v['nginx("default|upstream_status")'].replace(" : ", ", ").split(", ")) == n


@pytest.mark.parametrize("mode", ["default", "json", "none"])
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from('"\\\n\r\t\x00'),
               max_size=40))
def test_no_value_breaks_a_line_or_forges_a_field(mode, value):
    """Escaped, a value holds no line end; in default and json modes no bare quote either, and
    a JSON string of it decodes back to the value."""
    text = escape_value(value, mode)
    assert "\n" not in text and "\r" not in text
    if mode == "default":
        assert text.isascii() and '"' not in text.replace('\\x22', "")
        assert not any(ch == '"' for ch in text)
    if mode == "json":
        assert json.loads(f'"{text}"') == value
    if value == "":
        assert text == ("" if mode == "json" else "-")


def test_goaccess_reads_an_nginx_combined_string(tmp_path):
    """nginx's own combined format, written as a log_format string, is what goaccess's COMBINED reads."""
    assert shutil.which("goaccess")
    text = ('$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
            '"$http_referer" "$http_user_agent"')
    run = synth.generate("classic", seed=11, out_dir=tmp_path / "out", nginx_log_format=text, days=0.3, rate=0.5,
                         end=END, rotate="none")
    report = tmp_path / "report.json"
    subprocess.run(["goaccess", str(tmp_path / "out" / "access.log"), "--log-format=COMBINED", "--no-progress",
                    "-o", str(report)], check=True, capture_output=True)
    general = json.loads(report.read_text())["general"]
    assert general["failed_requests"] == 0 and general["total_requests"] == run.lines


def test_goaccess_reads_a_custom_string_with_request_time(tmp_path):
    """A log_format with $request_time read by goaccess with the matching --log-format (%T)."""
    text = '$remote_addr [$time_local] "$request" $status $body_bytes_sent $request_time "$http_user_agent"'
    run = synth.generate("classic", seed=11, out_dir=tmp_path / "out", nginx_log_format=text, days=0.3, rate=0.5,
                         end=END, rotate="none")
    report = tmp_path / "report.json"
    subprocess.run(["goaccess", str(tmp_path / "out" / "access.log"), '--log-format=%h [%d:%t %^] "%r" %s %b %T "%u"',
                    "--date-format=%d/%b/%Y", "--time-format=%T", "--no-progress", "-o", str(report)],
                   check=True, capture_output=True)
    general = json.loads(report.read_text())["general"]
    assert general["failed_requests"] == 0 and general["total_requests"] == run.lines


@pytest.mark.parametrize("args, fragment", [
    (["generate", "--nginx-log-format", "$remote_addr $foo $time_local"], "--nginx-log-format: unknown variable $foo"),
    (["generate", "--nginx-log-format", "$remote_addr $status"], "--nginx-log-format: the format has no time"),
    (["pipeline", "--nginx-log-format", "escape=xml $msec"], "--nginx-log-format: escape=xml"),
    (["verify", "--nginx-log-format", "$bogus $msec", "."], "--nginx-log-format: unknown variable $bogus"),
])
def test_bad_strings_are_one_line_exit_2(tmp_path, capsys, args, fragment):
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exit_info:
        main([*args, *(["--out", str(out)] if args[0] == "generate" else [])])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and fragment in err and err.count("\n") == 1
    assert not out.exists()
