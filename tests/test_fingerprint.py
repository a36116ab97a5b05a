"""Filebeat 9's file identity over our runs: for every built-in format and every rotation, no
two files of a run share the bytes Filebeat's fingerprint hashes (prospector.scanner.fingerprint
in filebeat/filebeat.yml), and a file too short to have a fingerprint is named by synth generate.

The rules are Filebeat's own (elastic/beats filebeat/input/filestream/fscanner.go): the SHA-256
of bytes [offset, offset+length) is the file's identity, a second file with the same bytes
there is skipped ("points to an already known ingest target"), a file smaller than
offset+length gets no identity (errFileTooSmall), and length may not be below 64."""

import re

import pytest
from click.testing import CliRunner
from conftest import END
from helpers import manifest

import synth
from synth.cli import cli
from synth.elastic.filebeat import MIN_FINGERPRINT, fingerprint_range, identities, shared_fingerprints
from synth.render.lines import template_names

ROTATIONS = ["day", "hour", "size:2KB", "none"]
# the first line's time, to the second: Apache's %t, nginx's $time_local, ECS @timestamp
TIME = re.compile(rb"\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def test_the_config_sets_a_fingerprint_filebeat_accepts():
    offset, length = fingerprint_range()
    assert offset == 0 and MIN_FINGERPRINT <= length < 1024  # not the default: that holds back small files


@pytest.mark.slow
@pytest.mark.parametrize("fmt", template_names())
@pytest.mark.parametrize("rotate", ROTATIONS)
def test_no_two_files_of_a_run_share_their_fingerprint(tmp_path, fmt, rotate):
    """Two days, a quiet site (hour files of a few lines at night), a third of the clients on
    IPv6 (the longest addresses, which push the time furthest into a line), three seeds."""
    offset, length = fingerprint_range()
    for seed in (1, 2, 3):
        out = tmp_path / f"s{seed}"
        synth.generate({"name": "fp", "days": 2, "rate": 0.05, "ipv6_share": 0.35}, seed=seed, out_dir=out,
                       format=fmt, rotate=rotate, end=END, workers=1,
                       force=True)  # 2 KB files: past the floor of 1,000 files on purpose
        files = [out / f["name"] for f in manifest(out)["files"]]
        found = identities(files)
        assert not shared_fingerprints(found), (fmt, rotate, seed)
        for identity in found:
            if identity.held_back:
                continue
            first = identity.path.read_bytes().split(b"\n", 1)[0]
            time = TIME.search(first)
            assert time and time.end() <= offset + length, (fmt, rotate, identity.path.name, first)


def test_the_old_64_bytes_do_not_reach_a_vhost_combined_time(tmp_path):
    """What went wrong before: 64 bytes end before the time of an IPv6 client's line."""
    line = b"www.example.com:443 2001:0db8:85a3:0000:0000:8a2e:0370:7334 - - [21/Nov/2026:00:00:00 +0000] \"GET / HTTP/1.1\""
    assert TIME.search(line).end() > 64
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(line + b" 200 1 \"-\" \"x\"\n")
    b.write_bytes(line.replace(b"00:00:00", b"01:00:00") + b" 200 1 \"-\" \"x\"\n")
    assert shared_fingerprints(identities([a, b], 0, 64))
    assert not shared_fingerprints(identities([a, b]))


def test_generate_names_the_files_filebeat_holds_back(tmp_path):
    """An hour file of one short line is below the fingerprint: the summary says so, by name."""
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["generate", "--out", str(out), "--days", "0.5", "--rate", "0.002",
                                      "--rotate", "hour", "--format", "common", "--seed", "5", "--end",
                                      END.isoformat(), "--quiet", "--workers", "1"])
    assert result.exit_code == 0, result.output
    offset, length = fingerprint_range()
    small = [f["name"] for f in manifest(out)["files"] if f["bytes"] < offset + length]
    assert small, "the run should have a file below the fingerprint"
    (note,) = [line for line in result.output.splitlines() if "holds back" in line]
    assert f"Filebeat 9 holds back {len(small)} file" in note and f"{offset + length}-byte" in note
    for name in small[:5]:
        assert name in note
    big = [f["name"] for f in manifest(out)["files"] if f["bytes"] >= offset + length]
    assert not any(f" {name}," in note or note.endswith(f" {name}") for name in big)
