"""Composition root of the approval service: the only place that constructs things."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from sqlalchemy.engine import Engine

from permit_approval.clients import (
    DocumentDirectory,
    DocumentGrantSender,
    FleetDirectory,
    GrpcDocumentDirectory,
    GrpcFleetDirectory,
    GrpcRouteValidator,
    ReviewEventSender,
    RouteValidator,
)
from permit_approval.config import Settings
from permit_approval.grpc_api import ApprovalServicer
from permit_approval.models import OUTBOX
from permit_approval.unit_of_work import (
    DOCUMENT_GRANT_TOPIC,
    REVIEW_EVENT_TOPIC,
    ApprovalUnitOfWork,
)
from permit_approval.verification import PermitSigner
from permitkit.client import make_channel
from permitkit.db import make_engine, make_session_factory, utcnow
from permitkit.health_watch import PeerHealthWatch, hurry_outbox, watch_peers
from permitkit.outbox import Handler, OutboxRelay


@dataclass
class App:
    """Everything a running approval service holds."""

    settings: Settings
    engine: Engine
    servicer: ApprovalServicer
    relay: OutboxRelay
    channels: list[grpc.Channel]
    watches: list[PeerHealthWatch] = field(default_factory=list)

    def close(self) -> None:
        for w in self.watches:
            w.stop()
        self.relay.stop()
        for ch in self.channels:
            ch.close()
        self.engine.dispose()


def build(settings: Settings, *, engine: Engine | None = None,
          event_sender: Handler | None = None, fleet: FleetDirectory | None = None,
          routes: RouteValidator | None = None, document_grants: Handler | None = None,
          documents: DocumentDirectory | None = None,
          clock: Callable[[], dt.datetime] | None = None,
          relay_poll_interval: float = 0.5) -> App:
    """Wire engine, unit of work, peer clients, outbox relay and servicer."""
    engine = engine or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    channels: list[grpc.Channel] = []
    watched: dict[str, grpc.Channel] = {}
    if event_sender is None or fleet is None:
        app_channel = make_channel(settings.application_addr)
        channels.append(app_channel)
        if event_sender is None:
            watched["application"] = app_channel
        event_sender = event_sender or ReviewEventSender(app_channel,
                                                         timeout=settings.peer_timeout)
        fleet = fleet or GrpcFleetDirectory(app_channel, timeout=settings.peer_timeout)
    if routes is None:
        routing_channel = make_channel(settings.routing_addr)
        channels.append(routing_channel)
        routes = GrpcRouteValidator(routing_channel, timeout=settings.peer_timeout)
    if document_grants is None or documents is None:
        documents_channel = make_channel(settings.documents_addr)
        channels.append(documents_channel)
        if document_grants is None:
            watched["documents"] = documents_channel
        document_grants = document_grants or DocumentGrantSender(documents_channel,
                                                                 timeout=settings.peer_timeout)
        documents = documents or GrpcDocumentDirectory(documents_channel,
                                                       timeout=settings.peer_timeout)
    relay = OutboxRelay(engine, OUTBOX, {REVIEW_EVENT_TOPIC: event_sender,
                                         DOCUMENT_GRANT_TOPIC: document_grants},
                        service="approval", poll_interval=relay_poll_interval)
    # The relay's peers back: deliver what waits at once, not after its backoff.
    watches = watch_peers(watched, hurry_outbox(engine, OUTBOX, relay.wake)) if watched else []

    def uow_factory() -> ApprovalUnitOfWork:
        return ApprovalUnitOfWork(session_factory, on_commit=relay.wake)

    servicer = ApprovalServicer(uow_factory=uow_factory,
                                signer=PermitSigner(settings.verification_key.encode()),
                                fleet=fleet, documents=documents, routes=routes,
                                clock=clock or utcnow)
    return App(settings, engine, servicer, relay, channels, watches)


def services_of(app: App) -> list[tuple[Callable[[Any, grpc.Server], None], Any, str]]:
    """The (add_fn, servicer, full name) list for ``permitkit.server.build_server``."""
    from permit_approval.grpc_api import FULL_NAME, add_to_server

    return [(add_to_server, app.servicer, FULL_NAME)]
