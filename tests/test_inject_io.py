"""synth inject's input and output: the bytes do not depend on how the input is cut into blocks
(stretches nothing touches are copied, not re-read); every format synth writes is injected and
undone exactly; a gzip file nothing touches is copied as it is and one that is touched is
written the same way twice; a log that grows while inject runs is copied as it was read; and a
broken input is refused before anything is written."""

from __future__ import annotations

import datetime as dt
import errno
import gzip
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from test_inject import read_plain, undo

import synth
from synth.analysis.logread import read_log
from synth.cli import main
from synth.run import injectread, injectwrite
from synth.run.inject import inject

END = dt.datetime(2026, 11, 27, 9, 0, 0, tzinfo=dt.UTC)
# No test here measures a metric: a rate that leaves every kind lines to change, and the
# combined files several of the 1 MB blocks the block-size test reads them in.
QUIET = {"days": 3, "rate": 0.3, "anomalies": []}
CUSTOM = '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i" %D %{Host}i'
# What each format is injected with: every kind it can carry that rewrites or adds lines.
FORMATS = {
    "ecs_json": ["error_burst", "latency", "spike", "crowd"],
    "nginx_combined": ["error_burst", "scan", "flood:start=+1d3h"],
    "vhost_combined": ["error_burst", "new_agent", "dip:magnitude=0"],
    "common": ["error_burst", "bytes", "spike:start=+1d"],
    "custom": ["latency", "error_burst", "spike:start=+1d"],
}


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    """Three days of a small site with no anomaly, in combined, in each format of FORMATS and
    in a LogFormat of our own (with %D and the Host header)."""
    out = {}
    for name in ("combined", *FORMATS):
        out[name] = tmp_path_factory.mktemp(f"log-{name}")
        fmt = {"log_format": CUSTOM} if name == "custom" else {"format": name}
        synth.generate({**QUIET, **fmt}, seed=202, out_dir=out[name], end=END, workers=1)
    return out


def _files(folder: Path) -> list[Path]:
    return [folder / f["name"] for f in json.loads((folder / "manifest.json").read_text())["files"]]


def _originals(folder: Path) -> dict[str, bytes]:
    return {p.name: read_plain(p) for p in _files(folder)}


def test_output_does_not_depend_on_the_block_size(logs, tmp_path, monkeypatch):
    """Read in blocks of 1 MB (files of several blocks, the first change deep in a file, the
    blocks before it copied and hashed from the first pass), the output is byte for byte the
    output of the default 16 MB blocks, the manifest's sizes and sha256 are the files', and the
    undo gives the input back."""
    asked = ["spike:magnitude=4,minutes=20", "dip:magnitude=0.3,start=+1d2h", "error_burst:start=+2d9h"]
    inject([logs["combined"]], out_dir=tmp_path / "big", anomalies=asked, seed=9)
    monkeypatch.setattr(injectread, "BLOCK_BYTES", 1 << 20)
    inject([logs["combined"]], out_dir=tmp_path / "small", anomalies=asked, seed=9)
    for name in ("anomalies.json", "injected.jsonl", *(p.name for p in _files(logs["combined"]))):
        assert (tmp_path / "small" / name).read_bytes() == (tmp_path / "big" / name).read_bytes(), name
    records = json.loads((tmp_path / "small" / "manifest.json").read_text())["files"]
    for record in records:
        data = (tmp_path / "small" / record["name"]).read_bytes()
        assert record["bytes"] == len(data) and record["sha256"] == hashlib.sha256(data).hexdigest()
        assert record["lines"] == data.count(b"\n") + (not data.endswith(b"\n"))
    assert undo(tmp_path / "small") == _originals(logs["combined"])
    ops = [json.loads(line) for line in (tmp_path / "small" / "injected.jsonl").read_text().splitlines()]
    assert len({op["file"] for op in ops}) >= 2  # changes in more than one file, some deep in it

    def no_kernel_copy(*args):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(injectwrite.os, "copy_file_range", no_kernel_copy)  # copied through Python instead
    inject([logs["combined"]], out_dir=tmp_path / "copied", anomalies=asked, seed=9)
    for name in ("injected.jsonl", "manifest.json", *(p.name for p in _files(logs["combined"]))):
        if name != "manifest.json":
            assert (tmp_path / "copied" / name).read_bytes() == (tmp_path / "big" / name).read_bytes(), name


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_is_injected_and_undone(logs, tmp_path, monkeypatch, name):
    """Each format synth writes (and a LogFormat of the user's own) takes the kinds it can carry:
    every output line is a line of the format, every change is counted in injected.jsonl, and
    the undo gives the input's bytes back."""
    monkeypatch.setattr(injectread, "BLOCK_BYTES", 1 << 20)
    fmt = {"log_format": CUSTOM} if name == "custom" else {}  # the built-in formats are detected
    out = tmp_path / "out"
    run = inject([logs[name]], out_dir=out, anomalies=FORMATS[name], seed=4, **fmt)
    assert run.format == name
    read_as = {"log_format": CUSTOM} if name == "custom" else {"format": name}
    # Whether a line parses does not depend on the columns asked for (past the times-only fast
    # path, which a second column keeps out of); the test reads only the times.
    batches = list(read_log(_files(out), columns=("t_ms", "status"), **read_as))
    assert all(b.parsed.all() for b in batches), name
    ops = [json.loads(line) for line in (out / "injected.jsonl").read_text().splitlines()]
    done = {kind: sum(label["injected"].values()) for kind, label in
            ((label["kind"], label) for label in run.truth["anomalies"])}
    assert all(done.values()), done  # every kind changed something
    assert len(ops) == run.added + run.removed + run.rewritten
    assert undo(out) == _originals(logs[name])
    if "dip:magnitude=0" in FORMATS[name]:  # an outage: not one line left in the window
        (dip,) = [w for w in run.windows if w.kind == "dip"]
        t = np.concatenate([b.t_ms for b in batches]) // 1000
        assert not ((t >= dip.start) & (t < dip.end)).any()
        assert run.removed > 0


def _gzip_set(folder: Path, src: Path) -> None:
    """The three days as logrotate leaves them: the oldest two gzipped, the newest plain."""
    files = _files(src)
    folder.mkdir()
    for i, path in enumerate(files[:2]):
        (folder / f"access.log.{2 - i}.gz").write_bytes(gzip.compress(path.read_bytes(), mtime=1_700_000_000 + i))
    (folder / "access.log").write_bytes(b"".join(p.read_bytes() for p in files[2:]))


def test_gzip_untouched_is_copied_and_touched_is_written_the_same_way_twice(logs, tmp_path):
    """A gzip file no anomaly reaches is copied as it is (its compressed bytes); one that is
    touched is compressed again with its own header time, so the same input and seed write the
    same bytes; the manifest hashes the files as written."""
    src = tmp_path / "logs"
    _gzip_set(src, logs["combined"])
    first = json.loads((logs["combined"] / "manifest.json").read_text())["start_ms"] // 1000
    asked = [f"spike:start={dt.datetime.fromtimestamp(first + 86400 + 3600 * 10, dt.UTC):%Y-%m-%dT%H:%M:%SZ}"]
    for out in ("a", "b"):
        inject([src], out_dir=tmp_path / out, anomalies=asked, seed=2)
    assert (tmp_path / "a" / "access.log.2.gz").read_bytes() == (src / "access.log.2.gz").read_bytes()
    touched = (tmp_path / "a" / "access.log.1.gz").read_bytes()
    assert touched != (src / "access.log.1.gz").read_bytes() and touched[:2] == b"\x1f\x8b"
    assert touched[4:8] == (src / "access.log.1.gz").read_bytes()[4:8]  # the input's header time
    for name in ("access.log.2.gz", "access.log.1.gz", "access.log", "injected.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    for record in json.loads((tmp_path / "a" / "manifest.json").read_text())["files"]:
        data = (tmp_path / "a" / record["name"]).read_bytes()
        assert record["sha256"] == hashlib.sha256(data).hexdigest() and record["bytes"] == len(data)
    assert undo(tmp_path / "a") == {p.name: read_plain(p) for p in src.iterdir()}


def test_a_log_that_grows_meanwhile_is_copied_as_it_was_read(logs, tmp_path):
    """Lines the server appends to the live file after inject has read it are not copied (their
    times were never read): the output is the injection of the file as it was, whole."""
    src = tmp_path / "logs"
    shutil.copytree(logs["combined"], src)
    (src / "manifest.json").unlink()
    (src / "anomalies.json").unlink()
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    late = b'203.0.113.9 - - [27/Nov/2026:09:00:01 +0000] "GET /late HTTP/1.1" 200 5 "-" "curl/8.5"\n'

    def grow(stage: str) -> None:
        if stage == "writing":
            with open(src / "access.log", "ab") as fh:
                fh.write(late * 1000)

    run = inject(sorted(src.iterdir()), out_dir=tmp_path / "out", anomalies=["spike:start=+2d", "error_burst"],
                 seed=6, progress=grow)
    assert (src / "access.log").read_bytes().endswith(late)
    assert undo(tmp_path / "out") == before
    assert run.lines_in == sum(data.count(b"\n") for data in before.values())


def _refused(args, capsys, out):
    had = sorted(p.name for p in out.iterdir()) if out.exists() else None
    with pytest.raises(SystemExit) as exit_info:
        main(["inject", *map(str, args), "--out", str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert (sorted(p.name for p in out.iterdir()) if out.exists() else None) == had  # nothing written
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_broken_input_and_the_input_folder_are_refused(logs, tmp_path, capsys):
    """A gzip file cut short, and --out naming the input's own folder: one line, exit 2,
    nothing written."""
    src = tmp_path / "logs"
    _gzip_set(src, logs["combined"])
    data = (src / "access.log.1.gz").read_bytes()
    (src / "access.log.1.gz").write_bytes(data[:len(data) // 2])
    err = _refused([src, "--anomaly", "spike"], capsys, tmp_path / "never")
    assert "access.log.1.gz: not a readable gzip file" in err
    err = _refused([src / "access.log", "--anomaly", "spike"], capsys, src)
    assert "holds the input: the input is never changed in place" in err


def test_a_scenario_by_name_is_injected(logs, tmp_path, capsys):
    """--scenario takes a built-in scenario's anomalies (errors: a 20-minute burst of 503s)."""
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["inject", str(logs["combined"]), "--scenario", "errors", "--seed", "7", "--out", str(out), "-q"])
    assert exit_info.value.code == 0
    (label,) = json.loads((out / "anomalies.json").read_text())["anomalies"]
    assert label["kind"] == "error_burst" and label["minutes"] == 20 and label["params"]["status"] == 503
    assert label["injected"]["rewritten"] > 0


def test_bench_inject_reports_consistent_figures(tmp_path, capsys):
    """`synth bench --inject --json`: figures that agree with each other (no timing asserted),
    the stages adding up to the run, the load said, nothing left behind; a mistyped anomaly is
    refused before anything is written."""
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--inject", "--lines", "30000", "--repeat", "1", "--anomaly", "spike:magnitude=3",
              "--dir", str(tmp_path), "--json"])
    assert exit_info.value.code == 0
    assert list(tmp_path.iterdir()) == []
    bench = json.loads(capsys.readouterr().out)
    assert abs(bench["lines"] - 30_000) < 3_000 and bench["bytes"] > 100 * bench["lines"]
    assert bench["lines_per_s"] == pytest.approx(bench["lines"] / bench["seconds"])
    assert bench["mb_per_s"] == pytest.approx(bench["bytes"] / bench["seconds"] / 1e6)
    assert list(bench["stages"]) == ["setup", "reading times", "learning the log's mix", "drawing the anomalies",
                                     "writing"]
    assert sum(bench["stages"].values()) == pytest.approx(bench["seconds"])
    assert bench["added"] > 0 and bench["anomalies"] == ["spike:magnitude=3"] and len(bench["load"]) == 3
    assert "core" in bench["cpu"]
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--inject", "--anomaly", "wave", "--dir", str(tmp_path)])
    assert exit_info.value.code == 2 and "--anomaly" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_log_cut_short_meanwhile_is_refused(logs, tmp_path, capsys):
    """A file truncated after inject has read it (logrotate's copytruncate, say) is not copied
    as if it were whole: one line naming it, exit status 2."""
    src = tmp_path / "logs"
    src.mkdir()
    for path in _files(logs["combined"]):
        shutil.copy(path, src / path.name)
    live = src / "access.log"

    def cut(stage: str) -> None:
        if stage == "writing":
            live.write_bytes(live.read_bytes()[:1000])

    with pytest.raises(synth.ScenarioError, match="access.log: changed since it was read"):
        inject([src], out_dir=tmp_path / "out", anomalies=["spike"], seed=6, progress=cut)
