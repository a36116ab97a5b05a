"""``synth fit --check``: the round trip. Generate the fitted scenario over the input's range,
profile both logs with ``synth profile``, and judge each figure against its band.

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
from synth.analysis.fitread import read_columns
from synth.analysis.logread import parse_apache_times
from synth.analysis.profile import Profile, ProfileError, profile_log
from synth.analysis.twin import Row, compare, table_lines
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


def covered_copy(files: list[Path], cov: Coverage, out: Path) -> int:
    """Write the lines of ``files`` that fall in the covered time of ``cov`` to ``out``; their count."""
    keep_minutes = np.zeros(60, bool)
    keep_minutes[list(cov.minutes)] = True
    first_hour = cov.start // 3600
    kept = 0
    with open(out, "wb") as fh:
        for path in files:
            lines = path.read_bytes().split(b"\n")
            lines = [line for line in lines if line]
            if not lines:
                continue
            utc = parse_apache_times(_stamps(lines))["utc"]
            hour = utc // 3600 - first_hour
            inside = (utc >= cov.start) & (utc < cov.end) & (hour >= 0) & (hour < len(cov.hours))
            inside[inside] &= cov.hours[hour[inside]] > 0
            inside &= keep_minutes[(utc // 60) % 60]
            chosen = [line for line, k in zip(lines, inside.tolist()) if k]
            if chosen:
                fh.write(b"\n".join(chosen) + b"\n")
            kept += len(chosen)
    return kept


def check_fit(paths: Iterable[str | Path], fit: Fit, *, seed: int = 1, workers: int | None = None) -> Check:
    """Generate ``fit``'s scenario (without anomalies) over the input's range and compare the
    ``synth profile`` of the input with that of the twin. Raises FitError where the input is not
    a format ``synth profile`` reads."""
    paths = [Path(p) for p in paths]
    fmt = fit.scenario.get("format", "combined")
    if fmt not in PROFILED_FORMATS or "log_format" in fit.scenario:
        raise FitError(f"--check compares synth profile figures, and synth profile reads combined and common "
                       f"logs; this log is {fmt}")
    scenario = {key: value for key, value in fit.scenario.items() if key != "anomalies"}
    scenario["anomalies"] = []
    work = Path(tempfile.mkdtemp(prefix="synth-fit-check-"))
    try:
        run = generate(scenario, seed=seed, out_dir=work / "twin", force=True, workers=workers)
        files = [work / "twin" / f.name for f in run.files]
        cov = fit.coverage
        whole = not cov.sampled and not cov.gaps
        if whole:
            twin_files, twin_lines = files, run.lines
        else:
            twin_files = [work / "covered.log"]
            twin_lines = covered_copy(files, cov, twin_files[0])
        try:
            source = profile_log(paths)
            twin = profile_log(twin_files)
        except ProfileError as e:
            raise FitError(str(e)) from None
        hours = max(cov.seconds / 3600, 1e-9)
        rate = (source.profiled / hours, twin.profiled / hours)
        agents = None
        if fit.agents:
            cols = read_columns(twin_files, fmt)
            agents = (fit.agents, {} if cols.agent is None else
                      agent_figures(cols.client, cols.agent, cols.bot, cols.agents))
        return Check(compare(source, twin, rate, agents), source, twin, twin_lines)
    finally:
        shutil.rmtree(work, ignore_errors=True)


__all__ = ["Check", "check_fit", "covered_copy"]
