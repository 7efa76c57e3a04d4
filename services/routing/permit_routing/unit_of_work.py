"""Routing's unit of work: one RPC, one short transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from permit_routing.models import inbox_table
from permit_routing.repository import ApprovedRouteRepository
from permitkit.db import SqlAlchemyUnitOfWork
from permitkit.outbox import first_delivery


class RoutingUnitOfWork(SqlAlchemyUnitOfWork):
    """Repositories and the event inbox on one session."""

    routes: ApprovedRouteRepository

    def _attach(self, session: Session) -> None:
        self.routes = ApprovedRouteRepository(session)

    def first_delivery(self, event_id: str, topic: str) -> bool:
        """Record an incoming event id; False when it was processed before (idempotency)."""
        return first_delivery(self.session, inbox_table, event_id, topic)

    def flush(self) -> None:
        self.session.flush()
