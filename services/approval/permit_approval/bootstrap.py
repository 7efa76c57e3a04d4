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
from permit_approval.certificate.desk import CertificateDesk
from permit_approval.certificate.issuing import CertificateIssuer
from permit_approval.certificate.keys import KeyPolicy, KeyRing
from permit_approval.certificate.peers import (
    CertificateStore,
    GrpcCertificateStore,
    GrpcPartyDirectory,
    PartyDirectory,
)
from permit_approval.certificate.worker import CertificateWorker
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
from permit_approval.internal_api import internal_service_spec
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
    # CT-1: renders and stores the certificate versions recorded with permits.
    certificate_worker: CertificateWorker
    # The relay's consumers' channels: a peer back is served at once (start() watches them).
    watched: dict[str, grpc.Channel] = field(default_factory=dict)
    watches: list[PeerHealthWatch] = field(default_factory=list)

    def grpc_services(self) -> Sequence[ServiceSpec]:
        return [(add_to_server, self.servicer, FULL_NAME), self.sink.service_spec(),
                calendar_service_spec(self.uow_factory),
                internal_service_spec(self.uow_factory, certificates=self.servicer._issuer())]

    def start(self) -> None:
        self.relay.start()
        self.certificate_worker.start()
        self.watches = watch_consumers(self.relay, self.watched)

    def close(self) -> None:
        for w in self.watches:
            w.stop()
        self.relay.stop()
        self.certificate_worker.stop()
        for ch in self.channels:
            ch.close()
        self.engine.dispose()


def build(settings: Settings, *, engine: Engine | None = None,
          application_sink: Deliver | None = None, fleet: FleetDirectory | None = None,
          routes: RouteValidator | None = None, documents_sink: Deliver | None = None,
          documents: DocumentDirectory | None = None, notifications_sink: Deliver | None = None,
          clock: Callable[[], dt.datetime] | None = None,
          relay_poll_interval: float = 0.5, certificate_store: CertificateStore | None = None,
          parties: PartyDirectory | None = None) -> App:
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
    if notifications_sink is None:
        notifications_channel = make_channel(settings.notifications_addr)
        channels.append(notifications_channel)
        notifications_sink = GrpcSink(notifications_channel, producer="approval", timeout=settings.peer_timeout)
        watched["notifications"] = notifications_channel
    relay = OutboxRelay(engine, OUTBOX, subscriptions(application_sink, documents_sink, notifications_sink),
                        service="approval", poll_interval=relay_poll_interval)

    def uow_factory() -> ApprovalUnitOfWork:
        return ApprovalUnitOfWork(session_factory, on_commit=relay.after_commit)

    # CT-1/CT-2: certificate versions recorded with the permit, rendered and stored after.
    if certificate_store is None:
        store_channel = make_channel(settings.documents_addr)
        channels.append(store_channel)
        certificate_store = GrpcCertificateStore(store_channel,
                                                 timeout=max(settings.peer_timeout, 10.0))
    if parties is None:
        identity_channel = make_channel(settings.identity_addr)
        channels.append(identity_channel)
        parties = GrpcPartyDirectory(identity_channel, timeout=settings.peer_timeout)
    keys = KeyRing(KeyPolicy(rotate_after=dt.timedelta(days=settings.certificate_key_rotate_days),
                             passphrase=settings.certificate_key_passphrase))
    issuer = CertificateIssuer(keys, settings.verify_base_url)
    worker = CertificateWorker(session_factory, store=certificate_store, parties=parties,
                               verify_base_url=settings.verify_base_url, clock=clock or utcnow,
                               poll_interval=relay_poll_interval)
    issuer.on_recorded(worker.wake)
    servicer = ApprovalServicer(uow_factory=uow_factory,
                                signer=PermitSigner(settings.verification_key.encode()),
                                fleet=fleet, documents=documents, routes=routes,
                                clock=clock or utcnow,
                                certificates=CertificateDesk(issuer, keys, certificate_store))
    sink = event_handlers.sink(uow_factory, clock or utcnow)
    return App(settings, engine, servicer, sink, relay, channels, uow_factory, worker, watched)


# What the notifications service tells carriers and officers of (MS-1, MS-2), with the
# deadlines it reminds officers of.
NOTIFIED = (ev.CaseOpened, ev.CaseAccepted, ev.CaseReturned, ev.ReviewDecided, ev.RouteAdjustmentProposed,
            ev.RouteAdjustmentAnswered, ev.ApplicationDenied, ev.PermitIssued, ev.PermitAbolished,
            ev.ExtensionDecided, ev.VehicleChangeDecided, ev.ReviewDueDateSet)


def subscriptions(application: Deliver, documents: Deliver,
                  notifications: Deliver | None = None) -> list[Subscription]:
    """Who receives which of the approval context's events."""
    subs = [
        Subscription.of("application", (
            ev.CaseAccepted, ev.CaseReturned, ev.ReviewDecided, ev.RouteAdjustmentProposed,
            ev.RouteAdjustmentAnswered, ev.ApplicationDenied, ev.PermitIssued, ev.PermitAbolished,
            ev.ExtensionDecided, ev.VehicleChangeDecided), application),
        Subscription.of("documents", (ev.CaseOpened, ev.RouteAdjustmentAnswered, ev.VehicleChangeDecided),
                        documents),
    ]
    if notifications is not None:
        subs.append(Subscription.of("notifications", NOTIFIED, notifications))
    return subs
