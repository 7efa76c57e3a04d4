"""The fault suite's system: the five services and the gateway as separate processes on
PostgreSQL (one database each), documents in a private S3 server process, and a private
Redis process for the gateways: every part one the scenarios may kill, stop or cut.

Each scenario records what it measured (counts, statuses, healing times) with
``report(...)``; the lines are printed at the end of the run, also under xdist.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from devstack import CONTEXTS, ROOT, Stack
from devstack import free_port as _free_port
from permitkit.testing import RedisServer, S3Server
from tests.e2e.conftest import Api

# Healing: the goals (printed next to every measured figure) and the bounds the suite
# asserts. The bounds leave room for a small CI machine (2 cores, two pytest workers,
# seven processes of the stack starting at once); the figures are reported as measured.
GATEWAY_HEAL_GOAL = 1.0      # the gateway reaches a service that is back
GATEWAY_HEAL_SECONDS = 2.0
DELIVERY_HEAL_GOAL = 2.0     # events queued for a service that is back are delivered
DELIVERY_HEAL_SECONDS = 4.0


def against_goal(measured: float, goal: float) -> str:
    """``0.412 s (goal < 1 s: met)``: a healing figure as reported."""
    return f"{measured:.3f} s (goal < {goal:g} s: {'met' if measured < goal else 'MISSED'})"


def wait_listening(port: int, timeout: float = 60.0, proc: subprocess.Popen[bytes] | None = None) -> float:
    """Poll every 10 ms until ``port`` accepts; returns the monotonic time it first did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process on {port} exited with {proc.returncode} during start-up")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return time.monotonic()
        time.sleep(0.01)
    raise TimeoutError(f"nothing listening on {port} after {timeout}s")


def heal_time(ok: Callable[[], bool], since: float, timeout: float = 20.0, interval: float = 0.02) -> float:
    """Seconds from ``since`` until ``ok()`` first holds (polled every ``interval``)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if ok():
                return time.monotonic() - since
        if time.monotonic() > deadline:
            raise AssertionError(f"not healed {timeout}s after the fault ended")
        time.sleep(interval)


@dataclass
class FaultStack(Stack):
    """The devstack processes, plus: kill one, start it again, start extra gateways."""

    database_urls: dict[str, str] = field(default_factory=dict)
    extra: dict[str, tuple[subprocess.Popen[bytes], int]] = field(default_factory=dict)

    def kill(self, name: str) -> None:
        """SIGKILL: a crash, nothing drained."""
        proc = self.procs[name]
        proc.kill()
        proc.wait(10)

    def restart(self, name: str) -> float:
        """Start ``name`` again on its port; the monotonic time it listens."""
        out: Any = subprocess.DEVNULL
        if self.log_dir is not None:
            out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        proc = subprocess.Popen([self.python, "-m", f"permit_{name}"], env=self.process_env(), cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return wait_listening(self.ports[name], proc=proc)

    def start_gateway(self, name: str, **env: str) -> str:
        """Another gateway process (a replica, or one whose peers go through a proxy)."""
        port = _free_port()
        penv = {**self.process_env(), "PERMIT_GATEWAY_PORT": str(port), **env}
        out: Any = subprocess.DEVNULL
        if self.log_dir is not None:
            out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen([self.python, "-m", "permit_gateway"], env=penv, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT)
        self.extra[name] = (proc, port)
        wait_listening(port, proc=proc)
        return f"http://127.0.0.1:{port}"

    def stop_gateway(self, name: str) -> int | None:
        proc, _ = self.extra.pop(name)
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def cut_database_connections(self) -> int:
        """pg_terminate_backend on every connection to the services' databases; how many."""
        admin = next(iter(self.database_urls.values())).rpartition("/")[0].replace(
            "postgresql+psycopg://", "postgresql://") + "/postgres"
        names = [u.rpartition("/")[2] for u in self.database_urls.values()]
        with psycopg.connect(admin, autocommit=True) as conn:
            rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = ANY(%s) AND pid <> pg_backend_pid()", (names,)).fetchall()
        return len(rows)

    def query(self, ctx: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        url = self.database_urls[ctx].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            return conn.execute(sql, args).fetchall()

    def stop(self, timeout: float = 10.0) -> dict[str, int | None]:
        for name in list(self.extra):
            self.stop_gateway(name)
        return super().stop(timeout)


@dataclass
class Faults:
    """What a scenario works with."""

    stack: FaultStack
    s3: S3Server
    redis: RedisServer
    redis_prefix: str
    api_as: Callable[[str], Api]


@pytest.fixture(scope="session")
def faults(make_database, tmp_path_factory) -> Iterator[Faults]:
    s3 = S3Server()
    s3.start()
    redis = RedisServer()
    redis.start()
    urls = {c: make_database(f"faults_{c}") for c in CONTEXTS}
    env = {f"PERMIT_{c.upper()}_DATABASE_URL": u for c, u in urls.items()}
    env.update(s3.endpoint.env())
    env["PERMIT_DOCUMENTS_S3_BUCKET"] = "faults-documents"
    data = tmp_path_factory.mktemp("faults-data")
    env["PERMIT_DATA_DIR"] = str(data)
    env["PERMIT_LOG_JSON"] = "1"
    # The personas sign in with development tickets: switched on explicitly (SI-2).
    env["PERMIT_IDENTITY_DEV_SIGN_IN"] = "1"
    # Receipts of the notice (AP-1) stay good across the restarts the scenarios cause.
    env["PERMIT_APPLICATION_NOTICE_KEY"] = "faults-notice-key-0123456789abcdef"
    # Webhook receivers of tests listen on plain HTTP on loopback (MS-3).
    env["PERMIT_NOTIFICATIONS_WEBHOOK_ALLOW_HTTP_LOOPBACK"] = "1"
    prefix = f"faults:{os.getpid()}:"
    env["PERMIT_GATEWAY_REDIS_URL"] = redis.url
    env["PERMIT_GATEWAY_REDIS_PREFIX"] = prefix
    for limit in ("PERMIT_GATEWAY_RATE_PER_USER", "PERMIT_GATEWAY_RATE_PER_ADDRESS"):
        env[limit], env[f"{limit}_BURST"] = "100000", "1000000"
    stack = FaultStack(env=env, log_dir=Path(data) / "logs", database_urls=urls)
    cache: dict[str, Api] = {}

    def api_as(persona: str) -> Api:
        if persona not in cache:
            cache[persona] = Api(stack.gateway_url, stack.sign_in(persona)["accessToken"])
        return cache[persona]

    try:
        stack.migrate()
        stack.seed_demo()
        stack.start_on_free_ports()
        yield Faults(stack, s3, redis, prefix, api_as)
    finally:
        for api in cache.values():
            api.http.close()
        stack.stop()
        redis.close()
        s3.close()


@pytest.fixture
def report(record_property) -> Callable[..., None]:
    """``report(scenario, **figures)``: one line in the run's fault summary."""

    def add(scenario: str, **figures: Any) -> None:
        text = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
        record_property("fault_report", f"{scenario}: {text}")
        print(f"[faults] {scenario}: {text}", flush=True)

    return add


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = [v for rep in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", [])
             for k, v in getattr(rep, "user_properties", []) if k == "fault_report"]
    if lines:
        terminalreporter.write_sep("=", "fault scenarios: counts and healing times")
        for line in lines:
            terminalreporter.write_line(line)


class Threads:
    """Run ``fn(i)`` for i in range(n) on ``workers`` threads; results in order."""

    @staticmethod
    def map(fn: Callable[[int], Any], n: int, workers: int = 8) -> list[Any]:
        results: list[Any] = [None] * n
        lock = threading.Lock()
        nxt = [0]

        def run() -> None:
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= n:
                    return
                try:
                    results[i] = fn(i)
                except Exception as e:  # noqa: BLE001 - the scenario inspects it
                    results[i] = e

        ts = [threading.Thread(target=run, daemon=True) for _ in range(workers)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        return results
