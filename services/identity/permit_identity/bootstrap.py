"""The composition root: engine, unit of work, providers, policy, clock, servicer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy.engine import Engine

from permit_identity.calendar_client import ApprovalCalendar
from permit_identity.clients import DocumentsClient
from permit_identity.config import Settings
from permit_identity.errors import DOMAIN
from permit_identity.models import LICENCE_SUBMITTED, Channel, outbox_table
from permit_identity.ports import CalendarPort, DocumentsPort
from permit_identity.services import Policy
from permit_identity.tickets import ChannelProvider, DevTicketProvider
from permit_identity.unit_of_work import IdentityUnitOfWork
from permitkit.db import make_engine, make_session_factory, utcnow
from permitkit.outbox import OutboxRelay
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

    @property
    def document_check(self) -> DocumentsPort | None:
        """The port SubmitLicence checks images with, unless checks are switched off."""
        return self.documents if self.settings.verify_documents else None

    def grpc_services(self) -> Sequence[ServiceSpec]:
        from permit.identity.v1 import identity_service_pb2_grpc as sgrpc
        from permit_identity.grpc_api import SERVICE_NAME, IdentityServicer

        return [(sgrpc.add_IdentityServiceServicer_to_server, IdentityServicer(self), SERVICE_NAME)]

    def start(self) -> None:
        self.relay.start()

    def close(self) -> None:
        self.relay.stop()
        for peer in (self.documents, self.calendar):
            close = getattr(peer, "close", None)
            if close:
                close()
        self.engine.dispose()


def licence_handlers(documents: DocumentsPort) -> dict[str, Callable[[str, dict[str, Any]], None]]:
    """Outbox topics -> deliveries: a submitted licence lets the officers of its
    province read its image (ID-5). GrantAccess is idempotent."""

    def grant(_event_id: str, payload: dict[str, Any]) -> None:
        documents.grant_access(resource=str(payload["licence"]), provinces=[str(payload["province"])],
                               documents=[str(payload["document"])], owner=str(payload.get("party") or ""))

    return {LICENCE_SUBMITTED: grant}


def policy_of(settings: Settings) -> Policy:
    return Policy(
        access_ttl=settings.access_ttl, refresh_ttl=settings.refresh_ttl,
        session_max=settings.session_max, key_passphrase=settings.key_passphrase,
        key_max_age=settings.key_max_age, key_prepublish=settings.key_prepublish,
        sign_in_limit=settings.sign_in_limit, sign_in_window=settings.sign_in_window,
    )


def build(settings: Settings, *, clock: Clock | None = None,
          providers: Mapping[Channel, ChannelProvider] | None = None,
          engine: Engine | None = None, documents: DocumentsPort | None = None,
          calendar: CalendarPort | None = None) -> App:
    """Wire the service. Tests pass a clock, providers or peers; nothing else constructs things."""
    engine = engine or make_engine(settings.database_url)
    factory = make_session_factory(engine)
    # Real channel adapters replace the development provider per channel here.
    dev = DevTicketProvider(settings.dev_ticket_key)
    documents = documents or DocumentsClient(settings.documents_addr)
    return App(
        settings=settings, engine=engine, uow=lambda: IdentityUnitOfWork(factory),
        policy=policy_of(settings),
        providers=providers or {ch: dev for ch in Channel},
        clock=clock or utcnow,
        documents=documents,
        relay=OutboxRelay(engine, outbox_table, licence_handlers(documents), service="identity"),
        calendar=calendar or ApprovalCalendar(settings.approval_addr, timeout=settings.calendar_timeout),
    )
