"""Painless conditions: the subset Elastic's integration pipelines use, parsed once and run per
document with Painless's rules (``==`` by value across number types, null-safe ``?.``,
booleans only for ``&&``/``||``/``!``), and everything else refused when the pipeline loads."""

from __future__ import annotations

import pytest

import synth.elastic
from synth.elastic.ingest import Pipeline, PipelineError
from synth.elastic.ingest.painless import ConditionError, Unsupported, compile_condition

DOC = {
    "http": {"response": {"status_code": 503}, "request": {"method": "GET"}},
    "url": {"original": "/wp-login.php?x=1", "path": "/wp-login.php"},
    "user_agent": {"original": "  Mozilla/5.0 (compatible; Googlebot/2.1)  "},
    "tags": ["web", "prod"],
    "event": {"duration": 1.5e9, "original": ""},
    "count": 0,
    "flag": True,
    "labels": {},
    "_index": "smoke_event-2026.11.28",
}

CASES = [
    # field access, null-safe access, null literals
    ("ctx.http.response.status_code == 503", True),
    ("ctx.http?.response?.status_code != null", True),
    ("ctx.missing?.field == null", True),
    ("ctx?.http?.request?.method == 'GET'", True),
    ("ctx['http']['request']['method'] == \"GET\"", True),
    ("ctx.tags[1] == 'prod'", True),
    ("ctx._index.startsWith('smoke_event-')", True),
    # comparisons, numbers across types
    ("ctx.http.response.status_code >= 500 && ctx.http.response.status_code < 600", True),
    ("ctx.http.response.status_code > 503 || ctx.http.response.status_code <= 400", False),
    ("ctx.event.duration > 1000000000", True),
    ("ctx.count == 0.0", True),
    ("ctx.count == -0", True),
    ("-ctx.http.response.status_code < -500", True),
    ("ctx.flag == true", True),
    ("ctx.flag == 1", False),
    ("ctx.flag", True),
    # logic and parentheses
    ("!(ctx.http.request.method == 'POST')", True),
    ("!ctx.flag || (ctx.count == 0 && ctx.tags.contains('web'))", True),
    ("ctx.count != 0 && ctx.missing.field == 1", False),  # short-circuit: the right side never runs
    ("ctx.count == 0 || ctx.missing.field == 1", True),
    # instanceof
    ("ctx.tags instanceof List", True),
    ("ctx.http instanceof Map", True),
    ("ctx.url.path instanceof String", True),
    ("ctx.http.response.status_code instanceof Integer", True),
    ("ctx.http.response.status_code instanceof Long", False),
    ("ctx.event.duration instanceof Double", True),
    ("ctx.missing instanceof Object", False),
    # methods
    ("ctx.url.original.startsWith('/wp-')", True),
    ("ctx.url.path.endsWith('.php')", True),
    ("ctx.url.original.contains('login')", True),
    ("ctx.tags.contains('staging')", False),
    ("ctx.http.request.method.equals('GET')", True),
    ("ctx.http.request.method.equalsIgnoreCase('get')", True),
    ("ctx.event.original.isEmpty()", True),
    ("ctx.labels.isEmpty() && !ctx.tags.isEmpty()", True),
    ("ctx.url.path.length() == 13", True),
    ("ctx.tags.size() == 2", True),
    ("ctx.user_agent.original.trim().toLowerCase().contains('googlebot')", True),
    ("ctx.http.request.method.toUpperCase() == 'GET'", True),
    ("ctx.missing?.toLowerCase() == null", True),
    ("ctx.http.response.status_code.equals(503L)", False),  # Integer.equals(Long) is false in Java
]


@pytest.mark.parametrize("text, expected", CASES)
def test_condition(text, expected):
    """Each expression over DOC gives Painless's result."""
    assert compile_condition(text)(DOC) is expected


RUNTIME_ERRORS = [
    "ctx.missing.field == 1",        # a field of null, without ?.
    "ctx.url.path.size() == 1",      # no size() on a String
    "ctx.count && true",             # && takes booleans
    "ctx.url.path > 1",              # comparisons take numbers
    "ctx.url.path",                  # the condition is a String, not a boolean
    "ctx.tags[5] == 1",              # out of bounds
    "ctx.missing.startsWith('x')",   # a method of null
]


@pytest.mark.parametrize("text", RUNTIME_ERRORS)
def test_condition_runtime_errors(text):
    """What Painless would throw on DOC throws ConditionError."""
    condition = compile_condition(text)
    with pytest.raises(ConditionError):
        condition(DOC)


def test_a_throwing_condition_fails_the_document_as_a_script_exception():
    """An `if` that throws fails outside the processor's own handlers (ConditionalProcessor wraps
    the processor and its on_failure): the document gets a script_exception, 'runtime error'."""
    answer = synth.elastic.simulate({"processors": [{"set": {"field": "a", "value": 1, "if": "ctx.b.c == 1",
                                                             "on_failure": [{"set": {"field": "x", "value": 1}}]}}]},
                                    [{"_source": {}}])
    assert answer["docs"][0]["error"]["type"] == "script_exception"
    assert answer["docs"][0]["error"]["reason"] == "runtime error"


def test_verbose_shows_the_condition_and_skips():
    """Verbose simulate reports a false condition as status skipped with the condition and its
    result, a true one with the processor's result."""
    body = {"processors": [{"set": {"field": "a", "value": 1, "if": "ctx.x == 1"}},
                           {"set": {"field": "b", "value": 2, "if": "ctx.x == 2", "tag": "t"}}]}
    entries = synth.elastic.simulate(body, [{"_source": {"x": 2}}], verbose=True)["docs"][0]["processor_results"]
    assert entries[0] == {"processor_type": "set", "status": "skipped", "if": {"condition": "ctx.x == 1",
                                                                              "result": False}}
    assert entries[1]["status"] == "success" and entries[1]["if"] == {"condition": "ctx.x == 2", "result": True}
    assert entries[1]["doc"]["_source"] == {"x": 2, "b": 2}


REFUSED = [
    "ctx.a = 1",
    "ctx.a == 1;",
    "return true",
    "ctx.a =~ /foo/",
    "ctx.a ?: 'x'",
    "ctx.a == 1 ? true : false",
    "ctx.tags.stream().anyMatch(t -> t == 'x')",
    "ctx.a.substring(1) == 'b'",
    "ctx.a.containsKey('b')",
    "params.x == 1",
    "def x = ctx.a",
    "ctx.a instanceof Bogus",
    "ctx.a.startsWith()",
    "(ctx.a == 1",
    "ctx.a +",
    "",
    "ctx.a == 'unterminated",
]


@pytest.mark.parametrize("text", REFUSED)
def test_refused_expressions(text):
    """Outside the subset: refused when the pipeline loads, with the processor's place and the text."""
    with pytest.raises(Unsupported):
        compile_condition(text)
    with pytest.raises(PipelineError) as e:
        Pipeline({"processors": [{"set": {"field": "x", "value": 1}},
                                 {"set": {"field": "a", "value": 1, "if": text}}]}, "p")
    assert str(e.value) == f"processors[1].if: unsupported Painless: {text}"


def test_refused_inside_handlers_names_its_place():
    """A condition inside on_failure is named by its path in the pipeline."""
    with pytest.raises(PipelineError) as e:
        Pipeline({"processors": [{"set": {"field": "a", "value": 1,
                                          "on_failure": [{"set": {"field": "b", "value": 1, "if": "ctx.b = 2"}}]}}]})
    assert str(e.value) == "processors[0].on_failure[0].if: unsupported Painless: ctx.b = 2"
