"""synth verify picks the pipeline a run is shipped through from the format its manifest
records, and counts failures by processor and kind of error, not by the text of each line."""

from conftest import END
from test_verify import run_cli

import synth
from synth.elastic.verify import error_type, pipeline_for_paths


def _run(tmp_path, fmt, **kw):
    out = tmp_path / fmt
    synth.generate("classic", seed=9, out_dir=out, days=0.1, rate=0.2, format=fmt, end=END, workers=1, **kw)
    return out


def test_an_ecs_json_run_is_verified_with_the_json_pipeline(tmp_path, capsys):
    out = _run(tmp_path, "ecs_json")
    assert pipeline_for_paths([out]).id == "smoke_event-json"
    assert pipeline_for_paths([out / "access.log"]).id == "smoke_event-json"  # a file beside its manifest
    code, text, err = run_cli(["verify", str(out)], capsys)
    first = text.splitlines()[0]
    assert "with pipeline smoke_event-json:" in first and ", 0 failed" in first, text
    assert code == 0


def test_failures_are_one_reason_per_processor_and_kind(tmp_path, capsys):
    """The same JSON lines through the text pipeline: every line fails the same way, and the
    summary says it once (the lines hold brackets of their own, which used to defeat the
    shortening and give one reason per line)."""
    out = _run(tmp_path, "ecs_json")
    code, text, _ = run_cli(["verify", "--pipeline", "filebeat/smoke_event-access.pipeline.json", str(out)], capsys)
    lines = text.splitlines()
    assert code == 1 and ": 0 parsed," in lines[0]
    assert len(lines) == 2, lines[:5]
    assert lines[1].split("  (first:")[0].endswith(
        "grok (tag parse-line): Provided Grok expressions do not match field value: [...]")


def test_text_and_custom_formats_get_their_pipelines(tmp_path):
    assert pipeline_for_paths([_run(tmp_path, "vhost_combined")]).id == "smoke_event-access"
    custom = tmp_path / "custom"
    synth.generate("classic", seed=9, out_dir=custom, days=0.05, rate=0.5, end=END, workers=1,
                   log_format='%h %l %u %t "%r" %>s %b %{ms}T')
    pipeline = pipeline_for_paths([custom])
    assert pipeline.id == "synth pipeline --log-format"
    line = (custom / "access.log").read_text().splitlines()[0]
    outcome = pipeline.run({"message": line, "log": {"offset": 0}}, "x")
    assert outcome.failure is None
    ms = int(line.rsplit(" ", 1)[1])
    assert outcome.doc.source["event"]["duration"] == ms * 1_000_000  # one field, in nanoseconds
    assert pipeline_for_paths([tmp_path / "nowhere.log"]).id == "smoke_event-access"


def test_error_type_masks_values_nested_or_not():
    assert error_type("field [a] of type [java.lang.String] cannot be cast") == \
        "field [...] of type [...] cannot be cast"
    assert error_type('do not match field value: [{"a":["x"],"b":"]"}]') == "do not match field value: [...]"
    assert error_type("unable to parse date [21/Nov/2026 [") == "unable to parse date [...]"
