"""Reading our output back, independently of the generator's own code; and, for checking a
parser against it, the generator's own values for each line of a small run."""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from pathlib import Path

from conftest import END

from synth.generate.pools import METHODS, PROTOCOLS
from synth.generate.traffic import body_bytes
from synth.run.generate import prepare, resolve_scenario, time_range

MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}

# Apache combined, strictly: every quoted value may hold escaped characters but no bare quote
# (written as an unrolled loop, which Python's re runs several times faster than an alternation).
COMBINED_RE = re.compile(
    r'^(?P<client>[0-9a-f.:]+) (?P<ident>-) (?P<user>-) '
    r'\[(?P<day>\d{2})/(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/(?P<year>\d{4}):'
    r'(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2}) (?P<tz>[+-]\d{4})\] '
    r'"(?P<request>[^"\\\n]*(?:\\.[^"\\\n]*)*)" (?P<status>[1-5]\d\d) (?P<bytes>[1-9]\d*|-) '
    r'"(?P<referer>[^"\\\n]*(?:\\.[^"\\\n]*)*)" "(?P<agent>[^"\\\n]*(?:\\.[^"\\\n]*)*)"$')
PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*$")


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def truth(out: Path) -> dict:
    return json.loads((out / "anomalies.json").read_text())


def files_in_order(out: Path) -> list[Path]:
    return [out / f["name"] for f in manifest(out)["files"]]


def all_bytes(out: Path) -> bytes:
    return b"".join(p.read_bytes() for p in files_in_order(out))


def all_lines(out: Path) -> list[str]:
    return all_bytes(out).decode("ascii").splitlines()


def epoch_seconds(m: re.Match) -> int:
    """UTC epoch seconds of a parsed line's %t, its zone offset applied."""
    local = calendar.timegm((int(m["year"]), MONTHS[m["mon"]], int(m["day"]),
                             int(m["hour"]), int(m["minute"]), int(m["second"])))
    tz = m["tz"]
    offset = (int(tz[1:3]) * 3600 + int(tz[3:5]) * 60) * (-1 if tz[0] == "-" else 1)
    return local - offset


_TIME_RE = re.compile(rb"\[(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]")


def line_times(data: bytes) -> list[int]:
    """UTC epoch seconds of every line in a block of log bytes (fast: the time field only)."""
    out = []
    for d, mon, y, h, mi, s, tz in _TIME_RE.findall(data):
        local = calendar.timegm((int(y), MONTHS[mon.decode()], int(d), int(h), int(mi), int(s)))
        offset = (int(tz[1:3]) * 3600 + int(tz[3:5]) * 60) * (-1 if tz[:1] == b"-" else 1)
        out.append(local - offset)
    return out




def generated_run(seed, tz, path, days=0.2, rate=1.0, format="combined", log_format=None, nginx_log_format=None):
    """Write a small run's lines to ``path``; return, per line, what the generator wrote: its
    field texts and the values it drew (address, second, method, target, status, size, ...)."""
    scenario = resolve_scenario("classic", days=days, rate=rate, tz=tz, end=END,
                                format=None if (log_format or nginx_log_format) else format, log_format=log_format,
                                nginx_log_format=nginx_log_format)
    start, end = time_range(scenario)
    _, pools, model, renderer = prepare(scenario, seed, start, end)
    expected, blocks = [], []
    for events in model.events(start, end):
        block = renderer.render(events)
        blocks.append(block)
        values = renderer.field_values(events)
        sizes = body_bytes(pools.site.size, events.target, events.method, events.status)
        for i, line in enumerate(block.decode("ascii").splitlines()):
            expected.append(dict(
                line=line, values=values[i], address=pools.population.addresses[events.client[i]],
                second=int(events.t_ms[i]) // 1000, method=METHODS[events.method[i]],
                target=pools.site.targets[events.target[i]], proto=PROTOCOLS[events.proto[i]],
                status=int(events.status[i]), size=int(sizes[i]),
                referrer=pools.referrers.values[events.referrer[i]], agent=pools.population.agents[events.agent[i]],
                duration_us=None if events.duration_us is None else int(events.duration_us[i]),
                t_ms=int(events.t_ms[i]), client=int(events.client[i])))
    path.write_bytes(b"".join(blocks))
    return expected


def check_files(out: Path) -> bytes:
    """The run's files are exactly those its manifest lists, each as the manifest says (lines,
    bytes, sha256) and holding whole combined lines; in the manifest's order they hold the
    run in time order. Returns all their bytes."""
    m = manifest(out)
    assert sorted(f["name"] for f in m["files"]) == sorted(p.name for p in out.glob("access.log*"))
    assert not list(out.glob(".access.log*"))  # no part left unnamed
    data = b""
    for record, path in zip(m["files"], files_in_order(out)):
        content = path.read_bytes()
        assert content == b"" or content.endswith(b"\n"), path
        assert record["lines"] == content.count(b"\n")
        assert record["bytes"] == len(content)
        assert record["sha256"] == hashlib.sha256(content).hexdigest()
        data += content
    lines = data.decode("ascii").splitlines()
    assert all(COMBINED_RE.match(line) for line in lines)
    times = line_times(data)
    assert times == sorted(times)
    assert m["lines"] == len(lines) and m["bytes"] == len(data)
    return data
