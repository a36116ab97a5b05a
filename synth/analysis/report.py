"""``synth report`` as a library: logs (a run folder or any files) in, a report out.

    >>> report = build_report(["output"])                       # a run folder: its truth too
    >>> write_report(report, "output/report.html")
    >>> write_report(report, "docs/run.png", width=1200)

``build_report`` reads the lines once (see report_data for what is counted), grades ML records
against the truth when given (as ``synth score`` does), and ``write_report`` writes the page
or an image according to the file's suffix.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synth.analysis import logread, report_page
from synth.analysis.report_data import (
    BUCKETS,
    Columns,
    ReportData,
    check_truth,
    collect,
    read_json,
)
from synth.analysis.score import Grade, Record, ScoreError, grade

SUFFIXES = (".html", ".png", ".svg")


class ReportError(ValueError):
    """Input or output that cannot be used; the message names it."""


@dataclass
class Report:
    data: ReportData
    grade: Grade | None = None
    records: list[Record] = field(default_factory=list)
    min_score: float = 25.0


def resolve_inputs(paths: Sequence[str | Path]) -> tuple[list[Path], dict[str, Any] | None, Path | None]:
    """The log files in time order (logread.order_files), the manifest (a run folder's) and the
    folder's truth file."""
    given = [Path(p) for p in paths] or [Path("output")]
    folder = given[0] if len(given) == 1 and given[0].is_dir() else None
    if folder is None and any(p.is_dir() for p in given):
        raise ReportError(f"{next(p for p in given if p.is_dir())}: a folder among other paths "
                          "(give one run folder, or log files)")
    try:
        files = logread.order_files(given)
    except logread.LogReadError as e:
        raise ReportError(str(e)) from None
    if folder is None:
        return files, None, None
    manifest_path, truth = folder / "manifest.json", folder / "anomalies.json"
    manifest = read_json(manifest_path, "manifest") if manifest_path.is_file() else None
    return files, manifest, truth if truth.is_file() else None


def build_report(paths: Sequence[str | Path], truth: str | Path | dict[str, Any] | None = None,
                 records: Iterable[Record] | None = None, jobs: Sequence[str] | None = None,
                 min_score: float = 25.0, bucket: str | None = None, format: str | None = None,
                 log_format: str | None = None) -> Report:
    """Read the logs at ``paths`` and count what the report draws.

    ``truth`` is an anomalies.json (a path, or its content; default: the run folder's).
    ``records`` are ML anomaly records (synth.analysis.score.parse_records); they are graded
    for ``jobs`` (default: every job they name). ``bucket`` is one of BUCKETS (default: the
    smallest that keeps a run's range under 2,500 buckets; 5m for logs without a manifest).
    """
    files, manifest, truth_path = resolve_inputs(paths)
    truth_data: dict[str, Any] | None
    if isinstance(truth, dict):
        truth_data = check_truth(truth, "truth")
    else:
        source = Path(truth) if truth is not None else truth_path
        if source is not None and source.is_dir():
            source = source / "anomalies.json"
        truth_data = check_truth(read_json(source, "anomalies.json"), str(source)) if source is not None else None
    if bucket is not None and bucket not in BUCKETS:
        raise ReportError(f"bucket must be one of {', '.join(BUCKETS)}, not {bucket!r}")
    range_ms = (int(manifest["start_ms"]), int(manifest["end_ms"])) if manifest and "start_ms" in manifest else None
    if manifest and not format and not log_format:
        options = manifest.get("scenario") or {}
        format, log_format = options.get("format"), options.get("log_format")
    report_page.start_bundle()
    try:
        data = collect(read_columns(files, format, log_format), truth_data, bucket,
                       [str(f) for f in files], manifest, range_ms)
    except logread.LogReadError as e:
        raise ReportError(str(e)) from None
    result = Report(data, min_score=min_score)
    if records is not None:
        if truth_data is None:
            raise ReportError("ML records need the truth to be graded against (--truth anomalies.json)")
        result.records = list(records)
        graded = list(jobs) if jobs else list(dict.fromkeys(r.job_id for r in result.records))
        try:
            result.grade = grade(result.records, truth_data, graded, min_score)
        except ScoreError as e:
            raise ReportError(str(e)) from None
    return result


COLUMNS = ("t_ms", "client", "target", "status", "bytes", "agent", "duration_us")


def read_columns(files: Sequence[Path], format: str | None, log_format: str | None) -> Iterator[Columns]:
    """The parsed lines of ``files`` (synth.analysis.logread) as Columns, batch by batch."""
    for batch in logread.read_log(files, format=format, log_format=log_format, columns=COLUMNS):
        keep = batch.parsed
        n = int(np.count_nonzero(keep))
        first_unparsed = None
        if n < len(batch):
            first_unparsed = f"{batch.path}:{batch.first_line + int(np.argmin(keep))}"

        yield Columns(t_ms=batch.t_ms[keep], client=_column(batch, "client", keep, b"-"),
                      target=_column(batch, "target", keep, b"-"), status=_column(batch, "status", keep, -1),
                      bytes=_column(batch, "bytes", keep, -1), agent=_column(batch, "agent", keep, b"-"),
                      duration_us=_column(batch, "duration_us", keep, -1), lines=len(batch), unparsed=len(batch) - n,
                      first_unparsed=first_unparsed)


def _column(batch: logread.Batch, name: str, keep: np.ndarray, default: bytes | int) -> np.ndarray:
    values = getattr(batch, name)
    if values is None:  # the format has no such field
        n = int(np.count_nonzero(keep))
        return np.full(n, default, object) if isinstance(default, bytes) else np.full(n, default, np.int64)
    return values[keep]


def write_report(report: Report, path: str | Path, width: int = report_page.DEFAULT_WIDTH,
                 height: int | None = None) -> Path:
    """Write the page (.html) or an image (.png, .svg) of ``report`` to ``path``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ReportError(f"{path}: the name must end in {', '.join(SUFFIXES)}")
    args = (report.data, report.grade, report.records, report.min_score)
    if suffix == ".html":
        content: bytes = report_page.page_html(*args).encode("utf-8")
    elif suffix == ".svg":
        content = report_page.svg_image(*args, width=width, height=height).encode("utf-8")
    else:
        content = report_page.png_image(*args, width=width, height=height)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"cannot write {path}: {e.strerror or e}") from None
    return path
