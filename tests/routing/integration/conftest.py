"""Routing integration fixtures: a migrated PostgreSQL database and a real gRPC server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import pytest
from google.protobuf import any_pb2

from permit.application.v1 import events_pb2 as application_events
from permit.events.v1 import event_sink_pb2, event_sink_pb2_grpc
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
    """RoutingService, with ``.sink``: the EventSinkService on the same server."""
    s = pb_grpc.RoutingServiceStub(routing_channel)
    s.sink = event_sink_pb2_grpc.EventSinkServiceStub(routing_channel)  # type: ignore[attr-defined]
    return s


def route_approved_request(event: application_events.RouteApproved) -> event_sink_pb2.DeliverRequest:
    """The envelope the application service's relay delivers for a RouteApproved event."""
    packed = any_pb2.Any()
    packed.Pack(event)
    return event_sink_pb2.DeliverRequest(envelope=event_sink_pb2.Envelope(
        event_id=event.event_id, topic=event.DESCRIPTOR.full_name, producer="application", event=packed))
