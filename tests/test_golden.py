"""Golden files: the exact bytes of a tiny seeded run. Rewrite on purpose with
``pytest tests/test_golden.py --update-golden`` and review the diff."""

import json
from pathlib import Path

from helpers import all_bytes, truth

import synth

GOLDEN = Path(__file__).parent / "golden"


def test_tiny_run_matches_golden(tmp_path, tiny_scenario, update_golden):
    """Seed 7, 2.4 hours at 0.05 requests/s with a 10-minute spike: every byte of every file."""
    run = synth.generate("classic", seed=7, out_dir=tmp_path, rotate="hour", **tiny_scenario)
    assert 200 <= run.lines <= 2000
    produced = all_bytes(tmp_path)
    labels = json.dumps(truth(tmp_path), indent=2) + "\n"
    names = "\n".join(f["name"] for f in json.loads((tmp_path / "manifest.json").read_text())["files"]) + "\n"
    golden = {"combined-seed7.log": produced, "combined-seed7.anomalies.json": labels.encode(),
              "combined-seed7.files.txt": names.encode()}
    if update_golden:
        GOLDEN.mkdir(exist_ok=True)
        for name, data in golden.items():
            (GOLDEN / name).write_bytes(data)
    for name, data in golden.items():
        assert data == (GOLDEN / name).read_bytes(), f"{name} differs from the golden file"
