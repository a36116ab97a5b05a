"""Grok: synth's own pattern definitions against Elasticsearch's files, on the upstream test
cases (reference/grok/EXPECTED.md) and on generated lines; and the engine's semantics."""

import ipaddress

import pytest
from conftest import REFERENCE
from helpers import generated_run
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.elastic.grok import (
    Grok,
    GrokError,
    GrokValueError,
    JavaFloat,
    JavaLong,
    builtin_patterns,
    pattern_banks_from,
    read_patterns,
)

REFERENCE_BANKS = pattern_banks_from(REFERENCE / "grok") if REFERENCE.is_dir() else {}
MODES = {"disabled": False, "v1": True}


def banks(mode):
    """(synth's own, Elasticsearch's) pattern banks for an ecs_compatibility mode."""
    return builtin_patterns(ecs=MODES[mode]), REFERENCE_BANKS[mode]


@pytest.mark.reference
def test_reference_folder_has_both_modes():
    """The comparison below really reads Elasticsearch's files, for both modes."""
    for mode in MODES:
        assert "HTTPD_COMBINEDLOG" in REFERENCE_BANKS[mode] and "IPV6" in REFERENCE_BANKS[mode]
    assert "source.address" in REFERENCE_BANKS["v1"]["HTTPD_COMMONLOG"]
    assert "clientip" in REFERENCE_BANKS["disabled"]["HTTPD_COMMONLOG"]


ES_LINE = ('31.184.238.164 - - [24/Jul/2014:05:35:37 +0530] "GET /logs/access.log HTTP/1.0" 200 69849 '
           '"http://8rursodiol.enjin.com" "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like '
           'Gecko) Chrome/30.0.1599.12785 YaBrowser/13.12.1599.12785 Safari/537.36" "www.dlwindianrailways.com"')
ES_AGENT = ("Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/30.0.1599.12785 "
            "YaBrowser/13.12.1599.12785 Safari/537.36")

# GrokTests.testApacheLog: the declared captures with their types, and the values extracted.
ES_CASE = {
    "disabled": ({name: "STRING" for name in ("clientip", "ident", "auth", "timestamp", "verb", "request",
                                              "httpversion", "rawrequest", "response", "bytes", "referrer", "agent")},
                 {"clientip": "31.184.238.164", "ident": "-", "auth": "-", "timestamp": "24/Jul/2014:05:35:37 +0530",
                  "verb": "GET", "request": "/logs/access.log", "httpversion": "1.0", "response": "200",
                  "bytes": "69849", "referrer": '"http://8rursodiol.enjin.com"', "agent": f'"{ES_AGENT}"'}),
    "v1": ({"source.address": "STRING", "apache.access.user.identity": "STRING", "user.name": "STRING",
            "timestamp": "STRING", "http.request.method": "STRING", "url.original": "STRING", "http.version": "STRING",
            "http.response.status_code": "INTEGER", "http.response.body.bytes": "LONG",
            "http.request.referrer": "STRING", "user_agent.original": "STRING"},
           {"source.address": "31.184.238.164", "timestamp": "24/Jul/2014:05:35:37 +0530",
            "http.request.method": "GET", "url.original": "/logs/access.log", "http.version": "1.0",
            "http.response.status_code": 200, "http.response.body.bytes": 69849,
            "http.request.referrer": "http://8rursodiol.enjin.com", "user_agent.original": ES_AGENT}),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.reference
def test_elasticsearch_apache_case(mode):
    """%{COMBINEDAPACHELOG}, unanchored: exactly the declared captures and values of
    Elasticsearch's own test, from our definitions and from Elasticsearch's files alike."""
    declared, values = ES_CASE[mode]
    for bank in banks(mode):
        grok = Grok(bank, ["%{COMBINEDAPACHELOG}"])
        assert grok.declared() == declared
        captures = grok.captures(ES_LINE)
        assert captures == values
        assert "port" not in captures
    if mode == "v1":
        assert type(captures["http.response.status_code"]) is int
        assert isinstance(captures["http.response.body.bytes"], JavaLong)


LOGSTASH_A = ('83.149.9.216 - - [24/Feb/2015:23:13:42 +0000] "GET /presentations/logstash-monitorama-2013/images/'
              'kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/"'
              ' "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) '
              'Chrome/32.0.1700.77 Safari/537.36"')
LOGSTASH_B = ('10.0.0.1 - username@example.com [07/Apr/2016:18:42:24 +0000] "GET /bar/foo/users/1/username%40example.com/'
              'authenticate?token=blargh&client_id=15 HTTP/1.1" 400 75 "" "Mozilla/5.0 (iPad; CPU OS 9_3_1 like Mac OS X) '
              'AppleWebKit/601.1.46 (KHTML, like Gecko) Version/9.0 Mobile/13E238 Safari/601.1"')
LOGSTASH_C = ('83.149.9.216 - a.user [11/Jan/2020:23:05:27 +0100] "OPTIONS /remote.php/ HTTP/1.1" - 7908 "-" '
              '"monitoring-client (v2.2)"')
A_AGENT = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 "
           "Safari/537.36")
A_PATH = "/presentations/logstash-monitorama-2013/images/kibana-search.png"
A_REFERRER = "http://semicomplete.com/presentations/logstash-monitorama-2013/"

# logstash-patterns-core httpd_spec.rb: the asserted keys (None: asserted absent).
LOGSTASH_CASES = [
    ("v1", LOGSTASH_A, {"source.address": "83.149.9.216", "http.request.method": "GET", "url.original": A_PATH,
                        "http.version": "1.1", "http.response.status_code": 200, "http.response.body.bytes": 203023,
                        "http.request.referrer": A_REFERRER, "user_agent.original": A_AGENT,
                        "user.name": None, "apache.access.user.identity": None}),
    ("disabled", LOGSTASH_A, {"clientip": "83.149.9.216", "verb": "GET", "request": A_PATH, "httpversion": "1.1",
                              "response": "200", "bytes": "203023", "referrer": f'"{A_REFERRER}"',
                              "agent": f'"{A_AGENT}"', "ident": "-", "auth": "-"}),
    ("v1", LOGSTASH_B, {"user.name": "username@example.com"}),
    ("disabled", LOGSTASH_B, {"auth": "username@example.com"}),
    ("v1", LOGSTASH_C, {"http.response.body.bytes": 7908, "http.request.method": "OPTIONS", "http.version": "1.1",
                        "url.original": "/remote.php/", "user_agent.original": "monitoring-client (v2.2)",
                        "http.response.status_code": None}),
    ("disabled", LOGSTASH_C, {"verb": "OPTIONS", "request": "/remote.php/", "httpversion": "1.1", "bytes": "7908",
                              "response": None}),
]


@pytest.mark.parametrize("mode, line, asserted", LOGSTASH_CASES)
@pytest.mark.reference
def test_logstash_httpd_cases(mode, line, asserted):
    """HTTPD_COMBINEDLOG on the Logstash spec's lines: the asserted values, and identical captures
    from both banks."""
    ours, theirs = (Grok(bank, ["%{HTTPD_COMBINEDLOG}"]).captures(line) for bank in banks(mode))
    assert ours == theirs
    for key, value in asserted.items():
        assert ours.get(key) == value, key


@pytest.fixture(scope="module")
def generated_lines(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grok")
    lines = [w["line"] for w in generated_run(11, "-0300", folder / "a.log", days=0.05, rate=2.0)]
    return lines + [w["line"] for w in generated_run(12, "+0930", folder / "b.log", days=0.05, rate=2.0)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pattern", ["%{COMBINEDAPACHELOG}", "^%{HTTPD_COMBINEDLOG}$", "^%{HTTPD_COMMONLOG}"])
@pytest.mark.reference
def test_same_captures_on_generated_lines(generated_lines, mode, pattern):
    """Every line of two generated runs (IPv4 and IPv6 clients, two zones): same captures from
    our definitions as from Elasticsearch's."""
    ours, theirs = (Grok(bank, [pattern]) for bank in banks(mode))
    assert ours.declared() == theirs.declared()
    assert len(generated_lines) > 1000 and any(":" in line.split(" ")[0] for line in generated_lines)
    for line in generated_lines:
        captured = ours.captures(line)
        assert captured is not None and captured == theirs.captures(line), line


ERROR_LINES = [
    "[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/htdocs/test",
    "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not "
    "exist: /usr/local/apache2/htdocs/favicon.ico",
    "[Mon Aug 22 09:21:42.541935 2022] [proxy:error] [pid 2131:tid 140224] (111)Connection refused: AH00957: HTTP: "
    "attempt to connect to 127.0.0.1:8080 (127.0.0.1) failed",
    "[Tue Mar 05 08:00:01.001 2024] [mpm_event:notice] [pid 1:tid 2] AH00489: Apache/2.4.58 (Unix) configured",
]


def outcome(grok, line):
    try:
        return grok.captures(line)
    except GrokValueError as e:
        return f"error: {e}"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("line", ERROR_LINES)
@pytest.mark.reference
def test_same_captures_on_error_log_lines(mode, line):
    """The httpd error-log patterns give the same captures too, and the same error where
    Elasticsearch's has one: a thread id past 2^31 does not fit its ``:int``."""
    ours, theirs = (Grok(bank, ["%{HTTPD_ERRORLOG}"]) for bank in banks(mode))
    assert ours.declared() == theirs.declared()
    assert outcome(ours, line) is not None and outcome(ours, line) == outcome(theirs, line)
    if mode == "v1" and "4328636416" in line:
        assert outcome(ours, line) == 'error: For input string: "4328636416"'


def _ipv6_texts():
    address = st.integers(0, 2**128 - 1).map(ipaddress.IPv6Address)
    return st.one_of(
        address.map(lambda a: a.compressed), address.map(lambda a: a.exploded),
        st.integers(0, 2**32 - 1).map(lambda n: f"::ffff:{ipaddress.IPv4Address(n)}"),
        st.tuples(address, st.sampled_from(["eth0", "1", "en0"])).map(lambda t: f"{t[0].compressed}%{t[1]}"))


@settings(max_examples=300, deadline=None)
@given(client=st.one_of(
    _ipv6_texts(),
    st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n))),
    st.lists(st.integers(0, 255), min_size=4, max_size=4).map(lambda o: ".".join(f"{x:03d}" for x in o)),
    st.from_regex(r"[a-z0-9][a-z0-9-]{0,10}(\.[a-z0-9][a-z0-9-]{0,10}){0,3}", fullmatch=True)))
@pytest.mark.reference
def test_same_client_captures(client):
    """Client addresses of every IPv6 form, IPv4 with and without leading zeros, host names:
    IPORHOST takes the whole token, in both banks."""
    for mode in MODES:
        ours, theirs = (Grok(bank, ["^%{IPORHOST:client} -$"]) for bank in banks(mode))
        assert ours.captures(client + " -") == theirs.captures(client + " -")
    assert Grok(builtin_patterns(True), ["^%{IPORHOST:client} -$"]).captures(client + " -") == {"client": client}


def test_atomic_groups_without_python_311(generated_lines):
    """Atomic groups written as lookahead plus backreference (for Python 3.10) match alike."""
    native = Grok(builtin_patterns(True), ["^%{HTTPD_COMBINEDLOG}$", "^%{HTTPD_COMMONLOG}$"])
    emulated = Grok(builtin_patterns(True), ["^%{HTTPD_COMBINEDLOG}$", "^%{HTTPD_COMMONLOG}$"], atomic=False)
    assert "(?>" not in emulated.regex.pattern and "(?>" in native.regex.pattern
    for line in generated_lines[:2000] + [ES_LINE, LOGSTASH_B, LOGSTASH_C, 'x "a\\"b" y']:
        assert emulated.captures(line) == native.captures(line)
    qs = {k: Grok(builtin_patterns(False), ["%{QS:q} %{NUMBER:n}"], atomic=k) for k in (True, False)}
    assert qs[True].captures('x "ab\\"c" 1.5') == qs[False].captures('x "ab\\"c" 1.5') == {"q": '"ab\\"c"', "n": "1.5"}


# -- the engine -----------------------------------------------------------------------------------

BANK = builtin_patterns(ecs=True)


def test_types_and_garbage_type_names():
    """int, long, float, double and boolean convert; an unknown type name leaves a string."""
    grok = Grok(BANK, ["%{INT:i:int} %{INT:l:long} %{NUMBER:f:float} %{NUMBER:d:double} %{WORD:b:boolean} "
                       "%{WORD:c:boolean} %{NUMBER:g:garbage}"])
    captured = grok.captures("7 8 1.1 2.5 TRUE yes 12")
    assert captured == {"i": 7, "l": 8, "f": 1.1, "d": 2.5, "b": True, "c": False, "g": "12"}
    assert isinstance(captured["l"], JavaLong) and isinstance(captured["f"], JavaFloat)
    assert grok.declared()["g"] == "STRING"
    with pytest.raises(GrokValueError, match='For input string: "2147483648"'):
        Grok(BANK, ["%{INT:i:int}"]).captures("2147483648")


def test_first_group_that_matched_gives_the_field():
    """One field fed by several groups takes the first that took part in the match; groups
    that matched nothing set nothing; references without a field capture nothing."""
    grok = Grok(BANK, ["(?:%{INT:x}-a|%{WORD:x}-b) %{WORD} (?:%{INT:y})?end"])
    assert grok.captures("abc-b word end") == {"x": "abc"}
    assert grok.captures("12-a word 3end") == {"x": "12", "y": "3"}


def test_raw_named_groups_inline_flags_and_posix_classes():
    """Oniguruma syntax Python spells differently: (?<name>...), a mid-pattern (?i), [[:alnum:]]."""
    assert Grok({}, ["(?<a>(?i)A)"]).captures("xa") == {"a": "a"}
    assert Grok({}, ["(?<a>b(?i)c|d)x"]).captures("bCx") == {"a": "bC"}
    assert Grok({"ALNUM": "[[:alnum:]]+"}, ["%{ALNUM:w}"]).captures("-ab12-") == {"w": "ab12"}


def test_several_patterns_leftmost_then_first():
    """Patterns are one alternation, searched once: the leftmost match wins, then the first pattern."""
    grok = Grok(BANK, ["%{INT:a}", "%{WORD:b}"], trace_match=True)
    assert grok.captures("x 5") == {"b": "x"}
    assert grok.captures("5 x") == {"a": "5"} and grok.match_index("5 x") == 0
    assert grok.match_index("x 5") == 1


def test_missing_and_circular_patterns():
    with pytest.raises(GrokError, match=r"Unable to find pattern \[NOTONE\] in Grok's pattern dictionary"):
        Grok({"ONE": "1"}, ["%{NOTONE:x}"])
    with pytest.raises(GrokError, match="circular reference"):
        Grok({"A": "%{B}", "B": "x%{A}"}, ["%{A}"])


def test_pattern_files_read_as_elasticsearch_reads_them():
    """Comments and blank lines skipped, leading space trimmed, split at the first whitespace
    run (the rest, trailing space included, is the pattern); a later NAME replaces an earlier."""
    bank = read_patterns("# comment\n\n   ONE  1+\nTWO\t%{ONE} two \nONE 1\nLONELY\n")
    assert bank == {"ONE": "1", "TWO": "%{ONE} two "}


@pytest.mark.parametrize("logformat", ['%h %l %u [%{%d/%b/%Y:%H:%M:%S}t.%{msec_frac}t %{%z}t] "%r" %>s %b %D',
                                       '%v:%p %a %{msec}t "%m %U%q %H" %s %B %I %O "%{Content-Type}o"',
                                       '%a %{c}a %A %{c}h %k %L %{remote}p %P %{tid}P %{hextid}P %R %X %S %t "%r" '
                                       '%>s %b "%{PHPSESSID}C" "%{UNIQUE_ID}e" %f "%{ratio}n" "%400,501{User-agent}i"'])
@pytest.mark.reference
def test_same_captures_for_logformat_patterns(tmp_path, logformat):
    """The patterns `synth pipeline` builds from LogFormat strings read generated lines the same
    way with our built-in definitions as with Elasticsearch's (ECS mode)."""
    from synth.render.logformat import grok_plan
    plan = grok_plan(logformat)
    lines = [w["line"] for w in generated_run(13, "+0100", tmp_path / "c.log", days=0.03, rate=2.0,
                                                log_format=logformat)]
    ours, theirs = (Grok({**bank, **plan.definitions}, [plan.pattern]) for bank in banks("v1"))
    assert ours.declared() == theirs.declared()
    for line in lines:
        captured = ours.captures(line)
        assert captured is not None and captured == theirs.captures(line), line
