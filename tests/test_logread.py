"""synth.analysis.logread: rotated sets in time order, format detection, lines as columns."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import threading
import time

import numpy as np
import pytest
from conftest import END
from helpers import COMBINED_RE, epoch_seconds
from hypothesis import given, settings
from hypothesis import strategies as st

import synth
from synth.analysis.logread import (
    LogReadError,
    detect_format,
    order_files,
    parse_apache_times,
    read_blocks,
    read_log,
    reader_columns,
)
from synth.analysis.logtimes import LEAD, apache_ms, block_times, iso_ms, json_block_times
from synth.render.lines import template_names

LINE = (b'203.0.113.7 - frank [27/Nov/2026:21:36:02 +0100] "GET /a/b.css?v=3 HTTP/1.1" 200 1234 '
        b'"https://example.org/x" "Mozilla/5.0 (X11) \\"quoted\\""')


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A small synth run in every built-in format, and one in a custom LogFormat."""
    base = tmp_path_factory.mktemp("formats")
    out = {}
    for name in template_names():
        out[name] = base / name
        synth.generate(seed=5, out_dir=out[name], end=END, days=0.25, rate=0.2, format=name, workers=1)
    out["custom"] = base / "custom"
    synth.generate(seed=5, out_dir=out["custom"], end=END, days=0.25, rate=0.2, workers=1,
                   log_format='%v %h %{%Y-%m-%d %H:%M:%S %z}t "%r" %>s %b "%{User-Agent}i" %{ms}T')
    return out


def lines_of(folder):
    return b"".join(p.read_bytes() for p in order_files([folder])).splitlines()


def test_order_files_by_numbered_and_dated_names(tmp_path):
    """Numbered names run from the highest number (oldest) to the live file, dated names by date
    (day or hour), whatever order they are given in."""
    for name in ("access.log", "access.log.1", "access.log.2.gz", "access.log.10.gz"):
        (tmp_path / name).write_bytes(b"")
    given = [tmp_path / n for n in ("access.log.1", "access.log", "access.log.10.gz", "access.log.2.gz")]
    assert [p.name for p in order_files(given)] == ["access.log.10.gz", "access.log.2.gz", "access.log.1", "access.log"]
    dated = tmp_path / "dated"
    dated.mkdir()
    for name in ("access.log", "access.log-2026112609", "access.log-20261125.gz", "access.log-20261126"):
        (dated / name).write_bytes(b"")
    assert [p.name for p in order_files(sorted(dated.iterdir(), reverse=True))] == [
        "access.log-20261125.gz", "access.log-20261126", "access.log-2026112609", "access.log"]


def test_order_files_by_first_line_where_names_do_not_tell(tmp_path):
    """Files whose names say nothing are put in order by the time of their first line,
    read through gzip where they are compressed."""
    late, early = tmp_path / "zeta.log", tmp_path / "alpha.log.gz"
    late.write_bytes(LINE + b"\n")
    with gzip.open(early, "wb") as fh:
        fh.write(LINE.replace(b"27/Nov", b"26/Nov") + b"\n")
    assert order_files([late, early]) == [early, late]
    (tmp_path / "junk.log").write_bytes(b"not a log line\n")
    with pytest.raises(LogReadError, match="junk.log: no line with a time"):
        order_files([late, tmp_path / "junk.log"])


def test_a_folder_stands_for_its_files_in_manifest_order(runs, tmp_path):
    """A run folder gives its manifest's files; without a manifest its access.log* by name."""
    folder = runs["combined"]
    names = [f["name"] for f in json.loads((folder / "manifest.json").read_text())["files"]]
    assert [p.name for p in order_files([folder])] == names
    bare = tmp_path / "bare"
    shutil.copytree(folder, bare)
    os.remove(bare / "manifest.json")
    assert [p.name for p in order_files([bare])] == names
    with pytest.raises(LogReadError, match="no such file"):
        order_files([tmp_path / "missing.log"])


@pytest.mark.parametrize("name", template_names() + ["custom"])
def test_every_line_synth_writes_parses_and_fast_times_agree(runs, name):
    """Every line of every format synth writes parses, whole; the time-only path reads the same
    times as the full parse; line numbers count from 1 and the raw lines are the file's bytes."""
    fmt = dict(log_format=json.loads((runs[name] / "manifest.json").read_text())["scenario"].get("log_format")) \
        if name == "custom" else dict(format=name)
    files = order_files([runs[name]])
    full = list(read_log(files, **fmt, block_bytes=4096))
    assert all(b.whole for b in full)
    assert sum(b.unparsed for b in full) == 0
    assert b"".join(b.data for b in full) == b"".join(p.read_bytes() for p in files)
    for path in files:
        of_file = [b for b in full if b.path == path]
        raw = [r for b in of_file for r in b.raw]
        assert raw == path.read_bytes().splitlines()
        assert np.array_equal(np.concatenate([b.line for b in of_file]), np.arange(1, len(raw) + 1))
    fast = list(read_log(files, **fmt, columns=("t_ms",)))
    assert np.array_equal(np.concatenate([b.t_ms for b in fast]), np.concatenate([b.t_ms for b in full]))
    assert all(b.parsed.all() for b in fast)
    manifest = json.loads((runs[name] / "manifest.json").read_text())
    t = np.concatenate([b.t_ms for b in full])
    assert manifest["start_ms"] <= t.min() and t.max() < manifest["end_ms"]
    assert np.all(np.diff(t) >= 0)


def test_columns_of_a_combined_line_as_written(tmp_path):
    """Each column of one hand-made line: values as written (still escaped), the time with
    its offset applied, -1 for a '-' size."""
    lines = [LINE, LINE.replace(b" 1234 ", b" - ").replace(b'"https://example.org/x"', b'"-"')]
    path_batches = list(read_log(_write(tmp_path, lines), format="combined"))
    (b,) = path_batches
    assert b.t_ms.tolist() == [1795811762000] * 2  # 21:36:02 +0100 is 20:36:02 UTC
    assert b.client.tolist() == [b"203.0.113.7"] * 2
    assert b.method.tolist() == [b"GET"] * 2
    assert b.target.tolist() == [b"/a/b.css?v=3"] * 2
    assert b.protocol.tolist() == [b"HTTP/1.1"] * 2
    assert b.status.tolist() == [200, 200]
    assert b.bytes.tolist() == [1234, -1]
    assert b.referrer.tolist() == [b"https://example.org/x", b"-"]
    assert b.agent.tolist() == [b'Mozilla/5.0 (X11) \\"quoted\\"'] * 2
    assert b.duration_us is None and b.host is None
    m = COMBINED_RE.match(LINE.decode().replace("frank", "-"))
    assert b.t_ms[0] == epoch_seconds(m) * 1000


def _write(folder, lines, terminated=True):
    path = folder / "access.log"
    path.write_bytes(b"\n".join(lines) + (b"\n" if terminated else b""))
    return [path]


def test_durations_hosts_and_json(runs):
    """combined_timing's %D, vhost's %v and ecs_json's fields read into the same columns."""
    (timing,) = [b for b in read_log(order_files([runs["combined_timing"]]), format="combined_timing")][:1]
    assert timing.duration_us is not None and (timing.duration_us > 0).all()
    vhost = next(iter(read_log(order_files([runs["vhost_combined"]]), format="vhost_combined")))
    assert vhost.host is not None and all(h.startswith(b"www.") for h in vhost.host)
    js = next(iter(read_log(order_files([runs["ecs_json"]]), format="ecs_json")))
    first = json.loads(js.raw[0])
    assert js.client[0] == first["source"]["address"].encode()
    assert js.status[0] == first["http"]["response"]["status_code"]
    assert js.duration_us[0] == first["event"]["duration"] // 1000
    custom = next(iter(read_log(order_files([runs["custom"]]),
                                log_format='%v %h %{%Y-%m-%d %H:%M:%S %z}t "%r" %>s %b "%{User-Agent}i" %{ms}T')))
    assert custom.referrer is None and custom.host is not None and custom.duration_us is not None
    assert (custom.duration_us % 1000 == 0).all()
    assert reader_columns(synth.render.formats.builtin_format("common")) == {
        "t_ms", "client", "method", "target", "protocol", "status", "bytes"}


def test_unparsed_lines_are_kept_and_counted_and_gzip_reads_the_same(tmp_path):
    """A line that does not parse stays, with parsed False, in its place; a gzip file reads as
    its plain bytes; a last line without a newline is kept and flagged."""
    lines = [LINE, b"garbage here", b"", LINE.replace(b"Nov", b"Now"), LINE]
    (plain,) = _write(tmp_path, lines, terminated=False)
    gz = tmp_path / "access.log.1.gz"
    with gzip.open(gz, "wb") as fh:
        fh.write(plain.read_bytes())
    for path in (plain, gz):
        for columns in (None, ("t_ms",)):
            (b,) = list(read_log([path], format="combined", columns=columns))
            assert b.parsed.tolist() == [True, False, False, False, True]
            assert b.unparsed == 3
            assert b.raw.tolist() == lines
            assert b.terminated is False


def test_detect_format_tells_every_builtin(runs):
    """The first lines of each built-in format's output are detected as that format."""
    for name in template_names():
        assert detect_format(lines_of(runs[name])) == name


def test_detect_format_refusals():
    """Lines that fit several formats name them all; lines no format fits name the nearest."""
    # No size of 0 or '-' and no escaped quote: Apache's combined and nginx's are the same bytes.
    plain = LINE.replace(b'\\"quoted\\"', b"").replace(b"frank", b"-")
    with pytest.raises(LogReadError, match=r"several formats \(combined, nginx_combined\)"):
        detect_format([plain])
    assert detect_format([plain, plain.replace(b" 1234 ", b" - ")]) == "combined"
    assert detect_format([plain, plain.replace(b" 1234 ", b" 0 ")]) == "nginx_combined"
    with pytest.raises(LogReadError, match="nearest: combined"):
        detect_format([plain.replace(b" 1234 ", b" - "), b"not a log line"])
    with pytest.raises(LogReadError, match="candidates: combined"):
        detect_format([b"nothing like a log"])
    with pytest.raises(LogReadError, match="empty"):
        detect_format([b"", b"  "])


def test_unknown_format_and_columns_are_refused(tmp_path):
    """A format name, a column or a LogFormat directive that does not exist is refused by name."""
    path = _write(tmp_path, [LINE])
    with pytest.raises(LogReadError, match="unknown format 'apache'"):
        list(read_log(path, format="apache"))
    with pytest.raises(LogReadError, match="unknown columns: size"):
        list(read_log(path, format="combined", columns=("size",)))
    with pytest.raises(LogReadError, match="unsupported directive"):
        list(read_log(path, log_format="%h %Z %t"))


def test_parse_apache_times_refuses_impossible_dates():
    """Dates that do not exist and unknown months are not valid; the zone is applied."""
    values = np.array([b"28/Feb/2026:23:59:59 +0000", b"29/Feb/2026:00:00:00 +0000", b"01/Jan/2026:24:00:00 +0000",
                       b"01/Jan/2026:00:00:00 -0130", b"01/Xyz/2026:00:00:00 +0000"], "S26")
    times = parse_apache_times(values)
    assert times["valid"].tolist() == [True, False, False, True, False]
    assert times["utc"][3] - times["local"][3] == 5400


STAMP = st.one_of(
    st.builds(lambda d, m, y, h, mi, s, z: f"{d:02d}/{m}/{y}:{h:02d}:{mi:02d}:{s:02d} {z}",
              st.integers(0, 32), st.sampled_from(["Jan", "Feb", "Mar", "Nov", "Dec", "Xyz"]),
              st.sampled_from([1999, 2000, 2024, 2026]), st.integers(0, 25), st.integers(0, 61), st.integers(0, 61),
              st.sampled_from(["+0000", "-0130", "+1400", "+0060", "x0000"])),
    st.text(alphabet="0123456789/:+- JanFebXyz", min_size=20, max_size=30))


@settings(max_examples=60, deadline=None)

def _block_arrays(lines: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The block of ``lines`` (each ending in a newline) as bytes, with each line's start and end."""
    arr = np.frombuffer(b"".join(line + b"\n" for line in lines), np.uint8)
    ends = np.flatnonzero(arr == 10)
    return arr, np.r_[0, ends[:-1] + 1], ends

@given(st.lists(st.tuples(st.integers(0, 3 * LEAD), st.sampled_from(["", "-", "frank [x]"]), STAMP,
                          st.integers(0, 3)), min_size=1, max_size=40))
def test_block_times_read_every_line_as_one_line_at_a_time(rows):
    """The vectorised %t of a block reads each line's time exactly as apache_ms reads the
    text after its first "[", whatever the length before it (past the bytes looked at first),
    at the end of a block shorter than that, for runs of one second and for times that are
    not times; a line without "[" (or no "]" after its 26 bytes) has none."""
    lines = []
    for lead, user, stamp, repeat in rows:
        for _ in range(1 + repeat):
            close = "]" if user != "frank [x]" else "] ["
            lines.append(f"{'a' * lead} - {user} [{stamp}{close} \"GET / HTTP/1.1\" 200 5".encode()
                         if lead % 7 else b"no time here at all " + b"x" * lead)
    arr, starts, ends = _block_arrays(lines)
    found, t_ms = block_times(arr, starts, ends)
    for i, line in enumerate(lines):
        at = line.find(b"[")
        want = apache_ms(line[at + 1:at + 27].decode()) if at >= 0 and line[at + 27:at + 28] == b"]" else None
        assert (found[i], t_ms[i] if found[i] else None) == (want is not None, want), line


ISO_STAMP = st.one_of(
    st.builds(lambda y, m, d, h, mi, s, ms, z: f"{y:04d}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{ms:03d}{z}",
              st.sampled_from([1, 1969, 1970, 2000, 2024, 2026, 2100]), st.integers(0, 13), st.integers(0, 32),
              st.integers(0, 25), st.integers(0, 61), st.integers(0, 61), st.integers(0, 999),
              st.sampled_from(["Z", "Z", "+00:00", "z", ""])),
    st.text(alphabet="0123456789-:.TZ+", min_size=20, max_size=30))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(ISO_STAMP, st.sampled_from(['{"@timestamp":"', '{"@timestamp": "', '{"a":1,"@timestamp":"']),
                          st.sampled_from([',"x":1}', '}', '"x"', ""]), st.integers(0, 2)), min_size=1, max_size=30))
def test_json_block_times_read_every_line_as_iso_ms_reads_it(rows):
    """The vectorised @timestamp of a block of JSON lines is the time iso_ms reads from the
    line's @timestamp, for every line it reads (runs of one time, dates that do not exist,
    other zones); the lines it leaves (found False) are those not opening with that shape."""
    lines = [f'{lead}{stamp}"{tail}'.encode() for stamp, lead, tail, repeat in rows for _ in range(1 + repeat)]
    arr, starts, ends = _block_arrays(lines)
    found, t_ms = json_block_times(arr, starts, ends)
    for i, line in enumerate(lines):
        stamp = line.split(b'"@timestamp"', 1)[1].lstrip(b': ').split(b'"')[1].decode()
        opens = line.startswith(b'{"@timestamp":"') and line[15 + 24:15 + 26] in (b'",', b'"}')
        want = iso_ms(stamp)
        if found[i]:
            assert opens and t_ms[i] == want, line
        else:
            shaped = re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
            assert not (opens and shaped and want is not None and stamp >= "1970"), line


def test_read_blocks_stops_when_its_reader_does(tmp_path):
    """A reader that stops early (one block before the end, the next one already read ahead)
    does not leave the reading thread waiting forever; start and stop read a byte range."""
    path = tmp_path / "two.log"
    line = b"x" * 99 + b"\n"
    path.write_bytes(line * 20_000)  # 2 MB: two blocks of 1 MB
    finished = []

    def stop_after_first() -> None:
        blocks = read_blocks(path, 1 << 20)
        next(blocks)
        time.sleep(0.5)  # the last block read ahead meanwhile, and the end of the file reached
        blocks.close()
        finished.append(True)

    worker = threading.Thread(target=stop_after_first, daemon=True)
    worker.start()
    worker.join(60)
    assert finished == [True]
    whole = [b for b, _ in read_blocks(path, 1 << 20)]
    assert len(whole) == 2 and b"".join(whole) == path.read_bytes()
    start = len(whole[0])
    assert [b for b, _ in read_blocks(path, 1 << 20, start=start)] == whole[1:]
    part = [b for b, _ in read_blocks(path, 1 << 16, start=start, stop=start + 150)]
    assert part == [line + line[:50]]
