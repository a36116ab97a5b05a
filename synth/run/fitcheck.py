"""``synth fit --check``: the round trip. Generate the fitted scenario over the input's range in
the input's own format, profile both logs the same way (``synth profile`` for combined and
common, ``synth.analysis.fitprofile`` for any other format), and judge each figure against its
band; a figure the format cannot carry is shown with the reason and not judged.

A log with gaps is compared over its covered time: the twin has the site's full traffic, so
its lines outside the input's sampled minutes and gaps are left out before it is profiled.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.analysis.fit import Coverage, Fit, FitError
from synth.analysis.fitagents import agent_figures
from synth.analysis.fitprofile import missing, profile_columns
from synth.analysis.fitread import Columns, read_columns
from synth.analysis.logread import LogReadError, parse_apache_times, reader_columns
from synth.analysis.profile import Profile, ProfileError, profile_log, profile_parsed
from synth.analysis.twin import Row, compare, table_lines, unjudged
from synth.render.formats import line_format
from synth.render.lines import FormatError
from synth.run.generate import generate

PROFILED_FORMATS = ("combined", "common")


@dataclass
class Check:
    rows: list[Row]
    input: Profile
    twin: Profile
    twin_lines: int

    @property
    def ok(self) -> bool:
        return all(r.ok is not False for r in self.rows)

    def lines(self) -> list[str]:
        return table_lines(self.rows)


def _stamps(lines: list[bytes]) -> np.ndarray:
    """The %t text (26 bytes) of each of our own combined or common lines."""
    return np.array([line[line.index(b"[") + 1:line.index(b"[") + 27] for line in lines], "S26")


def covered_mask(utc: np.ndarray, cov: Coverage) -> np.ndarray:
    """Which of these times (epoch seconds) fall in the covered time of ``cov``."""
    keep_minutes = np.zeros(60, bool)
    keep_minutes[list(cov.minutes)] = True
    hour = utc // 3600 - cov.start // 3600
    inside = (utc >= cov.start) & (utc < cov.end) & (hour >= 0) & (hour < len(cov.hours))
    inside[inside] &= cov.hours[hour[inside]] > 0
    return inside & keep_minutes[(utc // 60) % 60]


def covered_copy(files: list[Path], cov: Coverage, out: Path) -> int:
    """Write the combined or common lines of ``files`` that fall in the covered time of ``cov``
    to ``out``; their count."""
    kept = 0
    with open(out, "wb") as fh:
        for path in files:
            lines = [line for line in path.read_bytes().split(b"\n") if line]
            if not lines:
                continue
            inside = covered_mask(parse_apache_times(_stamps(lines))["utc"], cov)
            chosen = [line for line, k in zip(lines, inside.tolist()) if k]
            if chosen:
                fh.write(b"\n".join(chosen) + b"\n")
            kept += len(chosen)
    return kept


def read_options(fit: Fit) -> dict[str, str | None]:
    """How the fitted log was read (and its twin is written): its built-in format, or its
    Apache LogFormat or nginx log_format string, as the scenario names it."""
    s = fit.scenario
    return {"format": s.get("format", "combined") if "log_format" not in s and "nginx_log_format" not in s else None,
            "log_format": s.get("log_format"), "nginx_log_format": s.get("nginx_log_format")}


def _read(paths: Iterable[str | Path], options: dict[str, str | None], keep_parsed: bool = False) -> Columns:
    return read_columns(paths, options["format"], options["log_format"], options["nginx_log_format"],
                        keep_parsed=keep_parsed)


def check_fit(paths: Iterable[str | Path], fit: Fit, *, seed: int = 1, workers: int | None = None) -> Check:
    """Generate ``fit``'s scenario (without anomalies) over the input's range, in the input's own
    format, and compare the profile of the input with that of the twin.

    Combined and common logs are profiled by ``synth profile`` itself; any other format by
    ``synth.analysis.fitprofile`` (synth profile's rules on synth fit's reader), both logs the
    same way. A figure the format cannot carry is shown with the reason and not judged."""
    paths = [Path(p) for p in paths]
    options = read_options(fit)
    try:
        carries = frozenset(reader_columns(line_format(options["format"], options["log_format"],
                                                       options["nginx_log_format"])))
    except (FormatError, LogReadError) as e:
        raise FitError(f"the fitted scenario's format: {e}") from None
    apache = options["format"] in PROFILED_FORMATS
    scenario = {key: value for key, value in fit.scenario.items() if key != "anomalies"}
    scenario["anomalies"] = []
    work = Path(tempfile.mkdtemp(prefix="synth-fit-check-"))
    try:
        run = generate(scenario, seed=seed, out_dir=work / "twin", force=True, workers=workers)
        files = [work / "twin" / f.name for f in run.files]
        cov = fit.coverage
        whole = not cov.sampled and not cov.gaps
        hours = max(cov.seconds / 3600, 1e-9)
        twin_cols = _read(files, options, keep_parsed=whole) if fit.agents or not apache else None
        keep = None if whole or twin_cols is None else covered_mask(twin_cols.utc, cov)
        if apache:
            twin_files, twin_lines = files, run.lines
            if not whole:
                twin_files = [work / "covered.log"]
                twin_lines = covered_copy(files, cov, twin_files[0])
            try:
                source = profile_log(paths)
                parsed = twin_cols.parsed if twin_cols is not None else None
                if parsed is not None and parsed.files == tuple(map(str, twin_files)):
                    twin = profile_parsed(parsed)
                else:
                    twin = profile_log(twin_files)
            except ProfileError as e:
                raise FitError(str(e)) from None
        else:
            assert twin_cols is not None
            source = profile_columns(_read(paths, options))
            twin = profile_columns(twin_cols, keep)
            twin_lines = twin.profiled
        rate = (source.profiled / hours, twin.profiled / hours)
        agents = None
        if fit.agents and twin_cols is not None:
            c = twin_cols
            k = np.ones(len(c.utc), bool) if keep is None else keep
            agents = (fit.agents, {} if c.agent is None else
                      agent_figures(c.client[k], c.agent[k], c.bot[k], c.agents))
        rows = unjudged(compare(source, twin, rate, agents), lambda figure: missing(figure, carries))
        return Check(rows, source, twin, twin_lines)
    finally:
        shutil.rmtree(work, ignore_errors=True)


__all__ = ["Check", "check_fit", "covered_copy", "covered_mask", "read_options"]
