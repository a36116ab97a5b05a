"""The line format: Apache combined byte for byte, escaping, and the Jinja2 template as the truth."""

import datetime as dt
import re

import jinja2
import numpy as np
import pytest
from helpers import COMBINED_RE, PRINTABLE_ASCII, epoch_seconds
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.escape import apache_escape, apache_unescape
from synth.generate.pools import build_pools
from synth.generate.traffic import Events, body_bytes
from synth.render.lines import FormatError, LineRenderer, layout, load_template

WHEN = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def pools():
    return build_pools(np.random.default_rng(3), n_clients=300, ipv6_share=0.3, when=WHEN)


@given(st.text())
def test_escape_round_trips_and_is_safe(text):
    """Any value, once escaped, is printable ASCII with no bare quote, and unescapes to itself."""
    escaped = apache_escape(text)
    assert PRINTABLE_ASCII.match(escaped)
    assert re.fullmatch(r'(?:[^"\\]|\\.)*', escaped)
    assert apache_unescape(escaped) == text


@pytest.mark.parametrize("raw, written", [
    ('Mozilla/5.0 "quoted"', 'Mozilla/5.0 \\"quoted\\"'),
    ("back\\slash", "back\\\\slash"),
    ("line\nbreak\r\t", "line\\nbreak\\r\\t"),
    ("bell\x07", "bell\\x07"),
    ("caf\u00e9", "caf\\xc3\\xa9"),
])
def test_escape_like_apache(raw, written):
    """The escapes ap_escape_logitem writes: \\" \\\\ \\n \\r \\t and \\xhh."""
    assert apache_escape(raw) == written


def _events(pools, n, rng):
    t = np.sort(rng.integers(1_795_000_000_000, 1_795_000_000_000 + 7_200_000, n))
    return Events.build(
        t_ms=t, client=rng.integers(0, len(pools.population.addresses), n),
        agent=rng.integers(0, len(pools.population.agents), n),
        target=rng.integers(0, len(pools.site.targets), n), method=rng.integers(0, 3, n),
        proto=rng.integers(0, 2, n), status=rng.choice([200, 304, 404, 500], n),
        referrer=rng.integers(0, len(pools.referrers.values), n))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(1, 400), tz=st.integers(-14 * 60, 14 * 60))
def test_fast_renderer_equals_jinja(pools, seed, n, tz):
    """The chunk renderer writes exactly what Jinja2 renders from the template, row by row."""
    renderer = LineRenderer(load_template("combined"), pools, tz * 60)
    events = _events(pools, n, np.random.default_rng(seed))
    assert renderer.render(events) == renderer.render_with_jinja(events)


def test_lines_are_strict_combined(pools, rng):
    """Every line matches the strict combined regex, %t in the requested zone, '-' for no bytes."""
    renderer = LineRenderer(load_template("combined"), pools, -8 * 3600)
    events = _events(pools, 2000, rng)
    lines = renderer.render(events).decode("ascii").split("\n")
    assert lines[-1] == ""
    sizes = body_bytes(pools.site.size, events.target, events.method, events.status)
    assert (sizes == 0).any() and (sizes > 0).any()
    for line, t_ms, size, status in zip(lines, events.t_ms, sizes, events.status):
        m = COMBINED_RE.match(line)
        assert m, line
        assert m["tz"] == "-0800"
        assert epoch_seconds(m) == t_ms // 1000
        assert m["bytes"] == (str(size) if size else "-")
        assert m["status"] == str(status)


def test_hostile_agent_cannot_break_a_line(pools, rng):
    """An agent with quotes, a newline and a forged line stays inside its field, escaped."""
    forged = 'evil" 200 1\n1.2.3.4 - - [01/Jan/2020:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x'
    agent = pools.population.agent(forged)
    renderer = LineRenderer(load_template("combined"), pools, 0)
    events = _events(pools, 3, rng)
    events.agent[:] = agent
    text = renderer.render(events).decode("ascii")
    assert text.count("\n") == 3
    for line in text.splitlines():
        m = COMBINED_RE.match(line)
        assert m and apache_unescape(m["agent"]) == forged


@pytest.mark.parametrize("source, message", [
    ("{% for e in events %}{{ e.client }} {{ e.nope }}\n{% endfor %}", "e.nope is unknown"),
    ("{% for e in events %}{{ e.client }}{% endfor %}", "exactly one line"),
    ("{% for e in events %}{{ e.client }}\n\n{% endfor %}", "exactly one line"),
])
def test_bad_templates_are_refused(source, message):
    """A template must render one line per event from known fields."""
    with pytest.raises(FormatError, match=message):
        layout(jinja2.Environment(keep_trailing_newline=True).from_string(source))


@given(st.lists(st.sampled_from([0, 0, 0, 1, 0xABCD, 0xFFFF]) | st.integers(0, 0xFFFF), min_size=8, max_size=8))
def test_ipv6_text_is_rfc5952(hextets):
    """Our IPv6 formatting equals the standard library's compressed form (RFC 5952)."""
    import ipaddress

    from synth.generate.addresses import ipv6_text
    value = sum(h << (16 * (7 - i)) for i, h in enumerate(hextets))
    assert ipv6_text(hextets) == str(ipaddress.IPv6Address(value))
