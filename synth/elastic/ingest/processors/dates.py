"""Processors over dates: ``date`` (a text to a timestamp) and ``date_index_name`` (the index
a document lands in, by the date of one of its fields)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from synth.elastic import javatime
from synth.elastic.ingest.config import Context, Options, Processor, register
from synth.elastic.ingest.document import IngestDocument, field_path
from synth.elastic.ingest.errors import ProcessorError
from synth.elastic.ingest.mustache import Template
from synth.elastic.ingest.values import java_text

UTC = dt.UTC


@register
class DateProcessor(Processor):
    kind = "date"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = field_path(options.string("field"))
        self.target = field_path(options.string("target_field", "@timestamp"))
        formats = options.strings("formats")
        zone = options.string("timezone", "UTC")
        locale = options.string("locale", "ENGLISH")
        output = options.string("output_format", javatime.ISO_PRINT)
        if "{{" in zone or "{{" in locale:
            raise options.error("timezone", "templated time zones and locales are not supported here")
        try:
            javatime.check_locale(locale)
            self.zone = javatime.java_zone(zone)
            year = dt.datetime.now(UTC).year  # a date without a year is in the current one
            self.parsers = [javatime.date_processor_parser(f, default_year=year) for f in formats]
            self.printer = javatime.formatter(output)
        except javatime.DateFormatError as e:
            raise options.error("formats", str(e)) from None
        self.cache: dict[str, str] = {}

    def execute(self, doc: IngestDocument) -> None:
        value = doc.get(self.field)
        text = java_text(value)
        result = self.cache.get(text)
        if result is None:
            result = self._convert(text, value)
            if len(self.cache) > 200_000:
                self.cache.clear()
            self.cache[text] = result
        doc.set(self.target, result)

    def _convert(self, text: str, value: Any) -> str:
        if value is not None:
            for parse in self.parsers:
                try:
                    when = parse(text, self.zone)
                    return self.printer.format(when.astimezone(self.zone))
                except (javatime.DateParseError, OverflowError, ValueError):
                    continue
        raise ProcessorError(f"unable to parse date [{text}]")



_ROUNDINGS = ("y", "M", "w", "d", "h", "H", "m", "s")


@register
class DateIndexNameProcessor(Processor):
    kind = "date_index_name"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        self.field = field_path(options.string("field"))
        zone_name = options.string("timezone", "UTC")
        locale = options.string("locale", "ENGLISH")
        formats = options.strings("date_formats", ["yyyy-MM-dd'T'HH:mm:ss.SSSXX"])
        self.prefix = Template(options.string("index_name_prefix", ""), "text/plain", options.where)
        self.rounding = Template(options.string("date_rounding"), "text/plain", options.where)
        self.name_format = Template(options.string("index_name_format", "yyyy-MM-dd"), "text/plain", options.where)
        try:
            javatime.check_locale(locale)
            self.zone = javatime.java_zone(zone_name)
            year = dt.datetime.now(UTC).year
            self.parsers = [javatime.date_processor_parser(f, default_year=year) for f in formats]
        except javatime.DateFormatError as e:
            raise options.error("date_formats", str(e)) from None
        if self.rounding.constant is not None and self.rounding.constant not in _ROUNDINGS:
            raise options.error("date_rounding", f"must be one of {list(_ROUNDINGS)}")
        self.zone_text = "UTC" if self.zone is UTC else str(getattr(self.zone, "key", zone_name))
        self.cache: dict = {}  # (text, prefix, rounding, format), or the text alone with constants
        prefix, rounding, name_format = self.prefix.constant, self.rounding.constant, self.name_format.constant
        self.constants: tuple[str, str, str] | None = None
        if prefix is not None and rounding is not None and name_format is not None:
            self.constants = (prefix, rounding, name_format)

    def execute(self, doc: IngestDocument) -> None:
        value = doc.get(self.field)
        text = java_text(value)
        if self.constants is not None:  # no template among the options: the name is the date's
            name = self.cache.get(text)
            if name is None:
                name = self._name(value, text, *self.constants)
                if len(self.cache) > 200_000:
                    self.cache.clear()
                self.cache[text] = name
            doc.meta["_index"] = name
            return
        key = (text, self.prefix.render(doc), self.rounding.render(doc), self.name_format.render(doc))
        name = self.cache.get(key)
        if name is None:
            name = self._name(value, *key)
            if len(self.cache) > 200_000:
                self.cache.clear()
            self.cache[key] = name
        doc.meta["_index"] = name

    def _name(self, value: Any, text: str, prefix: str, rounding: str, name_format: str) -> str:
        when = None
        for parse in self.parsers:
            try:
                when = parse(text, self.zone)
                break
            except (javatime.DateParseError, ValueError, OverflowError):
                continue
        if when is None or value is None:
            raise ProcessorError(f"unable to parse date [{text}]")
        try:
            formatted = javatime.formatter(name_format).format(when.astimezone(self.zone))
        except javatime.DateFormatError as e:
            raise ProcessorError(str(e)) from None
        return f"<{prefix}{{{formatted}||/{rounding}{{{name_format}|{self.zone_text}}}}}>"


