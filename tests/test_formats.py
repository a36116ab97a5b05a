"""Every built-in format and any Apache LogFormat string: exact lines, a pipeline that reads
them back into the values the generator wrote, and the real tools that read them."""

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import END
from helpers import files_in_order, generated_run

import synth
from synth.cli import main
from synth.elastic.ingest import Pipeline
from synth.elastic.javatime import date_processor_parser
from synth.elastic.pipelines import bundled_text_pipeline, json_pipeline, pipeline_for
from synth.elastic.verify import verify_paths
from synth.escape import apache_unescape
from synth.render.fields import nginx_escape
from synth.render.formats import builtin_format, custom_format
from synth.render.lines import layout, template_names
from synth.render.logformat import Directive, LogFormatError, parse, template_expression
from synth.resources import resource_dir

GOLDEN = Path(__file__).parent / "golden"
BUILTIN = template_names()

# LogFormat strings users write: Apache's own, Debian's, and ones with headers and time formats.
LOGFORMATS = [
    '%h %l %u %t \\"%r\\" %>s %b',
    '%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"',
    '%v:%p %h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"',
    '%a %l %u [%{%d/%b/%Y:%H:%M:%S}t.%{msec_frac}t %{%z}t] "%r" %>s %b %D',
    '%{%Y-%m-%dT%H:%M:%S%z}t %h "%m %U%q %H" %s %B %{ms}T',
    '%{sec}t %h %m %U %>s %b',
    '%{msec}t %a "%r" %>s %B %I %O',
    '[%{%d/%b/%Y %T}t] %h %>s %b "%{Accept-Language}i" "%{Host}i" "%{X-Forwarded-For}i"',
    '%h %t "%r" %s %b "%{Content-Type}o" "%{Location}o" %{Cache-Control}o',
    '%v %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i" %T %D',
    'host=%h time=%t method=%m path=%U query=%q status=%>s bytes=%B us=%D 100%%',
]


def _run(tmp_path, seed=5, tz="+0000", **spec):
    return generated_run(seed, tz, tmp_path / "access.log", days=0.05, rate=0.1, **spec)


# Every kind of line a format must read back: a small run holds each of them.
LINE_KINDS = {"ipv4", "ipv6", "query", "no query", "body", "no body", "success", "failure", "GET", "not GET",
              "HTTP/1.1", "HTTP/2.0", "referrer", "no referrer"}
TIMED_KINDS = {"under a second", "a second or more"}


def _kinds(row: dict) -> set[str]:
    kinds = {"ipv6" if ":" in row["address"] else "ipv4", "query" if "?" in row["target"] else "no query",
             "no body" if row["size"] == 0 else "body", "failure" if row["status"] >= 400 else "success",
             "GET" if row["method"] == "GET" else "not GET", row["proto"],
             "no referrer" if row["referrer"] == "-" else "referrer"}
    if row["duration_us"] is not None:
        kinds.add("a second or more" if row["duration_us"] >= 1_000_000 else "under a second")
    return kinds


def _assert_every_kind(rows: list[dict]) -> None:
    seen = set().union(*map(_kinds, rows))
    timed = rows[0]["duration_us"] is not None
    assert seen >= LINE_KINDS | (TIMED_KINDS if timed else set()), (LINE_KINDS | TIMED_KINDS) - seen


def _text(document, dotted):
    node = document
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _expected(directive: Directive, row: dict, text: str) -> dict:
    """Field -> value the document must hold for one directive of one line (None: absent)."""
    code, arg = directive.code, directive.arg
    size = row["size"]
    if code in "ha":
        return {"source.address": row["address"]}
    if code in "lu":
        return {"user.name": None, "apache.access.user.identity": None}
    if code == "r":
        return {"http.request.method": row["method"], "url.original": row["target"],
                "http.version": row["proto"].split("/")[1]}
    if code == "m":
        return {"http.request.method": row["method"]}
    if code == "U":
        return {"url.path": row["target"].split("?")[0]}
    if code == "q":
        return {"url.query": row["target"].split("?", 1)[1] if "?" in row["target"] else None}
    if code == "H":
        return {"http.version": row["proto"].split("/")[1]}
    if code == "s":
        return {"http.response.status_code": row["status"]}
    if code == "b":
        return {"http.response.body.bytes": size or None}
    if code == "B":
        return {"http.response.body.bytes": size}
    if code == "D":
        return {"apache.access.response_time": row["duration_us"]}
    if code == "T":
        unit = {None: ("s", 1_000_000), "s": ("s", 1_000_000), "ms": ("ms", 1000), "us": ("", 1)}[arg]
        return {"apache.access.response_time" + (f"_{unit[0]}" if unit[0] else ""): row["duration_us"] // unit[1]}
    if code == "v":
        return {"url.domain": text}
    if code == "p":
        return {"url.port": 443}
    if code in "IO":
        return {"http.request.bytes" if code == "I" else "http.response.bytes": int(text)}
    if code == "i":
        field = {"referer": "http.request.referrer", "user-agent": "user_agent.original"}.get(
            arg.lower(), "http.request.headers." + arg.lower().replace("-", "_"))
        return {field: None if text == "-" else text}
    if code == "o":
        field = "http.response.mime_type" if arg.lower() == "content-type" else \
            "http.response.headers." + arg.lower().replace("-", "_")
        return {field: None if text == "-" else text}
    return {}


def _expression_label(directive: Directive) -> str:
    """The label field_values gives the directive's field: ``agent``, ``header_in("Host")``."""
    return template_expression(directive)[2:]


# The index template's mapping of `timestamp`, and the date processor's names for its formats.
MAPPED_TIME = json.loads((resource_dir("filebeat") / "smoke_event.template.json").read_text())[
    "template"]["mappings"]["properties"]["timestamp"]
_MAPPING_FORMATS = {"strict_date_optional_time": "ISO8601", "epoch_millis": "UNIX_MS"}


MAPPED_PARSERS = [date_processor_parser(_MAPPING_FORMATS.get(fmt, fmt)) for fmt in MAPPED_TIME["format"].split("||")]


def _as_mapped(text):
    """The instant Elasticsearch would index for ``timestamp``: its formats tried in order."""
    for parser in MAPPED_PARSERS:
        try:
            return parser(str(text), dt.UTC)
        except ValueError:
            continue
    raise AssertionError(f"the template's timestamp mapping refuses {text!r}")


NGINX_FIELDS = ("source.address", "http.request.method", "url.original", "http.version", "http.response.status_code",
                "http.response.body.bytes", "http.request.referrer", "user_agent.original")


def _check_lines(tmp_path, rows, line_format, tz="+0000", by_directive=True):
    """Each line's document from the format's own pipeline: its index, its time (as @timestamp
    and as the template would map timestamp) and, by directive, every field the line holds;
    the lines hold every kind of line. Returns the pipeline's results."""
    pipeline = Pipeline(pipeline_for(line_format, tz), "under-test")
    results = list(verify_paths([tmp_path / "access.log"], pipeline))
    assert len(results) == len(rows) > 50
    _assert_every_kind(rows)
    directives = [d for d in parse(line_format.logformat) if isinstance(d, Directive)]
    labels = [_expression_label(d) for d in directives]
    time = next(d for d in directives if d.code == "t")
    for row, result in zip(rows, results):
        doc = result.document
        assert result.failure is None, (row["line"], result.failure)
        assert doc["_index"] == "smoke_event-" + dt.datetime.fromtimestamp(row["second"], dt.UTC).strftime("%Y.%m.%d")
        when = row["t_ms"] if time.arg == "msec" else row["second"] * 1000
        instant = dt.datetime.fromisoformat(doc["@timestamp"].replace("Z", "+00:00"))
        assert instant.timestamp() * 1000 == when, row["line"]
        assert _as_mapped(doc["timestamp"]) == instant, (doc["timestamp"], row["line"])
        for d, label in zip(directives, labels) if by_directive else ():
            text = row["values"][label]
            for dotted, value in _expected(d, row, text).items():
                assert _text(doc, dotted) == value, (d.text, dotted, row["line"])
    return results


@pytest.mark.parametrize("logformat", LOGFORMATS)
def test_any_logformat_reads_back_into_the_generators_values(tmp_path, logformat):
    """Lines of a LogFormat string verify with the pipeline made from the same string, and every
    field equals what the generator drew: address, method, target, status, size, time, timing..."""
    rows = _run(tmp_path, log_format=logformat, tz="+0530")
    _check_lines(tmp_path, rows, custom_format(logformat), tz="+0530")


@pytest.mark.parametrize("name", [n for n in BUILTIN if n != "ecs_json"])
def test_builtin_text_formats_read_back(tmp_path, name):
    """Every built-in text format: its own pipeline and the bundled one read it back exactly."""
    rows = _run(tmp_path, format=name, tz="-0800")
    line_format = builtin_format(name)
    nginx = name.startswith("nginx")
    own = _check_lines(tmp_path, rows, line_format, tz="-0800", by_directive=not nginx)
    if nginx:  # its template is nginx's variables, not directives: compare with what nginx writes
        for row, result in zip(rows, own):
            row["agent"] = nginx_escape(apache_unescape(row["agent"]))
            method, target, proto = row["values"]["request_nginx"].split(" ")
            referrer = row["values"]["referer_nginx"]
            assert {f: _text(result.document, f) for f in NGINX_FIELDS} == {
                "source.address": row["address"], "http.request.method": row["method"] == method and method,
                "url.original": target, "http.version": proto.split("/")[1],
                "http.response.status_code": row["status"], "http.response.body.bytes": row["size"],
                "http.request.referrer": None if referrer == "-" else referrer,
                "user_agent.original": None if row["agent"] == "-" else row["agent"]}, row["line"]
    bundled = Pipeline(bundled_text_pipeline(), "smoke_event-access")
    results = list(verify_paths([tmp_path / "access.log"], bundled))
    assert all(r.failure is None for r in results)
    for row, result in zip(rows, results):
        assert result.document["source"]["address"] == row["address"]
        assert result.document["http"]["response"]["status_code"] == row["status"]
        assert _text(result.document, "user_agent.original") in (row["agent"], None)


def test_ecs_json_lines_are_ecs_documents(tmp_path):
    """ecs_json: one JSON document per line, the generator's values in ECS fields; the
    smoke_event-json pipeline indexes it by its UTC day with a stable id."""
    rows = _run(tmp_path, format="ecs_json")
    results = list(verify_paths([tmp_path / "access.log"], Pipeline(json_pipeline(), "smoke_event-json")))
    assert len(results) == len(rows)
    _assert_every_kind(rows)
    for row, result in zip(rows, results):
        raw = json.loads(row["line"])
        doc = result.document
        assert result.failure is None
        assert raw["@timestamp"] == _iso(row["t_ms"]) == doc["@timestamp"]
        assert raw["source"]["address"] == row["address"]
        assert raw["url"]["original"] == apache_unescape(row["target"])
        assert raw["http"]["request"]["method"] == row["method"]
        assert raw["http"]["response"] == {"status_code": row["status"], "body": {"bytes": row["size"]}}
        assert raw["http"]["request"].get("referrer", "-") == apache_unescape(row["referrer"])
        assert raw["user_agent"]["original"] == apache_unescape(row["agent"])
        assert raw["event"]["duration"] == row["duration_us"] * 1000
        assert raw["event"]["outcome"] == ("failure" if row["status"] >= 400 else "success")
        assert doc["_index"] == "smoke_event-" + raw["@timestamp"][:10].replace("-", ".")
        assert doc["user_agent"]["original"] == raw["user_agent"]["original"] and doc["_id"]


@pytest.mark.parametrize("name", BUILTIN)
def test_golden_lines_per_format(tmp_path, name, update_golden):
    """The exact lines of a tiny seeded run in each built-in format."""
    run = synth.generate("classic", seed=7, out_dir=tmp_path, format=name, rotate="none", days=0.05,
                         rate=0.1, spike_minutes=10, end=END)
    produced = (tmp_path / "access.log").read_bytes()
    golden = GOLDEN / f"format-{name}-seed7.log"
    if update_golden:
        golden.write_bytes(produced)
    assert run.lines > 100
    assert produced == golden.read_bytes()


@pytest.mark.parametrize("name", [n for n in BUILTIN if n not in ("ecs_json", "nginx_combined")])
def test_template_is_its_logformat(name):
    """A built-in template writes exactly what its declared LogFormat describes."""
    line_format = builtin_format(name)
    assert layout(line_format.template) == layout(custom_format(line_format.logformat).template)


def test_bundled_pipelines_are_generated():
    """filebeat/'s pipelines are what `synth pipeline --bundled` and `--format ecs_json` print."""
    folder = resource_dir("filebeat")
    assert json.loads((folder / "smoke_event-access.pipeline.json").read_text()) == bundled_text_pipeline()
    assert json.loads((folder / "smoke_event-json.pipeline.json").read_text()) == json_pipeline()


@pytest.mark.parametrize("name, log_format", [("combined", "COMBINED"), ("common", "COMMON"),
                                              ("vhost_combined", "VCOMBINED")])
def test_goaccess_reads_the_formats_it_knows(tmp_path, name, log_format):
    assert shutil.which("goaccess")
    run = synth.generate("classic", seed=11, out_dir=tmp_path / "out", format=name, days=0.1, rate=0.5, end=END,
                         workers=1)
    report = tmp_path / "report.json"
    subprocess.run(["goaccess", *map(str, files_in_order(tmp_path / "out")), f"--log-format={log_format}",
                    "--no-progress", "-o", str(report)], check=True, capture_output=True)
    general = json.loads(report.read_text())["general"]
    assert general["failed_requests"] == 0 and general["total_requests"] == run.lines


def test_lnav_recognises_combined_as_access_log(tmp_path):
    assert shutil.which("lnav")
    run = synth.generate("classic", seed=11, out_dir=tmp_path / "out", rotate="none", days=0.1, rate=0.5, end=END)
    result = subprocess.run(["lnav", "-n", "-c", ";SELECT count(*) AS n FROM access_log",
                             str(tmp_path / "out" / "access.log")], capture_output=True, text=True, timeout=120,
                            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == str(run.lines)


@pytest.mark.parametrize("text, message", [
    ("%h %t %Z", "unsupported directive %Z"),
    ("%h %{Referer %t", "unclosed %{"),
    ('%h %{Referer i" %t "%{User-Agent}i"', "unclosed %{ at position 4"),
    ("%h %l %u \"%r\" %>s %b", "the format has no time"),
    ("%h %{%H:%M}t %>s", "the format has no time"),
    ("%h %t %!r", "! needs a status list"),
    ("%h %t %999s", "999 is not an HTTP status"),
    ("%h %t %{foo}p", "the argument of %p is one of canonical, local, remote"),
    ("%h %t %{%Q}t", "strftime has no %Q"),
    ("%h %t %{%d%n}t", "%n would break the line"),
    ("%h %t %{soon}t", "a time format is one of sec"),
    ("%h %400{%d/%b/%Y:%T %z}t", "the format has no time"),
    ("%h %t %{X}", "the format ends in the middle of a directive"),
    ("%h %t %i", "needs a name"),
    ("%h %t\\n%b", "would break the line"),
])
def test_bad_logformats_are_clear_errors(text, message):
    with pytest.raises(LogFormatError, match=message):
        parse(text)


@pytest.mark.parametrize("args, fragment", [
    (["generate", "--log-format", "%h %t %Z"], "--log-format: unsupported directive %Z"),
    (["generate", "--log-format", "%h %{Referer %t"], "--log-format: unclosed %{"),
    (["generate", "--log-format", "%h %>s %b"], "--log-format: the format has no time"),
    (["pipeline", "--log-format", "%h %>s"], "--log-format: the format has no time"),
    (["generate", "--format", "apache"], "--format: no line format named 'apache'"),
])
def test_cli_format_errors_exit_2(tmp_path, capsys, args, fragment):
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exit_info:
        main([*args, *(["--out", str(out)] if args[0] == "generate" else [])])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and fragment in err and err.count("\n") == 1
    assert not out.exists()


def test_synth_pipeline_prints_a_pipeline(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["pipeline", "--log-format", '%h %l %u %t "%r" %>s %b %D'])
    assert exit_info.value.code == 0
    body = json.loads(capsys.readouterr().out)
    grok = body["processors"][2]["grok"]
    assert grok["patterns"] == ["^%{HTTPD_COMMONLOG} %{INT:apache.access.response_time:long}$"]


def test_response_times_follow_what_was_asked_and_the_load(tmp_path):
    """combined_timing's %D: pages are built, static files only sent, so pages take far longer;
    under the tenfold load of a spike, pages take longer still, static files hardly change."""
    import numpy as np
    from logread import Parsed

    run = synth.generate(seed=8, days=2, rate=0.3, format="combined_timing", out_dir=tmp_path, end=END, workers=1)
    (window,) = run.windows
    parsed = Parsed.read(tmp_path)
    ok = (parsed.status == 200) & (parsed.duration > 0)
    static = ok & np.array([u.rsplit(".", 1)[-1] in ("css", "js", "png", "jpg", "webp", "svg", "woff2")
                            for u in parsed.url])
    page = ok & np.array([u.endswith("/") for u in parsed.url])
    inside = (parsed.t >= window.start) & (parsed.t < window.end)
    # The same clock time a day away (the range holds two days: one of them is in it).
    other = window.start - 86400 if window.start - 86400 >= run.start else window.start + 86400
    same_time = (parsed.t >= other) & (parsed.t < other + window.seconds)
    assert page.sum() > 1000 and static.sum() > 1000 and (page & same_time).sum() > 20

    def median(mask):
        return float(np.median(parsed.duration[mask]))

    assert median(page & ~inside) > 5 * median(static & ~inside)
    assert median(page & inside) > 3 * median(page & same_time)
    assert median(static & inside) < 1.5 * median(static & same_time)
