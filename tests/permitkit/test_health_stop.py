"""A server whose peers keep opening and closing health watches still stops (RV-1, AP-2).

Every relay watches its consumers' health (permitkit.health_watch), so watches
close and open whenever a peer restarts, and the graceful stop sends NOT_SERVING
to every watcher. grpc_health's own servicer sends under its lock while the
server's event thread needs that lock to close a watch: both wait for ever, a
worker thread never ends and the server never stops. The servicer every service
uses (``permitkit.server.HealthServicer``) must survive that churn.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from permitkit.server import grpc_server

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
def served() -> Iterator[tuple[grpc.Server, int]]:
    server, port = grpc_server(domain="permit.test", services=[], port=0)
    server.start()
    yield server, port
    server.stop(0)


def _churn(port: int, until: float, rounds: list[int], errors: list[BaseException]) -> None:
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        while time.monotonic() < until:
            call = stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=5)
            try:
                first = next(call)
                assert first.status in (SERVING, NOT_SERVING)
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.CANCELLED:  # type: ignore[attr-defined]
                    errors.append(e)
                    return
            finally:
                call.cancel()
            rounds.append(1)
    finally:
        channel.close()


def test_watches_closing_while_others_open_and_status_changes_do_not_lock_the_server(served):
    server, port = served
    health = server._permit_health  # type: ignore[attr-defined]
    until = time.monotonic() + 3.0
    rounds: list[int] = []
    errors: list[BaseException] = []
    watchers = [threading.Thread(target=_churn, args=(port, until, rounds, errors), daemon=True)
                for _ in range(8)]

    def flip() -> None:
        i = 0
        while time.monotonic() < until:
            health.set("", (SERVING, NOT_SERVING)[i % 2])
            i += 1

    setter = threading.Thread(target=flip, daemon=True)
    for t in (*watchers, setter):
        t.start()
    for t in (*watchers, setter):
        t.join(15)
    stuck = [t.name for t in (*watchers, setter) if t.is_alive()]
    assert not stuck, f"health watches locked up after {len(rounds)} rounds: {stuck}"
    assert not errors, errors[:3]
    # grpc_health's servicer locks up within a few rounds here; 8 phones of a 2-core machine
    # do hundreds (the bound leaves room for a busy CI machine).
    assert len(rounds) >= 100
    assert server.stop(0.5).wait(5), "the server did not stop"


def test_watcher_sees_each_status_in_order_then_not_serving_and_its_end_at_the_graceful_stop(served):
    server, port = served
    health = server._permit_health  # type: ignore[attr-defined]
    health.set("permit.test.v1.Thing", SERVING)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        stream = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service="permit.test.v1.Thing"), timeout=10)
        assert next(stream).status == SERVING
        health.set("permit.test.v1.Thing", NOT_SERVING)
        assert next(stream).status == NOT_SERVING
        health.set("permit.test.v1.Thing", SERVING)
        assert next(stream).status == SERVING
        health.enter_graceful_shutdown()
        assert next(stream).status == NOT_SERVING
        # ... and the watch ends there: an open watch would hold the stop for its grace period.
        with pytest.raises(StopIteration):
            next(stream)
        health.set("permit.test.v1.Thing", SERVING)  # ignored once stopping
        late = list(health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service="permit.test.v1.Thing"), timeout=10))
        assert [r.status for r in late] == [NOT_SERVING]  # a watch opened now is told and ended
        assert health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="permit.test.v1.Thing"), timeout=10).status == NOT_SERVING
        started = time.monotonic()
        assert server.stop(5.0).wait(10)
        assert time.monotonic() - started < 2.0, "no open watch held the stop"
    finally:
        channel.close()
