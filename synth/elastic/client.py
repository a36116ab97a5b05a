"""Talking to Elasticsearch and Kibana: one ``Request`` shape for both, the official
``elasticsearch`` client for Elasticsearch (imported only when a cluster is contacted: ``pip
install 'synth-logs[es]'``), plain urllib for Kibana, and every failure as one ElasticError line."""

from __future__ import annotations

import base64
import json
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ES, KIBANA = "es", "kibana"
MISSING_CLIENT = ("this needs the Elasticsearch Python client: pip install 'synth-logs[es]' "
                  "(in a checkout: pip install -e '.[es]')")


class SetupError(ValueError):
    """Bad input (an unknown job, a folder without a manifest): the message names the option."""


class ElasticError(RuntimeError):
    """Elasticsearch or Kibana could not be reached, refused the credentials or a request: one line."""


@dataclass(frozen=True)
class Request:
    """One HTTP request; ``path`` starts with ``/`` and may carry a query string."""

    method: str
    path: str
    body: Any = None
    target: str = ES
    title: str = ""

    def console(self) -> str:
        """As Kibana Dev Tools console text: ``PUT _ingest/pipeline/x`` then the body."""
        path = f"kbn:{self.path}" if self.target == KIBANA else self.path.lstrip("/")
        lines = [f"# {self.title}"] if self.title else []
        lines.append(f"{self.method} {path}")
        if self.body is not None:
            lines.append(json.dumps(self.body, indent=2))
        return "\n".join(lines)


def console_text(requests: Iterable[Request]) -> str:
    """Requests as Dev Tools console text, a blank line between them."""
    return "\n\n".join(r.console() for r in requests) + "\n"


@dataclass(frozen=True)
class Credentials:
    api_key: str | None = None
    user: str | None = None
    password: str | None = None
    ca_certs: str | None = None
    verify: bool = True


def _short_reason(error: Exception) -> str:
    """The useful end of a transport error: 'Connection refused', 'certificate verify failed: ...'."""
    text = str(error)
    for pattern in (r"\[SSL: [A-Z_]+\] ([^(]+?)\s*\(_ssl", r"\[Errno -?\d+\] ([^)'\"]+)", r"(timed out)"):
        found = re.search(pattern, text)
        if found:
            return found.group(1).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _error_reason(body: Any) -> tuple[str, str]:
    """(type, reason) from an Elasticsearch error body."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return str(error.get("type", "error")), str(error.get("reason", ""))
    if isinstance(body, dict) and "error" in body:
        return str(body["error"]), str(body.get("message", ""))
    return "error", str(body)[:200]


class Cluster:
    """Elasticsearch through the official client; every failure becomes one ElasticError line."""

    def __init__(self, url: str, creds: Credentials, timeout: float = 30.0):
        try:
            import elasticsearch
        except ImportError:
            raise ElasticError(MISSING_CLIENT) from None
        self.es = elasticsearch
        self.url = url.rstrip("/")
        options: dict[str, Any] = {"request_timeout": timeout, "max_retries": 1, "retry_on_timeout": False}
        if creds.api_key:
            options["api_key"] = creds.api_key
        elif creds.user is not None:
            options["basic_auth"] = (creds.user, creds.password or "")
        if self.url.startswith("https:"):
            if creds.ca_certs:
                options["ca_certs"] = creds.ca_certs
            if not creds.verify:
                options.update(verify_certs=False, ssl_show_warn=False)
        try:
            self.client = elasticsearch.Elasticsearch(self.url, **options)
        except ValueError as e:
            raise SetupError(f"--es: {url}: {e}") from None

    def send(self, request: Request, missing_ok: bool = False) -> Any:
        """The response body; None for a 404 when ``missing_ok``."""
        es = self.es
        headers = {"accept": "application/json"}
        if request.body is not None:
            headers["content-type"] = "application/json"
        try:
            return self.client.perform_request(request.method, request.path, headers=headers, body=request.body).body
        except es.UnsupportedProductError:
            raise ElasticError(f"{self.url} does not answer as Elasticsearch does") from None
        except es.ApiError as e:
            if e.meta.status == 404 and missing_ok:
                return None
            raise self._api_error(request, e.meta.status, _error_reason(e.body)) from None
        except es.SSLError as e:
            raise ElasticError(f"cannot connect to Elasticsearch at {self.url}: {_short_reason(e)} "
                               "(give the cluster's CA with --ca-certs, or --insecure)") from None
        except es.ConnectionError as e:
            raise ElasticError(f"cannot connect to Elasticsearch at {self.url}: {_short_reason(e)}") from None
        except es.TransportError as e:
            raise ElasticError(f"Elasticsearch at {self.url}: {request.method} {request.path}: {_short_reason(e)}") from None

    def _api_error(self, request: Request, status: int, error: tuple[str, str]) -> ElasticError:
        kind, reason = error
        if status == 401:
            return ElasticError(f"Elasticsearch at {self.url} refused the credentials (401 {kind}): {reason}")
        if status == 403:
            return ElasticError(f"Elasticsearch at {self.url}: {request.method} {request.path} is not allowed "
                                f"for this user (403 {kind}): {reason}")
        if kind == "media_type_header_exception":
            # a 9.x client talking to an 8.x server: the 8.x client speaks to both
            return ElasticError(f"Elasticsearch at {self.url} is older than this Python client "
                                f"({self.es.__versionstr__}): pip install 'elasticsearch>=8.13,<9'")
        return ElasticError(f"Elasticsearch at {self.url}: {request.method} {request.path} failed "
                            f"({status} {kind}): {reason}")

    def get(self, path: str) -> Any:
        """A GET's body, or None when Elasticsearch answers 404."""
        return self.send(Request("GET", path), missing_ok=True)


class Kibana:
    """Kibana's HTTP API with the same credentials (plain urllib: Kibana is not Elasticsearch)."""

    def __init__(self, url: str, creds: Credentials, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.headers = {"kbn-xsrf": "synth", "Accept": "application/json"}
        if creds.api_key:
            self.headers["Authorization"] = f"ApiKey {creds.api_key}"
        elif creds.user is not None:
            token = base64.b64encode(f"{creds.user}:{creds.password or ''}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"
        self.context = None
        if self.url.startswith("https:"):
            self.context = ssl.create_default_context(cafile=creds.ca_certs)
            if not creds.verify:
                self.context.check_hostname = False
                self.context.verify_mode = ssl.CERT_NONE

    def send(self, request: Request, missing_ok: bool = False) -> Any:
        data = None
        headers = dict(self.headers)
        if request.body is not None:
            data = json.dumps(request.body).encode()
            headers["Content-Type"] = "application/json"
        http = urllib.request.Request(self.url + request.path, data=data, method=request.method, headers=headers)
        try:
            with urllib.request.urlopen(http, timeout=self.timeout, context=self.context) as response:
                text = response.read()
        except urllib.error.HTTPError as e:
            if e.code == 404 and missing_ok:
                return None
            try:
                body = json.loads(e.read() or b"{}")
            except ValueError:
                body = {}
            message = body.get("message") or e.reason
            if e.code == 401:
                raise ElasticError(f"Kibana at {self.url} refused the credentials (401): {message}") from None
            raise ElasticError(f"Kibana at {self.url}: {request.method} {request.path} failed ({e.code}): {message}") from None
        except urllib.error.URLError as e:
            raise ElasticError(f"cannot connect to Kibana at {self.url}: {_short_reason(e.reason) if isinstance(e.reason, Exception) else e.reason}") from None
        except OSError as e:
            raise ElasticError(f"cannot connect to Kibana at {self.url}: {_short_reason(e)}") from None
        try:
            return json.loads(text) if text else {}
        except ValueError:
            raise ElasticError(f"{self.url} does not answer as Kibana does ({request.method} {request.path})") from None

    def get(self, path: str) -> Any:
        return self.send(Request("GET", path, target=KIBANA), missing_ok=True)
