"""Processors over strings: ``lowercase``, ``uppercase``, ``trim``, ``gsub``, ``html_strip``,
``urldecode`` (AbstractStringProcessor: a string or a list of strings, in place or to
``target_field``), and ``split``, ``join`` and ``bytes``."""

from __future__ import annotations

import html
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from synth.elastic.grok import JavaLong
from synth.elastic.ingest.config import Context, Options, Processor, register
from synth.elastic.ingest.document import IngestDocument, field_path
from synth.elastic.ingest.errors import ProcessorError
from synth.elastic.ingest.javaregex import java_regex, java_replacement, java_split
from synth.elastic.ingest.values import java_text, java_type


class StringProcessor(Processor):
    """AbstractStringProcessor: ``field``, ``ignore_missing``, ``target_field``."""

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        name = options.string("field")
        self.field = field_path(name)
        self.ignore_missing = options.boolean("ignore_missing", False)
        self.target = field_path(options.string("target_field", name))

    def process(self, text: str) -> Any:
        raise NotImplementedError

    def execute(self, doc: IngestDocument) -> None:
        value = doc.get(self.field, self.ignore_missing)
        if value is None:
            if self.ignore_missing:
                return
            raise ProcessorError(f"field [{self.field.text}] is null, cannot process it.")
        if isinstance(value, list):
            out = []
            for item in value:
                if not isinstance(item, str):
                    raise ProcessorError(f"value [{java_text(item)}] of type [{java_type(item)}] in list field "
                                         f"[{self.field.text}] cannot be cast to [java.lang.String]")
                out.append(self.process(item))
            doc.set(self.target, out)
            return
        if not isinstance(value, str):
            raise ProcessorError(f"field [{self.field.text}] of type [{java_type(value)}] cannot be cast to "
                                 f"[java.lang.String]")
        doc.set(self.target, self.process(value))


@register
class LowercaseProcessor(StringProcessor):
    kind = "lowercase"

    def process(self, text: str) -> str:
        return text.lower()


@register
class UppercaseProcessor(StringProcessor):
    kind = "uppercase"

    def process(self, text: str) -> str:
        return text.upper()


@register
class TrimProcessor(StringProcessor):
    kind = "trim"

    def process(self, text: str) -> str:
        return text.strip("".join(map(chr, range(33))))  # String.trim: every char up to U+0020


@register
class GsubProcessor(StringProcessor):
    kind = "gsub"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        pattern = options.string("pattern")
        replacement = options.string("replacement")
        try:
            self.pattern = java_regex(pattern)
        except re.error as e:
            raise options.error("pattern", f"Invalid regex pattern. {e}") from None
        try:
            self.replacement = java_replacement(replacement)
        except ValueError as e:
            raise options.error("replacement", str(e)) from None

    def process(self, text: str) -> str:
        return self.pattern.sub(self.replacement, text)


# HTMLStripCharFilter (Lucene): block-level elements become a newline, other tags go,
# comments, scripts and styles go with their content, character entities are decoded.
_BLOCK = frozenset("""address article aside blockquote body br caption center dd dir div dl dt fieldset figcaption
    figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header hr html iframe isindex li map menu nav noframes
    ol option p pre section table tbody td tfoot th thead title tr ul""".split())
_TAG = re.compile(r"<!--.*?-->|<(script|style)\b[^>]*>.*?</\1\s*>|</?([A-Za-z][A-Za-z0-9]*)\b[^>]*>|<![^>]*>",
                  re.S | re.I)


def html_strip(text: str) -> str:
    def replace(m: re.Match) -> str:
        name = m.group(2)
        if name is not None and name.lower() in _BLOCK:
            return "\n"
        return ""
    return html.unescape(_TAG.sub(replace, text))


@register
class HtmlStripProcessor(StringProcessor):
    kind = "html_strip"

    def process(self, text: str) -> str:
        return html_strip(text)


def url_decode(text: str) -> str:
    """URLDecoder.decode(text, UTF-8): ``+`` is a space, ``%hh`` bytes; a bad escape is an error."""
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "+":
            out.append(0x20)
            i += 1
        elif c == "%":
            while i < n and text[i] == "%":
                if i + 3 > n:
                    raise ProcessorError("URLDecoder: Incomplete trailing escape (%) pattern")
                pair = text[i + 1:i + 3]
                if not re.fullmatch(r"[0-9A-Fa-f]{2}", pair):
                    raise ProcessorError(f'URLDecoder: Illegal hex characters in escape (%) pattern - Error at index 0 '
                                         f'in: "{pair}"')
                out.append(int(pair, 16))
                i += 3
        else:
            j = i
            while j < n and text[j] not in "+%":
                j += 1
            out.extend(text[i:j].encode("utf-8"))
            i = j
    return out.decode("utf-8", errors="replace")


@register
class UrlDecodeProcessor(StringProcessor):
    kind = "urldecode"

    def process(self, text: str) -> str:
        return url_decode(text)


_UNITS = {"b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30,
          "t": 1 << 40, "tb": 1 << 40, "p": 1 << 50, "pb": 1 << 50}


def parse_bytes(text: str, setting: str) -> int:
    """ByteSizeValue.parseBytesSizeValue: ``1kb`` -> 1024, ``1.5mb`` -> 1572864, ``0`` and ``-1`` bare."""
    lowered = text.strip().lower()
    m = re.fullmatch(r"(.*?)\s*(pb|tb|gb|mb|kb|[ptgmkb])", lowered)
    if m is None:
        if lowered in ("0", "-1"):
            return int(lowered)
        raise ProcessorError(f"failed to parse setting [{setting}] with value [{text}] as a size in bytes: unit is "
                             f"missing or unrecognized", "parse_exception")
    try:
        number = Decimal(m.group(1).strip())
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise ProcessorError(f"failed to parse [{text}]", "parse_exception") from None
    if number < 0:
        raise ProcessorError(f"failed to parse setting [{setting}] with value [{text}] as a size in bytes",
                             "parse_exception")
    return int(number * _UNITS[m.group(2)])


@register
class BytesProcessor(StringProcessor):
    kind = "bytes"

    def process(self, text: str) -> int:
        return JavaLong(parse_bytes(text, self.field.text))


@register
class SplitProcessor(Processor):
    kind = "split"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        name = options.string("field")
        self.field = field_path(name)
        separator = options.string("separator")
        try:
            self.separator = java_regex(separator)
        except re.error as e:
            raise options.error("separator", f"invalid regex: {e}") from None
        self.ignore_missing = options.boolean("ignore_missing", False)
        self.preserve_trailing = options.boolean("preserve_trailing", False)
        self.target = field_path(options.string("target_field", name))

    def execute(self, doc: IngestDocument) -> None:
        value = doc.get_string(self.field, self.ignore_missing)
        if value is None:
            if self.ignore_missing:
                return
            raise ProcessorError(f"field [{self.field.text}] is null, cannot split.")
        doc.set(self.target, java_split(self.separator, value, -1 if self.preserve_trailing else 0))


@register
class JoinProcessor(Processor):
    kind = "join"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        name = options.string("field")
        self.field = field_path(name)
        self.separator = options.string("separator")
        self.target = field_path(options.string("target_field", name))

    def execute(self, doc: IngestDocument) -> None:
        value = doc.get(self.field)
        if not isinstance(value, list):
            raise ProcessorError(f"field [{self.field.text}] of type [{java_type(value)}] cannot be cast to "
                                 f"[java.util.List]")
        doc.set(self.target, self.separator.join(java_text(v) for v in value))
