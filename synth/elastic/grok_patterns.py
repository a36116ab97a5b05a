"""synth's own grok definitions: the patterns the httpd log formats and our pipeline use.

Elasticsearch ships two sets (``ecs_compatibility`` ``disabled`` and ``v1``) that differ in the
field names the log formats capture and in a few building blocks. The definitions here are
written for synth and accept the same text, capture the same fields with the same types, and
so give the same captures; tests hold them against Elasticsearch's own files. The ECS access
patterns are not written here: they are the grok plans synth.render.logformat makes of Apache's
common and combined formats. Anything outside this list needs ``synth verify --patterns DIR``
with Elasticsearch's pattern files.
"""

from __future__ import annotations

from synth.render.logformat import grok_plan

# -- building blocks -----------------------------------------------------------------------------

HEX = "[0-9A-Fa-f]{1,4}"
OCTET = "(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)"  # 0-255, leading zeros allowed (as Elasticsearch)
OCTET_STRICT = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"  # inside IPv6: no leading zeros
IPV4_IN_V6 = rf"{OCTET_STRICT}(?:\.{OCTET_STRICT}){{3}}"


def _ipv6() -> str:
    """Every IPv6 text form: k explicit groups, then ``::`` and up to 7-k more (or an embedded
    IPv4 taking the room of two); eight groups in full; each form tried longest prefix first."""
    forms = [rf"(?:{HEX}:){{7}}(?:{HEX}|:)",
             rf"(?:{HEX}:){{6}}(?::{HEX}|{IPV4_IN_V6}|:)"]
    for k in range(5, 0, -1):
        forms.append(rf"(?:{HEX}:){{{k}}}(?:(?::{HEX}){{1,{7 - k}}}|(?::{HEX}){{0,{5 - k}}}:{IPV4_IN_V6}|:)")
    forms.append(rf":(?:(?::{HEX}){{1,7}}|(?::{HEX}){{0,5}}:{IPV4_IN_V6}|:)")
    # A zone index ("%eth0") may follow; Elasticsearch lets it run greedily to the end of the text.
    return "(?:" + "|".join(f"(?:{form})" for form in forms) + ")(?:%.+)?"


LABEL = "[0-9A-Za-z][0-9A-Za-z-]{0,62}"

# Month names as Elasticsearch matches them: English and German, long or short, the first
# letter in either case (its definition also lets "Ma", "Mr" and "Ot" through; so does this one).
_MONTHS = ("[Jj]an(?:uary|uar)?", "[Ff]eb(?:ruary|ruar)?", "[Mm](?:a|ä)?r(?:ch|z)?", "[Aa]pr(?:il)?",
           "[Mm]a(?:y|i)?", "[Jj]un(?:e|i)?", "[Jj]ul(?:y|i)?", "[Aa]ug(?:ust)?", "[Ss]ep(?:tember)?",
           "[Oo](?:c|k)?t(?:ober)?", "[Nn]ov(?:ember)?", "[Dd]e(?:c|z)(?:ember)?")
_DAYS = (("Mon", "day"), ("Tue", "sday"), ("Wed", "nesday"), ("Thu", "rsday"), ("Fri", "day"), ("Sat", "urday"),
         ("Sun", "day"))


def _quoted() -> str:
    """A string in double quotes, single quotes or backticks, backslash escapes allowed; not
    preceded by a backslash. Atomic: once a quoted string is taken it is not split differently."""
    forms = []
    for q in ('"', "'", "`"):
        forms += [rf"{q}(?>\\.|[^\\{q}]+)+{q}", q + q]
    return r"(?>(?<!\\)(?>" + "|".join(forms) + "))"


def _levels(*extra: str) -> str:
    words = ("alert", "trace", "debug", "notice") + extra + ("warn?(?:ing)?", "err?(?:or)?", "crit?(?:ical)?",
                                                              "fatal", "severe")
    forms = []
    for word in words:
        forms += [f"[{word[0].upper()}{word[0]}]{word[1:]}", word.upper()]
    forms += ["EMERG(?:ENCY)?", "[Ee]merg(?:ency)?"]
    return "(" + "|".join(forms) + ")"


COMMON = {
    "USERNAME": "[a-zA-Z0-9._-]+",
    "USER": "%{USERNAME}",
    "EMAILADDRESS": "%{EMAILLOCALPART}@%{HOSTNAME}",
    "INT": "[+-]?[0-9]+",
    "BASE10NUM": r"(?<![0-9.+-])(?>[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+))",
    "NUMBER": "%{BASE10NUM}",
    "POSINT": r"\b[1-9][0-9]*\b",
    "NONNEGINT": r"\b[0-9]+\b",
    "WORD": r"\b\w+\b",
    "NOTSPACE": r"\S+",
    "SPACE": r"\s*",
    "DATA": ".*?",
    "GREEDYDATA": ".*",
    "QUOTEDSTRING": _quoted(),
    "QS": "%{QUOTEDSTRING}",
    "IPV6": _ipv6(),
    "IPV4": rf"(?<![0-9]){OCTET}\.{OCTET}\.{OCTET}\.{OCTET}(?![0-9])",
    "IP": "%{IPV6}|%{IPV4}",
    "HOSTNAME": rf"\b{LABEL}(?:\.{LABEL})*(?:\.?|\b)",
    "IPORHOST": "%{IP}|%{HOSTNAME}",
    "HOSTPORT": "%{IPORHOST}:%{POSINT}",
    # A path: slashes, each followed by the characters a URL path may hold unencoded.
    "URIPATH": r"(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_\-]*)+",
    "MONTH": r"\b(?:" + "|".join(_MONTHS) + r")\b",
    "MONTHNUM": "0?[1-9]|1[0-2]",
    "MONTHDAY": "0[1-9]|[12][0-9]|3[01]|[1-9]",
    "DAY": "|".join(f"{short}(?:{rest})?" for short, rest in _DAYS),
    "YEAR": r"(?>\d\d){1,2}",
    "HOUR": "2[0123]|[01]?[0-9]",
    "MINUTE": "[0-5][0-9]",
    # A leap second "60" is a valid second; fractions after : . or , are part of it.
    "SECOND": "(?:[0-5]?[0-9]|60)(?:[:.,][0-9]+)?",
    # Elasticsearch opens TIME with the lookahead (?!<[0-9]) (it never fires before a digit);
    # kept as it is, so TIME matches exactly where Elasticsearch's does.
    "TIME": "(?!<[0-9])%{HOUR}:%{MINUTE}(?::%{SECOND})(?![0-9])",
    "HTTPDATE": "%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}",
    "HTTPDUSER": "%{EMAILADDRESS}|%{USER}",
    "HTTPDERROR_DATE": "%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{YEAR}",
    "COMMONAPACHELOG": "%{HTTPD_COMMONLOG}",
    "COMBINEDAPACHELOG": "%{HTTPD_COMBINEDLOG}",
}

# The address before "@": ECS allows RFC 5322's dot-separated atoms; the legacy set a letter
# then letters, digits and the characters of its range "+-=" (+ , - . / digits : ; < =).
_ATEXT = "[a-zA-Z0-9!#$%&'*+\\-/=?^_`{|}~]"

LEGACY = {
    "EMAILLOCALPART": r"[a-zA-Z][a-zA-Z0-9_.+,\-/:;<=]+",
    "LOGLEVEL": _levels("info"),
    "HTTPD_COMMONLOG": (r'%{IPORHOST:clientip} %{HTTPDUSER:ident} %{HTTPDUSER:auth} \[%{HTTPDATE:timestamp}\] '
                        r'"(?:%{WORD:verb} %{NOTSPACE:request}(?: HTTP/%{NUMBER:httpversion})?|%{DATA:rawrequest})" '
                        r'(?:-|%{NUMBER:response}) (?:-|%{NUMBER:bytes})'),
    "HTTPD_COMBINEDLOG": "%{HTTPD_COMMONLOG} %{QS:referrer} %{QS:agent}",
    "HTTPD20_ERRORLOG": (r"\[%{HTTPDERROR_DATE:timestamp}\] \[%{LOGLEVEL:loglevel}\] "
                         r"(?:\[client %{IPORHOST:clientip}\] ){0,1}%{GREEDYDATA:message}"),
    "HTTPD24_ERRORLOG": (r"\[%{HTTPDERROR_DATE:timestamp}\] \[(?:%{WORD:module})?:%{LOGLEVEL:loglevel}\] "
                         r"\[pid %{POSINT:pid}(:tid %{NUMBER:tid})?\]( \(%{POSINT:proxy_errorcode}\)%{DATA:proxy_message}:)?"
                         r"( \[client %{IPORHOST:clientip}:%{POSINT:clientport}\])?( %{DATA:errorcode}:)? %{GREEDYDATA:message}"),
    "HTTPD_ERRORLOG": "%{HTTPD20_ERRORLOG}|%{HTTPD24_ERRORLOG}",
}

# Elasticsearch's ECS httpd access patterns are the grok plans of Apache's common and combined
# LogFormats (httpd.conf's nicknames); written once, in synth.render.logformat.
_COMMON = grok_plan('%h %l %u %t "%r" %>s %b').pattern[1:-1]
_COMBINED = grok_plan('%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"').pattern[1:-1]

ECS_V1 = {
    "EMAILLOCALPART": f"{_ATEXT}{{1,64}}(?:\\.{_ATEXT}{{1,62}}){{0,63}}",
    "LOGLEVEL": _levels("info?(?:rmation)?"),
    # Apache's common and combined formats read as synth reads every LogFormat (synth.render.logformat):
    # "-" for ident, user, status, bytes, referrer and agent is matched, not captured: the field stays absent.
    "HTTPD_COMMONLOG": _COMMON,
    "HTTPD_COMBINEDLOG": "%{HTTPD_COMMONLOG}" + _COMBINED.removeprefix(_COMMON),
    "HTTPD20_ERRORLOG": (r"\[%{HTTPDERROR_DATE:timestamp}\] \[%{LOGLEVEL:log.level}\] "
                         r"(?:\[client %{IPORHOST:source.address}\] )?%{GREEDYDATA:message}"),
    # Elasticsearch's file writes the proxy error code as %{POSINT:apache.error.proxy.error.code?};
    # its reference syntax has no "?", so that text stays in the regex as it is (never a capture).
    # Kept verbatim so this pattern matches and captures exactly what Elasticsearch's does.
    "HTTPD24_ERRORLOG": (r"\[%{HTTPDERROR_DATE:timestamp}\] \[(?:%{WORD:apache.error.module})?:%{LOGLEVEL:log.level}\] "
                         r"\[pid %{POSINT:process.pid:long}(:tid %{INT:process.thread.id:int})?\]"
                         r"(?: \(%{POSINT:apache.error.proxy.error.code?}\)%{DATA:apache.error.proxy.error.message}:)?"
                         r"(?: \[client %{IPORHOST:source.address}(?::%{POSINT:source.port:int})?\])?"
                         r"(?: %{DATA:error.code}:)? %{GREEDYDATA:message}"),
    "HTTPD_ERRORLOG": "%{HTTPD20_ERRORLOG}|%{HTTPD24_ERRORLOG}",
}


def bank(ecs: bool) -> dict[str, str]:
    """NAME -> definition for ``ecs_compatibility: v1`` (``ecs``) or ``disabled``."""
    return {**COMMON, **(ECS_V1 if ecs else LEGACY)}
