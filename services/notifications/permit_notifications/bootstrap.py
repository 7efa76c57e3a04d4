"""The composition root: the only place that constructs notifications' parts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from permit_notifications.channels import Channel, RecordingChannel, WebhookChannel
from permit_notifications.config import Settings
from permit_notifications.delivery import DeliveryWorker, RetryPolicy
from permit_notifications.grpc_api import NotificationServicer, NotificationsEventSink
from permit_notifications.handlers import check_templates
from permit_notifications.unit_of_work import NotificationsUnitOfWork
from permitkit.db import make_engine, make_session_factory


@dataclass
class App:
    """The assembled service: settings, storage, servicers and the delivery worker."""

    settings: Settings
    engine: Engine | None
    uow_factory: Callable[[], NotificationsUnitOfWork]
    servicer: NotificationServicer
    sink: NotificationsEventSink
    worker: DeliveryWorker
    channels: Mapping[str, Channel]

    def start(self) -> None:
        self.worker.start()

    def close(self) -> None:
        self.worker.stop()
        webhook = self.channels.get("webhook")
        if isinstance(webhook, WebhookChannel):
            webhook.close()
        if self.engine is not None:
            self.engine.dispose()


def build(settings: Settings, *, uow_factory: Callable[[], NotificationsUnitOfWork] | None = None,
          channels: Mapping[str, Channel] | None = None) -> App:
    """Wire the service; tests may pass a fake unit-of-work factory or channels."""
    check_templates()
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
    sink = NotificationsEventSink(uow_factory=uow_factory, on_applied=worker.wake)
    return App(settings=settings, engine=engine, uow_factory=uow_factory, servicer=servicer, sink=sink,
               worker=worker, channels=channels)
