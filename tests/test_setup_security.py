"""synth setup against the stand-in server (tests/fake_elastic.py): the roles and Filebeat's API
key in the request log (bodies as the Elasticsearch security API takes them), made once; the
failure index's own template; the data view through Kibana 8.4+'s data views API and through
8.0-8.3's index pattern API."""

import json
import os
import stat

import pytest
from fake_elastic import FakeStack
from test_cli import run_cli
from test_setup import FAILED_TEMPLATE, KEY_BODY, ROLES, setup_args


@pytest.fixture(autouse=True)
def no_connection_settings(monkeypatch):
    for name in ("SYNTH_ES", "SYNTH_ES_API_KEY", "SYNTH_ES_USER", "SYNTH_ES_PASSWORD", "SYNTH_ES_CA_CERTS", "SYNTH_KIBANA"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def stack():
    fake = FakeStack().start()
    yield fake
    fake.stop()


def writes(stack, prefix):
    return [(m, p, b) for m, p, b in stack.sent(writes_only=True) if p.startswith(prefix)]


def test_roles_and_a_key_limited_to_the_writer_role(stack, capsys):
    code, out, err = run_cli(setup_args(stack, "--jobs", "smoke-request-count", kibana=False), capsys)
    assert code == 0, err
    assert writes(stack, "/_security/") == [
        ("PUT", "/_security/role/synth_filebeat_writer", ROLES["synth_filebeat_writer"]),
        ("PUT", "/_security/role/synth_ml", ROLES["synth_ml"]),
        ("POST", "/_security/api_key", KEY_BODY)]
    (key,) = stack.api_keys
    secret = next(line.split("=", 1)[1] for line in out.splitlines() if "ELASTICSEARCH_API_KEY=" in line)
    assert secret.startswith(key["id"] + ":") and len(secret) > len(key["id"]) + 10
    assert out.count(secret) == 1  # shown once


def test_a_second_run_makes_no_second_key_and_shows_no_secret(stack, capsys):
    assert run_cli(setup_args(stack, kibana=False), capsys)[0] == 0
    first = len(stack.seen)
    code, out, _ = run_cli(setup_args(stack, kibana=False), capsys)
    assert code == 0
    later = [(s.method, s.path) for s in stack.seen[first:] if s.method != "GET"]
    assert later == []  # roles, template and key unchanged: only looked at
    assert "ELASTICSEARCH_API_KEY" not in out and len(stack.api_keys) == 1
    assert any(line.split()[:3] == ["unchanged", "API", "key"] for line in out.splitlines())


def test_the_key_goes_to_a_file_only_its_owner_reads(stack, capsys, tmp_path):
    path = tmp_path / "filebeat.key"
    code, out, err = run_cli(setup_args(stack, "--filebeat-key", str(path), kibana=False), capsys)
    assert code == 0, err
    (key,) = stack.api_keys
    secret = path.read_text().strip()
    assert secret.startswith(key["id"] + ":") and secret not in out
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # a file that exists is not overwritten: said before anything is sent
    before = len(stack.seen)
    code, _, err = run_cli(setup_args(stack, "--filebeat-key", str(path), kibana=False), capsys)
    assert code == 2 and err.strip() == f"synth: --filebeat-key: {path} exists; give a new file"
    assert len(stack.seen) == before


def test_a_cluster_without_security_gets_no_roles(stack, capsys):
    stack.security = False
    code, out, err = run_cli(setup_args(stack, kibana=False), capsys)
    assert code == 0, err
    assert "security is off" in out and not stack.roles
    code, out, err = run_cli(setup_args(stack, "--no-security", kibana=False), capsys)
    assert code == 0 and not any(s.path.startswith("/_security") for s in stack.seen[-40:] if s.method != "GET")


def test_the_failure_index_has_its_own_template(stack, capsys):
    assert run_cli(setup_args(stack, kibana=False), capsys)[0] == 0
    assert stack.templates["failed-smoke_event"] == FAILED_TEMPLATE
    assert FAILED_TEMPLATE["index_patterns"] == ["failed-smoke_event"]
    assert FAILED_TEMPLATE["template"]["mappings"]["properties"]["error"]["properties"]["message"]["type"] == \
        "match_only_text"
    # and the daily indices' template no longer carries a mapping that could never apply there
    assert "error" not in stack.templates["smoke_event"]["template"]["mappings"]["properties"]


def test_dry_run_lists_the_security_requests(capsys):
    code, out, _ = run_cli(["setup", "--dry-run", "--jobs", "smoke-request-count"], capsys)
    assert code == 0
    assert "PUT _security/role/synth_filebeat_writer" in out and "POST _security/api_key" in out
    assert "PUT _index_template/failed-smoke_event" in out
    code, out, _ = run_cli(["setup", "--dry-run", "--no-security", "--jobs", "smoke-request-count"], capsys)
    assert "_security" not in out


# --- Kibana 8.2 and 8.4+ ---------------------------------------------------------------------------

def test_kibana_8_2_gets_an_index_pattern_without_a_name(stack, capsys):
    stack.kibana_version = "8.2.3"
    code, out, err = run_cli(setup_args(stack, "--jobs", "smoke-request-count"), capsys)
    assert code == 0, err
    sent = stack.sent("kibana")
    assert sent[0] == ("GET", "/api/status", None)
    assert ("POST", "/api/index_patterns/index_pattern",
            {"index_pattern": {"title": "smoke_event-*", "timeFieldName": "@timestamp"}}) in sent
    assert not [p for m, p, _ in sent if p.startswith("/api/data_views")]
    (pattern,) = stack.index_patterns.values()
    assert pattern["title"] == "smoke_event-*"
    # the second run finds it by title
    code, out, _ = run_cli(setup_args(stack, "--jobs", "smoke-request-count"), capsys)
    assert code == 0 and len(stack.index_patterns) == 1
    assert "unchanged  data view smoke_event-* (Kibana)" in out


def test_the_stand_in_8_2_refuses_a_data_view_with_a_name():
    """What setup did before: a data view body on 8.2 was an HTTP 400."""
    import urllib.error
    import urllib.request
    fake = FakeStack().start()
    fake.kibana_version = "8.2.3"
    try:
        request = urllib.request.Request(fake.kibana_url + "/api/data_views/data_view", method="POST",
                                         data=json.dumps({"data_view": {"title": "x", "name": "y"}}).encode(),
                                         headers={"kbn-xsrf": "t", "Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(request, timeout=5)
        assert e.value.code == 400
    finally:
        fake.stop()


@pytest.mark.parametrize("version", ["8.4.0", "8.19.2", "9.5.7"])
def test_kibana_8_4_and_later_get_a_data_view_with_its_name(stack, capsys, version):
    stack.kibana_version = version
    code, _, err = run_cli(setup_args(stack, "--jobs", "smoke-request-count"), capsys)
    assert code == 0, err
    (view,) = stack.data_views.values()
    assert view["name"] == "smoke_event (synth)" and view["timeFieldName"] == "@timestamp"
    assert not stack.index_patterns
