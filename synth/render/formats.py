"""Line formats: the built-in templates in templates/, and any Apache LogFormat string.

A built-in template names, in its header comment, the Apache ``LogFormat`` that reads its
lines back (for nginx's format, the LogFormat equivalent to its ``log_format``); the JSON
format has none. A ``--log-format`` string is turned into a template of its own, so every
format goes through the same renderer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jinja2

from synth.render.lines import FormatError, layout, load_template, template_environment, template_names
from synth.render.logformat import GrokPlan, LogFormatError, parse, template_source
from synth.resources import resource_dir

_LOGFORMAT = re.compile(r'LogFormat\s+"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class LineFormat:
    name: str  # a built-in name, or "custom"
    template: jinja2.Template
    logformat: str | None  # the Apache LogFormat that parses the lines; None for JSON and nginx lines
    nginx: str | None = None  # the nginx log_format string that wrote the lines

    @property
    def json(self) -> bool:
        return self.logformat is None and self.nginx is None


def builtin_format(name: str) -> LineFormat:
    template = load_template(name)
    source = (resource_dir("templates") / f"{name}.j2").read_text(encoding="utf-8")
    found = _LOGFORMAT.search(source)
    return LineFormat(name, template, found.group(1) if found else None)


def custom_format(logformat: str) -> LineFormat:
    """A format from an Apache LogFormat string (as written in httpd.conf, ``\\"`` or ``"``)."""
    try:
        template = template_environment().from_string(template_source(logformat))
    except LogFormatError as e:
        raise FormatError(str(e)) from None
    layout(template)
    return LineFormat("custom", template, logformat)


def nginx_format(text: str) -> LineFormat:
    """A format from an nginx log_format string (``escape=json`` first, if any)."""
    from synth.render import nginx
    try:
        template = template_environment().from_string(nginx.template_source(nginx.parse(text)))
    except nginx.NginxFormatError as e:
        raise FormatError(str(e)) from None
    layout(template)
    return LineFormat("nginx", template, None, text)


def line_format(name: str | None = None, logformat: str | None = None, nginx: str | None = None) -> LineFormat:
    """The format a run asks for: a LogFormat or log_format string wins over a name; default combined."""
    if nginx:
        return nginx_format(nginx)
    return custom_format(logformat) if logformat else builtin_format(name or "combined")


def grok_plan_of(line_format: LineFormat) -> GrokPlan:
    """The grok plan that reads a text format's lines back."""
    from synth.render import logformat, nginx
    if line_format.nginx is not None:
        return nginx.grok_plan(nginx.parse(line_format.nginx))
    assert line_format.logformat is not None
    return logformat.grok_plan(line_format.logformat)


def text_formats() -> list[LineFormat]:
    """Every built-in format that writes text lines, combined first."""
    names = ["combined"] + [n for n in template_names() if n != "combined"]
    return [f for f in (builtin_format(n) for n in names) if not f.json]


__all__ = ["LineFormat", "builtin_format", "custom_format", "grok_plan_of", "line_format", "nginx_format",
           "text_formats", "parse"]
