"""Composition root of the approval service: the only place that constructs things."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import grpc
from sqlalchemy.engine import Engine

from permit.approval.v1 import events_pb2 as ev
from permit_approval import event_handlers
from permit_approval.calendar_api import calendar_service_spec
from permit_approval.clients import (
    DocumentDirectory,
    FleetDirectory,
    GrpcDocumentDirectory,
    GrpcFleetDirectory,
    GrpcRouteValidator,
    RouteValidator,
)
from permit_approval.config import Settings
from permit_approval.errors import DOMAIN
from permit_approval.grpc_api import FULL_NAME, ApprovalServicer, add_to_server
from permit_approval.models import OUTBOX
from permit_approval.unit_of_work import ApprovalUnitOfWork
from permit_approval.verification import PermitSigner
from permitkit.client import make_channel
from permitkit.db import make_engine, make_session_factory, utcnow
from permitkit.events import EventSink
from permitkit.health_watch import PeerHealthWatch, watch_consumers
from permitkit.outbox import Deliver, GrpcSink, OutboxRelay, Subscription
from permitkit.server import ServiceSpec


@dataclass
class App:
    """Everything a running approval service holds."""

    domain: ClassVar[str] = DOMAIN

    settings: Settings
    engine: Engine
    servicer: ApprovalServicer
    sink: EventSink
    relay: OutboxRelay
    channels: list[grpc.Channel]
    uow_factory: Callable[[], ApprovalUnitOfWork]
    # The relay's consumers' channels: a peer back is served at once (start() watches them).
    watched: dict[str, grpc.Channel] = field(default_factory=dict)
    watches: list[PeerHealthWatch] = field(default_factory=list)

    def grpc_services(self) -> Sequence[ServiceSpec]:
        return [(add_to_server, self.servicer, FULL_NAME), self.sink.service_spec(),
                calendar_service_spec(self.uow_factory)]

    def start(self) -> None:
        self.relay.start()
        self.watches = watch_consumers(self.relay, self.watched)

    def close(self) -> None:
        for w in self.watches:
            w.stop()
        self.relay.stop()
        for ch in self.channels:
            ch.close()
        self.engine.dispose()


def build(settings: Settings, *, engine: Engine | None = None,
          application_sink: Deliver | None = None, fleet: FleetDirectory | None = None,
          routes: RouteValidator | None = None, documents_sink: Deliver | None = None,
          documents: DocumentDirectory | None = None,
          clock: Callable[[], dt.datetime] | None = None,
          relay_poll_interval: float = 0.5) -> App:
    """Wire engine, unit of work, peer clients, outbox relay and servicer."""
    engine = engine or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    channels: list[grpc.Channel] = []
    watched: dict[str, grpc.Channel] = {}
    if application_sink is None or fleet is None:
        app_channel = make_channel(settings.application_addr)
        channels.append(app_channel)
        if application_sink is None:
            watched["application"] = app_channel
        application_sink = application_sink or GrpcSink(app_channel, producer="approval",
                                                         timeout=settings.peer_timeout)
        fleet = fleet or GrpcFleetDirectory(app_channel, timeout=settings.peer_timeout)
    if routes is None:
        routing_channel = make_channel(settings.routing_addr)
        channels.append(routing_channel)
        routes = GrpcRouteValidator(routing_channel, timeout=settings.peer_timeout)
    if documents_sink is None or documents is None:
        documents_channel = make_channel(settings.documents_addr)
        channels.append(documents_channel)
        if documents_sink is None:
            watched["documents"] = documents_channel
        documents_sink = documents_sink or GrpcSink(documents_channel, producer="approval",
                                                    timeout=settings.peer_timeout)
        documents = documents or GrpcDocumentDirectory(documents_channel,
                                                       timeout=settings.peer_timeout)
    relay = OutboxRelay(engine, OUTBOX, subscriptions(application_sink, documents_sink),
                        service="approval", poll_interval=relay_poll_interval)

    def uow_factory() -> ApprovalUnitOfWork:
        return ApprovalUnitOfWork(session_factory, on_commit=relay.wake)

    servicer = ApprovalServicer(uow_factory=uow_factory,
                                signer=PermitSigner(settings.verification_key.encode()),
                                fleet=fleet, documents=documents, routes=routes,
                                clock=clock or utcnow)
    sink = event_handlers.sink(uow_factory, clock or utcnow)
    return App(settings, engine, servicer, sink, relay, channels, uow_factory, watched)


def subscriptions(application: Deliver, documents: Deliver) -> list[Subscription]:
    """Who receives which of the approval context's events (ReviewDueDateSet and
    CaseOpened's deadline are for notifications, which subscribes on its own)."""
    return [
        Subscription.of("application", (
            ev.CaseAccepted, ev.CaseReturned, ev.ReviewDecided, ev.RouteAdjustmentProposed,
            ev.RouteAdjustmentAnswered, ev.ApplicationDenied, ev.PermitIssued, ev.PermitAbolished,
            ev.ExtensionDecided, ev.VehicleChangeDecided), application),
        Subscription.of("documents", (ev.CaseOpened, ev.RouteAdjustmentAnswered, ev.VehicleChangeDecided),
                        documents),
    ]
