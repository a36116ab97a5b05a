"""Grade Machine Learning anomaly records against a run's ground truth (``anomalies.json``).

Pure: records and truth in, figures out; reading them from a cluster is ``synth.elastic``'s job.

Definitions (``synth score`` prints the same in its help and the README):

- **Counting records**: records of the graded jobs with ``record_score >= min_score`` that are
  not interim (``is_interim`` true: the last, partial bucket of a run, rescored later).
- **Bucket**: a record's bucket is ``[timestamp, timestamp + bucket_span * 1000)`` in epoch ms;
  it overlaps a window ``[start_ms, end_ms)`` when ``timestamp < end_ms`` and
  ``timestamp + bucket_span * 1000 > start_ms``.
- **Graded window**: a window of ``anomalies.json`` whose ``jobs`` name at least one graded job.
  Windows that only other jobs are expected to catch are listed as not graded.
- **Caught**: a counting record of one of the window's expected jobs overlaps the window. Its
  *first flagged bucket* is the earliest such bucket, *delay* is that bucket's start minus the
  window's start, clipped at 0 (a bucket that began before the window and overlaps it is on
  time), and *score* is the highest ``record_score`` among those records. Caught *late* means
  a delay above 0.
- **False alarm**: a distinct (job, bucket start) with a counting record that overlaps no window
  at all, whatever the window's kind. A graded job's records that overlap only windows it is
  not expected to catch are *incidental*: anomalies compose (a scanner's 404s are requests
  too), so they count neither for nor against.
- **precision** = caught / (caught + false alarms); **recall** = caught / graded windows;
  **F1** = 2PR / (P + R), 0 when both are 0. Precision is None (``n/a``) with nothing flagged,
  recall with no graded window, and F1 with either.
- **NAB-style score** (after the Numenta Anomaly Benchmark's scorer, standard profile
  A_TP = 1, A_FP = 0.11, A_FN = 1), over the graded windows and the false alarms::

      sigma(y) = 2 / (1 + exp(5 y)) - 1        (sigma(y) = -1 for y >= 3)
      caught window:  A_TP * sigma(y) / sigma(-1),  y = (t - end) / (end - start),
                      t = start + delay            (1 at the window's start, 0 at its end)
      missed window:  -A_FN
      false alarm:    A_FP * sigma(y),  y = (t - end') / (end' - start'), t its bucket start and
                      [start', end') the window that ended last at or before t; y = 3 (a cost
                      of A_FP) when no window ended before it
      raw = the sum; NAB = 100 * (raw - null) / (perfect - null),
      null = -A_FN * windows (nothing flagged), perfect = A_TP * windows

  so 100 is every window flagged from its first bucket and no false alarm, 0 is doing
  nothing, and false alarms can take it below 0. Unlike NAB, windows are the labelled ones
  as they are (not widened), and detections are buckets, not points.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

NAB_WEIGHTS = {"tp": 1.0, "fp": 0.11, "fn": 1.0}


class ScoreError(ValueError):
    """Records or truth that cannot be read; the message names what is wrong."""


@dataclass(frozen=True)
class Record:
    """What grading needs of one anomaly record."""

    job_id: str
    timestamp: int  # bucket start, epoch ms
    bucket_span: int  # seconds
    score: float
    interim: bool = False

    @property
    def end(self) -> int:
        return self.timestamp + self.bucket_span * 1000

    def overlaps(self, start_ms: int, end_ms: int) -> bool:
        return self.timestamp < end_ms and self.end > start_ms


@dataclass
class WindowResult:
    """One labelled window: who was expected to flag it, and whether and when one did."""

    id: str
    kind: str
    start: str
    end: str
    start_ms: int
    end_ms: int
    jobs: list[str]
    caught: bool = False
    job: str | None = None
    first_bucket_ms: int | None = None
    delay_s: float | None = None
    score: float | None = None
    buckets: int = 0

    @property
    def late(self) -> bool:
        return self.caught and bool(self.delay_s)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "start": self.start, "end": self.end,
                "start_ms": self.start_ms, "end_ms": self.end_ms, "jobs": self.jobs, "caught": self.caught,
                "late": self.late, "job": self.job, "first_bucket": iso_ms(self.first_bucket_ms),
                "first_bucket_ms": self.first_bucket_ms, "delay_s": self.delay_s, "score": self.score,
                "buckets": self.buckets}


@dataclass(frozen=True)
class FalseAlarm:
    job_id: str
    timestamp: int
    bucket_span: int
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "timestamp": iso_ms(self.timestamp), "timestamp_ms": self.timestamp,
                "bucket_span": self.bucket_span, "score": self.score}


@dataclass
class Grade:
    """Every window's result, the false alarms and the figures."""

    min_score: float
    jobs: list[str]
    windows: list[WindowResult]
    not_graded: list[str]
    false_alarms: list[FalseAlarm]
    incidental: int
    counted: int
    nab_raw: float | None = None
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def caught(self) -> int:
        return sum(w.caught for w in self.windows)

    def as_dict(self) -> dict[str, Any]:
        per_job = []
        for job in self.jobs:
            expected = [w for w in self.windows if job in w.jobs]
            per_job.append({"job_id": job, "windows": len(expected),
                            "caught": sum(w.caught and w.job == job for w in expected),
                            "false_alarms": sum(f.job_id == job for f in self.false_alarms)})
        return {"min_score": self.min_score, "jobs": self.jobs, "records_counted": self.counted,
                "windows": [w.as_dict() for w in self.windows], "not_graded": self.not_graded,
                "false_alarms": [f.as_dict() for f in self.false_alarms], "incidental": self.incidental,
                "per_job": per_job, "figures": self.figures}

    def lines(self) -> list[str]:
        """The report as text: a row per window, then the false alarms and the figures.

            window   kind   window (UTC)                jobs                 caught  first flagged     delay   score
            spike-1  spike  2026-11-25 18:31 to 19:01   smoke-request-count  yes     2026-11-25 18:30  0 min   94.1
        """
        head = ("window", "kind", "window (UTC)", "jobs", "caught", "first flagged (UTC)", "delay", "score")
        rows: list[tuple[str, ...]] = [head]
        for w in self.windows:
            verdict = "late" if w.late else "yes" if w.caught else "no"
            rows.append((w.id, w.kind, span_text(w.start_ms, w.end_ms), ",".join(w.jobs), verdict,
                         minute_text(w.first_bucket_ms) if w.caught else "-",
                         f"{(w.delay_s or 0) / 60:g} min" if w.caught else "-",
                         f"{w.score or 0:.1f}" if w.caught else "-"))
        lines = table(rows) if self.windows else ["no window of anomalies.json is expected of these jobs"]
        lines.append("")
        by_job = Counter(f.job_id for f in self.false_alarms)
        alarms = f"false alarms: {len(self.false_alarms)} bucket{'s' if len(self.false_alarms) != 1 else ''}"
        if by_job:
            alarms += " (" + ", ".join(f"{job} {n}" for job, n in sorted(by_job.items())) + ")"
        alarms += f"; records in windows other jobs are expected to catch: {self.incidental}"
        lines.append(alarms)
        if self.not_graded:
            lines.append(f"not graded: {len(self.not_graded)} window{'s' if len(self.not_graded) != 1 else ''} "
                         f"no given job is expected to catch ({', '.join(self.not_graded)})")
        f: dict[str, Any] = self.figures
        lines.append(f"records with record_score >= {self.min_score:g}: {self.counted}; {f['windows']} windows graded, "
                     f"{f['caught']} caught ({f['late']} late), {f['missed']} missed, {f['false_alarms']} false alarms")
        nab = f["nab"]
        weights = NAB_WEIGHTS
        lines.append(f"precision {ratio_text(f['precision'])}  recall {ratio_text(f['recall'])}  "
                     f"F1 {ratio_text(f['f1'])}  NAB {'n/a' if nab is None else f'{nab:.1f}'} "
                     f"(standard profile: A_TP {weights['tp']:g}, A_FP {weights['fp']:g}, A_FN {weights['fn']:g})")
        return lines


def iso_ms(ms: int | None) -> str | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def minute_text(ms: int | None) -> str:
    return "-" if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")


def span_text(start_ms: int, end_ms: int) -> str:
    start, end = minute_text(start_ms), minute_text(end_ms)
    return f"{start} to {end[11:] if end[:10] == start[:10] else end}"


def ratio_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def table(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows as left-aligned columns two spaces apart."""
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(f"{str(cell):<{width}}" for cell, width in zip(row, widths)).rstrip() for row in rows]


def parse_records(data: Any, source: str = "records") -> list[Record]:
    """Records from what the get-records API returns: ``{"count": N, "records": [...]}``, a
    list of such responses, or a plain list of records."""
    if isinstance(data, dict):
        if "records" not in data:
            raise ScoreError(f"{source}: no \"records\" key (expected a get records API response)")
        items = data["records"]
    elif isinstance(data, list) and all(isinstance(d, dict) and "records" in d for d in data) and data:
        items = [r for d in data for r in d["records"]]
    elif isinstance(data, list):
        items = data
    else:
        raise ScoreError(f"{source}: expected a get records API response, a list of them or a list of records")
    records = []
    for i, item in enumerate(items):
        try:
            records.append(Record(job_id=str(item["job_id"]), timestamp=int(item["timestamp"]),
                                  bucket_span=int(item["bucket_span"]), score=float(item["record_score"]),
                                  interim=bool(item.get("is_interim", False))))
        except (KeyError, TypeError, ValueError) as e:
            raise ScoreError(f"{source}: record {i} lacks job_id, timestamp, bucket_span or record_score ({e})") from None
    return records


def truth_windows(truth: Any, source: str = "truth") -> list[dict[str, Any]]:
    """The windows of an anomalies.json, checked for the keys grading uses."""
    if not isinstance(truth, dict) or not isinstance(truth.get("anomalies"), list):
        raise ScoreError(f"{source}: expected {{\"anomalies\": [...]}} as synth generate writes it")
    for i, window in enumerate(truth["anomalies"]):
        missing = [k for k in ("id", "kind", "start_ms", "end_ms", "jobs") if k not in window]
        if missing:
            raise ScoreError(f"{source}: anomalies[{i}] lacks {', '.join(missing)}")
    return truth["anomalies"]


def sigma(y: float) -> float:
    """NAB's scaled sigmoid: 0.987 at y = -1 (a window's start), 0 at its end, -1 far past it."""
    if y >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def grade(records: Iterable[Record], truth: Any, jobs: Iterable[str], min_score: float = 25.0) -> Grade:
    """Grade ``records`` of ``jobs`` against ``truth`` (the content of anomalies.json)."""
    jobs = list(dict.fromkeys(jobs))
    graded = set(jobs)
    windows = truth_windows(truth)
    counting = [r for r in records if r.job_id in graded and r.score >= min_score and not r.interim]

    results: list[WindowResult] = []
    not_graded: list[str] = []
    for w in windows:
        expected = [j for j in w["jobs"] if j in graded]
        if not expected:
            not_graded.append(w["id"])
            continue
        window = WindowResult(id=w["id"], kind=w["kind"], start=str(w.get("start") or iso_ms(w["start_ms"])),
                              end=str(w.get("end") or iso_ms(w["end_ms"])), start_ms=int(w["start_ms"]),
                              end_ms=int(w["end_ms"]), jobs=expected)
        hits = [r for r in counting if r.job_id in expected and r.overlaps(window.start_ms, window.end_ms)]
        if hits:
            first = min(hits, key=lambda r: (r.timestamp, r.job_id))
            window.caught, window.job, window.first_bucket_ms = True, first.job_id, first.timestamp
            window.delay_s = max(0, first.timestamp - window.start_ms) / 1000
            window.score = max(r.score for r in hits)
            window.buckets = len({(r.job_id, r.timestamp) for r in hits})
        results.append(window)

    spans = [(int(w["start_ms"]), int(w["end_ms"])) for w in windows]
    alarms: dict[tuple[str, int], FalseAlarm] = {}
    incidental = set()
    for r in counting:
        if not any(r.overlaps(s, e) for s, e in spans):
            key = (r.job_id, r.timestamp)
            best = alarms.get(key)
            if best is None or r.score > best.score:
                alarms[key] = FalseAlarm(r.job_id, r.timestamp, r.bucket_span, r.score)
        elif not any(r.job_id in w["jobs"] and r.overlaps(int(w["start_ms"]), int(w["end_ms"])) for w in windows):
            incidental.add((r.job_id, r.timestamp))
    false_alarms = sorted(alarms.values(), key=lambda f: (f.timestamp, f.job_id))

    result = Grade(min_score=min_score, jobs=jobs, windows=results, not_graded=not_graded,
                   false_alarms=false_alarms, incidental=len(incidental), counted=len(counting))
    result.nab_raw = nab_raw(results, false_alarms, spans)
    result.figures = figures(result)
    return result


def nab_raw(windows: list[WindowResult], false_alarms: list[FalseAlarm], spans: list[tuple[int, int]]) -> float:
    """The raw NAB-style sum (see the module's docstring)."""
    w = NAB_WEIGHTS
    total = 0.0
    for window in windows:
        if window.caught:
            t = window.start_ms + (window.delay_s or 0.0) * 1000
            y = (t - window.end_ms) / (window.end_ms - window.start_ms)
            total += w["tp"] * sigma(y) / sigma(-1.0)
        else:
            total -= w["fn"]
    for alarm in false_alarms:
        before = [(s, e) for s, e in spans if e <= alarm.timestamp]
        if before:
            s, e = max(before, key=lambda span: span[1])
            y = (alarm.timestamp - e) / (e - s)
        else:
            y = 3.0
        total += w["fp"] * sigma(y)
    return total


def figures(g: Grade) -> dict[str, Any]:
    n = len(g.windows)
    tp = g.caught
    fp = len(g.false_alarms)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / n if n else None
    f1 = None
    if precision is not None and recall is not None:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    nab = None
    if n:
        null, perfect = -NAB_WEIGHTS["fn"] * n, NAB_WEIGHTS["tp"] * n
        nab = 100 * ((g.nab_raw or 0.0) - null) / (perfect - null)
    return {"windows": n, "caught": tp, "late": sum(w.late for w in g.windows), "missed": n - tp,
            "false_alarms": fp, "precision": precision, "recall": recall, "f1": f1, "nab": nab,
            "nab_raw": g.nab_raw, "nab_weights": dict(NAB_WEIGHTS)}


def entity(record: dict[str, Any]) -> str:
    """The partition, by and over values of a record, ``field=value`` each."""
    parts = [f"{record[k + '_field_name']}={record.get(k + '_field_value')}"
             for k in ("partition", "by", "over") if record.get(k + "_field_name")]
    return " ".join(parts) or "-"


def number_text(values: Any) -> str:
    if not isinstance(values, list) or not values:
        return "-"
    x = float(values[0])
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def iter_record_rows(job_id: str, records: list[dict[str, Any]]) -> Iterator[tuple[str, ...]]:
    for r in records:
        detector = r.get("function", "?") + (f"({r['field_name']})" if r.get("field_name") else "")
        actual, typical = r.get("actual"), r.get("typical")
        if actual is None and r.get("causes"):
            actual, typical = r["causes"][0].get("actual"), r["causes"][0].get("typical")
        yield (job_id, minute_text(r.get("timestamp")), f"{float(r.get('record_score', 0)):.1f}", detector, entity(r),
               number_text(actual), number_text(typical))
