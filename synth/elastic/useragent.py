"""User-agent parsing as Elasticsearch's ``user_agent`` processor does it.

Elasticsearch runs the uap-core regexes (``regexes.yaml``: user agents, operating systems,
devices) with its own reading of them, which differs from uap-core's reference parsers and is
followed here: the first regex that matches wins; a name replacement substitutes only ``$1``;
version replacements are taken literally (no ``$n``); without a replacement the name is group 1
and the versions groups 2 to 5. A device replacement such as ``$1 $2`` therefore keeps its
``$2``, as it does in Elasticsearch. The regexes come from the ``ua-parser-builtins`` package,
a newer uap-core than the copy inside a given Elasticsearch release, so a rare agent may be
named differently there.

The processor writes (UserAgentProcessor): ``name`` (``Other`` when nothing matched),
``version`` (major[.minor[.patch[.build]]]), ``os.name`` with ``os.version`` and ``os.full``
("name version") when the OS has a major version, ``device.name`` (``Other`` when none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Versioned:
    name: str
    major: str | None
    minor: str | None
    patch: str | None
    build: str | None

    def version(self) -> str | None:
        if self.major is None:
            return None
        parts = [self.major]
        for part in (self.minor, self.patch, self.build):
            if part is None:
                break
            parts.append(part)
        return ".".join(parts)


class _Rule:
    """One uap-core entry, read the way Elasticsearch's UserAgentSubpattern reads it."""

    __slots__ = ("source", "flags", "name", "versions", "_regex")

    def __init__(self, source: str, flags: int, name: str | None, versions: tuple[str | None, ...]):
        self.source, self.flags, self.name, self.versions = source, flags, name, versions
        self._regex: re.Pattern | None = None

    def match(self, agent: str) -> Versioned | None:
        if self._regex is None:
            # java.util.regex: \d, \w, \s and \b are ASCII unless asked otherwise.
            self._regex = re.compile(self.source, self.flags | re.ASCII)
        m = self._regex.search(agent)
        if m is None:
            return None
        count = self._regex.groups
        name: str | None
        if self.name is not None:
            if "$1" in self.name and count >= 1 and m.group(1) is not None:
                name = self.name.replace("$1", m.group(1), 1)
            else:
                name = self.name
        else:
            name = m.group(1) if count >= 1 else None
        if name is None:
            return None
        versions = [given if given is not None else (m.group(k + 2) if count >= k + 2 else None)
                    for k, given in enumerate(self.versions)]
        return Versioned(name, *versions)


def _explicit(value: str | None, default: str) -> str | None:
    """ua-parser fills in ``$1``/``$2``... where the YAML gave no replacement; undo that."""
    return None if value in (None, default) else value


@lru_cache(maxsize=1)
def _rules() -> tuple[list[_Rule], list[_Rule], list[_Rule]]:
    from ua_parser_builtins.lazy import MATCHERS  # the uap-core regexes, compiled on first use

    agents, systems, devices = MATCHERS
    ua = [_Rule(m.regex, 0, _explicit(m.family, "$1"), (m.major, m.minor, m.patch, m.patch_minor)) for m in agents]
    os_ = [_Rule(m.regex, 0, _explicit(m.family, "$1"),
                 (_explicit(m.major, "$2"), _explicit(m.minor, "$3"), _explicit(m.patch, "$4"),
                  _explicit(m.patch_minor, "$5"))) for m in systems]
    dev = [_Rule(m.regex, re.IGNORECASE if m.regex_flag == "i" else 0, _explicit(m.family, "$1"),
                 (None, None, None, None)) for m in devices]
    return ua, os_, dev


def _first(rules: list[_Rule], agent: str) -> Versioned | None:
    for rule in rules:
        found = rule.match(agent)
        if found is not None:
            return found
    return None


PROPERTIES = ("name", "os", "device", "original", "version")


class UserAgentParser:
    """Agent string -> the ``user_agent`` object Elasticsearch stores, with a cache (as ES has)."""

    def __init__(self, cache_size: int = 100_000):
        self.cache: dict[str, dict] = {}
        self.cache_size = cache_size

    def details(self, agent: str) -> tuple[Versioned | None, Versioned | None, Versioned | None]:
        ua, os_, dev = _rules()
        return _first(ua, agent), _first(os_, agent), _first(dev, agent)

    def parse(self, agent: str, properties: tuple[str, ...] = PROPERTIES) -> dict:
        key = agent if properties == PROPERTIES else "\x00".join((agent, *properties))
        found = self.cache.get(key)
        if found is None:
            found = self._build(agent, properties)
            if len(self.cache) >= self.cache_size:
                self.cache.clear()
            self.cache[key] = found
        return _copy(found)

    def _build(self, agent: str, properties: tuple[str, ...]) -> dict:
        ua, os_, dev = self.details(agent)
        out: dict = {}
        for prop in PROPERTIES:
            if prop not in properties:
                continue
            if prop == "original":
                out["original"] = agent
            elif prop == "name":
                out["name"] = ua.name if ua is not None else "Other"
            elif prop == "version":
                version = ua.version() if ua is not None else None
                if version is not None:
                    out["version"] = version
            elif prop == "os" and os_ is not None:
                system: dict = {"name": os_.name}
                version = os_.version()
                if version is not None:
                    system["version"] = version
                    system["full"] = f"{os_.name} {version}"
                out["os"] = system
            elif prop == "device":
                out["device"] = {"name": dev.name if dev is not None else "Other"}
        return out


def _copy(value: dict) -> dict:
    return {k: (v.copy() if type(v) is dict else v) for k, v in value.items()}
