"""``convert``: a field to integer, long, float, double, boolean, ip, string or auto."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from synth.elastic.grok import GrokValueError, JavaLong, java_double, java_float
from synth.elastic.ingest.config import Context, Options, Processor, register
from synth.elastic.ingest.document import IngestDocument, field_path
from synth.elastic.ingest.errors import ProcessorError
from synth.elastic.ingest.values import is_ip, java_text


def _convert_integer(bits: int, name: str) -> Callable[[Any], int]:
    low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    kind = JavaLong if bits == 64 else int

    def convert(value: Any) -> int:
        text = java_text(value)
        try:
            if re.fullmatch(r"-?0x[0-9a-fA-F]+", text):
                number = int(text, 16)
            elif re.fullmatch(r"[+-]?[0-9]+", text):
                number = int(text)
            else:
                raise ValueError
            if not low <= number <= high:
                raise ValueError
        except ValueError:
            raise ProcessorError(f"unable to convert [{text}] to {name}") from None
        return kind(number)
    return convert


def _convert_float(single: bool) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        text = java_text(value)
        try:
            return java_float(text) if single else java_double(text)
        except GrokValueError:
            raise ProcessorError(f"unable to convert [{text}] to {'float' if single else 'double'}") from None
    return convert


def _convert_boolean(value: Any) -> bool:
    text = java_text(value)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    raise ProcessorError(f"[{text}] is not a boolean value, cannot convert to boolean")


def _convert_ip(value: Any) -> str:
    text = java_text(value)
    if is_ip(text):
        return text
    raise ProcessorError(f"[{text}] is not a valid ip address")


def _convert_auto(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    for convert in (_convert_boolean, CONVERSIONS["integer"], CONVERSIONS["long"], CONVERSIONS["float"],
                    CONVERSIONS["double"]):
        try:
            return convert(value)
        except ProcessorError:
            continue
    return value


CONVERSIONS: dict[str, Callable[[Any], Any]] = {
    "integer": _convert_integer(32, "integer"), "long": _convert_integer(64, "long"),
    "float": _convert_float(True), "double": _convert_float(False), "boolean": _convert_boolean,
    "ip": _convert_ip, "string": java_text,
}
CONVERSIONS["auto"] = _convert_auto


@register
class ConvertProcessor(Processor):
    kind = "convert"

    def __init__(self, options: Options, context: Context):
        super().__init__(options, context)
        name = options.string("field")
        self.field = field_path(name)
        self.target = field_path(options.string("target_field", name))
        kind = options.string("type")
        if kind not in CONVERSIONS:
            raise options.error("type", f"type [{kind}] not supported, cannot convert field.")
        self.type_name = kind
        self.convert = CONVERSIONS[kind]
        self.ignore_missing = options.boolean("ignore_missing", False)

    def execute(self, doc: IngestDocument) -> None:
        value = doc.get(self.field, self.ignore_missing)
        if value is None:
            if self.ignore_missing:
                return
            raise ProcessorError(f"Field [{self.field.text}] is null, cannot be converted to type [{self.type_name}]")
        converted = [self.convert(v) for v in value] if isinstance(value, list) else self.convert(value)
        doc.set(self.target, converted)

