"""Notifications' storage access through the unit of work's session."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Integer, and_, bindparam, exists, func, select, update
from sqlalchemy.orm import Session

from permit_notifications.models import (
    Delivery,
    DeliveryState,
    Message,
    MessageRead,
    ReadWatermark,
    Reminder,
    Webhook,
)
from permitkit.db import is_unique_violation, precompiled, upsert_insert, utcnow, with_defaults

_MESSAGE_COLUMNS = ("public_id", "event_id", "audience", "kind", "title", "body", "link", "application",
                    "application_number", "province", "create_time")


@functools.cache
def _message_insert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id of a message, compiled once per dialect."""
    return precompiled(upsert_insert(dialect)(Message).on_conflict_do_nothing(
        index_elements=["event_id", "audience", "kind"]).returning(Message.id), dialect, _MESSAGE_COLUMNS)


class InboxRepository:
    """Messages, read marks and watermarks."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_once(self, message: Message) -> Message | None:
        """Insert ``message`` unless one for the same event, audience and kind exists (one
        statement, no savepoint); returns it with its id, or None."""
        values = with_defaults(Message.__table__, _MESSAGE_COLUMNS, {c: getattr(message, c) for c in _MESSAGE_COLUMNS})
        for column, value in values.items():
            setattr(message, column, value)
        conn = self.session.connection()
        row = conn.execute(_message_insert(conn.dialect.name), values).first()
        if row is None:
            return None
        message.id = int(row[0])
        return message

    def get(self, public_id: str) -> Message | None:
        return self.session.scalars(select(Message).where(Message.public_id == public_id)).first()

    def watermark(self, user: str) -> int:
        return self.session.scalar(select(ReadWatermark.through_id).where(ReadWatermark.user == user)) or 0

    def _unread_clause(self, user: str, mark: int):  # type: ignore[no-untyped-def]
        read = exists().where(MessageRead.message_id == Message.id, MessageRead.user == user)
        return and_(Message.id > mark, ~read)

    def page(self, audiences: Sequence[str], user: str, *, offset: int, limit: int,
             unread_only: bool) -> list[tuple[Message, bool]]:
        mark = self.watermark(user)
        read = exists().where(MessageRead.message_id == Message.id, MessageRead.user == user)
        q = select(Message, read).where(Message.audience.in_(audiences))
        if unread_only:
            q = q.where(self._unread_clause(user, mark))
        rows = self.session.execute(q.order_by(Message.id.desc()).offset(offset).limit(limit)).all()
        return [(m, bool(r) or m.id <= mark) for m, r in rows]

    def unread_count(self, audiences: Sequence[str], user: str) -> int:
        mark = self.watermark(user)
        q = select(func.count()).select_from(Message).where(Message.audience.in_(audiences),
                                                             self._unread_clause(user, mark))
        return int(self.session.scalar(q) or 0)

    def is_read(self, message: Message, user: str) -> bool:
        if message.id <= self.watermark(user):
            return True
        return self.session.get(MessageRead, (message.id, user)) is not None

    def mark_read(self, message: Message, user: str) -> None:
        if self.is_read(message, user):
            return
        try:
            with self.session.begin_nested():
                self.session.add(MessageRead(message_id=message.id, user=user))
        except Exception as e:
            if not is_unique_violation(e):
                raise

    def mark_all_read(self, audiences: Sequence[str], user: str) -> int:
        """Move the user's watermark to their newest message; returns how many were unread."""
        count = self.unread_count(audiences, user)
        newest = self.session.scalar(select(func.max(Message.id)).where(Message.audience.in_(audiences))) or 0
        row = self.session.get(ReadWatermark, user, with_for_update=True)
        if row is None:
            try:
                with self.session.begin_nested():
                    self.session.add(ReadWatermark(user=user, through_id=newest))
            except Exception as e:
                if not is_unique_violation(e):
                    raise
                row = self.session.get(ReadWatermark, user, with_for_update=True)
        if row is not None and row.through_id < newest:
            row.through_id = newest
        return count


class WebhookRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, hook: Webhook) -> Webhook:
        self.session.add(hook)
        self.session.flush()
        return hook

    def active_for(self, party: str) -> list[Webhook]:
        return list(self.session.scalars(select(Webhook).where(Webhook.party == party, Webhook.delete_time.is_(None))
                                         .order_by(Webhook.id)))

    def get(self, public_id: str) -> Webhook | None:
        return self.session.scalars(select(Webhook).where(Webhook.public_id == public_id,
                                                          Webhook.delete_time.is_(None))).first()

    def by_id(self, ident: int) -> Webhook | None:
        return self.session.get(Webhook, ident)


class DeliveryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, delivery: Delivery) -> None:
        self.session.add(delivery)

    def due(self, *, limit: int, now: dt.datetime | None = None) -> list[tuple[Delivery, Message]]:
        """Pending deliveries whose time has come with their messages, oldest first; the
        deliveries locked so replicas do not send one twice."""
        locking = self.session.bind is not None and self.session.bind.dialect.name == "postgresql"
        rows = self.session.execute(_DUE_LOCKED if locking else _DUE, {"now": now or utcnow(), "limit": limit})
        return [(d, m) for d, m in rows.all()]

    def for_target(self, target: str, *, offset: int, limit: int) -> list[tuple[Delivery, Message]]:
        q = (select(Delivery, Message).join(Message, Message.id == Delivery.message_id)
             .where(Delivery.target == target).order_by(Delivery.id.desc()).offset(offset).limit(limit))
        return [(d, m) for d, m in self.session.execute(q).all()]

    def cancel_for_target(self, target: str) -> None:
        self.session.execute(update(Delivery).where(Delivery.target == target,
                                                    Delivery.state == DeliveryState.PENDING)
                             .values(state=DeliveryState.FAILED, last_error="webhook deleted"))


# The worker's and the handlers' statements, built once (each event and each wake runs them).
_DUE = (select(Delivery, Message).join(Message, Message.id == Delivery.message_id)
        .where(Delivery.state == DeliveryState.PENDING, Delivery.next_attempt_time <= bindparam("now"))
        .order_by(Delivery.next_attempt_time, Delivery.id).limit(bindparam("limit", type_=Integer)))
_DUE_LOCKED = _DUE.with_for_update(skip_locked=True, of=Delivery)
_CANCEL = (update(Reminder).where(Reminder.case_name == bindparam("of_case"), Reminder.fired.is_(False),
                                  Reminder.cancelled.is_(False)).values(cancelled=True))
_CANCEL_OF_PROVINCES = _CANCEL.where(Reminder.province.in_(bindparam("provinces", expanding=True)))

_REMINDER_COLUMNS = ("case_name", "province", "kind", "due_date", "fire_date", "application",
                     "application_number", "fired", "cancelled")


@functools.cache
def _reminder_upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT of a reminder, compiled once per dialect and run once with every row."""
    stmt = upsert_insert(dialect)(Reminder)
    return precompiled(stmt.on_conflict_do_update(
        index_elements=["case_name", "province", "kind", "due_date"],
        set_={"cancelled": False, "fire_date": stmt.excluded.fire_date},
        where=Reminder.fired.is_(False)), dialect, _REMINDER_COLUMNS)


class ReminderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, reminders: Sequence[Mapping[str, object]]) -> None:
        """Schedule ``reminders`` (column values; one left out takes the column's default) in
        one round trip. One already kept for the
        same case, province, kind and due date is scheduled again (no longer cancelled, at the
        new fire date) unless it has fired."""
        if not reminders:
            return
        conn = self.session.connection()  # Core: nothing loaded needs the ORM's bookkeeping
        conn.execute(_reminder_upsert(conn.dialect.name),
                     [with_defaults(Reminder.__table__, _REMINDER_COLUMNS, r) for r in reminders])

    def cancel(self, case_name: str, provinces: Collection[str] = ()) -> int:
        """Cancel the case's reminders not yet fired: those of ``provinces``, or all when none is named."""
        conn = self.session.connection()
        if named := sorted(p for p in provinces if p):
            done = conn.execute(_CANCEL_OF_PROVINCES, {"of_case": case_name, "provinces": named})
        else:
            done = conn.execute(_CANCEL, {"of_case": case_name})
        return int(done.rowcount or 0)

    def due(self, today: dt.date, *, limit: int = 200) -> list[Reminder]:
        q = (select(Reminder).where(Reminder.fired.is_(False), Reminder.cancelled.is_(False),
                                    Reminder.fire_date <= today).order_by(Reminder.id).limit(limit))
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        return list(self.session.scalars(q))

    def cancel_application(self, application: str) -> int:
        if not application:
            return 0
        q = update(Reminder).where(Reminder.application == application, Reminder.fired.is_(False),
                                   Reminder.cancelled.is_(False))
        return int(self.session.connection().execute(q.values(cancelled=True)).rowcount or 0)
