"""``python -m permit_routing``: migrate, serve with health and reflection, stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from permit.routing.v1 import routing_service_pb2 as pb
from permit.routing.v1 import routing_service_pb2_grpc as pb_grpc
from permitkit.testing import free_port, wait_for_port


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERMIT_ROUTING_")}
    env.update({"PERMIT_DATA_DIR": str(tmp_path), **extra})
    return env


def test_bad_setting_stops_the_service_with_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "permit_routing"], capture_output=True, text=True,
                          env=_env(tmp_path, PERMIT_ROUTING_GRPC_PORT="not-a-port"), timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "configuration error: PERMIT_ROUTING_GRPC_PORT must be an integer, got 'not-a-port'"]


def test_migrate_then_serve_health_reflection_and_graceful_stop(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, PERMIT_ROUTING_GRPC_PORT=str(port))
    migrate = subprocess.run([sys.executable, "-m", "permit_routing", "migrate"], capture_output=True,
                             text=True, env=env, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    assert (tmp_path / "routing.db").exists()
    proc = subprocess.Popen([sys.executable, "-m", "permit_routing"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port("127.0.0.1", port, timeout=60, proc=proc)  # type: ignore[arg-type]
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            health = health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service="permit.routing.v1.RoutingService"), timeout=10)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            refl = reflection_pb2_grpc.ServerReflectionStub(ch).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
            names = {s.name for resp in refl for s in resp.list_services_response.service}
            assert "permit.routing.v1.RoutingService" in names
            parsed = pb_grpc.RoutingServiceStub(ch).ParseRouteText(
                pb.ParseRouteTextRequest(text="河北：G4"), timeout=10)
            assert parsed.rows[0].province == "130000"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
