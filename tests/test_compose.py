"""filebeat/compose.yml: valid YAML with the services, the one version, the mounts and the
environment that the README's walkthrough and filebeat.yml rely on. (Docker cannot run here;
this is what checks the file.)"""

import json
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest
import yaml

from synth.resources import resource_dir

FILEBEAT = resource_dir("filebeat")
COMPOSE_TEXT = (FILEBEAT / "compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
IMAGES = {"certs": "docker.elastic.co/elasticsearch/elasticsearch", "elasticsearch": "docker.elastic.co/elasticsearch/elasticsearch",
          "kibana": "docker.elastic.co/kibana/kibana", "filebeat": "docker.elastic.co/beats/filebeat"}


def version():
    return SERVICES["elasticsearch"]["image"].rsplit(":", 1)[1]


def mounts(service):
    """{target: (source, read_only)} of a service's volumes, short syntax."""
    found = {}
    for volume in SERVICES[service].get("volumes", []):
        parts = volume.split(":")
        read_only = parts[-1] == "ro"
        if read_only:
            parts = parts[:-1]
        source, target = ":".join(parts[:-1]), parts[-1]
        found[target] = (source, read_only)
    return found


def default_of(source):
    """A ${VAR:-default} source as its default."""
    found = re.fullmatch(r"\$\{\w+:-([^}]*)\}", source)
    return found.group(1) if found else source


def test_services_and_one_current_version():
    """Elasticsearch, Kibana and Filebeat (and the one-off certificate maker), one 8.x or 9.x
    version for all, the version the README names."""
    assert set(SERVICES) == set(IMAGES)
    assert re.fullmatch(r"(8|9)\.\d+\.\d+", version())
    for name, image in IMAGES.items():
        assert SERVICES[name]["image"] == f"{image}:{version()}", name
    assert f"Filebeat {version()}" in README


def test_elasticsearch_is_secured_with_tls():
    es = SERVICES["elasticsearch"]
    env = es["environment"]
    assert env["discovery.type"] == "single-node"
    assert env["xpack.security.enabled"] == "true" and env["xpack.security.http.ssl.enabled"] == "true"
    assert env["ELASTIC_PASSWORD"].startswith("${ELASTIC_PASSWORD:?")
    # anomaly detection needs more than the basic license
    assert env["xpack.license.self_generated.type"] == "trial"
    certs = mounts("elasticsearch")["/usr/share/elasticsearch/config/certs"]
    assert certs == ("certs", True)
    for key in ("xpack.security.http.ssl.key", "xpack.security.http.ssl.certificate",
                "xpack.security.http.ssl.certificate_authorities"):
        assert env[key].startswith("certs/"), key
    assert "127.0.0.1:9200:9200" in es["ports"]
    assert "https://localhost:9200" in " ".join(es["healthcheck"]["test"])


def test_the_certificate_covers_the_names_clients_use():
    """The certs service writes the files Elasticsearch names, for the hosts Kibana and Filebeat
    (elasticsearch) and synth on the host (localhost) connect to."""
    script = SERVICES["certs"]["command"][-1]
    assert "name: elasticsearch" in script and "dns: [elasticsearch, localhost]" in script
    env = SERVICES["elasticsearch"]["environment"]
    assert env["xpack.security.http.ssl.certificate"] == "certs/elasticsearch/elasticsearch.crt"
    assert env["xpack.security.http.ssl.certificate_authorities"] == "certs/ca/ca.crt"
    assert SERVICES["certs"]["healthcheck"]["test"][1] == "[ -f config/certs/elasticsearch/elasticsearch.crt ]"
    assert "_security/user/kibana_system/_password" in script
    # compose substitutes $NAME itself: the shell's variables must be written $$NAME
    assert not re.search(r"(?<!\$)\$(?![${])", script)


def test_kibana_logs_in_as_kibana_system_over_tls():
    env = SERVICES["kibana"]["environment"]
    assert env["ELASTICSEARCH_HOSTS"] == "https://elasticsearch:9200"
    assert env["ELASTICSEARCH_USERNAME"] == "kibana_system"
    assert env["ELASTICSEARCH_PASSWORD"].startswith("${KIBANA_PASSWORD:?")
    target = "/usr/share/kibana/config/certs"
    assert mounts("kibana")[target] == ("certs", True)
    assert env["ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES"] == "config/certs/ca/ca.crt"
    assert "127.0.0.1:5601:5601" in SERVICES["kibana"]["ports"]
    assert SERVICES["kibana"]["depends_on"]["elasticsearch"]["condition"] == "service_healthy"


def test_filebeat_runs_our_filebeat_yml_on_the_output_folder():
    """Our filebeat.yml, read-only, with every variable it reads set; the output folder where
    SYNTH_OUTPUT says; the CA from the certs volume; the strict permission check off (a
    bind-mounted file keeps its host owner and mode)."""
    fb = SERVICES["filebeat"]
    volumes = mounts("filebeat")
    source, read_only = volumes["/usr/share/filebeat/filebeat.yml"]
    assert read_only and (FILEBEAT / source).resolve() == (FILEBEAT / "filebeat.yml").resolve()
    env = fb["environment"]
    output_source, read_only = volumes[env["SYNTH_OUTPUT"]]
    assert read_only and output_source.startswith("${SYNTH_OUTPUT_DIR:-")
    assert (FILEBEAT / default_of(output_source)).resolve() == (FILEBEAT.parent / "output").resolve()
    settings = [line for line in (FILEBEAT / "filebeat.yml").read_text().splitlines() if not line.lstrip().startswith("#")]
    wanted = set(re.findall(r"\$\{(\w+)", "\n".join(settings)))
    assert wanted == {"SYNTH_OUTPUT", "ELASTICSEARCH_HOSTS", "ELASTICSEARCH_API_KEY", "ELASTICSEARCH_USERNAME",
                      "ELASTICSEARCH_PASSWORD"}
    # least privilege: the API key synth setup makes, never the elastic superuser
    assert set(env) == {"SYNTH_OUTPUT", "ELASTICSEARCH_HOSTS", "ELASTICSEARCH_API_KEY"}
    assert env["ELASTICSEARCH_HOSTS"] == "https://elasticsearch:9200"
    assert env["ELASTICSEARCH_API_KEY"].startswith("${FILEBEAT_API_KEY:?")
    assert "ELASTIC_PASSWORD" not in json.dumps(fb)
    command = fb["command"]
    assert "--strict.perms=false" in command
    ca = command[command.index("-E") + 1]
    key, path = ca.split("=", 1)
    assert key == "output.elasticsearch.ssl.certificate_authorities"
    certs_target = next(t for t, (s, _) in volumes.items() if s == "certs")
    assert PurePosixPath(path) == PurePosixPath(certs_target) / "ca" / "ca.crt"
    assert ("filebeatdata", False) in volumes.values()
    assert fb["depends_on"]["elasticsearch"]["condition"] == "service_healthy"


def test_filebeat_waits_for_its_profile():
    """Filebeat starts only with --profile ship, after synth setup has made the pipeline: the
    README runs them in that order."""
    assert SERVICES["filebeat"]["profiles"] == ["ship"]
    walkthrough = README[README.index("## The whole loop"):]
    order = [walkthrough.index(step) for step in (
        "synth generate", "docker compose up -d", "synth setup --kibana", "docker compose --profile ship up -d",
        "synth setup --run output", "synth score --job")]
    assert order == sorted(order)


def test_the_readme_copies_the_ca_that_elasticsearch_uses():
    target = "/usr/share/elasticsearch/config/certs"
    assert mounts("elasticsearch")[target][0] == "certs"
    assert f"docker compose cp elasticsearch:{target}/ca/ca.crt ca.crt" in README
    assert "export COMPOSE_FILE=filebeat/compose.yml" in README


@pytest.mark.parametrize("name", sorted(set(re.findall(r"(?<!\$)\$\{(\w+)", COMPOSE_TEXT))))  # $$ is a shell's $
def test_every_variable_is_explained(name):
    """Each ${VAR} the compose file reads is in its header and in the README."""
    header = COMPOSE_TEXT[:COMPOSE_TEXT.index("name: synth")]
    assert name in header and name in README


def test_named_volumes_are_declared():
    used = {s for service in SERVICES for s, _ in mounts(service).values() if re.fullmatch(r"\w+", s)}
    assert used == set(COMPOSE["volumes"])


def _password_body(password: str) -> subprocess.CompletedProcess:
    """The certs service's own lines that turn KIBANA_PASSWORD into the request body, run by
    bash as compose would (compose turns $$ into $), then the body printed."""
    script = SERVICES["certs"]["command"][2].replace("$$", "$")
    start = script.index('case "$KIBANA_PASSWORD"')
    end = script.index("\n", script.index('body="')) + 1
    return subprocess.run(["bash", "-ceu", script[start:end] + 'printf %s "$body"'],
                          env={"KIBANA_PASSWORD": password, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, check=False)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("password", ['plain', 'with "quotes"', 'back\\slash\\', '\\"', "it's $HOME `x` {}", "ünï"])
def test_the_kibana_password_reaches_elasticsearch_as_valid_json(password):
    done = _password_body(password)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"password": password}
    assert "-d \"$$body\"" in SERVICES["certs"]["command"][2]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_a_password_with_a_control_character_is_refused():
    done = _password_body("tab\there")
    assert done.returncode != 0 and "control character" in done.stderr
