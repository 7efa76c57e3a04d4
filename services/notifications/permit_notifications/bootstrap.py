"""The composition root: the only place that constructs notifications' parts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy.engine import Engine

from permit_notifications import handlers
from permit_notifications.channels import Channel, RecordingChannel, WebhookChannel
from permit_notifications.config import Settings
from permit_notifications.delivery import DeliveryWorker, RetryPolicy
from permit_notifications.errors import DOMAIN
from permit_notifications.grpc_api import NotificationServicer, service_spec
from permit_notifications.unit_of_work import NotificationsUnitOfWork
from permitkit.db import make_engine, make_session_factory
from permitkit.events import EventSink
from permitkit.server import ServiceSpec


@dataclass
class App:
    """The assembled service: settings, storage, servicers and the delivery worker."""

    domain: ClassVar[str] = DOMAIN

    settings: Settings
    engine: Engine | None
    uow_factory: Callable[[], NotificationsUnitOfWork]
    servicer: NotificationServicer
    sink: EventSink
    worker: DeliveryWorker
    channels: Mapping[str, Channel]

    def grpc_services(self) -> Sequence[ServiceSpec]:
        return [service_spec(self.servicer), self.sink.service_spec()]

    def start(self) -> None:
        self.worker.start()

    def close(self) -> None:
        self.worker.stop()
        webhook = self.channels.get("webhook")
        if isinstance(webhook, WebhookChannel):
            webhook.close()
        if self.engine is not None:
            self.engine.dispose()


def event_sink(uow_factory: Callable[[], NotificationsUnitOfWork], on_applied: Callable[[], None]) -> EventSink:
    """The events this context reads, each applied once (idempotent by event id)."""

    def apply(event: object) -> bool:
        applied = handlers.handle(uow_factory(), event.event_id, event)  # type: ignore[attr-defined, arg-type]
        if applied:
            on_applied()
        return applied

    return EventSink("notifications", {cls: apply for cls in handlers.READERS})


def build(settings: Settings, *, uow_factory: Callable[[], NotificationsUnitOfWork] | None = None,
          channels: Mapping[str, Channel] | None = None) -> App:
    """Wire the service; tests may pass a fake unit-of-work factory or channels."""
    handlers.check_templates()
    engine: Engine | None = None
    if uow_factory is None:
        engine = make_engine(settings.database_url)
        sessions = make_session_factory(engine)

        def uow_factory() -> NotificationsUnitOfWork:
            return NotificationsUnitOfWork(sessions)

    channels = dict(channels or {"push": RecordingChannel("push"), "sms": RecordingChannel("sms"),
                                 "webhook": WebhookChannel(timeout=settings.webhook_timeout)})
    worker = DeliveryWorker(uow_factory, channels,
                            policy=RetryPolicy(max_attempts=settings.delivery_max_attempts,
                                               base_delay=settings.delivery_base_delay),
                            reminder_interval=settings.reminder_interval)
    servicer = NotificationServicer(uow_factory=uow_factory,
                                    allow_http_loopback=settings.webhook_allow_http_loopback)
    return App(settings=settings, engine=engine, uow_factory=uow_factory, servicer=servicer,
               sink=event_sink(uow_factory, worker.wake), worker=worker, channels=channels)
