"""Grok's lazy ``DATA`` (``.*?``) rewritten so that Python's ``re`` does not try its end
positions one character at a time: the rewritten regex must find the same match with the same
groups as the lazy one on any text, which hypothesis holds it to here, shape by shape and on the
bundled pipeline's whole access-log expression."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.elastic.grok import Grok, builtin_patterns, expand, translate, without_lazy_backtracking
from synth.elastic.verify import bundled_pipeline

# (lazy regex, what it becomes)
SHAPES = [
    # the agent at the end of a combined line: only the line end less one quote can end it
    (r'"(?:-|(?P<a>.*?))"$', r'"(?:-|(?P<a>.*))"$'),
    (r'^(?P<a>.*?)$', r'^(?P<a>.*)$'),
    # the referrer: only a position holding a quote can go on
    (r'"(?:-|(?P<a>.*?))" "(?:-|(?P<b>.*?))" (?P<c>\d+)',
     r'"(?:-|(?P<a>[^"\n]*+(?:"[^"\n]*+)*?))" "(?:-|(?P<b>[^"\n]*+(?:"[^"\n]*+)*?))" (?P<c>\d+)'),
    (r'(?P<a>.*?)\]x', r'(?P<a>[^\]\n]*+(?:\][^\]\n]*+)*?)\]x'),
    (r'(?P<a>.*?)-(?P<b>.*?)\^', r'(?P<a>[^\-\n]*+(?:\-[^\-\n]*+)*?)-(?P<b>[^\^\n]*+(?:\^[^\^\n]*+)*?)\^'),
    (r'(?:(?P<a>.*?)x)*y', r'(?:(?P<a>[^x\n]*+(?:x[^x\n]*+)*?)x)*y'),
    # left as they are: what follows is not one literal, is quantified, alternated, a class,
    # a lookaround's end, or a flag is set
    (r'(?P<a>.*?)\d', None),
    (r'(?P<a>.*?)"?x', None),
    (r'(?:(?P<a>.*?))?"', None),
    (r'(?P<a>.*?)|"', None),
    (r'(?P<a>.*?)[ab]', None),
    (r'(?=(?P<a>.*?))"', None),
    (r'(?i:(?P<a>.*?)")', None),
    (r'(?s)(?P<a>.*?)"', None),
    (r'\.*?"', None),
    (r'[.*?]"', None),
]


@pytest.mark.parametrize(("lazy", "rewritten"), SHAPES)
def test_each_shape_becomes_what_it_should(lazy, rewritten):
    assert without_lazy_backtracking(lazy) == (rewritten or lazy)


TEXT = st.text(alphabet='"ab-x ]^\\\n5y', max_size=24)


def same(a: re.Pattern, b: re.Pattern, text: str) -> None:
    ma, mb = a.search(text), b.search(text)
    assert (ma is None) == (mb is None)
    if ma is not None and mb is not None:
        assert ma.span() == mb.span() and ma.groups() == mb.groups()


@pytest.mark.parametrize("lazy", [lazy for lazy, rewritten in SHAPES if rewritten])
@settings(max_examples=300, deadline=None)
@given(text=TEXT)
def test_a_rewritten_shape_matches_as_the_lazy_one(lazy, text):
    same(re.compile(lazy, re.MULTILINE), re.compile(without_lazy_backtracking(lazy), re.MULTILINE), text)


def _lazy_and_rewritten() -> tuple[Grok, re.Pattern]:
    grok = next(p for p in bundled_pipeline().processors if p.tag == "parse-line").grok
    marked = "|".join(f"(?<__synth_pattern_{k}>{expand(builtin_patterns(ecs=True), p)})"
                      for k, p in enumerate(grok.patterns))
    return grok, re.compile(translate(marked)[0], re.MULTILINE)


GROK, LAZY = _lazy_and_rewritten()
PIECE = st.sampled_from(['"', " ", "-", "\\", "\\\"", '" "', "a", "GET", "/x", "HTTP/1.1", "200", "12", "\n", "ab"])


@settings(max_examples=400, deadline=None)
@given(host=st.sampled_from(["1.2.3.4", "::1", "host.example", "h:80 1.2.3.4"]),
       request=st.lists(PIECE, max_size=6), referrer=st.lists(PIECE, max_size=6),
       agent=st.lists(PIECE, max_size=6), tail=st.sampled_from(["", " 77", '"', ' "', "\n"]),
       common=st.booleans())
def test_the_access_log_expression_matches_as_the_lazy_one(host, request, referrer, agent, tail, common):
    """Lines of the bundled pipeline's four formats with quotes, escaped quotes, spaces and
    line ends where the request, referrer and agent go."""
    line = f'{host} - - [25/Nov/2026:00:00:01 +0000] "{"".join(request)}" 200 12'
    line += tail if common else f' "{"".join(referrer)}" "{"".join(agent)}"{tail}'
    assert GROK.regex.pattern != LAZY.pattern
    same(LAZY, GROK.regex, line)
