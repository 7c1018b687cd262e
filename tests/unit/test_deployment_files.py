"""The production deployment files: Dockerfile, .dockerignore, docker-compose.yml and deploy/.

What Docker and compose would only find out on the day of a deployment, checked here: the
services, their health checks and start order; that no password, secret or key is written into
the compose file, and every variable it reads is documented in deploy/env.example; that the
image is built from verified model files and runs as an unprivileged user; that Caddy routes
each node's path to that node; and that coturn relays only where it should.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DEPLOY = ROOT / "deploy"
CADDYFILE = DEPLOY / "Caddyfile"
TURN_CONF = DEPLOY / "turnserver.conf"
ENV_EXAMPLE = DEPLOY / "env.example"

SERVICES = {"postgres", "redis", "migrate", "node-a", "node-b", "coturn", "proxy"}
NODES = ("node-a", "node-b")
DATA_DIR = "/var/lib/protolearn"

# ${NAME}, ${NAME:?message}, ${NAME?message}, ${NAME:-default}, ${NAME-default}; $$ is a literal $.
_REFERENCE = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[?-])?(?P<arg>[^}]*)\}")
_BARE_REFERENCE = re.compile(r"(?<!\$)\$(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
# A whole value that is one reference and nothing else, with no default but the empty one.
_ONLY_A_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*|:?-)?\}")
_SECRET_WORDS = ("PASSWORD", "SECRET", "KEY", "TOKEN")
_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/:@\s]+:(?P<password>[^@\s]+)@")
_SETTING_NAME = re.compile(r"-{0,2}[A-Za-z][A-Za-z0-9_.-]*")


# --- helpers ---------------------------------------------------------------------------------


def _strings(node: Any) -> Iterator[str]:
    """Every string in a loaded YAML document, keys included."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _is_secret_name(name: str) -> bool:
    name = name.upper().replace("-", "_")
    return not name.endswith("_KEY_PATH") and any(word in name for word in _SECRET_WORDS)


def _secret_literals(document: Any) -> tuple[list[str], set[str]]:
    """(values that look like a secret written out, names of the secret settings checked).

    A setting is secret by name (PASSWORD, SECRET, KEY or TOKEN in it; *_KEY_PATH names a file):
    as a mapping key (environment: {NAME: value}), as NAME=value in a list (environment lists)
    or as --name=value on a command line. Its value must be one ${VAR} reference, with no
    default but an empty one. A password in a URL's user info must be a reference too."""
    literals: list[str] = []
    checked: set[str] = set()

    def check(name: str, value: object) -> None:
        if not _is_secret_name(name) or isinstance(value, dict | list):
            return
        checked.add(name.lstrip("-"))
        if not (isinstance(value, str) and _ONLY_A_REFERENCE.fullmatch(value)):
            literals.append(f"{name}={value}")

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                check(str(key), value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            name, equals, value = node.partition("=")
            if equals and _SETTING_NAME.fullmatch(name):
                check(name, value)
            for match in _URL_PASSWORD.finditer(node):
                if not _ONLY_A_REFERENCE.fullmatch(match["password"]):
                    literals.append(f"password in URL {node}")

    walk(document)
    return literals, checked


def _references(document: Any) -> list[re.Match[str]]:
    return [match for text in _strings(document) for match in _REFERENCE.finditer(text)]


def _env_example() -> dict[str, str]:
    assignments = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, equals, value = line.partition("=")
            assert equals, f"deploy/env.example: not NAME=value: {line!r}"
            assignments[name.strip()] = value.strip()
    return assignments


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    depends = service.get("depends_on", {})
    if isinstance(depends, list):
        return dict.fromkeys(depends, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in depends.items()}


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return {key: str(value) for key, value in environment.items()}


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


class _Stage:
    def __init__(self, base: str, name: str | None) -> None:
        self.base, self.name = base, name
        self.instructions: list[tuple[str, str]] = []

    def args(self, keyword: str) -> list[str]:
        return [args for key, args in self.instructions if key == keyword]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for args in self.args("ENV"):
            values.update(part.partition("=")[::2] for part in shlex.split(args))
        return values


def _dockerfile_stages() -> list[_Stage]:
    """The Dockerfile's stages, each with its instructions (continuation lines joined)."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[_Stage] = []
    for instruction in logical:
        keyword, _, args = instruction.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = [word for word in args.split() if not word.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(_Stage(words[0], name))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


def _caddy_blocks(text: str) -> list[tuple[list[str], list[Any]]]:
    """A Caddyfile as a tree: [(tokens of a line, its block's children), ...]."""
    root: list[tuple[list[str], list[Any]]] = []
    stack = [root]
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        if line == "}":
            stack.pop()
            continue
        opens = line.endswith("{")
        tokens = line.removesuffix("{").split()
        children: list[Any] = []
        stack[-1].append((tokens, children))
        if opens:
            stack.append(children)
    assert len(stack) == 1, "deploy/Caddyfile: unbalanced braces"
    return root


def _site_block() -> list[Any]:
    blocks = _caddy_blocks(CADDYFILE.read_text())
    assert [tokens for tokens, _ in blocks] == [["{$PROTOLEARN_DOMAIN}"]], "one site, the domain's"
    return blocks[0][1]


def _proxies(block: list[Any]) -> list[tuple[list[str], dict[str, list[str]]]]:
    """reverse_proxy directives in a block: (upstreams, {subdirective: arguments})."""
    found = []
    for tokens, children in block:
        if tokens[0] == "reverse_proxy":
            found.append((tokens[1:], {sub[0]: sub[1:] for sub, _ in children}))
    return found


def _turn_conf() -> list[tuple[str, str]]:
    options = []
    for raw in TURN_CONF.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            options.append((name.strip(), value.strip()))
    return options


def _address_range(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
    first, _, last = text.partition("-")
    return ipaddress.ip_address(first), ipaddress.ip_address(last or first)


def _coturn_relays_to(address: str, options: list[tuple[str, str]]) -> bool:
    """coturn's rule: an address both allowed and denied is allowed."""
    ip = ipaddress.ip_address(address)

    def within(kind: str) -> bool:
        for name, value in options:
            if name == kind:
                low, high = _address_range(value)
                if low.version == ip.version and low <= ip <= high:
                    return True
        return False

    return within("allowed-peer-ip") or not within("denied-peer-ip")


def _docker_ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore's rule, enough for these patterns: the last matching line wins, a line
    matching a folder matches what is inside, ! re-includes."""

    def regex(pattern: str) -> re.Pattern[str]:
        out = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?)", pattern.strip("/")):
            out += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
        return re.compile(out)

    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for line in patterns:
        negated = line.startswith("!")
        pattern = regex(line.removeprefix("!"))
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            ignored = not negated
    return ignored


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


# --- docker-compose.yml ----------------------------------------------------------------------


def test_the_services_are_all_there(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == SERVICES


def test_every_long_running_service_has_a_health_check(services: dict[str, dict[str, Any]]) -> None:
    image_checks = _dockerfile_stages()[-1].args("HEALTHCHECK")
    for name, service in services.items():
        if name == "migrate":
            continue
        check = service.get("healthcheck")
        if check is None:  # the image's own HEALTHCHECK, for a service built from the Dockerfile
            assert "build" in service, f"{name}: no healthcheck"
            assert image_checks and image_checks[-1] != "NONE", f"{name}: the image has none"
            continue
        assert not check.get("disable"), f"{name}: health check disabled"
        assert check["test"][0] in {"CMD", "CMD-SHELL"} and len(check["test"]) > 1, name
    for node in NODES:
        assert "/readyz" in " ".join(services[node]["healthcheck"]["test"]), node


def test_nodes_start_after_the_migration_and_healthy_stores(services: dict[str, dict[str, Any]]) -> None:
    for node in NODES:
        assert _depends_on(services[node]) == {
            "migrate": "service_completed_successfully",
            "postgres": "service_healthy",
            "redis": "service_healthy",
        }, node
    assert _depends_on(services["migrate"]) == {"postgres": "service_healthy"}
    assert _depends_on(services["proxy"]) == dict.fromkeys(NODES, "service_healthy")


def test_migrate_is_a_one_off_job(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert _command(migrate) == ["protolearn", "migrate"]
    assert str(migrate.get("restart", "no")).lower() in {"no", "false"}
    assert migrate.get("image") == services["node-a"]["image"] == services["node-b"]["image"]
    assert _environment(migrate)["PROTOLEARN_DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_both_nodes_share_one_data_volume_and_one_key_pair(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    sources = set()
    for node in NODES:
        mounts = [volume.split(":") for volume in services[node]["volumes"]]
        sources |= {source for source, target, *_ in mounts if target == DATA_DIR}
        environment = _environment(services[node])
        for kind in ("PRIVATE", "PUBLIC"):
            path = environment[f"PROTOLEARN_JWT_{kind}_KEY_PATH"]
            secret = path.removeprefix("/run/secrets/")
            assert path.startswith("/run/secrets/") and secret in services[node]["secrets"], (node, path)
            assert compose["secrets"][secret]["file"].startswith("./deploy/secrets/"), secret
    assert len(sources) == 1, f"one volume for {DATA_DIR} on both nodes, found {sources}"
    assert sources <= set(compose["volumes"]), "a named volume, not a folder of the host"
    node_ids = {_environment(services[node])["PROTOLEARN_NODE_ID"] for node in NODES}
    assert node_ids == set(NODES)


def test_no_secret_is_written_into_the_compose_file(compose: dict[str, Any]) -> None:
    literals, checked = _secret_literals(compose)
    assert literals == []
    # The walk did see the secrets it guards (so an empty list above means something).
    assert {
        "POSTGRES_PASSWORD",
        "PROTOLEARN_TURN_SECRET",
        "PROTOLEARN_CLIP_ENCRYPTION_KEY",
        "static-auth-secret",
    } <= checked


def test_the_secret_check_finds_literals() -> None:
    document = {
        "services": {
            "a": {
                "environment": {
                    "DB_PASSWORD": "hunter2",
                    "API_TOKEN": "${TOKEN:-built-in-default}",
                    "SIGNING_KEY": "${SIGNING_KEY:?required}",
                    "SIGNING_KEY_PATH": "/run/secrets/signing_key",
                    "OPTIONAL_KEY": "${OPTIONAL_KEY:-}",
                    "URL": "postgresql://user:plain@db/x",
                    "SAFE_URL": "postgresql://user:${DB_PASSWORD}@db/x",
                },
                "command": ["--static-auth-secret=abc", "--use-auth-secret", "--realm=${REALM}"],
            },
            "b": {"environment": ["REDIS_PASSWORD=swordfish", "MODE=production"]},
        }
    }
    literals, checked = _secret_literals(document)
    assert sorted(literals) == [
        "--static-auth-secret=abc",
        "API_TOKEN=${TOKEN:-built-in-default}",
        "DB_PASSWORD=hunter2",
        "REDIS_PASSWORD=swordfish",
        "password in URL postgresql://user:plain@db/x",
    ]
    assert "SIGNING_KEY_PATH" not in checked and "SIGNING_KEY" in checked


def test_every_variable_is_documented_and_required_where_used_bare(compose: dict[str, Any]) -> None:
    references = _references(compose)
    used = {match["name"] for match in references}
    bare = [match["name"] for text in _strings(compose) for match in _BARE_REFERENCE.finditer(text)]
    assert bare == [], "use ${VAR} (with :? when required), not $VAR"
    documented = _env_example()
    assert used == set(documented), "docker-compose.yml's variables and deploy/env.example's differ"
    assert [name for name, value in documented.items() if value] == [], "env.example holds no values"
    # A variable used as plain ${VAR} somewhere is required (:?) somewhere else, so that compose
    # refuses to start without it instead of putting an empty string there.
    required = {match["name"] for match in references if match["op"] in {":?", "?"}}
    optional = {match["name"] for match in references if match["op"] in {":-", "-"}}
    plain = {match["name"] for match in references if match["op"] is None}
    assert plain <= required
    assert required | optional == used
    assert {"POSTGRES_PASSWORD", "TURN_SECRET", "CLIP_ENCRYPTION_KEY", "PROTOLEARN_DOMAIN"} <= required


def test_the_proxy_gets_what_its_caddyfile_reads(services: dict[str, dict[str, Any]]) -> None:
    wanted = set(re.findall(r"\{\$([A-Za-z_][A-Za-z0-9_]*)", CADDYFILE.read_text()))
    assert wanted == {"PROTOLEARN_DOMAIN"}
    assert wanted <= set(_environment(services["proxy"]))
    mounts = {volume.split(":")[1] for volume in services["proxy"]["volumes"]}
    assert "/etc/caddy/Caddyfile" in mounts
    published = {str(port) for port in services["proxy"]["ports"]}
    assert {"80:80", "443:443", "443:443/udp"} <= published


def test_coturn_is_on_the_host_network_with_its_config_and_the_shared_secret(
    services: dict[str, dict[str, Any]],
) -> None:
    coturn = services["coturn"]
    assert coturn["network_mode"] == "host"
    mounts = {target: source for source, target, *_ in (volume.split(":") for volume in coturn["volumes"])}
    command = _command(coturn)
    config = command[command.index("-c") + 1]
    assert mounts[config] == "./deploy/turnserver.conf"
    flags = dict(part.partition("=")[::2] for part in command if part.startswith("--"))
    secrets = {
        flags["--static-auth-secret"],
        *(_environment(services[node])["PROTOLEARN_TURN_SECRET"] for node in NODES),
    }
    names = {match["name"] for secret in secrets for match in _REFERENCE.finditer(secret)}
    assert names == {"TURN_SECRET"}, "coturn and the nodes share one TURN secret"
    assert "--use-auth-secret" in flags
    # The nodes reach coturn (host network) through the host's gateway address.
    for node in NODES:
        assert "host.docker.internal:host-gateway" in services[node]["extra_hosts"]
        relay = _environment(services[node])["PROTOLEARN_MEDIA_RELAY_TURN_URL"]
        assert relay.startswith("turn:host.docker.internal:"), relay


# --- deploy/turnserver.conf ------------------------------------------------------------------


def test_turn_config_holds_no_secret_and_matches_the_urls_given_to_browsers(
    services: dict[str, dict[str, Any]],
) -> None:
    options = dict(_turn_conf())
    assert not {"static-auth-secret", "user", "lt-cred-mech", "cli-password"} & set(options)
    assert "use-auth-secret" in options and "no-cli" in options and "no-tcp-relay" in options
    assert {"no-tlsv1", "no-tlsv1_1", "fingerprint", "stale-nonce"} <= set(options)
    assert int(options["user-quota"]) > 0 and int(options["total-quota"]) > 0
    assert 1024 < int(options["min-port"]) < int(options["max-port"]) <= 65535
    urls = _environment(services["node-a"])["PROTOLEARN_TURN_URLS"].split(",")
    ports = {url.split(":")[0]: url.split(":")[-1].split("?")[0] for url in urls}
    assert ports == {"turn": options["listening-port"], "turns": options["tls-listening-port"]}
    relay_port = _environment(services["node-a"])["PROTOLEARN_MEDIA_RELAY_TURN_URL"].rsplit(":", 1)[1]
    assert relay_port == options["listening-port"]


@pytest.mark.parametrize(
    ("peer", "relayed"),
    [
        ("8.8.8.8", True),  # a browser on the internet
        ("2001:4860:4860::8888", True),
        ("172.18.0.5", True),  # an app node on a Docker network
        ("10.1.2.3", False),
        ("192.168.1.10", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),  # a cloud's metadata service
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_turn_relays_to_public_peers_and_the_app_nodes_only(peer: str, relayed: bool) -> None:
    assert _coturn_relays_to(peer, _turn_conf()) is relayed


# --- deploy/Caddyfile ------------------------------------------------------------------------


def test_each_node_url_is_routed_to_that_node(services: dict[str, dict[str, Any]]) -> None:
    port = _dockerfile_stages()[-1].args("EXPOSE")[0]
    routes = {
        tokens[1]: _proxies(children) for tokens, children in _site_block() if tokens[0] == "handle_path"
    }
    for node in NODES:
        url = urlsplit(_environment(services[node])["PROTOLEARN_NODE_URL"])
        assert url.scheme == "https" and url.netloc == "${PROTOLEARN_DOMAIN}", url
        proxies = routes[url.path + "/*"]
        assert [upstreams for upstreams, _ in proxies] == [[f"{node}:{port}"]], (node, proxies)
    assert len(routes) == len(NODES)


def test_everything_else_is_balanced_over_ready_nodes() -> None:
    port = _dockerfile_stages()[-1].args("EXPOSE")[0]
    catch_all = [children for tokens, children in _site_block() if tokens == ["handle"]]
    assert len(catch_all) == 1
    [(upstreams, options)] = _proxies(catch_all[0])
    assert sorted(upstreams) == [f"{node}:{port}" for node in NODES]
    assert options["health_uri"] == ["/readyz"]
    assert options["lb_policy"][0] in {"least_conn", "round_robin"}
    # Security headers come from the app, not repeated by the proxy.
    assert not [tokens for tokens, _ in _site_block() if tokens[0] == "header"]


# --- Dockerfile and .dockerignore ------------------------------------------------------------


def test_a_stage_builds_and_verifies_the_model_files() -> None:
    stages = _dockerfile_stages()
    builders = [stage for stage in stages if any("fetch_models.py" in run for run in stage.args("RUN"))]
    assert len(builders) == 1
    models = builders[0]
    steps = [step.strip() for run in models.args("RUN") for step in run.split("&&")]
    assert "python scripts/fetch_models.py" in steps
    assert "python scripts/fetch_models.py --check" in steps
    assert steps.index("python scripts/fetch_models.py") < steps.index(
        "python scripts/fetch_models.py --check"
    )
    assert any(args.split()[0] == "models/manifest.toml" for args in models.args("COPY"))
    # The final image takes the files from that stage, where PROTOLEARN_MODELS_DIR points.
    final = stages[-1]
    copies = [args.split() for args in final.args("COPY") if args.startswith(f"--from={models.name} ")]
    assert len(copies) == 1
    assert copies[0][-1].rstrip("/") == final.env()["PROTOLEARN_MODELS_DIR"]


def test_the_image_runs_the_server_as_an_unprivileged_user() -> None:
    final = _dockerfile_stages()[-1]
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", final.base), final.base
    users = final.args("USER")
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    creates = " ".join(final.args("RUN"))
    assert re.search(rf"useradd [^&]*--uid 10001 [^&]*{re.escape(users[-1])}", creates)
    [healthcheck] = final.args("HEALTHCHECK")
    assert "http://127.0.0.1:8000/healthz" in healthcheck and "urllib" in healthcheck
    assert [json.loads(args) for args in final.args("CMD")] == [["protolearn", "serve"]]
    environment = final.env()
    assert environment["PROTOLEARN_DATA_DIR"] == DATA_DIR
    assert ipaddress.ip_address(environment["PROTOLEARN_HOST"]).is_unspecified  # every interface
    assert environment["PROTOLEARN_LOG_FORMAT"] == "json"
    assert any(DATA_DIR in args for args in final.args("VOLUME"))
    assert re.search(r"pip install [^&]*--no-cache-dir [^&]*-c \S*constraints\.txt", creates)


def test_the_build_context_leaves_local_state_out() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in [
        ".venv/bin/python",
        ".git/HEAD",
        "var/model-build/wheels/x.whl",
        "var/protolearn.db",
        "tests/artifacts/page.png",
        "models/face_landmark.onnx",
        "models/face_landmarker.task",
        "src/protolearn/__pycache__/app.cpython-311.pyc",
        ".env",
        "deploy/secrets/jwt_private.pem",
    ]:
        assert _docker_ignored(path, patterns), path
    for path in [
        "models/manifest.toml",
        "pyproject.toml",
        "constraints.txt",
        "README.md",
        "scripts/fetch_models.py",
        "src/protolearn/app.py",
        "web/index.html",
    ]:
        assert not _docker_ignored(path, patterns), path


# --- docker compose itself, where it is installed --------------------------------------------


def _docker_compose() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    try:
        result = subprocess.run(  # noqa: S603
            [docker, "compose", "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return docker if result.returncode == 0 else None


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    docker = _docker_compose()
    if docker is None:
        pytest.skip("`docker compose version` does not work here (no docker, or no compose plugin)")
    project = tmp_path / "project"
    shutil.copytree(DEPLOY, project / "deploy", ignore=shutil.ignore_patterns("secrets", "certs"))
    shutil.copy(COMPOSE, project / "docker-compose.yml")
    shutil.copy(DOCKERFILE, project / "Dockerfile")
    for name in (
        "secrets/jwt_private.pem",
        "secrets/jwt_public.pem",
        "certs/fullchain.pem",
        "certs/privkey.pem",
    ):
        (project / "deploy" / name).parent.mkdir(exist_ok=True)  # dummies: compose reads no file
        (project / "deploy" / name).write_text("dummy\n")
    dummies = {
        name: "203.0.113.10"
        if name.endswith("_IP")
        else "exam.example.org"
        if "DOMAIN" in name
        else "ab" * 32
        for name in _env_example()
    }

    def config(values: dict[str, str]) -> subprocess.CompletedProcess[str]:
        env_file = project / "test.env"
        env_file.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
        command = [docker, "compose", "--project-directory", str(project), "--env-file", str(env_file)]
        return subprocess.run(  # noqa: S603
            [*command, "-f", str(project / "docker-compose.yml"), "config", "-q"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    accepted = config(dummies)
    assert accepted.returncode == 0, accepted.stderr
    refused = config({name: value for name, value in dummies.items() if name != "POSTGRES_PASSWORD"})
    assert refused.returncode != 0 and "POSTGRES_PASSWORD" in refused.stderr
