"""Parsed lines of a run as numpy columns, for measuring what an ML job would see."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from helpers import COMBINED_RE, all_lines, epoch_seconds

# combined_timing: combined and the response time in microseconds.
TIMING_RE = re.compile(COMBINED_RE.pattern[:-1] + r" (?P<duration>\d+)$")


@dataclass
class Parsed:
    t: np.ndarray  # UTC epoch seconds
    client: np.ndarray  # object: address text
    url: np.ndarray  # object: request target
    status: np.ndarray  # int
    size: np.ndarray  # int, 0 for "-"
    referrer: np.ndarray  # object
    agent: np.ndarray  # object
    duration: np.ndarray  # int, microseconds (0 without a timing format)

    @classmethod
    def read(cls, out: Path) -> Parsed:
        rows = []
        for line in all_lines(out):
            m = COMBINED_RE.match(line) or TIMING_RE.match(line)
            assert m, line
            request = m["request"].split(" ")
            rows.append((epoch_seconds(m), m["client"], request[1] if len(request) > 1 else request[0],
                         int(m["status"]), 0 if m["bytes"] == "-" else int(m["bytes"]), m["referer"], m["agent"],
                         int(m.groupdict().get("duration") or 0)))
        cols = list(zip(*rows)) if rows else [()] * 8
        return cls(np.array(cols[0], np.int64), np.array(cols[1], object), np.array(cols[2], object),
                   np.array(cols[3], np.int64), np.array(cols[4], np.int64), np.array(cols[5], object),
                   np.array(cols[6], object), np.array(cols[7], np.int64))

    def take(self, mask: np.ndarray) -> Parsed:
        return Parsed(*(getattr(self, f)[mask] for f in ("t", "client", "url", "status", "size", "referrer", "agent",
                                                          "duration")))
