"""Ingest pipelines for any line format, built from its LogFormat: the bundled one, and the
one ``synth pipeline`` prints for a ``--format`` or a ``--log-format``.

Every pipeline does the same around its grok: it keeps the raw line in ``event.original``,
gives the document an id from the line and its offset (so shipping twice adds nothing), sets
``source.ip`` for addresses, reads the event time into ``@timestamp``, parses the agent, stamps
``event.ingested`` and routes the document to ``smoke_event-YYYY.MM.DD`` of its UTC day; a
line it cannot read goes whole, with the reason, to ``failed-smoke_event``.
"""

from __future__ import annotations

from typing import Any

from synth.render.formats import LineFormat, builtin_format, grok_plan_of
from synth.render.logformat import grok_plan

PIPELINE_ID = "smoke_event-access"
JSON_PIPELINE_ID = "smoke_event-json"
JSON_PIPELINE_FILE = f"{JSON_PIPELINE_ID}.pipeline.json"  # in filebeat/
FAILED_INDEX = "failed-smoke_event"
# How the index template maps `timestamp` first: Apache's %t. A time logged in another shape
# would be refused by that mapping (or, as bare seconds, read as milliseconds).
APACHE_TIME = "dd/MMM/yyyy:HH:mm:ss Z"

# Elasticsearch's own names for the sequences its httpd patterns already spell out.
_KNOWN = [
    ("HTTPD_COMBINEDLOG", '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"'),
    ("HTTPD_COMMONLOG", '%h %l %u %t "%r" %>s %b'),
]


def _named(pattern: str) -> str:
    """A generated pattern with the sequences Elasticsearch names written by their names."""
    for name, logformat in _KNOWN:
        pattern = pattern.replace(grok_plan(logformat).pattern[1:-1], "%{" + name + "}")
    return pattern


def _keep_raw() -> dict:
    return {"rename": {"tag": "keep-raw-line",
                       "description": "Filebeat sends the line as message; ECS keeps the raw event in event.original.",
                       "field": "message", "target_field": "event.original"}}


def _document_id() -> dict:
    return {"fingerprint": {
        "tag": "document-id",
        "description": "A line is the same document however often it is shipped: the hash of its text and its "
                       "byte offset in the file. The offset tells apart identical lines of one file; the file name "
                       "is left out, so a rotated (renamed) file or the same run in another folder gives the same ids.",
        "fields": ["event.original", "log.offset"], "target_field": "_id", "ignore_missing": True}}


def _finish() -> list[dict]:
    return [
        {"user_agent": {"tag": "agent", "field": "user_agent.original", "ignore_missing": True}},
        {"set": {"tag": "ingested", "field": "event.ingested", "value": "{{{_ingest.timestamp}}}"}},
        {"date_index_name": {
            "tag": "daily-index", "description": "The day the event happened (UTC), not the day it was shipped.",
            "field": "@timestamp", "date_formats": ["ISO8601"], "index_name_prefix": "smoke_event-",
            "date_rounding": "d", "index_name_format": "yyyy.MM.dd", "timezone": "UTC"}},
    ]


def _on_failure() -> list[dict]:
    return [
        {"set": {"description": "The line is kept (event.original) with the reason, outside smoke_event-* so ML "
                                "jobs never read it.",
                 "field": "error.message",
                 "value": "Processor {{{_ingest.on_failure_processor_type}}} with tag "
                          "{{{_ingest.on_failure_processor_tag}}} in pipeline {{{_ingest.on_failure_pipeline}}} "
                          "failed with message: {{{_ingest.on_failure_message}}}"}},
        {"set": {"field": "event.kind", "value": "pipeline_error"}},
        {"set": {"field": "_index", "value": FAILED_INDEX}},
    ]


# event.duration is in nanoseconds (ECS, and what ecs_json lines carry); each response-time
# capture as text, with the zeros that turn its unit into nanoseconds. Least precise first, so
# that where a line logs more than one, the finest wins.
DURATION_FIELD = "event.duration"
_TO_NANOS = (("apache.access.response_time_s", "000000000", "%T"),
             ("apache.access.response_time_ms", "000000", "%{ms}T"),
             ("apache.access.response_time", "000", "%D or %{us}T"))
SCRATCH = "synth_scratch"  # removed again at once; a name without a leading _ maps, should it ever stay


def _durations(captured: set[str]) -> list[dict]:
    """event.duration in nanoseconds from whichever response time a line logged. Ingest has no
    arithmetic outside Painless: the digits are written with the unit's zeros after them, and a
    grok takes the result only where digits came before the zeros (a line that logged no
    response time leaves only the zeros, the grok fails, and its failure is ignored)."""
    steps: list[dict] = []
    for field, zeros, directive in _TO_NANOS:
        if field not in captured:
            continue
        scratch = f"{SCRATCH}.{field.rsplit('.', 1)[1]}"
        steps += [
            {"set": {"tag": f"duration-text-{field.rsplit('.', 1)[1]}",
                     "description": f"{directive} as nanoseconds, in text: the logged digits, then {len(zeros)} zeros.",
                     "field": scratch, "value": "{{{" + field + "}}}" + zeros}},
            {"grok": {"tag": f"duration-{field.rsplit('.', 1)[1]}",
                      "description": f"{DURATION_FIELD} (nanoseconds) where the line logged {directive}; "
                                     "bare zeros mean it did not, and the failed match is ignored.",
                      "field": scratch, "patterns": [f"^%{{NANOS:{DURATION_FIELD}:long}}$"],
                      "pattern_definitions": {"NANOS": f"[0-9]+{zeros}"}, "ignore_failure": True}}]
    if steps:
        steps.append({"remove": {"tag": "duration-scratch", "field": SCRATCH, "ignore_missing": True}})
    return steps


def _zone(tz: str) -> str:
    """``+0530`` as the date processor's zone, ``+05:30`` (UTC for +0000)."""
    if tz[:1] not in ("+", "-"):
        return tz  # an IANA name: the date processor's timezone takes a java ZoneId, names included
    return "UTC" if tz in ("+0000", "-0000") else f"{tz[:3]}:{tz[3:]}"


def text_pipeline(formats: list[LineFormat], *, tz: str = "+0000", description: str | None = None,
                  source: str | None = None) -> dict[str, Any]:
    """The pipeline that reads lines of any of ``formats`` (tried in that order)."""
    plans = [grok_plan_of(f) for f in formats if not f.json]
    patterns, definitions, date_formats = [], {}, []
    captured: set[str] = set()
    for plan in plans:
        captured |= set(plan.fields)
        pattern = _named(plan.pattern)
        if pattern not in patterns:
            patterns.append(pattern)
        definitions.update(plan.definitions)
        date_formats += [f for f in plan.date_formats if f not in date_formats]
    names = ", ".join(f"log_format {f.nginx!r}" if f.nginx else f.name if f.name != "custom"
                      else f"LogFormat {f.logformat!r}" for f in formats)
    grok: dict[str, Any] = {"tag": "parse-line",
                            "description": f"{names}: the first pattern that matches wins. Anchored, so a quoted "
                                           "agent with escaped quotes is taken whole.",
                            "field": "event.original", "ecs_compatibility": "v1", "patterns": patterns}
    if definitions:
        grok["pattern_definitions"] = definitions
    date: dict[str, Any] = {"tag": "event-time",
                            "description": "The time the line was written, with its zone, to @timestamp in UTC; "
                                           "timestamp keeps the text as logged.",
                            "field": "timestamp", "target_field": "@timestamp", "formats": date_formats}
    if not all(plan.zoned for plan in plans) and tz not in ("+0000", "-0000"):
        date["timezone"] = _zone(tz)  # the time is written without its zone
    as_date = []
    if date_formats != [APACHE_TIME]:
        date["description"] = "The time the line was written, with its zone, to @timestamp in UTC."
        as_date = [{"set": {"tag": "event-time-as-date",
                            "description": "timestamp is mapped as a date in the shape of Apache's %t; this "
                                           "format logs another shape, so timestamp takes @timestamp's value.",
                            "field": "timestamp", "copy_from": "@timestamp"}}]
    pipeline: dict[str, Any] = {
        "description": description or f"synth: access lines ({names}) into ECS fields, in daily indices "
                                      f"smoke_event-YYYY.MM.DD by the event's UTC date.",
        "version": 1,
        "_meta": {"managed_by": "synth", **({"source": source} if source else {})},
        "processors": [
            _keep_raw(), _document_id(), {"grok": grok},
            {"convert": {"tag": "client-ip",
                         "description": "source.ip only when the client is an address; a host name fails the "
                                        "conversion, which is ignored.",
                         "field": "source.address", "target_field": "source.ip", "type": "ip",
                         "ignore_missing": True, "ignore_failure": True}},
            *_durations(captured), {"date": date}, *as_date, *_finish()],
        "on_failure": _on_failure(),
    }
    return pipeline


def json_pipeline() -> dict[str, Any]:
    """The pipeline for ecs_json lines: the document is already ECS; decode it, then as above.

    The json processor decodes ``message``, a top-level field: with ``add_to_root``
    Elasticsearch looks the field up as one literal key (``ctx.get(field)``) on every release
    before elastic/elasticsearch#135170 was fixed, so a dotted ``event.original`` would fail on
    every line there. The raw line is copied to ``event.original`` first (kept even when the
    line is not JSON) and the copy in ``message`` removed after decoding. ``merge`` is chosen
    on purpose: under ``replace`` the line's own ``event`` object would take the place of the
    root's and lose ``event.original``, and its ``log`` object Filebeat's ``log.offset``.
    """
    keep = {"set": {"tag": "keep-raw-line",
                    "description": "Filebeat sends the line as message; ECS keeps the raw event in event.original.",
                    "field": "event.original", "copy_from": "message"}}
    return {
        "description": "synth: ecs_json lines (one ECS document per line) into daily indices smoke_event-YYYY.MM.DD "
                       "by the event's UTC date. Load with PUT _ingest/pipeline/smoke_event-json.",
        "version": 2,
        "_meta": {"managed_by": "synth", "source": f"filebeat/{JSON_PIPELINE_FILE}"},
        "processors": [
            keep, _document_id(),
            {"json": {"tag": "decode",
                      "description": "The line is an ECS document: its fields go to the root. The field is a "
                                     "top-level key (add_to_root reads a literal key on most 8.x/9.x releases); "
                                     "merge keeps event.original and Filebeat's log.* beside the line's own objects.",
                      "field": "message", "add_to_root": True, "add_to_root_conflict_strategy": "merge"}},
            {"remove": {"tag": "drop-raw-copy",
                        "description": "The raw line is in event.original; message goes unless the line has its own.",
                        "if": "ctx.message == ctx.event?.original", "field": "message"}},
            *_finish()],
        "on_failure": _on_failure(),
    }


NDJSON_PIPELINE_ID = "smoke_event-ndjson"
NDJSON_PIPELINE_FILE = f"{NDJSON_PIPELINE_ID}.pipeline.json"  # in filebeat/, for filebeat-ndjson.yml


def ndjson_pipeline() -> dict[str, Any]:
    """The pipeline for ecs_json lines that Filebeat has decoded (filebeat-ndjson.yml): the
    document is ready; it gets an id, its agent parsed and its daily index."""
    return {
        "description": "synth: ecs_json documents decoded by Filebeat's ndjson parser (filebeat/filebeat-ndjson.yml) "
                       "into daily indices smoke_event-YYYY.MM.DD by the event's UTC date. Load with PUT "
                       "_ingest/pipeline/smoke_event-ndjson.",
        "version": 1,
        "_meta": {"managed_by": "synth", "source": f"filebeat/{NDJSON_PIPELINE_FILE}"},
        "processors": [
            {"grok": {"tag": "decoded",
                      "description": "A line Filebeat could not decode carries error.type json (add_error_key): "
                                     "this match fails for it, and on_failure keeps it in failed-smoke_event.",
                      "field": "error.type", "patterns": ["^$"], "ignore_missing": True}},
            {"fingerprint": {
                "tag": "document-id",
                "description": "The same document however often it is shipped: the raw line is not kept by the ndjson "
                               "parser, so the hash is of the event's time, client, request and its offset in the file.",
                "fields": ["@timestamp", "source.address", "url.original", "log.offset"], "target_field": "_id",
                "ignore_missing": True}},
            *_finish()],
        "on_failure": _on_failure(),
    }


# The bundled pipeline's formats, combined first. nginx_combined lines are combined lines to
# the parser (its 0 for an empty body and its \xHH escapes fit the same pattern).
BUNDLED = ("combined", "combined_timing", "vhost_combined", "common")


def bundled_text_pipeline() -> dict[str, Any]:
    """filebeat/smoke_event-access.pipeline.json: every built-in text format, combined first."""
    return text_pipeline([builtin_format(name) for name in BUNDLED], source="filebeat/smoke_event-access.pipeline.json",
                         description="synth: Apache access lines (combined first, then the other built-in text "
                                     "formats) from Filebeat into ECS fields, in daily indices smoke_event-YYYY.MM.DD "
                                     "by the event's UTC date. Load with PUT _ingest/pipeline/smoke_event-access.")


def pipeline_for(line_format: LineFormat, tz: str = "+0000") -> dict[str, Any]:
    """The pipeline for one format: ecs_json's, or one made from its LogFormat."""
    if line_format.json:
        return json_pipeline()
    return text_pipeline([line_format], tz=tz)


def pipeline_file_for(name: str | None, log_format: str | None = None, tz: str = "+0000",
                      nginx_log_format: str | None = None) -> tuple[str | None, dict[str, Any]]:
    """The pipeline a run of this format is shipped through: (file in filebeat/, None) for the
    bundled ones, (None, body) for a --log-format or --nginx-log-format (``synth pipeline``
    prints it)."""
    if log_format or nginx_log_format:
        from synth.render.formats import line_format
        return None, pipeline_for(line_format(None, log_format, nginx_log_format), tz)
    if name == "ecs_json":
        return JSON_PIPELINE_FILE, {}
    return "smoke_event-access.pipeline.json", {}
