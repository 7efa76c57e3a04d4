"""Notifications' unit of work: one RPC or one event, one short transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from permit_notifications.models import inbox_table
from permit_notifications.repository import (
    DeliveryRepository,
    InboxRepository,
    ReminderRepository,
    WebhookRepository,
)
from permitkit.db import SqlAlchemyUnitOfWork
from permitkit.outbox import first_delivery


class NotificationsUnitOfWork(SqlAlchemyUnitOfWork):
    """Repositories and the event inbox on one session."""

    inbox: InboxRepository
    webhooks: WebhookRepository
    deliveries: DeliveryRepository
    reminders: ReminderRepository

    def _attach(self, session: Session) -> None:
        self.inbox = InboxRepository(session)
        self.webhooks = WebhookRepository(session)
        self.deliveries = DeliveryRepository(session)
        self.reminders = ReminderRepository(session)

    def first_delivery(self, event_id: str, topic: str) -> bool:
        """Record an incoming event id; False when it was processed before (idempotency)."""
        return first_delivery(self.session, inbox_table, event_id, topic)
