"""Routing integration fixtures: a migrated PostgreSQL database and a real gRPC server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import pytest

from permit.routing.v1 import routing_service_pb2_grpc as pb_grpc
from permit_routing.__main__ import MIGRATIONS
from permit_routing.bootstrap import App, build
from permit_routing.config import Settings
from permitkit.migrations import upgrade
from permitkit.server import build_server


@pytest.fixture(scope="module")
def routing_db(make_database: Callable[[str], str]) -> str:
    url = make_database("routing")
    upgrade(url, MIGRATIONS)
    return url


@pytest.fixture(scope="module")
def routing_app(routing_db: str) -> Iterator[App]:
    settings = Settings.from_env({"PERMIT_ROUTING_DATABASE_URL": routing_db, "PERMIT_LOG_JSON": "0"})
    app = build(settings)
    yield app
    app.close()


@pytest.fixture(scope="module")
def routing_addr(routing_app: App) -> Iterator[str]:
    """host:port of a real routing gRPC server on a free loopback port."""
    server, port = build_server(routing_app, host="127.0.0.1", port=0)
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(0)


@pytest.fixture(scope="module")
def routing_channel(routing_addr: str) -> Iterator[grpc.Channel]:
    channel = grpc.insecure_channel(routing_addr)
    try:
        yield channel
    finally:
        channel.close()


@pytest.fixture
def stub(routing_channel: grpc.Channel) -> pb_grpc.RoutingServiceStub:
    return pb_grpc.RoutingServiceStub(routing_channel)
