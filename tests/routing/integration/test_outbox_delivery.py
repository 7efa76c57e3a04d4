"""The RouteApproved event delivered by permitkit's outbox relay to routing's event sink, as the
application service sends it (AP-7c)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from sqlalchemy import MetaData, create_engine
from sqlalchemy.orm import Session

from permit.application.v1 import events_pb2 as application_events
from permit.routing.v1 import routing_service_pb2 as pb
from permit.routing.v1 import routing_service_pb2_grpc as pb_grpc
from permit.type.v1 import types_pb2
from permitkit.client import call_metadata, make_channel
from permitkit.context import Principal
from permitkit.outbox import GrpcSink, OutboxRelay, Subscription, add_outbox_tables, record_event

pytestmark = pytest.mark.integration


def test_relay_retry_after_a_lost_answer_counts_the_route_once_AP_7c(
        make_database: Callable[[str], str], routing_addr: str, routing_channel: grpc.Channel) -> None:
    """The relay retries when it did not see the answer; the inbox makes the repeat a no-op."""
    sender_url = make_database("routing_sender")
    sender_md = MetaData()
    outbox, _ = add_outbox_tables(sender_md)
    engine = create_engine(sender_url)
    sender_md.create_all(engine)
    party = f"parties/{uuid.uuid4().hex[:12]}"
    with Session(engine) as s, s.begin():
        event_id = record_event(s, outbox, application_events.RouteApproved(
            applicant=party, application=types_pb2.ApplicationRef(name="applications/DJ1", number="DJ1"),
            province="130000", origin_province="130000", destination_province="420000",
            route=[types_pb2.RouteRow(province=p, roads=["G4"]) for p in ("130000", "410000", "420000")]))

    channel = make_channel(routing_addr)  # forwards the relay's service principal
    sink = GrpcSink(channel, producer="application", timeout=10)
    calls: list[str] = []

    def deliver(envelope: Any) -> None:
        sink(envelope)
        calls.append(envelope.event_id)
        if len(calls) == 1:
            raise ConnectionError("answer lost on the way back")

    relay = OutboxRelay(engine, outbox, [Subscription.of("routing", [application_events.RouteApproved], deliver)],
                        service="application", max_backoff=0)
    try:
        assert relay.run_once() == 0  # delivered, but the relay saw a failure
        assert relay.run_once() == 1  # retried: the routing inbox ignores the repeat
        assert calls == [event_id, event_id]
        assert relay.pending() == 0
    finally:
        channel.close()
        engine.dispose()

    me = Principal(subject="users/u1", party=party, roles=frozenset({"applicant"}))
    resp = pb_grpc.RoutingServiceStub(routing_channel).RecommendRoutes(
        pb.RecommendRoutesRequest(origin_province="130000", destination_province="420000"),
        metadata=call_metadata(me), timeout=10)
    assert [x.times_approved for x in resp.routes] == [1]
    assert [list(row.roads) for row in resp.routes[0].rows] == [["G4京港澳高速"]] * 3
