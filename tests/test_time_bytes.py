"""Times written as fixed-width bytes (a row per second, digits by arithmetic) are the same bytes
as the same times formatted as text, for every second of the span synth writes and every zone."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.generate.checks import EARLIEST, LATEST
from synth.generate.model import POOLS_STREAM, seed_stream
from synth.generate.pools import build_pools
from synth.render.fields import Tables


@pytest.fixture(scope="module")
def pools():
    return build_pools(seed_stream(1, POOLS_STREAM), n_clients=200, ipv6_share=0.2, when=dt.date(2026, 1, 1))


def as_bytes(texts):
    return [t.encode("ascii") for t in texts.tolist()]


def rows(matrix):
    return [bytes(row) for row in matrix]


@settings(max_examples=30, deadline=None)
@given(first=st.integers(EARLIEST, LATEST - 200_000), span=st.integers(1, 200_000),
       tz=st.integers(-14 * 60, 14 * 60).map(lambda m: m * 60))
def test_time_rows_are_the_formatted_times(pools, first, span, tz):
    """%t, $time_local and the JSON documents' ISO second, over a stretch anywhere in the span."""
    tables = Tables(pools, tz)
    seconds = np.unique(np.random.default_rng(first).integers(first, first + span, 500))
    assert rows(tables.time_rows(seconds, "[", "]")) == as_bytes(tables.time_texts(seconds))
    assert rows(tables.time_rows(seconds, "", "")) == as_bytes(tables.time_local_texts(seconds))
    assert rows(tables.iso_second_rows(seconds)) == as_bytes(tables.iso_second_texts(seconds))


def test_the_edges_of_the_span(pools):
    """The first and last second, in the zones furthest from UTC (local times in 1969 and 2100)."""
    seconds = np.array([EARLIEST, EARLIEST + 1, LATEST - 1], np.int64)
    west, east = Tables(pools, -14 * 3600), Tables(pools, 14 * 3600)
    assert rows(west.time_rows(seconds, "[", "]"))[0] == b"[31/Dec/1969:10:00:00 -1400]"
    assert rows(east.time_rows(seconds, "[", "]"))[2] == b"[01/Jan/2100:13:59:59 +1400]"
    assert rows(west.iso_second_rows(seconds))[2] == b"2099-12-31T23:59:59"
