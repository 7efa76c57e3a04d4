"""pytest plugin: PostgreSQL, a real S3-API server process, in-process gRPC servers.

Load it with ``pytest_plugins = ["permitkit.testing"]``. Nothing here skips:
a missing prerequisite fails the test with the reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import psycopg
import pytest

from permitkit.server import ServiceApp, ServiceSpec, build_server, grpc_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(fn: Callable[[], Any], what: str, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll until ``fn()`` is truthy and return it; an AssertionError naming ``what`` after
    ``timeout`` seconds (state that arrives later: an outbox's delivery, a background save)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def wait_for_port(host: str, port: int, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def _psycopg_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _can_connect(url: str) -> bool:
    try:
        with psycopg.connect(_psycopg_dsn(url), connect_timeout=2):
            return True
    except psycopg.Error:
        return False


class ThrowawayPostgres:
    """A private PostgreSQL cluster in a temp dir (runs as ``postgres`` when we are root)."""

    def __init__(self) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not bins:
            raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); "
                               "install Debian's postgresql or set DATABASE_URL")
        self.bindir = bins[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="permit-pg-"))
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        if self.as_root:
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o700)
            # pg_ctl refuses to run as root: let the postgres user traverse to the data dir.
            for parent in self.root.parents:
                with contextlib.suppress(OSError):
                    os.chmod(parent, os.stat(parent).st_mode | 0o001)
        data = self.root / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--no-sync")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(self.root / "log"), "-w",
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off",
                  "start")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "fast", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def resolve_postgres() -> tuple[str, ThrowawayPostgres | None]:
    """DATABASE_URL, else the local server on 127.0.0.1:5432, else a throwaway cluster."""
    url = os.environ.get("DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):
            url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        if not _can_connect(url):
            raise RuntimeError("DATABASE_URL is set but PostgreSQL does not answer there")
        return url, None
    local = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    if _can_connect(local):
        return local, None
    pg = ThrowawayPostgres()
    return pg.start(), pg


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """URL of a PostgreSQL server where the tests may create databases."""
    url, throwaway = resolve_postgres()
    try:
        yield url
    finally:
        if throwaway:
            throwaway.stop()


def create_database(admin_url: str, prefix: str) -> str:
    name = f"t_{prefix}_{uuid.uuid4().hex[:10]}".lower()
    with psycopg.connect(_psycopg_dsn(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def drop_database(admin_url: str, url: str) -> None:
    name = url.rpartition("/")[2]
    with psycopg.connect(_psycopg_dsn(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def make_database(postgres_admin_url: str) -> Iterator[Callable[[str], str]]:
    """``make_database("application") -> url`` of a fresh database, dropped at the end."""
    made: list[str] = []

    def make(prefix: str) -> str:
        url = create_database(postgres_admin_url, prefix)
        made.append(url)
        return url

    yield make
    for url in made:
        with contextlib.suppress(Exception):
            drop_database(postgres_admin_url, url)


@dataclass(frozen=True)
class S3Endpoint:
    """Where a real S3-API server listens, as the minio client wants it."""

    endpoint: str
    access_key: str
    secret_key: str
    secure: bool = False

    def env(self, prefix: str = "PERMIT_DOCUMENTS") -> dict[str, str]:
        return {f"{prefix}_S3_ENDPOINT": self.endpoint, f"{prefix}_S3_ACCESS_KEY": self.access_key,
                f"{prefix}_S3_SECRET_KEY": self.secret_key, f"{prefix}_S3_SECURE": "1" if self.secure else "0"}


class S3Server:
    """A nanio process on a loopback port; can be stopped and started again (outage tests)."""

    access_key = "permit-test-access"
    secret_key = "permit-test-secret-key-0123456789"

    def __init__(self) -> None:
        self.port = free_port()
        self.data_dir = Path(tempfile.mkdtemp(prefix="permit-s3-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> S3Endpoint:
        return S3Endpoint(f"127.0.0.1:{self.port}", self.access_key, self.secret_key)

    def start(self) -> None:
        exe = Path(sys.executable).with_name("nanio")
        cmd = [str(exe) if exe.exists() else "nanio", "serve", "--host", "127.0.0.1",
               "--port", str(self.port), "--data-dir", str(self.data_dir), "--log-level", "warning",
               "--no-access-log"]
        env = {**os.environ, "NANIO_ACCESS_KEY": self.access_key, "NANIO_SECRET_KEY": self.secret_key}
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port("127.0.0.1", self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server | None]:
    """The S3 server process this run started (None when PERMIT_TEST_S3_ENDPOINT is used)."""
    if os.environ.get("PERMIT_TEST_S3_ENDPOINT"):
        yield None
        return
    server = S3Server()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def s3_endpoint(s3_server: S3Server | None) -> S3Endpoint:
    """A real S3-API server over HTTP: PERMIT_TEST_S3_ENDPOINT (+ keys) or a nanio process."""
    if s3_server is None:
        return S3Endpoint(os.environ["PERMIT_TEST_S3_ENDPOINT"],
                          os.environ.get("PERMIT_TEST_S3_ACCESS_KEY", "minioadmin"),
                          os.environ.get("PERMIT_TEST_S3_SECRET_KEY", "minioadmin"),
                          os.environ.get("PERMIT_TEST_S3_SECURE", "0") == "1")
    return s3_server.endpoint


class RedisServer:
    """A private redis-server process on a loopback port; can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="permit-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed (Debian package redis-server) "
                               "and PERMIT_TEST_REDIS_URL is not set")
        self.proc = subprocess.Popen([exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port("127.0.0.1", self.port, proc=self.proc)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis server: PERMIT_TEST_REDIS_URL, or a private redis-server process for this run."""
    url = os.environ.get("PERMIT_TEST_REDIS_URL")
    if url:
        yield url
        return
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture
def grpc_serve() -> Iterator[Callable[..., grpc.Channel]]:
    """``grpc_serve(app)`` (a service's composition root) or
    ``grpc_serve([(add_fn, servicer, name)], domain=...)`` -> channel on a free port."""
    servers: list[grpc.Server] = []
    channels: list[grpc.Channel] = []

    def serve(services: ServiceApp | Sequence[ServiceSpec], domain: str = "permit.test") -> grpc.Channel:
        if hasattr(services, "grpc_services"):
            server, port = build_server(services, host="127.0.0.1", port=0)  # type: ignore[arg-type]
        else:
            server, port = grpc_server(domain=domain, services=services, port=0)
        server.start()
        servers.append(server)
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        channel.port = port  # type: ignore[attr-defined]
        channels.append(channel)
        return channel

    yield serve
    for ch in channels:
        ch.close()
    for s in servers:
        s.stop(0)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: needs PostgreSQL and/or the S3 server")
    config.addinivalue_line("markers", "e2e: runs the started processes over HTTP")
