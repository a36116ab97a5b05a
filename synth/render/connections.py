"""Connections: which requests share a TCP connection, who served it, and how it ended.

Apache keeps a connection open for ``KeepAliveTimeout`` (5 s) after a response and serves at
most ``MaxKeepAliveRequests`` (100) requests on it. A visitor's page and the assets it pulls
come within a second or two, so they share a connection; the next page, half a minute later,
opens a new one. Here a connection is a run of requests from one client with one agent, each
within 5 s of the one before, cut at 100 requests and after any response Apache closes the
connection on (400, 408, 411, 413, 414, 500, 501, 503: ``ap_status_drops_connection``). Each
connection is served by one thread of one child process (the event MPM's default of 25
threads a child), from one client port.

Connections are found within one chunk of events (a renderer's ``render`` call): a chunk ends
at a fixed place for a given run (a block of time, or 5,000 lines), so the bytes are the same
however many workers write them; a connection open across a chunk's end is counted as a new
one after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.generate.pools import DOWNLOAD
from synth.generate.traffic import Events

KEEPALIVE_TIMEOUT_MS = 5_000
MAX_KEEPALIVE_REQUESTS = 100
DROPS_CONNECTION = (400, 408, 411, 413, 414, 500, 501, 503)
THREADS_PER_CHILD = 25
CHILDREN = 3
PLUS, MINUS, ABORTED = 0, 1, 2  # %X: +, -, X
STATUS_TEXT = ("+", "-", "X")

_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def mix(*columns: np.ndarray) -> np.ndarray:
    """A 63-bit hash of integer columns, element by element (splitmix64's finaliser)."""
    h = np.zeros(len(columns[0]), np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:
            h = h ^ np.asarray(column).astype(np.int64).astype(np.uint64)
            h = h + np.uint64(0x9E3779B97F4A7C15)
            h = (h ^ (h >> np.uint64(30))) * _M1
            h = (h ^ (h >> np.uint64(27))) * _M2
            h = h ^ (h >> np.uint64(31))
    return (h >> np.uint64(1)).astype(np.int64)


@dataclass(frozen=True)
class Connections:
    """Per request: its connection's id, how many requests that connection served before it
    (%k), and the connection's state when the response was done (%X)."""

    conn: np.ndarray  # int64, a hash naming the connection
    keepalive: np.ndarray  # int64
    status: np.ndarray  # int8: PLUS, MINUS, ABORTED


def find_connections(events: Events, kinds: np.ndarray) -> Connections:
    """The connections of a chunk of events in time order."""
    n = len(events)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return Connections(empty, empty, np.zeros(0, np.int8))
    t = events.t_ms
    order = np.lexsort((np.arange(n), t, events.agent, events.client))
    client, agent, when = events.client[order], events.agent[order], t[order]
    status = events.status[order].astype(np.int64)
    # A download cut short: the client went away before the last byte (1 in 50).
    request = mix(events.t_ms, events.client, events.target, events.agent)
    aborted = (kinds[events.target] == DOWNLOAD) & (events.status == 200) & (request % 50 == 0)
    aborted = aborted[order]
    closes = np.isin(status, DROPS_CONNECTION) | aborted
    new = np.ones(n, bool)
    new[1:] = (client[1:] != client[:-1]) | (agent[1:] != agent[:-1]) \
        | (when[1:] - when[:-1] > KEEPALIVE_TIMEOUT_MS) | closes[:-1]
    run = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    position = np.arange(n) - starts[run]
    keepalive = position % MAX_KEEPALIVE_REQUESTS
    first = np.arange(n) - keepalive  # the index of the connection's first request
    conn = mix(client[first], when[first], agent[first])
    state = np.full(n, PLUS, np.int8)
    state[(keepalive == MAX_KEEPALIVE_REQUESTS - 1) | closes] = MINUS
    state[aborted] = ABORTED
    out_conn, out_keepalive, out_state = (np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int8))
    out_conn[order], out_keepalive[order], out_state[order] = conn, keepalive, state
    return Connections(out_conn, out_keepalive, out_state)


def child_pids(host: str) -> tuple[int, ...]:
    """The child processes' ids: a block of numbers a server that has run a while has."""
    base = 1000 + int(mix(np.array([sum(host.encode()) * 7919]))[0] % 60000)
    return tuple(base + 3 * i for i in range(CHILDREN))


def thread_ids(pid: int) -> tuple[int, ...]:
    """pthread_self() of a child's worker threads: 8 MiB stacks mapped one below the other."""
    top = 0x7F0000000000 + (pid % 4096) * 0x100000000
    return tuple(top - i * 0x801000 for i in range(THREADS_PER_CHILD))
