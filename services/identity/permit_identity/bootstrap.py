"""The composition root: engine, unit of work, providers, policy, clock, servicer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from permit_identity.clients import DocumentsClient
from permit_identity.config import Settings
from permit_identity.models import LICENCE_SUBMITTED, Channel, outbox_table
from permit_identity.ports import DocumentsPort
from permit_identity.services import Policy
from permit_identity.tickets import ChannelProvider, DevTicketProvider
from permit_identity.unit_of_work import IdentityUnitOfWork
from permitkit.db import make_engine, make_session_factory, utcnow
from permitkit.health_watch import PeerHealthWatch, hurry_outbox, watch_peers
from permitkit.outbox import OutboxRelay

Clock = Callable[[], dt.datetime]


@dataclass
class App:
    """Everything a running identity service (or CLI) is made of."""

    settings: Settings
    engine: Engine
    uow: Callable[[], IdentityUnitOfWork]
    policy: Policy
    providers: Mapping[Channel, ChannelProvider]
    clock: Clock
    documents: DocumentsPort
    relay: OutboxRelay
    watches: list[PeerHealthWatch] = field(default_factory=list)

    @property
    def document_check(self) -> DocumentsPort | None:
        """The port SubmitLicence checks images with, unless checks are switched off."""
        return self.documents if self.settings.verify_documents else None

    def close(self) -> None:
        for w in self.watches:
            w.stop()
        close = getattr(self.documents, "close", None)
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
          engine: Engine | None = None, documents: DocumentsPort | None = None) -> App:
    """Wire the service. Tests pass a clock or providers; nothing else constructs things."""
    engine = engine or make_engine(settings.database_url)
    factory = make_session_factory(engine)
    # Real channel adapters replace the development provider per channel here.
    dev = DevTicketProvider(settings.dev_ticket_key)
    own_documents = documents is None
    documents = documents or DocumentsClient(settings.documents_addr)
    relay = OutboxRelay(engine, outbox_table, licence_handlers(documents), service="identity")
    # Documents back: grant what waits at once, not after the relay's backoff.
    watches = (watch_peers({"documents": documents.channel}, hurry_outbox(engine, outbox_table, relay.wake))
               if own_documents and isinstance(documents, DocumentsClient) else [])
    return App(
        settings=settings, engine=engine, uow=lambda: IdentityUnitOfWork(factory),
        policy=policy_of(settings),
        providers=providers or {ch: dev for ch in Channel},
        clock=clock or utcnow,
        documents=documents,
        relay=relay, watches=watches,
    )
