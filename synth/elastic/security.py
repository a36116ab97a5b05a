"""Least privilege: the roles and the Filebeat API key ``synth setup`` makes, so that neither
Filebeat nor the ML jobs need the ``elastic`` superuser.

- ``synth_filebeat_writer``: what Filebeat needs to publish through our pipeline (Filebeat docs,
  "Grant privileges and roles needed for publishing"): the ``monitor`` cluster privilege (the
  cluster's version), ``read_pipeline`` (it checks the pipeline it names), and on the daily
  indices and the failure index ``create_doc`` (write events) and ``create_index`` (the first
  event of a day creates its index: plain indices, no data stream, so not ``auto_configure``).
- ``synth_ml``: running the bundled jobs over ``smoke_event-*``: ``manage_ml`` and ``read`` with
  ``view_index_metadata`` on the indices (a datafeed searches with its creator's privileges).
- An API key ``synth-filebeat`` limited to the writer role (POST /_security/api_key with
  ``role_descriptors``, an object of role name to role body in 8.x and 9.x, whose permissions
  are intersected with its owner's; the answer holds ``id``, ``name`` and ``api_key``:
  Elasticsearch docs, "Create API key API", "Create or update roles API"). Its secret is shown once,
  when it is made: setup prints it as Filebeat's ``id:api_key`` or writes it to a file; a key
  that already exists is left alone (invalidate it to make a new one).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from synth.elastic.client import Cluster, ElasticError, Request, SetupError
from synth.elastic.pipelines import FAILED_INDEX
from synth.elastic.setup import INDEX_PATTERN, Outcome, differences

WRITER_ROLE = "synth_filebeat_writer"
ML_ROLE = "synth_ml"
API_KEY_NAME = "synth-filebeat"
META = {"managed_by": "synth"}

ROLES: dict[str, dict[str, Any]] = {
    WRITER_ROLE: {
        "cluster": ["monitor", "read_pipeline"],
        "indices": [{"names": [INDEX_PATTERN, FAILED_INDEX], "privileges": ["create_doc", "create_index"]}],
        "metadata": META,
    },
    ML_ROLE: {
        "cluster": ["manage_ml"],
        "indices": [{"names": [INDEX_PATTERN], "privileges": ["read", "view_index_metadata"]}],
        "metadata": META,
    },
}


def role_request(name: str) -> Request:
    return Request("PUT", f"/_security/role/{name}", ROLES[name], title=f"role {name}")


def api_key_request() -> Request:
    body = {"name": API_KEY_NAME, "role_descriptors": {WRITER_ROLE: {k: v for k, v in ROLES[WRITER_ROLE].items()
                                                                     if k != "metadata"}},
            "metadata": META}
    return Request("POST", "/_security/api_key", body,
                   title=f"API key {API_KEY_NAME} for Filebeat, limited to {WRITER_ROLE} (its secret is shown once)")


def security_requests() -> list[Request]:
    return [role_request(WRITER_ROLE), role_request(ML_ROLE), api_key_request()]


def setup_role(cluster: Cluster, name: str) -> Outcome:
    request = role_request(name)
    current = (cluster.get(request.path) or {}).get(name)
    if current is None:
        cluster.send(request)
        return Outcome(f"role {name}", "created")
    if differences(request.body, current):
        cluster.send(request)
        return Outcome(f"role {name}", "updated")
    return Outcome(f"role {name}", "unchanged")


def active_keys(cluster: Cluster) -> list[dict[str, Any]]:
    """The API keys named synth-filebeat that are neither invalidated nor expired."""
    found = cluster.get(f"/_security/api_key?name={API_KEY_NAME}") or {}
    return [k for k in found.get("api_keys") or [] if not k.get("invalidated") and not k.get("expired", False)]


def write_key(path: str, text: str) -> None:
    """The key alone in a file only its owner can read; an existing file is not overwritten."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SetupError(f"--filebeat-key: {path} exists; give a new file") from None
    except OSError as e:
        raise SetupError(f"--filebeat-key: {path}: {e.strerror or e}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")


def check_key_file(path: str | None) -> None:
    """Before anything is sent: a key file that cannot be written is an error now, not later."""
    if path is None:
        return
    if Path(path).exists():
        raise SetupError(f"--filebeat-key: {path} exists; give a new file")
    if not Path(path).resolve().parent.is_dir():
        raise SetupError(f"--filebeat-key: {Path(path).parent}: no such folder")


def setup_api_key(cluster: Cluster, key_file: str | None = None) -> Outcome:
    """The Filebeat key, made once. ``detail`` holds ``id:api_key`` when it was made and not
    written to ``key_file`` (the caller shows it: Elasticsearch never shows it again)."""
    what = f"API key {API_KEY_NAME} (Filebeat)"
    existing = active_keys(cluster)
    if existing:
        return Outcome(what, "unchanged", f"id {existing[0].get('id')}; its secret was shown when it was made")
    made = cluster.send(api_key_request()) or {}
    secret = f"{made.get('id')}:{made.get('api_key')}"
    if key_file is not None:
        write_key(key_file, secret)
        return Outcome(what, "created", f"written to {key_file}")
    return Outcome(what, "created", secret)


def apply_security(cluster: Cluster, key_file: str | None = None) -> list[Outcome]:
    return [setup_role(cluster, WRITER_ROLE), setup_role(cluster, ML_ROLE), setup_api_key(cluster, key_file)]


def security_off(error: ElasticError) -> bool:
    """Whether Elasticsearch refused a security API because security is not enabled there."""
    text = str(error).lower()
    return "security must be explicitly enabled" in text or "security is not enabled" in text
