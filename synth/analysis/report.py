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

from synth.analysis import report_page
from synth.analysis.report_data import (
    BUCKETS,
    Columns,
    ReportData,
    ReportDataError,
    check_truth,
    collect,
    read_json,
    run_files,
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
    """The log files in time order, the manifest (a run folder's) and the folder's truth file."""
    given = [Path(p) for p in paths] or [Path("output")]
    if len(given) == 1 and given[0].is_dir():
        folder = given[0]
        try:
            files, manifest = run_files(folder)
        except ReportDataError as e:
            raise ReportError(str(e)) from None
        truth = folder / "anomalies.json"
        return files, manifest, truth if truth.is_file() else None
    for p in given:
        if p.is_dir():
            raise ReportError(f"{p}: a folder, among other paths (give one run folder, or log files)")
        if not p.is_file():
            raise ReportError(f"{p}: no such file")
    return given, None, None


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
    data = collect(read_columns(files, format, log_format), truth_data, bucket,
                   [str(f) for f in files], manifest, range_ms)
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


def read_columns(files: Sequence[Path], format: str | None, log_format: str | None) -> Iterator[Columns]:
    """The parsed lines of ``files`` as Columns, batch by batch."""
    from synth.analysis import profile
    timing = profile.LINE_RE
    tail = profile.re.compile(rb'" ([0-9]+)$')
    for path in files:
        line_number = 0
        for block in profile._read_blocks(path):
            rows = block.split(b"\n")
            matches = [timing.fullmatch(row) for row in rows]
            groups = [(*m.groups(b""), (lambda d: d.group(1) if d else b"")(tail.search(m.group(0))))
                      for m in matches if m is not None]
            n = len(groups)
            cols = list(zip(*groups)) if groups else [()] * 8
            written = np.array(cols[1], "S26")
            clock = profile._parse_times(written)
            valid = clock["valid"]
            requests = [r.split(b" ") for r in cols[2]]
            targets = np.empty(n, object)
            targets[:] = [r[1] if len(r) > 1 else r[0] for r in requests]
            clients = np.empty(n, object)
            clients[:] = list(cols[0])
            agents = np.empty(n, object)
            agents[:] = [a[1:-1] for a in cols[6]]
            status = np.array([int(s) for s in cols[3]], np.int64)
            size = np.array([0 if s == b"-" else int(s) for s in cols[4]], np.int64)
            duration = np.array([int(d) if d else -1 for d in cols[7]], np.int64)
            bad = len(rows) - int(valid.sum())
            first_bad = None
            if bad:
                first_bad = f"{path}:{line_number + 1 + next(i for i, m in enumerate(matches) if m is None)}" \
                    if any(m is None for m in matches) else f"{path}:{line_number + 1}"
            line_number += len(rows)
            yield Columns(t_ms=clock["utc"][valid] * 1000, client=clients[valid], target=targets[valid],
                          status=status[valid], bytes=size[valid], agent=agents[valid],
                          duration_us=duration[valid], lines=len(rows), unparsed=bad, first_unparsed=first_bad)


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
