"""synth inject: anomalies of every kind inside a log synth wrote without any, measured from the
output files alone; the injection undone from injected.jsonl gives the input's bytes back;
real tools read the result; and what inject refuses, it refuses before writing anything."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from logread import Parsed
from test_anomalies import METRICS, departure, per_bucket

import synth
from synth.cli import main
from synth.generate.scenario import KINDS, ScenarioError
from synth.run.inject import inject

END = dt.datetime(2026, 11, 27, 9, 0, 0, tzinfo=dt.UTC)
QUIET = {"days": 3, "rate": 0.6, "anomalies": []}
SMALL = {**QUIET, "rate": 0.2}  # for the tests that measure no metric: a third of the lines
GOACCESS_PANELS = ("VISITORS", "REQUESTS", "REQUESTS_STATIC", "NOT_FOUND", "HOSTS", "OS", "BROWSERS", "VISIT_TIMES",
                   "VIRTUAL_HOSTS", "REFERRERS", "REFERRING_SITES", "KEYPHRASES", "STATUS_CODES", "REMOTE_USER",
                   "CACHE_STATUS", "GEO_LOCATION", "MIME_TYPE", "TLS_TYPE")


@pytest.fixture(scope="module")
def quiet(tmp_path_factory):
    """Three days of a small site with no anomaly at all, in combined and combined_timing
    (the same requests: only the response time is added)."""
    out = {}
    for fmt in ("combined", "combined_timing"):
        out[fmt] = tmp_path_factory.mktemp(f"quiet-{fmt}")
        synth.generate({**QUIET, "format": fmt}, seed=101, out_dir=out[fmt], end=END, workers=1)
    return out


def _format_for(kind):
    return "combined_timing" if kind == "latency" else "combined"


@pytest.fixture(scope="module", params=sorted(KINDS))
def injected(request, quiet, tmp_path_factory):
    kind = request.param
    source = quiet[_format_for(kind)]
    out = tmp_path_factory.mktemp(f"injected-{kind}")
    run = inject([source], out_dir=out, anomalies=[kind], seed=11, force=True)
    return kind, source, out, run


@pytest.fixture(scope="module")
def before(quiet):
    """The quiet input of each format, parsed once."""
    return {fmt: Parsed.read(out) for fmt, out in quiet.items()}


@pytest.fixture(scope="module")
def after(injected, before):
    """The injected output, parsed once per kind (asserts every line is of the format)."""
    kind, source, out, run = injected
    return spliced(before[_format_for(kind)], source, out)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Three days of the same small site at a third of the rate, in combined: for the tests
    that count no metric (rotation, placement, refusals, the command's output)."""
    out = tmp_path_factory.mktemp("small")
    synth.generate({**SMALL, "format": "combined"}, seed=101, out_dir=out, end=END, workers=1)
    return out


def member(column: np.ndarray, values) -> np.ndarray:
    """np.isin for a column of text: a set lookup per row (isin sorts Python objects)."""
    wanted = set(values)
    return np.fromiter((v in wanted for v in column), bool, len(column))


def read_plain(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _records(folder: Path) -> list[dict]:
    return json.loads((folder / "manifest.json").read_text())["files"]


def spliced(before: Parsed, source: Path, out: Path) -> Parsed:
    """The output as Parsed.read(out) gives it, with only the lines injected.jsonl added or
    rewrote parsed from the output's text: the undo (asserted here) gives the input's bytes
    back, so every other output line is an input line, and its columns are ``before``'s."""
    assert undo(out) == {f["name"]: (source / f["name"]).read_bytes() for f in _records(source)}
    ops = [json.loads(line) for line in (out / "injected.jsonl").read_text().splitlines()]
    counts = [(source / f["name"]).read_bytes().count(b"\n") for f in _records(source)]
    first_in = dict(zip((f["name"] for f in _records(source)), np.cumsum([0, *counts])))
    taken, changed, texts = [], [], []  # per output line: the input line it is, or -1 (changed)
    for f in _records(out):
        name, mine = f["name"], [op for op in ops if op["file"] == f["name"]]
        lines = read_plain(out / name).splitlines(keepends=True)
        n_in = (source / name).read_bytes().count(b"\n")
        added = np.array([op["line"] - 1 for op in mine if op["op"] == "add"], np.int64)
        removed = np.array([op["line"] - 1 for op in mine if op["op"] == "remove"], np.int64)
        rewritten = np.array([op["line"] - 1 for op in mine if op["op"] == "rewrite"], np.int64)
        source_line = np.full(len(lines), -1, np.int64)
        source_line[np.setdiff1d(np.arange(len(lines)), added)] = first_in[name] + np.setdiff1d(np.arange(n_in), removed)
        source_line[rewritten] = -1
        texts.extend(lines[i] for i in np.flatnonzero(source_line < 0).tolist())
        changed.append(source_line < 0)
        taken.append(source_line)
    source_line, is_changed = np.concatenate(taken), np.concatenate(changed)
    new = Parsed.parse(b"".join(texts).decode("ascii"))  # asserts each changed line is of the format
    columns = []
    for name in ("t", "client", "url", "status", "size", "referrer", "agent", "duration"):
        kept, fresh = getattr(before, name), getattr(new, name)
        column = np.empty(len(source_line), kept.dtype)
        column[~is_changed] = kept[source_line[~is_changed]]
        column[is_changed] = fresh
        columns.append(column)
    return Parsed(*columns)


def undo(out: Path) -> dict[str, bytes]:
    """Each output file with its injection undone from injected.jsonl alone: added lines taken
    out, rewritten ones given their text back, removed ones put back at their line numbers."""
    ops = [json.loads(line) for line in (out / "injected.jsonl").read_text().splitlines()]
    files = [f["name"] for f in json.loads((out / "manifest.json").read_text())["files"]]
    restored = {}
    for name in files:
        lines = read_plain(out / name).splitlines(keepends=True)
        mine = [op for op in ops if op["file"] == name]
        for op in mine:
            if op["op"] == "rewrite":
                old = lines[op["line"] - 1]
                lines[op["line"] - 1] = op["text"].encode("utf-8", "surrogateescape") + old[len(old.rstrip(b"\n")):]
        added = {op["line"] for op in mine if op["op"] == "add"}
        lines = [line for number, line in enumerate(lines, 1) if number not in added]
        for op in sorted((op for op in mine if op["op"] == "remove"), key=lambda op: op["line"]):
            lines.insert(op["line"] - 1, op["text"].encode("utf-8", "surrogateescape") + b"\n")
        restored[name] = b"".join(lines)
    return restored


@pytest.mark.slow
def test_kind_departs_inside_and_nowhere_else(injected, after):
    """The watched metric, from the output files alone, departs from the same window on the
    other days by the kind's factor inside the window, and nowhere else by as much."""
    kind, source, out, run = injected
    parsed = after
    window = run.windows[0]
    start = json.loads((out / "manifest.json").read_text())["start_ms"] // 1000
    start -= start % 86400  # buckets on the log's clock
    if kind == "new_agent":
        (agent,) = run.truth["anomalies"][0]["affected"]["values"]
        mine = parsed.agent == agent
        assert mine.sum() == pytest.approx(window.magnitude * window.minutes, rel=0.1)
        assert ((parsed.t[mine] >= window.start) & (parsed.t[mine] < window.end)).all()
        return
    metric, span, factor, direction = METRICS[kind]
    values = per_bucket(parsed, start, span, metric)
    per_day = 86400 // span
    inside = [b for b in range((window.start - start) // span, (window.end - 1 - start) // span + 1)
              if window.start <= start + b * span and start + (b + 1) * span <= window.end] or \
             [(window.start - start) // span]
    best_inside = max(departure(values, b, per_day, direction) or 0 for b in inside)
    assert best_inside >= factor, (kind, best_inside)
    touched = set(range((window.start - start) // span - 1, (window.end - start) // span + 2))
    outside = [departure(values, b, per_day, direction) for b in values if b not in touched]
    assert max(d for d in outside if d is not None) < factor, kind


@pytest.mark.slow
def test_expected_is_what_the_files_show(injected, after, before):
    """anomalies.json's expected figure for the watched metric is what the output shows inside
    the window, its baseline what the input shows there, and the window leaves two days of the
    log's history before it."""
    kind, source, out, run = injected
    (label,) = json.loads((out / "anomalies.json").read_text())["anomalies"]
    assert label["kind"] == kind and label["jobs"] and label["start_ms"] == run.windows[0].start * 1000
    first = json.loads((source / "manifest.json").read_text())["start_ms"]
    assert label["start_ms"] - first >= 2 * 86400 * 1000 - 1000
    before = before[_format_for(kind)]
    lo, hi = label["start_ms"] // 1000, label["end_ms"] // 1000

    def inside(p):
        return (p.t >= lo) & (p.t < hi)

    during, values = label["expected"]["during"], label["affected"]["values"]
    if kind in ("spike", "dip"):
        assert inside(after).sum() == pytest.approx(during, rel=0.15)
    elif kind == "error_burst":
        assert (after.status[inside(after)] == 503).sum() == pytest.approx(during, rel=0.3, abs=5)
        assert label["injected"]["rewritten"] == (after.status[inside(after)] == 503).sum() - \
            (before.status[inside(before)] == 503).sum()
    elif kind == "latency":
        # Every response time in the window is scaled: the factor is exact; the label's baseline is
        # the mean at those hours on the other days (response times are heavy-tailed: within 2x).
        ratio = after.duration[inside(after)].mean() / before.duration[inside(before)].mean()
        assert ratio == pytest.approx(label["magnitude"], rel=0.01)
        assert during == pytest.approx(label["expected"]["baseline"] * label["magnitude"], rel=0.01)
        # %D in microseconds; the label, like the job, in event.duration nanoseconds
        assert 0.5 < before.duration[inside(before)].mean() * 1000 / label["expected"]["baseline"] < 2
    elif kind == "flood":
        mine = inside(after) & (after.client == values[0])
        assert mine.sum() == pytest.approx(during, rel=0.15)
        assert values[0] in set(before.client)  # one of the log's own visitors
    elif kind == "bytes":
        mine = inside(after) & member(after.client, values)
        assert after.size[mine].sum() == pytest.approx(during, rel=0.15)
    elif kind == "scan":
        mine = inside(after) & member(after.client, values)
        assert len(set(after.url[mine])) == pytest.approx(during, rel=0.05)
    elif kind == "crowd":
        new = member(after.referrer, values)
        assert new.sum() == pytest.approx(label["expected"]["new_clients"], rel=0.2)
        clients = set(after.client[new])
        assert not clients & set(before.client)  # strangers, with the log's own agents
        assert set(after.agent[member(after.client, clients)]) <= set(before.agent)
    elif kind == "new_agent":
        assert (after.agent == values[0]).sum() == pytest.approx(during, rel=0.1)
    if kind in ("spike", "flood", "crowd"):
        assert set(after.url[inside(after)]) <= set(before.url)  # the log's own paths


@pytest.mark.slow
def test_undo_gives_the_input_bytes_back(injected):
    """Remove the added lines, restore the removed and rewritten ones from injected.jsonl: the
    input's bytes, exactly, file by file."""
    kind, source, out, run = injected
    restored = undo(out)
    originals = {f["name"]: (source / f["name"]).read_bytes()
                 for f in json.loads((source / "manifest.json").read_text())["files"]}
    assert restored.keys() == originals.keys()
    for name in originals:
        assert restored[name] == originals[name], (kind, name)
    ops = [json.loads(line) for line in (out / "injected.jsonl").read_text().splitlines()]
    assert ops and {op["anomaly"] for op in ops} == {f"{kind}-1"}
    assert sum(op["op"] == "add" for op in ops) == run.added


@pytest.mark.slow
def test_output_lines_are_in_time_order_and_in_the_log_format(injected, after):
    """Every output line is a strict combined (or combined_timing) line, and each file's lines
    are in time order: injected lines are placed by their time."""
    kind, source, out, run = injected
    files = json.loads((out / "manifest.json").read_text())["files"]
    assert len(after.t) == sum(f["lines"] for f in files)
    # after's lines, file by file (every line ends in a newline: Parsed holds that too)
    lines = [read_plain(out / f["name"]).count(b"\n") for f in files]
    assert lines == [f["lines"] for f in files]
    for f, times in zip(files, np.split(after.t, np.cumsum(lines)[:-1])):
        assert (np.diff(times) >= 0).all(), f["name"]


def goaccess(files: list[Path], report: Path) -> dict:
    """goaccess's general figures for ``files`` read as COMBINED."""
    assert shutil.which("goaccess"), "goaccess is not installed"
    # Every line is parsed (and counted, failed or not) before any panel sees it: the panels'
    # tallies, which these tests do not read, are left out.
    panels = [f"--ignore-panel={p}" for p in GOACCESS_PANELS]
    subprocess.run(["goaccess", *map(str, files), "--log-format=COMBINED", "--no-progress", *panels, "-o", str(report)],
                   check=True, capture_output=True)
    return json.loads(report.read_text())["general"]


@pytest.fixture(scope="module")
def goaccess_read_input(quiet, tmp_path_factory):
    """goaccess on the whole combined input, once: zero failed lines, every line counted."""
    source = quiet["combined"]
    general = goaccess([source / f["name"] for f in _records(source)], tmp_path_factory.mktemp("goaccess") / "in.json")
    assert general["failed_requests"] == 0
    assert general["total_requests"] == sum(f["lines"] for f in _records(source))
    return {f["name"]: (source / f["name"]).read_bytes() for f in _records(source)}


@pytest.mark.slow
def test_goaccess_reads_every_injected_combined_output(injected, goaccess_read_input, tmp_path):
    """goaccess reads the whole injected output with zero failed lines: each file the injection
    changed is read here; every other file is, byte for byte, an input file, which goaccess
    read whole with zero failed lines."""
    kind, source, out, run = injected
    if kind == "latency":
        pytest.skip("combined_timing is not goaccess's COMBINED; the other eight kinds are combined")
    records = _records(out)
    changed = [f for f in records if (out / f["name"]).read_bytes() != goaccess_read_input.get(f["name"])]
    assert changed  # the injection changed something
    general = goaccess([out / f["name"] for f in changed], tmp_path / "report.json")
    assert general["failed_requests"] == 0
    assert general["total_requests"] == sum(f["lines"] for f in changed)


@pytest.mark.slow
def test_synth_verify_parses_every_injected_line(injected, tmp_path, capsys):
    """Every added and rewritten line goes through the bundled ingest pipeline without a failure."""
    kind, source, out, run = injected
    ops = [json.loads(line) for line in (out / "injected.jsonl").read_text().splitlines()]
    wanted = {(op["file"], op["line"]) for op in ops if op["op"] in ("add", "rewrite")}
    if not wanted:
        assert kind == "dip"
        return
    lines = []
    for name in sorted({f for f, _ in wanted}):
        for number, line in enumerate(read_plain(out / name).splitlines(), 1):
            if (name, number) in wanted:
                lines.append(line)
    sample = tmp_path / "injected.log"
    sample.write_bytes(b"".join(line + b"\n" for line in lines))
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", str(sample)])
    assert exit_info.value.code == 0, capsys.readouterr().out
    assert f"{len(lines):,} parsed, 0 failed" in capsys.readouterr().out


def test_rotated_gzip_input_is_undone_exactly(small, tmp_path):
    """A rotated set named and compressed as logrotate leaves it (access.log, access.log.1,
    access.log.2.gz), given in any order, with unparsable lines and a last line without its
    newline: the same names and compression out, the unparsed lines kept and counted, and the
    undo gives every file's bytes back."""
    files = [small / f["name"] for f in json.loads((small / "manifest.json").read_text())["files"]]
    src = tmp_path / "logs"
    src.mkdir()
    contents = [p.read_bytes() for p in files]
    oldest, middle, newest = contents[0], contents[1], b"".join(contents[2:])
    middle = middle.replace(b"\n", b"\nthis is not a log line\n", 3)
    newest = newest[:-1]
    with gzip.open(src / "access.log.2.gz", "wb") as fh:
        fh.write(oldest)
    (src / "access.log.1").write_bytes(middle)
    (src / "access.log").write_bytes(newest)
    out = tmp_path / "out"
    run = inject([src / "access.log", src / "access.log.2.gz", src / "access.log.1"], out_dir=out,
                 anomalies=["spike:magnitude=4,minutes=20", "dip:magnitude=0.3,start=+1d2h", "error_burst"], seed=3)
    assert run.unparsed == 3
    assert sorted(p.name for p in out.iterdir()) == ["access.log", "access.log.1", "access.log.2.gz", "anomalies.json",
                                                     "injected.jsonl", "manifest.json"]
    assert (out / "access.log.2.gz").read_bytes()[:2] == b"\x1f\x8b"
    restored = undo(out)
    assert restored == {"access.log.2.gz": oldest, "access.log.1": middle, "access.log": newest}
    assert b"this is not a log line\n" in read_plain(out / "access.log.1")
    assert not read_plain(out / "access.log").endswith(b"\n")


def _plain_lines(out):
    files = [f["name"] for f in json.loads((out / "manifest.json").read_text())["files"]]
    return {name: read_plain(out / name).splitlines() for name in files}


ROTATED = ["spike:magnitude=4,minutes=20", "dip:magnitude=0.3", "error_burst"]


@pytest.fixture(scope="module")
def unrotated(small, tmp_path_factory):
    """ROTATED injected without --rotate (the input's files), once for every rotation."""
    out = tmp_path_factory.mktemp("kept")
    return inject([small], out_dir=out, anomalies=ROTATED, seed=5, force=True), out, _plain_lines(out)


def test_a_cut_into_many_files_holds_few_open(tmp_path):
    """--rotate size:2KB of a small log makes hundreds of files; with at most 64 files open to
    the process, inject still writes them all, every line in one."""
    source = tmp_path / "in"
    run = synth.generate({"days": 0.1, "rate": 0.5, "anomalies": []}, seed=3, out_dir=source, end=END, workers=1)
    out = tmp_path / "cut"

    def few_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    result = subprocess.run([sys.executable, "-m", "synth", "inject", str(source), "--anomaly", "spike",
                             "--rotate", "size:2KB", "--out", str(out), "--quiet"],
                            capture_output=True, text=True, preexec_fn=few_files)
    assert result.returncode == 0, result.stderr
    files = json.loads((out / "manifest.json").read_text())["files"]
    assert len(files) > 200
    assert all(f["bytes"] <= 2048 for f in files)
    added = sum(1 for line in (out / "injected.jsonl").read_text().splitlines() if json.loads(line)["op"] == "add")
    assert sum(f["lines"] for f in files) == run.lines + added
    assert sum(len(read_plain(out / f["name"]).splitlines()) for f in files) == run.lines + added


@pytest.mark.parametrize("rotate", ["day", "hour", "none", "size:2MB"])
def test_rotate_cuts_the_output_as_generate_does(small, unrotated, tmp_path, rotate):
    """With --rotate the same lines, in the same order, are cut into generate's files (plain,
    the newest in access.log), and injected.jsonl's lines follow them there."""
    kept, kept_dir, before = unrotated
    cut = inject([small], out_dir=tmp_path / "cut", anomalies=ROTATED, seed=5, rotate=rotate)
    after = _plain_lines(tmp_path / "cut")
    assert [line for lines in after.values() for line in lines] == [line for lines in before.values() for line in lines]
    assert "access.log" in after and cut.added == kept.added
    if rotate == "day":
        assert list(after)[:-1] == [f"access.log-202611{d}" for d in (24, 25, 26)]
    if rotate.startswith("size"):
        assert all(len(b"\n".join(lines)) < 2_000_000 for lines in after.values())
    ops = [json.loads(line) for line in (tmp_path / "cut" / "injected.jsonl").read_text().splitlines()]
    same = [json.loads(line) for line in (kept_dir / "injected.jsonl").read_text().splitlines()]
    assert len(ops) == len(same)
    for op, was in zip(ops, same):
        if op["op"] == "remove":
            assert op == was
        else:
            assert after[op["file"]][op["line"] - 1] == before[was["file"]][was["line"] - 1]


def test_placement_at_a_time_and_an_offset(small, tmp_path):
    """start= places a window at a time or at an offset from the log's first line, as generate does."""
    run = inject([small], out_dir=tmp_path / "a", seed=1,
                 anomalies=["spike:start=2026-11-26T10:00:00Z,minutes=15", "scan:start=+1d6h"])
    spike, scan = run.truth["anomalies"]
    first = run.start  # the log's first line
    assert spike["start"] == "2026-11-26T10:00:00Z" and spike["minutes"] == 15
    assert scan["start_ms"] // 1000 - first == 86400 + 6 * 3600


def _refused(args, capsys, tmp_path):
    out = tmp_path / "never"
    with pytest.raises(SystemExit) as exit_info:
        main(["inject", *map(str, args), "--out", str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert not out.exists()
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_refusals_are_one_line_exit_2_nothing_written(small, tmp_path, capsys):
    """A window outside the log, a log too sparse for the kind, a format without the field the
    kind changes, an unknown or mistyped anomaly, a format that does not fit: one line, exit 2."""
    log = small
    assert "outside the log's range" in _refused([log, "--anomaly", "spike:start=2027-01-01T00:00:00Z"], capsys, tmp_path)
    assert "latency needs a response time (%D or %T) in each line, and the combined format has none" in \
        _refused([log, "--anomaly", "latency"], capsys, tmp_path)
    assert "must be > 1 for spike" in _refused([log, "--anomaly", "spike:magnitude=0.5"], capsys, tmp_path)
    assert "must be one of spike" in _refused([log, "--anomaly", "wave"], capsys, tmp_path)
    assert "expected KIND[:key=value,...]" in _refused([log, "--anomaly", "spike:magnitude"], capsys, tmp_path)
    assert "nothing to inject" in _refused([log], capsys, tmp_path)
    assert "of a sample of the input's lines are common lines" in \
        _refused([log, "--format", "common", "--anomaly", "spike"], capsys, tmp_path)
    sparse = tmp_path / "sparse"
    sparse.mkdir()
    lines = [f'198.51.100.{i % 200} - - [{25 + i // 24:02d}/Nov/2026:{i % 24:02d}:00:00 +0000] "GET /p{i} HTTP/1.1" 200 '
             f'{100 + i} "-" "Mozilla/5.0"\n' for i in range(72)]
    (sparse / "access.log").write_text("".join(lines))
    err = _refused([sparse / "access.log", "--anomaly", "spike", "--format", "combined"], capsys, tmp_path)
    assert "spike needs at least 20 there to be measurable" in err and "lines/s" in err
    junk = tmp_path / "junk.log"
    junk.write_text("hello\nworld\n")
    assert "no built-in format parses any of the first 2 lines" in _refused([junk, "--anomaly", "spike"], capsys, tmp_path)


def test_out_holding_other_files_is_refused(small, tmp_path, capsys):
    """--out follows generate's folder rules: a folder with files synth did not write is refused."""
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ScenarioError, match="holds files synth did not write"):
        inject([small], out_dir=out, anomalies=["spike"], seed=1)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_cli_prints_each_window_and_the_input_rate(small, tmp_path, capsys):
    """The command prints each anomaly with its expected effect, and a summary with input lines/s."""
    with pytest.raises(SystemExit) as exit_info:
        main(["inject", str(small), "--anomaly", "spike:magnitude=5,minutes=20", "--seed", "7",
              "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out.splitlines()
    assert exit_info.value.code == 0
    assert out[0].startswith("spike-1 ") and "requests in the window" in out[0]
    assert "input lines/s; seed 7; wrote" in out[-1]
    again = tmp_path / "p"
    main_args = ["inject", str(small), "--anomaly", "spike:magnitude=5,minutes=20", "--seed", "7",
                 "--out", str(again), "-q"]
    with pytest.raises(SystemExit):
        main(main_args)
    for name in ("anomalies.json", "injected.jsonl", *[f["name"] for f in json.loads(
            (tmp_path / "o" / "manifest.json").read_text())["files"]]):
        assert (tmp_path / "o" / name).read_bytes() == (again / name).read_bytes(), name
