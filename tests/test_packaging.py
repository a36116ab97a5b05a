"""A plain ``pip install .`` carries templates/, filebeat/ and ml/, found from any folder."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_data_and_runs_elsewhere(tmp_path):
    """Build the wheel, unpack it alone (no checkout on the path), generate from another folder
    and verify the run with the pipeline the wheel carries."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
                   check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for data in ("synth/templates/combined.j2", "synth/scenarios/classic.yaml", "synth/filebeat/filebeat.yml",
                 "synth/filebeat/smoke_event-access.pipeline.json", "synth/filebeat/smoke_event.template.json"):
        assert data in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import synth, synth.resources as r, synth.elastic.verify as v; "
            f"assert str(r.resource_dir('templates')).startswith({str(site)!r}); "
            f"assert str(r.resource_dir('filebeat')).startswith({str(site)!r}); "
            "run = synth.generate(seed=1, days=0.05, rate=0.05, spike_minutes=5, out_dir='out'); "
            "results = list(v.verify_paths(['out'])); "
            "assert len(results) == run.lines and not any(x.failed for x in results); "
            "print(run.lines)")
    result = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, capture_output=True, text=True,
                            env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 0 and (elsewhere / "out" / "access.log").exists()
