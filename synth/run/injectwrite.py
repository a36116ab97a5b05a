"""Writing an injection: the user's bytes copied, lines added, removed and rewritten, in files
of the input's names and compression (or cut again as ``generate --rotate`` cuts them), and
``injected.jsonl``, what was done to which line.

A stretch of the input that nothing touches is copied as bytes, never split into lines: a
plain file no anomaly reaches is copied whole by the kernel (``copy_file_range``), and its
sha256 is the one the first pass took while reading it; a plain file that is touched is copied
so up to the block of its first change, the hash carried on from that block's start; a gzip
file no anomaly reaches is copied as it is, compressed bytes and all. Only the blocks from the
first change on are read again, changed and written (gzip: compressed again, with the input's
own header time).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synth.analysis.logread import LineParser, LogReadError, read_blocks, read_log
from synth.generate.anomalies import Window, iso
from synth.generate.pools import ERROR_SIZE_TABLE
from synth.generate.scenario import Rotation
from synth.output.names import ACTIVE, size_names
from synth.output.records import FileRecord
from synth.output.rotation import dated_name
from synth.render.formats import LineFormat
from synth.run.injectplan import Edits, window_id
from synth.run.injectread import Input

COPY_CHUNK = 1 << 30  # bytes per copy_file_range call
FLUSH_BYTES = 1 << 23  # an output file's pending bytes are written (and hashed) in a thread past this

# An op of injected.jsonl: (op, file, line, anomaly id, text or None), written as the dict
# {"op": ..., "file": ..., "line": ..., "anomaly": ...[, "text": ...]} that json.dumps writes.
Op = tuple[str, str, int, str, "str | None"]


# --- rewriting a line in place --------------------------------------------------------------------

class Rewriter:
    """New status and size, or a scaled response time, in a line's own bytes."""

    def __init__(self, fmt: LineFormat, error_sizes: dict[int, int]) -> None:
        self.json = fmt.json
        self.parser = LineParser(fmt)
        self.error_sizes = error_sizes
        self.dash = bool(fmt.logformat and ("%b" in fmt.logformat or "%>b" in fmt.logformat))

    def size_for(self, status: int) -> int:
        return self.error_sizes.get(status, int(ERROR_SIZE_TABLE[status]) if status < 600 else 0)

    def status(self, line: bytes, status: int) -> bytes | None:
        size = self.size_for(status)
        if self.json:
            try:  # a line is taken for its time alone: one that is not an ECS document is kept as it is
                old = b'"status_code":%d' % json.loads(line)["http"]["response"]["status_code"]
            except (ValueError, KeyError, TypeError):
                return None
            out = line.replace(old, b'"status_code":%d' % status, 1)
            out = _json_number(out, b'"bytes":', size)
            if status >= 400:
                out = out.replace(b'"outcome":"success"', b'"outcome":"failure"', 1)
            return out
        spans = self.parser.spans(line)
        if spans is None or "status" not in spans:
            return None
        edits = [(spans["status"], str(status).encode())]
        if "bytes" in spans:
            edits.append((spans["bytes"], b"-" if size == 0 and self.dash else str(size).encode()))
        return _apply(line, edits)

    def latency(self, line: bytes, factor: float) -> bytes | None:
        if self.json:
            return _json_number(line, b'"duration":', None, factor)
        spans = self.parser.spans(line)
        if spans is None or "duration_us" not in spans:
            return None
        a, b = spans["duration_us"]
        return _apply(line, [((a, b), str(int(int(line[a:b]) * factor)).encode())])


def _apply(line: bytes, edits: list[tuple[tuple[int, int], bytes]]) -> bytes:
    out, at = [], 0
    for (a, b), text in sorted(edits):
        out += [line[at:a], text]
        at = b
    out.append(line[at:])
    return b"".join(out)


def _json_number(line: bytes, key: bytes, value: int | None, factor: float = 1.0) -> bytes:
    at = line.find(key)
    if at < 0:
        return line
    a = at + len(key)
    b = a
    while b < len(line) and line[b:b + 1].isdigit():
        b += 1
    new = value if value is not None else int(int(line[a:b]) * factor)
    return line[:a] + str(new).encode() + line[b:]



# --- output files -------------------------------------------------------------------------------

def _copy_range(src: Path, dst: Any, start: int, length: int) -> None:
    """Bytes ``[start, start + length)`` of ``src`` appended to the open file ``dst``, by the
    kernel where it can (no copy through Python; a reflink on filesystems that share extents)."""
    dst.flush()
    with open(src, "rb") as fh:
        done = 0
        try:
            while done < length:
                n = os.copy_file_range(fh.fileno(), dst.fileno(), min(length - done, COPY_CHUNK), start + done)
                if n == 0:
                    break
                done += n
        except (AttributeError, OSError):  # no copy_file_range here, or not between these files
            pass
        if done < length:
            fh.seek(start + done)
            os.lseek(dst.fileno(), 0, os.SEEK_END)
            while done < length and (chunk := fh.read(min(length - done, 1 << 23))):
                dst.write(chunk)
                done += len(chunk)
    if done < length:
        raise LogReadError(f"{src}: changed since it was read (now {start + done:,} of the {start + length:,} bytes "
                          "read; rotated or truncated meanwhile?)")


def _gzip_mtime(path: Path) -> int:
    """The time in a gzip file's header (bytes 4 to 8), kept when it is compressed again."""
    with open(path, "rb") as fh:
        header = fh.read(8)
    return int.from_bytes(header[4:8], "little") if len(header) == 8 else 0


class OutFile:
    """One output file: plain or gzip as its input was; counts its lines and hashes its bytes
    (the plain ones; a gzip file is hashed once closed). Writing and hashing release the GIL:
    they are done in a thread while the next block is made."""

    def __init__(self, path: Path, gz: bool, mtime: int = 0):
        self.path, self.gz = path, gz
        self.record = FileRecord(path.name)
        self.digest: Any = hashlib.sha256()
        self.raw: Any = open(path, "wb")
        self.fh: Any = gzip.GzipFile(filename=str(path), mode="wb", compresslevel=6, fileobj=self.raw, mtime=mtime) \
            if gz else self.raw
        self.line = 0  # lines written so far: the number of the last one
        self.pending: list[bytes] = []
        self.size = 0
        self.pool = ThreadPoolExecutor(1)
        self.busy: Future | None = None

    def copy(self, src: Path, length: int, lines: int, digest: Any) -> None:
        """The first ``length`` bytes of the plain file ``src`` (``lines`` lines), whose sha256
        state ``digest`` is, copied by the kernel: only before anything else is written."""
        assert not self.gz and self.record.bytes == 0 and not self.pending
        _copy_range(src, self.raw, 0, length)
        self.digest = digest.copy()
        self.record.bytes += length
        self.record.lines += lines
        self.line += lines

    def emit(self, chunk: bytes, lines: int) -> None:
        if chunk:
            self.pending.append(chunk)
            self.size += len(chunk)
            if self.size >= FLUSH_BYTES:
                self.flush()
        self.record.lines += lines
        self.line += lines

    def _put(self, data: bytes) -> None:
        self.fh.write(data)
        if not self.gz:
            self.digest.update(data)

    def flush(self) -> None:
        data = self.pending[0] if len(self.pending) == 1 else b"".join(self.pending)
        self.pending, self.size = [], 0
        if data:
            if self.busy is not None:
                self.busy.result()
            self.busy = self.pool.submit(self._put, data)
            self.record.bytes += len(data)

    def close(self) -> FileRecord:
        """Write what is pending and close the file (once: later calls give its record again)."""
        if self.raw.closed:
            return self.record
        self.flush()
        if self.busy is not None:
            self.busy.result()
        self.pool.shutdown()
        if self.gz:
            self.fh.close()
        self.raw.close()
        if self.gz:
            self.record.bytes = self.path.stat().st_size
            _hash_file(self.path, self.digest)
        self.record.sha256 = self.digest.hexdigest()
        return self.record


def _hash_file(path: Path, digest: Any) -> None:
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 23):
            digest.update(chunk)


def _copy_whole(inp: Input, target: Path) -> FileRecord:
    """An input file nothing touches, copied as it is (gzip: compressed bytes and all)."""
    record = FileRecord(target.name, lines=sum(inp.block_lines))
    size = int(inp.block_offsets[-1]) if not inp.gz else inp.path.stat().st_size
    with open(target, "wb") as fh:
        _copy_range(inp.path, fh, 0, size)
    record.bytes = size
    if inp.digests is not None:
        record.sha256 = inp.digests[-1].hexdigest()
    else:
        digest = hashlib.sha256()
        _hash_file(target, digest)
        record.sha256 = digest.hexdigest()
    return record


@dataclass
class Written:
    records: list[FileRecord]
    counts: dict[int, dict[str, int]]
    ops: list[Op]


def _places(inputs: list[Input], added: list[tuple[int, int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    """Where each added line (sorted by time) goes: before the first input line whose time, as
    written, is later; ``(global line index it goes before, file)``."""
    sizes = [len(i.t_ms) for i in inputs]
    offsets = np.cumsum([0] + sizes)
    t_all = np.concatenate([i.t_ms for i in inputs])
    run_max = np.maximum.accumulate(t_all) if len(t_all) else t_all
    at = np.searchsorted(run_max, np.array([a[0] for a in added], np.int64), side="right")
    # A line that falls between two files goes at the end of the earlier one.
    file_of = np.clip(np.searchsorted(offsets, at, side="right") - 1, 0, len(inputs) - 1)
    at_start = (at == offsets[file_of]) & (file_of > 0)
    file_of[at_start] -= 1
    # Nothing goes after a last line that has no newline: it would have to be given one.
    for f, inp in enumerate(inputs):
        if not inp.terminated and sizes[f]:
            at[file_of == f] = np.minimum(at[file_of == f], offsets[f] + sizes[f] - 1)
    return at, file_of


def write(inputs: list[Input], out: Path, edits: Edits, rewriter: Rewriter, windows: list[Window]) -> Written:
    """The output files, in the input's names and compression, and the ops done on their lines."""
    out.mkdir(parents=True, exist_ok=True)
    added, remove, rewrite = edits.added, edits.remove, edits.rewrite
    added.sort(key=lambda a: (a[0], a[1]))
    at, file_of = _places(inputs, added)
    sizes = [len(i.t_ms) for i in inputs]
    offsets = np.cumsum([0] + sizes)
    ids = [window_id(w) for w in windows]
    counts: dict[int, dict[str, int]] = {w.index: {"added": 0, "removed": 0, "rewritten": 0} for w in windows}
    ops: list[Op] = []
    records = []
    for f, inp in enumerate(inputs):
        name = inp.path.name
        mine = np.flatnonzero(file_of == f)
        local_at = at[mine] - offsets[f]
        g0 = int(offsets[f])
        changed = sorted(i - g0 for i in (*remove, *rewrite) if g0 <= i < g0 + sizes[f])
        if not len(mine) and not changed:
            record = _copy_whole(inp, out / name)
        else:
            record = _splice(inp, out / name, [(added[i][1], added[i][2]) for i in mine.tolist()], local_at, changed,
                             g0, remove, rewrite, rewriter, ids, counts, ops)
        ts = inp.t_ms[inp.parsed]
        if len(ts):
            record.first, record.last = iso(int(ts.min() // 1000)), iso(int(ts.max() // 1000))
        records.append(record)
    return Written(records, counts, ops)


def _splice(inp: Input, target: Path, lines: list[tuple[int, bytes]], local_at: np.ndarray, changed: list[int],
            g0: int, remove: dict[int, int], rewrite: dict[int, tuple[int, str, Any]], rewriter: Rewriter,
            ids: list[str], counts: dict[int, dict[str, int]], ops: list[Op]) -> FileRecord:
    """One input file with its added lines (``lines``: window index and text, to go before
    its lines ``local_at``) and its removed and rewritten lines (``changed``, in the file)."""
    name = inp.path.name
    o = OutFile(target, inp.gz, _gzip_mtime(inp.path) if inp.gz else 0)
    emit = o.emit
    bounds = np.cumsum([0, *inp.block_lines])
    # The blocks before the first one touched are copied (plain files), as bytes.
    touched = min([*local_at[:1].tolist(), *changed[:1]])
    skip = 0 if inp.gz or inp.digests is None else int(np.searchsorted(bounds, touched, side="right") - 1)
    skip = min(skip, len(inp.block_lines))
    offsets = inp.block_offsets
    if skip:
        o.copy(inp.path, int(offsets[skip]), int(bounds[skip]), inp.digests[skip])  # type: ignore[index]
    first = int(bounds[skip])
    k = 0  # next added line of this file
    e = 0  # next changed line
    blocks = read_blocks_from(inp, skip)
    for b, (block, terminated) in enumerate(blocks, skip):
        if b >= len(inp.block_bytes) or len(block) != inp.block_bytes[b]:
            raise LogReadError(f"{inp.path}: changed since it was read (rotated or truncated meanwhile?)")
        n_block = inp.block_lines[b]
        last = first + n_block
        if not (k < len(local_at) and local_at[k] < last) and not (e < len(changed) and changed[e] < last):
            emit(block, n_block)
            first = last
            continue
        arr = np.frombuffer(block, np.uint8)
        ends = np.flatnonzero(arr == 10) + 1
        if not terminated:
            ends = np.r_[ends, len(block)]
        starts = np.r_[0, ends[:-1]]
        todo: list[tuple[int, int, int]] = []  # (line in block, 0 add before it | 1 change it, which)
        while k < len(local_at) and local_at[k] < last:
            todo.append((int(local_at[k]) - first, 0, k))
            k += 1
        while e < len(changed) and changed[e] < last:
            todo.append((changed[e] - first, 1, changed[e]))
            e += 1
        todo.sort()
        cursor = 0  # the block's next line not yet written
        for line, what, ref in todo:
            if line > cursor:
                emit(block[starts[cursor]:starts[line]], line - cursor)
                cursor = line
            if what == 0:
                windex, text = lines[ref]
                emit(text + b"\n", 1)
                ops.append(("add", name, o.line, ids[windex], None))
                counts[windex]["added"] += 1
                continue
            raw = block[starts[line]:ends[line]]
            body = raw[:-1] if raw.endswith(b"\n") else raw
            g = ref + g0
            if g in remove:
                windex = remove[g]
                ops.append(("remove", name, ref + 1, ids[windex], _text(body)))
                counts[windex]["removed"] += 1
            else:
                windex, kind, value = rewrite[g]
                new = rewriter.status(body, value) if kind == "status" else rewriter.latency(body, value)
                if new is None or new == body:
                    emit(raw, 1)
                else:
                    emit(new + raw[len(body):], 1)
                    ops.append(("rewrite", name, o.line, ids[windex], _text(body)))
                    counts[windex]["rewritten"] += 1
            cursor = line + 1
        if cursor < n_block:
            emit(block[starts[cursor]:], n_block - cursor)
        first = last
    while k < len(local_at):  # after the file's last line
        windex, text = lines[k]
        emit(text + b"\n", 1)
        ops.append(("add", name, o.line, ids[windex], None))
        counts[windex]["added"] += 1
        k += 1
    if first != sum(inp.block_lines):
        raise LogReadError(f"{inp.path}: changed since it was read (rotated or truncated meanwhile?)")
    return o.close()


def read_blocks_from(inp: Input, skip: int) -> Any:
    """The input's blocks from block ``skip`` on, exactly as the first pass read them (bytes
    added to a live log since are not read)."""
    offsets = inp.block_offsets
    return read_blocks(inp.path, inp.block_size, start=int(offsets[skip]) if skip else 0,
                       stop=None if inp.gz else int(offsets[-1]))


def write_ops(path: Path, ops: list[Op]) -> None:
    """injected.jsonl: one JSON object a line, as ``json.dumps`` writes the op's dict."""
    quoted: dict[str, str] = {}

    def q(text: str) -> str:
        if text not in quoted:
            quoted[text] = json.dumps(text)
        return quoted[text]

    with open(path, "w", encoding="utf-8") as fh:
        write = fh.write
        for op, file, line, anomaly, text in ops:
            tail = "}\n" if text is None else f", \"text\": {json.dumps(text)}}}\n"
            write(f'{{"op": "{op}", "file": {q(file)}, "line": {line}, "anomaly": {q(anomaly)}{tail}')


def _text(line: bytes) -> str:
    return line.decode("utf-8", "surrogateescape")


# --- cut again as generate cuts -----------------------------------------------------------------

def rotate(out: Path, run: Written, rotation: Rotation, tz: int, fmt_args: dict[str, Any]) -> list[FileRecord]:
    """The written files cut again as ``generate --rotate`` cuts them (plain, by the local day or
    hour of each line's time, by size, or into one file), the ops' files and lines following."""
    names = [r.name for r in run.records]
    hold = out / ".inject-rotate"
    hold.mkdir(exist_ok=True)
    for name in names:
        os.replace(out / name, hold / name)
    period = {"day": 86400, "hour": 3600}.get(rotation.kind)
    parts: list[OutFile] = []
    first_s: list[int] = []
    where: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    key = None
    last_t = 0
    for batch in read_log([hold / n for n in names], columns=("t_ms",), **fmt_args):
        t = np.where(batch.parsed, batch.t_ms // 1000, 0)
        t = np.maximum.accumulate(np.r_[last_t, t])[1:]
        last_t = int(t[-1]) if len(t) else last_t
        if period:
            keys = (t + tz) // period
        elif rotation.kind == "size":
            keys, index = _cut_by_size(batch, t, rotation.max_bytes, parts, first_s, hold)
            _extend(where, batch.path.name, keys, index)
            continue
        else:
            keys = np.zeros(len(t), np.int64)
        cuts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        new_file = np.zeros(len(t), np.int64)
        new_line = np.zeros(len(t), np.int64)
        for a, b in zip(cuts.tolist(), [*cuts[1:].tolist(), len(t)]):
            if key != int(keys[a]):
                key = int(keys[a])
                _next_part(parts, first_s, hold, int(t[a]))
            part = parts[-1]
            end = batch.ends[b - 1] + (1 if b - 1 < len(t) - 1 or batch.terminated else 0)
            new_file[a:b] = len(parts) - 1
            new_line[a:b] = part.line + 1 + np.arange(b - a)
            part.emit(batch.data[batch.starts[a]:end], b - a)
        _extend(where, batch.path.name, new_file, new_line)
    if rotation.kind in ("day", "hour"):
        final = [ACTIVE if i == len(parts) - 1 else dated_name(t0, rotation, tz) for i, t0 in enumerate(first_s)]
    elif rotation.kind == "size":
        final = size_names(len(parts))
    else:
        final = [ACTIVE]
    records = []
    for part, name in zip(parts, final):
        record = part.close()
        os.replace(part.path, out / name)
        record.name = name
        records.append(record)
    for i, (op, file, line, anomaly, text) in enumerate(run.ops):
        if op in ("add", "rewrite"):
            files, lines = where[file]
            run.ops[i] = (op, final[int(files[line - 1])], int(lines[line - 1]), anomaly, text)
    for name in names:
        (hold / name).unlink()
    hold.rmdir()
    return records


def _next_part(parts: list[OutFile], first_s: list[int], hold: Path, first: int) -> None:
    """A new file of the cut, its first line at second ``first``; the one before it is closed
    (lines are in time order: it gets no more), so a cut into thousands of files holds one open."""
    if parts:
        parts[-1].close()
    parts.append(OutFile(hold / f"part{len(parts)}", False))
    first_s.append(first)


def _cut_by_size(batch: Any, t: np.ndarray, max_bytes: int, parts: list[OutFile], first_s: list[int],
                 hold: Path) -> tuple[np.ndarray, np.ndarray]:
    """A batch's lines put in size-cut files, a new one where the next line would not fit (a
    line longer than a file's size gets one of its own): each line's file and line number.
    The lines that fit in the current file go there as one chunk."""
    starts, ends = batch.starts, batch.ends
    lengths = ends - starts + 1
    total = np.r_[0, np.cumsum(lengths)]
    keys = np.zeros(len(t), np.int64)
    index = np.zeros(len(t), np.int64)
    i = 0
    while i < len(t):
        used = parts[-1].size + parts[-1].record.bytes if parts else 0
        if not parts or used + int(lengths[i]) > max_bytes:
            _next_part(parts, first_s, hold, int(t[i]))
            used = 0
        j = max(i + 1, int(np.searchsorted(total, total[i] + max_bytes - used, side="right")) - 1)
        part = parts[-1]
        keys[i:j] = len(parts) - 1
        index[i:j] = part.line + 1 + np.arange(j - i)
        part.emit(batch.data[starts[i]:ends[j - 1] + 1], j - i)
        i = j
    return keys, index


def _extend(where: dict[str, tuple[np.ndarray, np.ndarray]], name: str, files: np.ndarray, lines: np.ndarray) -> None:
    if name in where:
        where[name] = (np.r_[where[name][0], files], np.r_[where[name][1], lines])
    else:
        where[name] = (files, lines)


__all__ = ["Rewriter", "OutFile", "Written", "write", "rotate", "write_ops", "Op"]
