"""Reading a processor's configuration the way ConfigurationUtils does, the base class every
processor shares (``tag``, ``description``, ``if``, ``ignore_failure``, ``on_failure``), and
the registry of processor types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from synth.elastic.grok import builtin_patterns
from synth.elastic.ingest.document import IngestDocument
from synth.elastic.ingest.errors import PipelineError
from synth.elastic.ingest.painless import Unsupported, compile_condition
from synth.elastic.ingest.values import java_type
from synth.elastic.useragent import UserAgentParser

_REQUIRED = object()

# Every processor type Elasticsearch 8.x/9.x knows (IngestCommonPlugin and the other ingest
# modules): a pipeline naming one we do not run is told so, not told it does not exist.
ELASTICSEARCH_PROCESSORS = frozenset("""
    append attachment bytes circle community_id convert csv date date_index_name dissect dot_expander
    drop enrich fail fingerprint foreach geo_grid geoip grok gsub html_strip inference ip_location join
    json kv lowercase network_direction pipeline redact registered_domain remove rename reroute script
    set set_security_user sort split terminate trim uppercase uri_parts urldecode user_agent
""".split())


class Dropped(Exception):  # noqa: N818 (a signal, as Elasticsearch's null document is)
    """The drop processor ran: the document goes no further and is not indexed."""


class Options:
    """A processor's options, read the way ConfigurationUtils reads them; leftovers are an error."""

    def __init__(self, kind: str, config: Any, where: str, path: str = ""):
        if not isinstance(config, dict):
            raise PipelineError(f"the options of [{kind}] must be an object", where, processor_type=kind)
        self.kind, self.config, self.where, self.path = kind, dict(config), where, path or where
        self.tag: str | None = None
        self.tag = self.optional_string("tag")

    def error(self, key: str, message: str) -> PipelineError:
        return PipelineError(f"[{key}] {message}", self.where, processor_type=self.kind, tag=self.tag,
                             property_name=key)

    def raw(self, key: str, default: Any = _REQUIRED) -> Any:
        if key in self.config:
            return self.config.pop(key)
        if default is _REQUIRED:
            raise self.error(key, "required property is missing")
        return default

    def string(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self.raw(key, default)
        if value is not None and value is not default and not isinstance(value, str):
            raise self.error(key, f"property isn't a string, but of type [{java_type(value)}]")
        return value

    def optional_string(self, key: str) -> str | None:
        return self.string(key, None)

    def string_or_number(self, key: str, default: Any = _REQUIRED) -> Any:
        """readStringOrIntProperty: a number is taken as its text."""
        value = self.raw(key, default)
        if value is default or value is None or isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise self.error(key, f"property isn't a string or int, but of type [{java_type(value)}]")

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key, default)
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise self.error(key, f"property isn't a boolean, but of type [{java_type(value)}]")
        return value

    def strings(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _REQUIRED:
            return value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"property isn't a list, but of type [{java_type(value)}]")
        return value

    def string_or_strings(self, key: str, default: Any = _REQUIRED) -> Any:
        """readOptionalStringOrList / readStringOrList: one string is a list of one."""
        value = self.raw(key, default)
        if value is default and default is not _REQUIRED:
            return value
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, f"property isn't a list or string, but of type [{java_type(value)}]")
        return value

    def mapping(self, key: str, default: Any = _REQUIRED) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _REQUIRED:
            return value
        if not isinstance(value, dict):
            raise self.error(key, f"property isn't a map, but of type [{java_type(value)}]")
        return value

    def finish(self) -> None:
        if self.config:
            raise PipelineError(f"processor [{self.kind}] doesn't support one or more provided configuration "
                                f"parameters [{', '.join(self.config)}]", self.where,
                                processor_type=self.kind, tag=self.tag)


@dataclass
class Context:
    """What processors share while a pipeline is built: grok pattern banks, the agent parser,
    and the other pipelines a ``pipeline`` processor may call (id -> body, built on first use)."""

    banks: dict[str, dict[str, str]] | None = None  # from --patterns; None: synth's own
    ua_parser: UserAgentParser = field(default_factory=UserAgentParser)
    bodies: dict[str, Any] = field(default_factory=dict)
    built: dict[str, Any] = field(default_factory=dict)

    def bank(self, mode: str) -> dict[str, str]:
        if self.banks is not None:
            return self.banks[mode]
        return builtin_patterns(ecs=mode == "v1")

    def pipeline(self, name: str) -> Any:
        """The stored pipeline ``name`` (a Pipeline), or None where there is none."""
        if name not in self.built:
            if name not in self.bodies:
                return None
            from synth.elastic.ingest.pipeline import Pipeline
            self.built[name] = None  # a pipeline that calls itself finds itself while it is built
            self.built[name] = Pipeline(self.bodies[name], name, context=self)
        return self.built[name]


class Processor:
    """Common options; subclasses read their own and implement ``execute``."""

    kind = ""

    def __init__(self, options: Options, context: Context):
        self.tag = options.tag
        self.description = options.optional_string("description")
        self.condition: Callable[[dict], bool] | None = None
        self.condition_text: str | None = None
        if "if" in options.config:
            text = options.raw("if")
            if isinstance(text, dict):  # a script object: {"source": "...", "lang": "painless"}
                lang = text.get("lang", "painless")
                text = text.get("source") if lang == "painless" else None
            if not isinstance(text, str):
                raise PipelineError(f"unsupported Painless: {options.config.get('if', text)!r}", f"{options.path}.if",
                                    processor_type=self.kind, tag=self.tag, property_name="if")
            try:
                self.condition = compile_condition(text)
            except Unsupported:
                raise PipelineError(f"unsupported Painless: {text}", f"{options.path}.if", processor_type=self.kind,
                                    tag=self.tag, property_name="if") from None
            self.condition_text = text
        self.ignore_failure = options.boolean("ignore_failure", False)
        handlers = options.raw("on_failure", None)
        self.on_failure: list[Processor] = []
        if handlers is not None:
            if not isinstance(handlers, list) or not handlers:
                raise options.error("on_failure", "processors list cannot be empty")
            self.on_failure = build_processors(handlers, context, f"{options.path}.on_failure")

    def execute(self, doc: IngestDocument) -> None:
        raise NotImplementedError


REGISTRY: dict[str, type[Processor]] = {}


def register(cls: type[Processor]) -> type[Processor]:
    REGISTRY[cls.kind] = cls
    return cls


def build_processor(kind: str, options: Any, context: Context, path: str) -> Processor:
    tag = options.get("tag") if isinstance(options, dict) else None
    where = f"{path} ({kind}" + (f" {tag!r})" if isinstance(tag, str) else ")")
    cls = REGISTRY.get(kind)
    if cls is None:
        if kind in ELASTICSEARCH_PROCESSORS:
            raise PipelineError(f"processor [{kind}] is not one synth's offline engine runs (it runs "
                                f"{', '.join(sorted(REGISTRY))})", where, processor_type=kind,
                                tag=tag if isinstance(tag, str) else None)
        raise PipelineError(f"No processor type exists with name [{kind}]", where, processor_type=kind,
                            tag=tag if isinstance(tag, str) else None)
    reader = Options(kind, options, where, path)
    processor = cls(reader, context)
    reader.finish()
    return processor


def build_processors(configs: Any, context: Context, where: str) -> list[Processor]:
    if not isinstance(configs, list):
        raise PipelineError("must be a list of processors", where)
    built = []
    for k, config in enumerate(configs):
        here = f"{where}[{k}]"
        if not isinstance(config, dict) or len(config) != 1:
            raise PipelineError("a processor is an object with exactly one key, its type", here)
        (kind, options), = config.items()
        built.append(build_processor(kind, options, context, here))
    return built
