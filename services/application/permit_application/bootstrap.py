"""Composition root: engine, unit of work, peer clients, outbox relay, servicer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import grpc
from sqlalchemy.engine import Engine

from permit_application import event_handlers
from permit_application.clients import DocumentsClient, RoutingClient, relay_subscriptions
from permit_application.config import Settings
from permit_application.errors import DOMAIN
from permit_application.grpc_api import ApplicationServicer, service_specs
from permit_application.models import OUTBOX
from permit_application.notice import NoticeSigner
from permit_application.services import RouteValidator, UnitOfWork
from permit_application.unit_of_work import SqlAlchemyUnitOfWork
from permitkit.client import make_channel
from permitkit.db import make_engine, make_session_factory, utcnow
from permitkit.events import EventSink
from permitkit.health_watch import PeerHealthWatch, watch_consumers
from permitkit.outbox import OutboxRelay, Subscription
from permitkit.server import ServiceSpec

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@dataclass
class App:
    """Everything the process runs, built once."""

    domain: ClassVar[str] = DOMAIN

    settings: Settings
    engine: Engine
    uow_factory: Callable[[], UnitOfWork]
    servicer: ApplicationServicer
    sink: EventSink
    relay: OutboxRelay
    channels: list[grpc.Channel]
    # The relay's consumers' channels: a peer back is served at once (start() watches them).
    watched: dict[str, grpc.Channel] = field(default_factory=dict)
    watches: list[PeerHealthWatch] = field(default_factory=list)

    def grpc_services(self) -> Sequence[ServiceSpec]:
        return service_specs(self.servicer)

    def start(self) -> None:
        if self.settings.relay_enabled:
            self.relay.start()
            self.watches = watch_consumers(self.relay, self.watched)

    def close(self) -> None:
        for w in self.watches:
            w.stop()
        self.relay.stop()
        for ch in self.channels:
            ch.close()
        self.engine.dispose()


def build(settings: Settings, *, subscriptions: list[Subscription] | None = None,
          route_validator: RouteValidator | None = None, use_routing: bool = True,
          use_documents: bool = True, clock: Callable[[], dt.datetime] = utcnow) -> App:
    """Wire the service. Tests may pass the relay's ``subscriptions``, a ``route_validator``
    (or ``use_routing=False`` for the local fallback), ``use_documents=False``
    (no document checks on submit) and a ``clock``."""
    engine = make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    channels: list[grpc.Channel] = []
    relay_box: list[OutboxRelay] = []

    def wake() -> None:
        if relay_box:
            relay_box[0].after_commit()

    def uow_factory() -> UnitOfWork:
        return SqlAlchemyUnitOfWork(session_factory, on_commit=wake)

    routing = None
    watched: dict[str, grpc.Channel] = {}
    if subscriptions is None or (route_validator is None and use_routing):
        approval_ch = make_channel(settings.approval_addr)
        routing_ch = make_channel(settings.routing_addr)
        channels += [approval_ch, routing_ch]
        routing = RoutingClient(routing_ch, timeout=settings.peer_timeout)
        if subscriptions is None:
            notifications_ch = make_channel(settings.notifications_addr)
            channels.append(notifications_ch)
            watched = {"approval": approval_ch, "routing": routing_ch, "notifications": notifications_ch}
            subscriptions = relay_subscriptions(approval_ch, routing_ch, notifications_ch,
                                                timeout=settings.peer_timeout)
    if route_validator is None and use_routing:
        route_validator = routing
    documents = None
    if use_documents:
        documents_ch = make_channel(settings.documents_addr)
        channels.append(documents_ch)
        documents = DocumentsClient(documents_ch, timeout=settings.peer_timeout)
    relay = OutboxRelay(engine, OUTBOX, subscriptions, service="application")
    relay_box.append(relay)
    servicer = ApplicationServicer(uow_factory, route_validator=route_validator, document_checker=documents,
                                   clock=clock, notices=NoticeSigner(settings.notice_key))
    sink = event_handlers.sink(uow_factory, clock)
    servicer.event_sink = sink
    return App(settings, engine, uow_factory, servicer, sink, relay, channels, watched)
