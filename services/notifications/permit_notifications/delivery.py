"""The delivery worker: sends pending deliveries through their channels, retries
with exponential backoff, fires deadline reminders on their local date."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog

from permit_notifications.channels import Channel, Envelope
from permit_notifications.handlers import fire_reminders
from permit_notifications.models import Delivery, Message
from permit_notifications.unit_of_work import NotificationsUnitOfWork
from permitkit import dates

log = structlog.get_logger("permit_notifications.delivery")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 1.0
    max_delay: float = 300.0


class DeliveryWorker:
    """One background thread; several replicas share the work through row locks."""

    def __init__(self, uow_factory: Callable[[], NotificationsUnitOfWork], channels: Mapping[str, Channel], *,
                 policy: RetryPolicy = RetryPolicy(), poll_interval: float = 0.5,
                 reminder_interval: float = 60.0, today: Callable[[], dt.date] = dates.today,
                 batch_size: int = 20, gather: float = 0.05) -> None:
        self.uow_factory = uow_factory
        self.channels = dict(channels)
        self.policy = policy
        self.poll_interval = poll_interval
        self.reminder_interval = reminder_interval
        self.today = today
        self.batch_size = batch_size
        # Woken by a new message, the worker waits this long before its round: the messages
        # of the events applied meanwhile are attempted in the same round (one read, one
        # commit) rather than one round each. A notification goes out that much later.
        self.gather = gather
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_reminders = 0.0

    def wake(self) -> None:
        self._wake.set()

    def _attempt(self, uow: NotificationsUnitOfWork, d: Delivery, msg: Message) -> None:
        channel = self.channels.get(d.channel)
        url = secret = ""
        if d.channel == "webhook":
            hook = uow.webhooks.get(d.target.removeprefix("webhooks/"))
            if hook is None:
                d.failed(error="webhook deleted", status_code=0, max_attempts=0, base_delay=0, max_delay=0)
                return
            url, secret = hook.url, hook.secret
        if channel is None:
            d.failed(error=f"no channel {d.channel}", status_code=0, max_attempts=0, base_delay=0, max_delay=0)
            return
        env = Envelope(delivery=d.public_id, target=d.target, message=msg.name, kind=msg.kind, title=msg.title,
                       body=msg.body, link=msg.link, application=msg.application,
                       application_number=msg.application_number, province=msg.province,
                       create_time=msg.create_time.isoformat(), event_id=msg.event_id)
        out = channel.send(env, url=url, secret=secret)
        if out.delivered:
            d.succeeded(status_code=out.status_code)
            log.info("notification_delivered", channel=d.channel, target=d.target, delivery=d.public_id)
        else:
            d.failed(error=out.error, status_code=out.status_code,
                     max_attempts=self.policy.max_attempts if out.retry else d.attempts + 1,
                     base_delay=self.policy.base_delay, max_delay=self.policy.max_delay)
            log.warning("notification_delivery_failed", channel=d.channel, target=d.target,
                        delivery=d.public_id, attempts=d.attempts, state=d.state, error=out.error[:200])

    def run_once(self) -> int:
        """Attempt what is due: up to ``batch_size`` deliveries, locked and read with their
        messages in one statement, their outcomes committed together; returns how many
        were attempted. A channel that raises fails only its own delivery (retried later)."""
        with self.uow_factory() as uow:
            due = uow.deliveries.due(limit=self.batch_size)
            for d, msg in due:
                try:
                    self._attempt(uow, d, msg)
                except Exception as e:  # noqa: BLE001 - a channel's fault is the delivery's outcome
                    log.exception("notification_channel_error", channel=d.channel, delivery=d.public_id)
                    d.failed(error=f"{type(e).__name__}: {e}"[:2000], status_code=0,
                             max_attempts=self.policy.max_attempts, base_delay=self.policy.base_delay,
                             max_delay=self.policy.max_delay)
            uow.commit()
        return len(due)

    def run_reminders(self) -> int:
        return fire_reminders(self.uow_factory(), self.today())

    def _loop(self) -> None:
        import time

        while not self._stop.is_set():
            n = 0
            try:
                n = self.run_once()
                if time.monotonic() - self._last_reminders >= self.reminder_interval:
                    self._last_reminders = time.monotonic()
                    self.run_reminders()
            except Exception:  # noqa: BLE001 - the database may be briefly away
                log.exception("delivery_worker_error")
            if n < self.batch_size:  # else more may be due at once
                if self._wake.wait(self.poll_interval) and self.gather:
                    self._stop.wait(self.gather)
                self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="notifications-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
