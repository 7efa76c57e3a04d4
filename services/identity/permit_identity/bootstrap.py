"""The composition root: engine, unit of work, providers, policy, clock, servicer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import grpc
from sqlalchemy.engine import Engine

from permit.identity.v1 import events_pb2 as identity_events
from permit_identity.calendar_client import ApprovalCalendar, ApprovalCases
from permit_identity.clients import DocumentsClient
from permit_identity.config import Settings
from permit_identity.enterprise import CasePort
from permit_identity.errors import DOMAIN
from permit_identity.models import Channel, outbox_table
from permit_identity.oidc import (
    STAFF_SCOPE,
    USER_SCOPE,
    ClientSettings,
    OidcProvider,
    OidcSignIn,
    ProviderSettings,
)
from permit_identity.ports import CalendarPort, DocumentsPort
from permit_identity.services import Policy
from permit_identity.tickets import ChannelProvider, DevTicketProvider
from permit_identity.unit_of_work import IdentityUnitOfWork
from permitkit.client import make_channel
from permitkit.db import make_engine, make_session_factory, utcnow
from permitkit.health_watch import PeerHealthWatch, watch_consumers
from permitkit.outbox import Deliver, GrpcSink, OutboxRelay, Subscription
from permitkit.server import ServiceSpec

Clock = Callable[[], dt.datetime]


@dataclass
class App:
    """Everything a running identity service (or CLI) is made of."""

    domain: ClassVar[str] = DOMAIN

    settings: Settings
    engine: Engine
    uow: Callable[[], IdentityUnitOfWork]
    policy: Policy
    providers: Mapping[Channel, ChannelProvider]
    clock: Clock
    documents: DocumentsPort
    relay: OutboxRelay
    calendar: CalendarPort
    cases: CasePort
    oidc: OidcSignIn
    channels: list[grpc.Channel] = field(default_factory=list)
    # The relay's consumers' channels: a peer back is served at once (start() watches them).
    watched: dict[str, grpc.Channel] = field(default_factory=dict)
    watches: list[PeerHealthWatch] = field(default_factory=list)

    @property
    def document_check(self) -> DocumentsPort | None:
        """The port SubmitLicence checks images with, unless checks are switched off."""
        return self.documents if self.settings.verify_documents else None

    def grpc_services(self) -> Sequence[ServiceSpec]:
        from permit.identity.v1 import identity_internal_pb2_grpc as igrpc
        from permit.identity.v1 import identity_service_pb2_grpc as sgrpc
        from permit_identity.grpc_api import (
            INTERNAL_SERVICE_NAME,
            SERVICE_NAME,
            IdentityInternalServicer,
            IdentityServicer,
        )

        return [(sgrpc.add_IdentityServiceServicer_to_server, IdentityServicer(self), SERVICE_NAME),
                (igrpc.add_IdentityInternalServiceServicer_to_server, IdentityInternalServicer(self),
                 INTERNAL_SERVICE_NAME)]

    def start(self) -> None:
        self.relay.start()
        self.watches = watch_consumers(self.relay, self.watched)

    def close(self) -> None:
        for w in self.watches:
            w.stop()
        self.relay.stop()
        for peer in (self.documents, self.calendar, self.cases):
            close = getattr(peer, "close", None)
            if close:
                close()
        self.oidc.close()
        for ch in self.channels:
            ch.close()
        self.engine.dispose()


def subscriptions(documents: Deliver | None, notifications: Deliver | None = None) -> list[Subscription]:
    """Who receives which of identity's events: documents lets the licence officers of the
    province read a submitted licence's image (ID-5); notifications tells the applicant
    the licence decision (MS-1)."""
    subs = []
    if documents is not None:
        subs.append(Subscription.of("documents", [identity_events.LicenceSubmitted], documents))
    if notifications is not None:
        subs.append(Subscription.of("notifications", [identity_events.LicenceDecided], notifications))
    return subs


def policy_of(settings: Settings) -> Policy:
    return Policy(
        access_ttl=settings.access_ttl, refresh_ttl=settings.refresh_ttl,
        session_max=settings.session_max, key_passphrase=settings.key_passphrase,
        key_max_age=settings.key_max_age, key_prepublish=settings.key_prepublish,
        sign_in_limit=settings.sign_in_limit, sign_in_window=settings.sign_in_window,
    )


def oidc_of(settings: Settings) -> OidcSignIn:
    """The OpenID providers per channel: the national platform, the staff directory (SI-1)."""
    by_issuer: dict[str, dict[Channel, ClientSettings]] = {}
    for name, c in settings.oidc_clients.items():
        ch = Channel(name)
        issuer = settings.staff_oidc_issuer if ch == Channel.STAFF else settings.oidc_issuer
        by_issuer.setdefault(issuer, {})[ch] = ClientSettings(
            client_id=c.client_id, client_secret=c.client_secret, redirect_uris=c.redirect_uris,
            scope=STAFF_SCOPE if ch == Channel.STAFF else USER_SCOPE)
    providers: dict[Channel, OidcProvider] = {}
    for issuer, clients in by_issuer.items():
        p = OidcProvider(ProviderSettings(issuer=issuer, clients=clients, timeout=settings.oidc_timeout,
                                          jwks_min_refresh=settings.oidc_jwks_min_refresh))
        providers.update(dict.fromkeys(clients, p))
    return OidcSignIn(providers=providers, min_real_name_level=settings.min_real_name_level)


def build(settings: Settings, *, clock: Clock | None = None,
          providers: Mapping[Channel, ChannelProvider] | None = None,
          engine: Engine | None = None, documents: DocumentsPort | None = None,
          calendar: CalendarPort | None = None, documents_sink: Deliver | None = None,
          notifications_sink: Deliver | None = None, cases: CasePort | None = None,
          oidc: OidcSignIn | None = None) -> App:
    """Wire the service. Tests pass a clock, providers or peers; nothing else constructs things."""
    engine = engine or make_engine(settings.database_url)
    factory = make_session_factory(engine)
    # SI-2: development tickets only when the development provider is switched on.
    dev = DevTicketProvider(settings.dev_ticket_key)
    channels: list[grpc.Channel] = []
    dev_providers: Mapping[Channel, ChannelProvider] = (
        {ch: dev for ch in Channel} if settings.dev_sign_in else {})
    watched: dict[str, grpc.Channel] = {}
    if documents is None:
        client = DocumentsClient(settings.documents_addr)
        documents = client
        if documents_sink is None:
            documents_sink = GrpcSink(client.channel, producer="identity")
            watched["documents"] = client.channel
        if notifications_sink is None:
            notifications = make_channel(settings.notifications_addr)
            channels.append(notifications)
            notifications_sink = GrpcSink(notifications, producer="identity")
            watched["notifications"] = notifications
    return App(
        settings=settings, engine=engine, uow=lambda: IdentityUnitOfWork(factory),
        policy=policy_of(settings),
        providers=providers if providers is not None else dev_providers,
        clock=clock or utcnow,
        documents=documents,
        relay=OutboxRelay(engine, outbox_table, subscriptions(documents_sink, notifications_sink),
                          service="identity"),
        channels=channels,
        calendar=calendar or ApprovalCalendar(settings.approval_addr, timeout=settings.calendar_timeout),
        cases=cases or ApprovalCases(settings.approval_addr, timeout=settings.calendar_timeout),
        oidc=oidc if oidc is not None else oidc_of(settings),
        watched=watched,
    )
