"""docker-compose.yml, the Dockerfile and the init service, without a Docker engine.

``docker-compose config`` (Debian's ``docker-compose`` package, v1.29) validates and
resolves the compose file; the tests read its resolved output, so they see what compose
would run, with anchors merged, variables interpolated and paths made absolute. The last
test takes the ``airflow-init`` service's command from that output and runs it for real
with bash against the local PostgreSQL, twice. The binary is missing: skipped with a
message, unless ``DRIFT_REQUIRE_COMPOSE`` is set (``.ci/run`` sets it), then failed.

docker-compose v1.29 understands ``profiles:`` (since 1.28) but ``config`` prints every
service whatever ``--profile`` says, so the profiles are checked as data: a service may
depend only on services that are active whenever it is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator, Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
VENV_BIN = Path(sys.executable).parent

# Required secrets, and a value that must reach the containers through the env file.
SECRETS = {
    "AIRFLOW_JWT_SECRET": "jwt-" + "a" * 32,
    "AIRFLOW_SECRET_KEY": "key-" + "b" * 32,
    "SLACK_WEBHOOK_URL": "json://hooks.internal:9000/drift",
}
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
    "flower": "celery flower",
}
ONE_SHOT = {"airflow-init", "airflow-cli"}
CELERY_ONLY = {"redis", "airflow-worker", "flower"}
# The services that run whatever the profile.
CORE = {
    "postgres",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-init",
}

POSTGRES_URL = os.environ.get(
    "DRIFT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _compose_binary() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        message = (
            "docker-compose is not installed; `apt-get install docker-compose` "
            "(Debian's package; no Docker engine needed) to validate docker-compose.yml"
        )
        if os.environ.get("DRIFT_REQUIRE_COMPOSE"):
            pytest.fail(f"required tool missing: {message}", pytrace=False)
        pytest.skip(message)
    return found


def compose_config(
    tmp_path: Path, settings: Mapping[str, str] | None = None, *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``docker-compose config`` with ``settings`` (plus the secrets) as its `.env` file.

    The environment is emptied first, so nothing from the developer's shell or a `.env`
    in the checkout changes the result.
    """
    env_file = tmp_path / f"compose-{uuid.uuid4().hex[:8]}.env"
    values = {**SECRETS, "ENV_FILE_PATH": str(env_file), **(settings or {})}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return subprocess.run(
        [_compose_binary(), "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config"],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


def resolved(tmp_path: Path, settings: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The resolved compose file, as compose itself sees it."""
    result = compose_config(tmp_path, settings)
    data: dict[str, Any] = yaml.safe_load(result.stdout)
    return data


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return resolved(tmp_path_factory.mktemp("compose"))


def _env(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment should resolve to a mapping"
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _unescape(text: str) -> str:
    """Compose's own escaping: ``$$`` in the file is a literal ``$`` in the container."""
    return text.replace("$$", "$")


# --- the compose file ------------------------------------------------------------------


def test_services_and_profiles(config: dict[str, Any]) -> None:
    services = config["services"]
    assert set(services) == CORE | CELERY_ONLY | {"airflow-cli"}
    for name in CORE:
        assert not services[name].get("profiles"), f"{name} must run without a profile"
    for name in CELERY_ONLY:
        assert services[name].get("profiles") == ["celery"], name
    assert services["airflow-cli"].get("profiles") == ["debug"]
    for name, command in AIRFLOW_SERVICES.items():
        assert services[name]["command"] == command, name


def test_dependencies_are_active_with_their_dependents(config: dict[str, Any]) -> None:
    services = config["services"]
    for name, service in services.items():
        mine = set(service.get("profiles") or [])
        for dependency in service.get("depends_on") or {}:
            theirs = set(services[dependency].get("profiles") or [])
            assert theirs <= mine, f"{name} depends on {dependency}, not active with it"


def test_startup_order(config: dict[str, Any]) -> None:
    services = config["services"]
    for name in (*AIRFLOW_SERVICES, "airflow-init", "airflow-cli"):
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for name in AIRFLOW_SERVICES:
        assert services[name]["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"
        }, name
    for name in ("airflow-worker", "flower"):
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"] == {
        "condition": "service_healthy"
    }
    assert services["airflow-init"].get("restart") == "no"


def test_health_checks(config: dict[str, Any]) -> None:
    services = config["services"]
    for name, service in services.items():
        if name in ONE_SHOT:
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name
        assert service.get("restart") == "always", name

    def probe(name: str) -> str:
        return " ".join(services[name]["healthcheck"]["test"])

    assert "pg_isready" in probe("postgres")
    assert "redis-cli ping" in probe("redis")
    assert "http://localhost:8080/api/v2/version" in probe("airflow-apiserver")
    assert "http://localhost:8974/health" in probe("airflow-scheduler")
    scheduler = _env(services["airflow-scheduler"])
    assert scheduler["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "--job-type DagProcessorJob" in probe("airflow-dag-processor")
    assert "--job-type TriggererJob" in probe("airflow-triggerer")
    assert "inspect ping" in probe("airflow-worker")
    assert "localhost:5555" in probe("flower")
    # $${HOSTNAME} must reach the container as ${HOSTNAME}, for its shell to expand.
    assert '"$${HOSTNAME}"' in probe("airflow-triggerer")


def test_volumes(config: dict[str, Any]) -> None:
    services = config["services"]
    assert set(config["volumes"]) == {"postgres-db-volume", "airflow-logs"}
    assert "postgres-db-volume:/var/lib/postgresql/data" in services["postgres"]["volumes"][0]
    for name in (*AIRFLOW_SERVICES, *ONE_SHOT):
        mounts = services[name]["volumes"]
        assert f"{ROOT / 'dags'}:/opt/airflow/dags:ro" in mounts, name
        assert any(m.startswith("airflow-logs:/opt/airflow/logs") for m in mounts), name
    assert (ROOT / "dags" / "drift_monitors_shard_00.py").is_file()


def test_airflow_services_share_image_and_settings(config: dict[str, Any]) -> None:
    services = config["services"]
    airflow = [services[n] for n in (*AIRFLOW_SERVICES, *ONE_SHOT)]
    assert {s["image"] for s in airflow} == {"airflow-drift:latest"}
    assert {s["build"]["context"] for s in airflow} == {str(ROOT)}
    shared = (
        "AIRFLOW__CORE__EXECUTOR",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__API__SECRET_KEY",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "AIRFLOW__DRIFT__RESULTS_CONN_ID",
        "DRIFT_RESULTS_URL",
        "DRIFT_DEMO_SOURCE_URL",
        "SLACK_WEBHOOK_URL",
    )
    for key in shared:
        values = {_env(s).get(key) for s in airflow}
        assert len(values) == 1 and None not in values, f"{key} differs or is missing: {values}"
    env = _env(services["airflow-scheduler"])
    # Every component signs and checks tokens with the secrets from the env file.
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == SECRETS["AIRFLOW_JWT_SECRET"]
    assert env["AIRFLOW__API__SECRET_KEY"] == SECRETS["AIRFLOW_SECRET_KEY"]
    # Alert channel secrets given in the env file reach the tasks, named by apprise_env.
    assert env["SLACK_WEBHOOK_URL"] == SECRETS["SLACK_WEBHOOK_URL"]
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    assert (
        env["AIRFLOW__CORE__AUTH_MANAGER"]
        == "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    )
    # Workers and task processes reach the API server by its service name and port.
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
        "http://airflow-apiserver:8080/execution/"
    )
    assert {"published": 8080, "target": 8080} in services["airflow-apiserver"]["ports"]


def test_databases_on_one_postgres(config: dict[str, Any]) -> None:
    from drift.airflow.connections import RESULTS_CONN_ID
    from drift.config import load_monitor

    services = config["services"]
    env = _env(services["airflow-worker"])
    postgres = _env(services["postgres"])
    urls = {
        "metadata": sa.make_url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]),
        "metadata (async)": sa.make_url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"]),
        "results": sa.make_url(env["DRIFT_RESULTS_URL"]),
        "demo": sa.make_url(env["DRIFT_DEMO_SOURCE_URL"]),
    }
    for what, url in urls.items():
        assert url.host == "postgres" and url.port == 5432, what
        assert url.drivername == "postgresql+psycopg", what  # psycopg 3: the postgres extra
        assert url.username == postgres["POSTGRES_USER"], what
        assert url.password == postgres["POSTGRES_PASSWORD"], what
    assert urls["metadata"].database == postgres["POSTGRES_DB"] == "airflow"
    assert urls["metadata (async)"] == urls["metadata"]
    assert len({urls[k].database for k in ("metadata", "results", "demo")}) == 3
    metadata = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == f"db+{metadata}"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:@redis:6379/0"
    assert env["AIRFLOW__DRIFT__RESULTS_CONN_ID"] == RESULTS_CONN_ID
    # The shipped demo monitor finds its source where compose puts it.
    demo = load_monitor(ROOT / "dags" / "monitors" / "demo_events.yaml")
    assert demo.source.url_env == "DRIFT_DEMO_SOURCE_URL"
    # The init service creates what the monitors and results code look up.
    script = _unescape(services["airflow-init"]["command"][2])
    assert f'"{RESULTS_CONN_ID}=${{server}}/${{DRIFT_RESULTS_DB}}"' in script
    assert "airflow connections import " in script


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    config = resolved(
        tmp_path,
        {
            "AIRFLOW_EXECUTOR": "CeleryExecutor",
            "POSTGRES_PASSWORD": "s3cret",
            "AIRFLOW_FERNET_KEY": "fernet-key",
            "DRIFT_PG_HOST": "db.internal",
        },
    )
    services = config["services"]
    for name in (*AIRFLOW_SERVICES, *ONE_SHOT):
        env = _env(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CORE__FERNET_KEY"] == "fernet-key", name
        for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "DRIFT_RESULTS_URL"):
            url = sa.make_url(env[key])
            assert (url.password, url.host) == ("s3cret", "db.internal"), (name, key)
    assert _env(services["postgres"])["POSTGRES_PASSWORD"] == "s3cret"


def test_default_executor_is_local(config: dict[str, Any]) -> None:
    for name in (*AIRFLOW_SERVICES, *ONE_SHOT):
        assert _env(config["services"][name])["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def test_the_shared_secrets_are_required(tmp_path: Path) -> None:
    for secret in ("AIRFLOW_JWT_SECRET", "AIRFLOW_SECRET_KEY"):
        result = compose_config(tmp_path, {secret: ""}, check=False)
        assert result.returncode != 0, f"compose accepted an empty {secret}"
        assert f"set {secret} in .env" in result.stderr


def test_no_secrets_in_the_file() -> None:
    text = COMPOSE_FILE.read_text()
    # Only the reference compose's development defaults, and only as `${VAR:-default}`.
    assert not re.search(r"(?i)(password|secret|token|key)\w*:\s*['\"]?(?!\$\{)\w", text)
    assert "hooks.slack.com" not in text


# --- the image -----------------------------------------------------------------------


def _from_version() -> Version:
    (line,) = [x for x in DOCKERFILE.read_text().splitlines() if x.startswith("FROM ")]
    match = re.fullmatch(r"FROM apache/airflow:(\d+\.\d+\.\d+)", line.strip())
    assert match, f"the Dockerfile should extend a pinned apache/airflow image: {line!r}"
    return Version(match.group(1))


def test_dockerfile_pins_the_supported_airflow() -> None:
    image = _from_version()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (airflow,) = [
        Requirement(r)
        for r in pyproject["project"]["dependencies"]
        if Requirement(r).name == "apache-airflow"
    ]
    assert image in airflow.specifier, f"{image} is outside pyproject's {airflow}"
    installed = Version(version("apache-airflow"))
    assert (image.major, image.minor) == (installed.major, installed.minor)
    assert image >= installed, f"the image ({image}) is older than the tested Airflow"


def test_dockerfile_installs_the_package_as_airflow() -> None:
    lines = [x.strip() for x in DOCKERFILE.read_text().splitlines()]
    users = [i for i, x in enumerate(lines) if x.startswith("USER ")]
    (pip,) = [i for i, x in enumerate(lines) if "pip install" in x]
    assert users and lines[users[-1]] == "USER airflow" and users[-1] < pip
    assert "--no-cache-dir" in lines[pip]
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in lines[pip]  # pip must not move Airflow
    assert "[postgres]" in lines[pip]
    assert not any("_PIP_ADDITIONAL_REQUIREMENTS" in x for x in lines)


def test_dockerignore_keeps_the_context_small_and_secret_free() -> None:
    patterns = [
        x.strip()
        for x in DOCKERIGNORE.read_text().splitlines()
        if x.strip() and not x.startswith("#")
    ]
    assert patterns[0] == "*"
    allowed = {p[1:] for p in patterns if p.startswith("!")}
    copied = set()
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY "):
            copied.update(a for a in line.split()[1:-1] if not a.startswith("--"))
    assert copied == allowed, "every COPY source, and nothing more, is let into the context"
    assert not allowed & {".env", ".venv", ".git", ".demo", "tests", "bench"}


# --- the init service, for real --------------------------------------------------------


def _admin_url() -> sa.URL:
    return sa.make_url(POSTGRES_URL).set(database="postgres")


def _postgres_or_skip() -> sa.Engine:
    engine = sa.create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        engine.dispose()
        message = (
            f"PostgreSQL is not reachable at {_admin_url().render_as_string()} ({exc}); start "
            "it on 127.0.0.1:5432 with trust auth, or point DRIFT_TEST_POSTGRES_URL at one"
        )
        wanted = os.environ.get("DRIFT_REQUIRE_BACKENDS", "")
        if {"all", "postgresql"} & {w.strip() for w in wanted.split(",")}:
            pytest.fail(f"required backend {message}", pytrace=False)
        pytest.skip(message)
    return engine


@pytest.fixture
def fresh_databases() -> Iterator[dict[str, str]]:
    """Three unique database names on the local server, dropped afterwards."""
    engine = _postgres_or_skip()
    tag = uuid.uuid4().hex[:10]
    names = {
        "AIRFLOW_DB": f"deploy_{tag}_airflow",
        "DRIFT_RESULTS_DB": f"deploy_{tag}_drift",
        "DRIFT_DEMO_DB": f"deploy_{tag}_demo",
    }
    try:
        yield names
    finally:
        with engine.connect() as conn:
            for name in names.values():
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def _run_init(command: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"airflow-init failed ({result.returncode}):\n{output}"
    assert "airflow-drift: init done" in result.stdout
    return output


@pytest.mark.slow
def test_init_service_runs_for_real_and_twice(
    tmp_path: Path, fresh_databases: dict[str, str]
) -> None:
    from drift.store import current, head

    for tool in ("airflow", "drift"):
        assert (VENV_BIN / tool).exists(), f"{tool} is not installed next to {sys.executable}"
    server = sa.make_url(POSTGRES_URL)
    settings = {
        "DRIFT_PG_HOST": server.host or "127.0.0.1",
        "DRIFT_PG_PORT": str(server.port or 5432),
        "POSTGRES_USER": server.username or "postgres",
        **fresh_databases,
    }
    if server.password:
        settings["POSTGRES_PASSWORD"] = server.password
    service = resolved(tmp_path, settings)["services"]["airflow-init"]
    # The image's own entrypoint runs the command (it also creates the admin user).
    assert "entrypoint" not in service
    command = [_unescape(part) for part in service["command"]]
    assert command[:2] == ["bash", "-c"]
    home = tmp_path / "airflow-home"
    home.mkdir()
    env = {
        **_env(service),
        # What the image provides: AIRFLOW_HOME, and airflow/drift/python on the PATH.
        "AIRFLOW_HOME": str(home),
        "PATH": f"{VENV_BIN}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(tmp_path),
    }

    first = _run_init(command, env, tmp_path)
    for name in fresh_databases.values():
        assert f"created database {name}" in first
    assert "rows in table events" in first
    assert "Imported connection drift_results" in first

    def state() -> dict[str, Any]:
        results = env["DRIFT_RESULTS_URL"]
        metadata = sa.create_engine(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        demo = sa.create_engine(env["DRIFT_DEMO_SOURCE_URL"])
        try:
            with metadata.connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT conn_id, conn_type, host, port, login, schema FROM connection "
                        "WHERE conn_id LIKE 'drift%' ORDER BY conn_id"
                    )
                ).all()
            with demo.connect() as conn:
                events = conn.scalar(sa.text("SELECT count(*) FROM events"))
        finally:
            metadata.dispose()
            demo.dispose()
        return {"revision": current(results), "connections": rows, "events": events}

    after_first = state()
    assert after_first["revision"] == head()
    host, port = settings["DRIFT_PG_HOST"], int(settings["DRIFT_PG_PORT"])
    user = settings["POSTGRES_USER"]
    assert [tuple(r) for r in after_first["connections"]] == [
        ("drift_demo_source", "postgres", host, port, user, fresh_databases["DRIFT_DEMO_DB"]),
        ("drift_results", "postgres", host, port, user, fresh_databases["DRIFT_RESULTS_DB"]),
    ]
    assert after_first["events"] > 0
    # Airflow itself finds the connection the results code asks for.
    got = subprocess.run(
        ["airflow", "connections", "get", "drift_results", "-o", "json"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    (conn,) = json.loads(got.stdout)
    assert (conn["conn_type"], conn["schema"]) == ("postgres", fresh_databases["DRIFT_RESULTS_DB"])

    second = _run_init(command, env, tmp_path)
    assert "created database" not in second
    assert "rows in table events" not in second
    assert "Could not import connection drift_results: connection already exists" in second
    assert state() == after_first
