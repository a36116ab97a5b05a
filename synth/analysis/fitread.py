"""``synth fit``'s reader: every line of a log into interned columns (times, and ids into
per-field tables of distinct values), through ``synth profile``'s reader for combined and
common logs and ``synth.analysis.logread`` for any other format synth writes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synth.analysis.logread import LogReadError, order_files, read_log, reader_columns, resolve_format
from synth.analysis.profile import (
    BOT_RE,
    ParsedLog,
    ProfileError,
    _Interner,
    _request_class,
    _split_request,
    read_parsed,
)


class FitError(ValueError):
    """A log that cannot be fitted: unreadable, or without a line that parses."""


@dataclass
class Columns:
    """The parsed lines of a log: times, and ids into per-field tables of distinct values."""

    files: int
    lines: int
    unparsed: int
    format: str
    utc: np.ndarray  # epoch seconds
    local: np.ndarray  # clock time as written, as if it were UTC
    tz: str  # the offset most lines were written with, +HHMM
    client: np.ndarray
    clients: list[bytes]
    method: np.ndarray
    methods: list[bytes]
    path: np.ndarray  # target without its query
    paths: list[bytes]
    status: np.ndarray
    size: np.ndarray  # body bytes, 0 for none or "-"
    referrer: np.ndarray | None
    referrers: list[bytes]
    agent: np.ndarray | None
    agents: list[bytes]
    target: np.ndarray  # target with its query, as written
    targets: list[bytes]
    carries: frozenset[str] = frozenset()  # the fields the format writes (logread's column names)
    log_format: str | None = None  # the Apache LogFormat string read with, for a custom format
    nginx_log_format: str | None = None  # the nginx log_format string read with
    # combined and common: the lines as synth profile read them, so its figures of the same
    # lines need no second read
    parsed: ParsedLog | None = None
    path_kind: np.ndarray = field(init=False)
    bot_agent: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.path_kind = np.array([_request_class(p.decode("latin-1").lower()) for p in self.paths] or [0], np.int64)
        self.bot_agent = np.array([_is_bot(a) for a in self.agents] or [False], bool)

    @property
    def kind(self) -> np.ndarray:
        return self.path_kind[self.path]

    @property
    def bot(self) -> np.ndarray:
        return np.zeros(len(self.utc), bool) if self.agent is None else self.bot_agent[self.agent]


def _is_bot(agent: bytes) -> bool:
    return agent in (b"", b"-") or BOT_RE.search(agent.decode("latin-1")) is not None


_OFFSET_RE = re.compile(rb"\d\d:\d\d(?::\d\d(?:\.\d+)?)? ?([+-]\d\d):?(\d\d)\b|\d\d:\d\d(?::\d\d(?:\.\d+)?)?Z")


def _written_offset(raw: list[bytes]) -> str:
    """The zone offset most of these lines write their time with (``+0000`` when none is written)."""
    counts: dict[str, int] = {}
    for line in raw:
        m = _OFFSET_RE.search(line)
        if m:
            text = "+0000" if m.group(1) is None else (m.group(1) + m.group(2)).decode()
            counts[text] = counts.get(text, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else "+0000"


def offset_seconds(tz: str) -> int:
    return (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 3600 + int(tz[3:5]) * 60)


def read_columns(paths: Iterable[str | Path], format: str | None = None, log_format: str | None = None,
                 nginx_log_format: str | None = None, keep_parsed: bool = False) -> Columns:
    """Every line of the log into interned columns: combined and common through synth profile's
    reader (a regex per block, fast), any other format (a built-in name, an Apache LogFormat or
    an nginx log_format string) through ``synth.analysis.logread``. With ``keep_parsed``, a
    combined or common log's columns keep synth profile's own parse of it (``parsed``)."""
    try:
        files = order_files(paths)
        if not files:
            raise FitError("no file given")
        fmt = resolve_format(files, format, log_format, nginx_log_format)
        if fmt.name in ("combined", "common"):
            return _read_apache(files, fmt.name, keep_parsed)
        carries = frozenset(reader_columns(fmt))
        tables = {name: _Interner() for name in ("client", "method", "target", "referrer", "agent")}
        parts: dict[str, list[np.ndarray]] = {name: [] for name in (*tables, "t_ms", "status", "size")}
        lines = unparsed = 0
        sample: list[bytes] = []
        has: set[str] = set()
        for batch in read_log(files, format, log_format, nginx_log_format=nginx_log_format):
            lines += len(batch)
            ok = batch.parsed
            unparsed += int(len(ok) - ok.sum())
            if not ok.any():
                continue
            if len(sample) < 200:
                sample.extend(batch.raw[ok][:200].tolist())
            parts["t_ms"].append(batch.t_ms[ok])
            parts["status"].append(batch.status[ok] if batch.status is not None else np.full(int(ok.sum()), 200))
            size = batch.bytes[ok] if batch.bytes is not None else np.zeros(int(ok.sum()), np.int64)
            parts["size"].append(np.maximum(size, 0))
            for name in ("client", "method", "referrer", "agent"):
                values = getattr(batch, name)
                if values is not None:
                    has.add(name)
                    parts[name].append(tables[name].add(values[ok].tolist()))
            targets = batch.target[ok].tolist() if batch.target is not None else [b""] * int(ok.sum())
            parts["target"].append(tables["target"].add(targets))
    except LogReadError as e:
        raise FitError(str(e)) from None
    if lines == 0:
        raise FitError("the log is empty")
    if not parts["t_ms"]:
        raise FitError(f"no line of the log parses as {fmt.name}")
    joined = {name: np.concatenate(p) for name, p in parts.items() if p}
    utc = joined["t_ms"] // 1000
    order = np.argsort(utc, kind="stable")
    tz = _written_offset(sample)

    def column(name: str) -> np.ndarray:
        value = joined.get(name)
        return np.zeros(len(utc), np.int64) if value is None else value[order]

    targets = tables["target"].values or [b""]
    paths_of = _Interner()
    path_of = paths_of.add([t.split(b"?", 1)[0] for t in targets])

    return Columns(
        files=len(files), lines=lines, unparsed=unparsed, format=fmt.name, utc=utc[order],
        local=utc[order] + offset_seconds(tz), tz=tz,
        client=column("client"), clients=tables["client"].values or [b"-"],
        method=column("method"), methods=tables["method"].values or [b"GET"],
        path=path_of[column("target")], paths=paths_of.values,
        target=column("target"), targets=targets, carries=carries,
        log_format=fmt.logformat if fmt.name == "custom" else None, nginx_log_format=fmt.nginx,
        status=column("status"), size=column("size"),
        referrer=column("referrer") if "referrer" in has else None, referrers=tables["referrer"].values,
        agent=column("agent") if "agent" in has else None, agents=tables["agent"].values)


def _read_apache(files: list[Path], name: str, keep_parsed: bool) -> Columns:
    try:
        log = read_parsed(files)
    except ProfileError as e:
        raise FitError(str(e)) from None
    if log.lines == 0:
        raise FitError("the log is empty")
    c = log.columns
    if len(c["utc"]) == 0:
        raise FitError(f"no line of the log parses as {name} (first: {log.first_unparsed})")
    order = np.argsort(c["utc"], kind="stable")
    requests = [_split_request(r.decode("latin-1")) for r in log.interners["request"].values]
    methods, paths, targets = _Interner(), _Interner(), _Interner()
    method_of = methods.add([m for m, _, _ in requests])
    path_of = paths.add([t.split("?", 1)[0].encode("latin-1") for _, t, _ in requests])
    target_of = targets.add([t.encode("latin-1") for _, t, _ in requests])
    agents = [a[1:-1] for a in log.interners["agent"].values]  # captured with their quotes
    combined = any(agents) or any(a == b"" for a in log.interners["agent"].values if len(a) == 2)
    written = c["written"][order]
    tz = _written_offset([b"[" + w + b"]" for w in written[:: max(1, len(written) // 200)][:200]]) \
        if len(written) else "+0000"
    request = c["request"][order]
    return Columns(
        files=len(files), lines=log.lines, unparsed=log.unparsed, format=name,
        utc=c["utc"][order], local=c["utc"][order] + offset_seconds(tz), tz=tz,
        client=c["client"][order], clients=log.interners["client"].values,
        method=method_of[request], methods=[m.encode() for m in methods.values],
        path=path_of[request], paths=paths.values,
        status=np.array([int(v) for v in log.interners["status"].values], np.int64)[c["status"][order]],
        size=np.array([0 if v == b"-" else int(v) for v in log.interners["size"].values], np.int64)[c["size"][order]],
        referrer=c["referrer"][order] if combined else None,
        referrers=[r[1:-1] for r in log.interners["referrer"].values],
        agent=c["agent"][order] if combined else None, agents=agents,
        target=target_of[request], targets=targets.values, parsed=log if keep_parsed else None,
        carries=frozenset({"t_ms", "client", "method", "target", "protocol", "status", "bytes"}
                          | ({"referrer", "agent"} if combined else set())))


__all__ = ["Columns", "FitError", "read_columns", "offset_seconds"]
