"""manifest.json is written a record at a time, and is the text json.dumps(indent=2) gives."""

import json
from dataclasses import asdict

from hypothesis import example, given
from hypothesis import strategies as st

from synth.output.manifest import Manifest
from synth.output.records import FileRecord

texts = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
records = st.builds(FileRecord, name=texts, lines=st.integers(0, 10**12), bytes=st.integers(0, 10**15),
                    sha256=st.text("0123456789abcdef", max_size=64), first=st.none() | texts, last=st.none() | texts)


@given(files=st.lists(records, max_size=6), scenario=st.dictionaries(texts, st.none() | st.integers() | texts
                                                                     | st.lists(st.floats(allow_nan=False)), max_size=4),
       complete=st.booleans())
@example(files=[FileRecord("access.log")], scenario={"description": "\x00files\x00"}, complete=False)
def test_the_manifest_is_the_json_of_its_fields(tmp_path_factory, files, scenario, complete):
    manifest = Manifest(version="1", seed=7, scenario=scenario, options={"workers": 2, "shard": None},
                        start="2026-11-21T00:00:00Z", end="2026-11-28T00:00:00Z", start_ms=1, end_ms=2,
                        complete=complete, lines=3, bytes=4, files=files)
    out = tmp_path_factory.mktemp("m")
    manifest.save(out)
    text = (out / "manifest.json").read_text(encoding="utf-8")
    assert text == json.dumps(asdict(manifest), indent=2) + "\n"
    assert json.loads(text)["files"] == [asdict(f) for f in files]
    assert [p.name for p in out.iterdir()] == ["manifest.json"]
