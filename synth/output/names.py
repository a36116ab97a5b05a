"""The names of the files in a run folder, and the order that puts a run's logs in time order.

Closed files are named the way logrotate names them: ``access.log-YYYYMMDD`` by day
(``dateext``, dated by the day the lines belong to), ``access.log-YYYYMMDDHH`` by hour, and
``access.log.1`` (newest) .. ``access.log.N`` (oldest) by size; the newest lines are always in
``access.log``.
"""

from __future__ import annotations

ACTIVE = "access.log"
MANIFEST = "manifest.json"
TRUTH = "anomalies.json"
REPORT = "report.html"  # synth generate --report, or synth report DIR
PER_LINE = "injected.jsonl"  # synth inject: what was done to which line
MESSY = "messy.jsonl"  # the labelled messy lines of a run with messy > 0 (synth.run.messy)
LOCK = ".synth.lock"


def file_order(name: str) -> tuple[int, int, str]:
    """A sort key that puts a run's files in time order by their names alone: dated files
    (``access.log-YYYYMMDD[HH][.k]``) oldest first, then size-rotated ones from the highest
    number (oldest) down, then ``access.log`` (gzip suffixes ignored)."""
    base = name[:-3] if name.endswith(".gz") else name
    if base.startswith(f"{ACTIVE}-"):
        return 0, 0, base
    rest = base[len(ACTIVE) + 1:] if base.startswith(f"{ACTIVE}.") else ""
    if rest.isdigit():
        return 1, -int(rest), base
    return (2, 0, base) if base == ACTIVE else (0, 0, base)


def size_names(count: int) -> list[str]:
    """Names of ``count`` size-rotated files, oldest first: access.log.N .. access.log.1, access.log."""
    return [f"{ACTIVE}.{count - 1 - i}" for i in range(count - 1)] + [ACTIVE]
