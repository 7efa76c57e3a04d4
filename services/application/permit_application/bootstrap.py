"""Composition root: engine, unit of work, peer clients, outbox relay, servicer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from sqlalchemy.engine import Engine

from permit_application.clients import ApprovalClient, DocumentsClient, RoutingClient, relay_handlers
from permit_application.config import Settings
from permit_application.grpc_api import ApplicationServicer
from permit_application.models import OUTBOX
from permit_application.services import RouteValidator, UnitOfWork
from permit_application.unit_of_work import SqlAlchemyUnitOfWork
from permitkit.client import make_channel
from permitkit.db import make_engine, make_session_factory, utcnow
from permitkit.health_watch import PeerHealthWatch, hurry_outbox, watch_peers
from permitkit.outbox import Handler, OutboxRelay

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@dataclass
class App:
    """Everything the process runs, built once."""

    engine: Engine
    uow_factory: Callable[[], UnitOfWork]
    servicer: ApplicationServicer
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


def build(settings: Settings, *, handlers: dict[str, Handler] | None = None,
          route_validator: RouteValidator | None = None, use_routing: bool = True,
          use_documents: bool = True, clock: Callable[[], dt.datetime] = utcnow) -> App:
    """Wire the service. Tests may pass relay ``handlers``, a ``route_validator``
    (or ``use_routing=False`` for the local fallback), ``use_documents=False``
    (no document checks on submit) and a ``clock``."""
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    channels: list[grpc.Channel] = []
    relay_box: list[OutboxRelay] = []

    def wake() -> None:
        if relay_box:
            relay_box[0].wake()

    def uow_factory() -> UnitOfWork:
        return SqlAlchemyUnitOfWork(session_factory, on_commit=wake)

    routing = None
    watched: dict[str, grpc.Channel] = {}
    if handlers is None or (route_validator is None and use_routing):
        approval_ch = make_channel(settings.approval_addr)
        routing_ch = make_channel(settings.routing_addr)
        channels += [approval_ch, routing_ch]
        routing = RoutingClient(routing_ch, timeout=settings.peer_timeout)
        if handlers is None:
            watched = {"approval": approval_ch, "routing": routing_ch}
            handlers = relay_handlers(ApprovalClient(approval_ch, timeout=settings.peer_timeout), routing)
    if route_validator is None and use_routing:
        route_validator = routing
    documents = None
    if use_documents:
        documents_ch = make_channel(settings.documents_addr)
        channels.append(documents_ch)
        documents = DocumentsClient(documents_ch, timeout=settings.peer_timeout)
    relay = OutboxRelay(engine, OUTBOX, handlers, service="application")
    relay_box.append(relay)
    # The relay's peers back: deliver what waits at once, not after its backoff.
    watches = watch_peers(watched, hurry_outbox(engine, OUTBOX, relay.wake)) if watched else []
    servicer = ApplicationServicer(uow_factory, route_validator=route_validator, document_checker=documents,
                                   clock=clock)
    return App(engine, uow_factory, servicer, relay, channels, watches)
