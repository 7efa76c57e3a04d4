"""Notifications' entities: messages in inboxes, read marks, deliveries, webhooks, reminders.

A message is addressed to an *audience*: an applicant party (``parties/7``,
every user of the party sees it) or the officers of a province
(``provinces/130000``). Read state is kept per user. One message per event,
audience and kind (a unique key): an event delivered twice makes one message.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from permitkit.db import make_base, utcnow
from permitkit.outbox import add_inbox_table

Base = make_base()
metadata = Base.metadata
inbox_table = add_inbox_table(metadata)


class DeliveryState(enum.StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class Message(Base):
    """One message in the inbox of an audience."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("event_id", "audience", "kind", name="uq_message_event_audience_kind"),
        Index("ix_message_audience_id", "audience", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    event_id: Mapped[str] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(48))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(200), default="")
    application: Mapped[str] = mapped_column(String(100), default="")
    application_number: Mapped[str] = mapped_column(String(40), default="")
    province: Mapped[str] = mapped_column(String(6), default="")
    create_time: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def name(self) -> str:
        return f"messages/{self.public_id}"

    def visible_to(self, audiences: tuple[str, ...]) -> bool:
        return self.audience in audiences


class MessageRead(Base):
    """A user read one message."""

    __tablename__ = "message_read"

    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), primary_key=True)
    user: Mapped[str] = mapped_column(String(100), primary_key=True)
    read_time: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReadWatermark(Base):
    """Everything up to ``through_id`` is read for ``user`` (mark all read)."""

    __tablename__ = "read_watermark"

    user: Mapped[str] = mapped_column(String(100), primary_key=True)
    through_id: Mapped[int] = mapped_column(Integer, default=0)
    update_time: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Webhook(Base):
    """An enterprise webhook of an applicant party."""

    __tablename__ = "webhook"
    __table_args__ = (Index("ix_webhook_party", "party"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    party: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(500))
    display_name: Mapped[str] = mapped_column(String(60), default="")
    secret: Mapped[str] = mapped_column(String(100))
    create_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delete_time: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)

    @property
    def name(self) -> str:
        return f"webhooks/{self.public_id}"


class Delivery(Base):
    """One message through one channel to one target, with its outcome."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("message_id", "channel", "target", name="uq_delivery_message_channel_target"),
        Index("ix_delivery_due", "state", "next_attempt_time"),
        Index("ix_delivery_target_id", "target", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_status_code: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    create_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deliver_time: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)

    def succeeded(self, *, status_code: int = 0) -> None:
        self.attempts += 1
        self.state = DeliveryState.DELIVERED
        self.last_status_code = status_code
        self.last_error = ""
        self.deliver_time = utcnow()

    def failed(self, *, error: str, status_code: int, max_attempts: int, base_delay: float,
               max_delay: float) -> None:
        """Record a failed attempt: retry later with exponential backoff, or give up."""
        self.attempts += 1
        self.last_status_code = status_code
        self.last_error = error[:1000]
        if self.attempts >= max_attempts:
            self.state = DeliveryState.FAILED
            return
        delay = min(max_delay, base_delay * (2 ** (self.attempts - 1)))
        self.next_attempt_time = utcnow() + dt.timedelta(seconds=delay)


class Reminder(Base):
    """A deadline reminder for the officers of a province, fired on ``fire_date``.

    The dates come from approval's events (approval owns the working calendar);
    a decision on the review cancels what has not fired yet.
    """

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("case_name", "province", "kind", "due_date", name="uq_reminder_case_province_kind_due"),
        Index("ix_reminder_fire", "fired", "cancelled", "fire_date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_name: Mapped[str] = mapped_column(String(100))
    province: Mapped[str] = mapped_column(String(6))
    kind: Mapped[str] = mapped_column(String(48))
    due_date: Mapped[dt.date]
    fire_date: Mapped[dt.date]
    application: Mapped[str] = mapped_column(String(100), default="")
    application_number: Mapped[str] = mapped_column(String(40), default="")
    fired: Mapped[bool] = mapped_column(default=False)
    cancelled: Mapped[bool] = mapped_column(default=False)
