"""Transactional outbox and inbox.

The sender writes an event in the same transaction as its state change; the
relay delivers events in order, one gRPC call each, with the event id as the
idempotency key, retrying with backoff. The receiver records the id in its
inbox in the same transaction as its own change, so a repeat is a no-op.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import grpc
import structlog
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from permitkit.context import bind
from permitkit.db import UTCDateTime, is_unique_violation, utcnow
from permitkit.metrics import OUTBOX_DELIVERIES

log = structlog.get_logger("permitkit.outbox")

Handler = Callable[[str, dict[str, Any]], None]


def add_outbox_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Add ``outbox_event`` and ``inbox_event`` to a service's metadata."""
    outbox = Table(
        "outbox_event", metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("topic", String(100), nullable=False),
        Column("payload", Text, nullable=False),
        Column("create_time", UTCDateTime(), nullable=False),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt_time", UTCDateTime(), nullable=False),
        Column("deliver_time", UTCDateTime(), nullable=True, index=True),
        Column("park_time", UTCDateTime(), nullable=True),
        Column("last_error", Text, nullable=True),
    )
    inbox = Table(
        "inbox_event", metadata,
        Column("event_id", String(36), primary_key=True),
        Column("topic", String(100), nullable=False),
        Column("receive_time", UTCDateTime(), nullable=False),
    )
    return outbox, inbox


def record_event(session: Session, outbox: Table, topic: str, payload: Mapping[str, Any],
                 *, event_id: str | None = None) -> str:
    """Queue an event inside the caller's transaction; returns its id."""
    eid = event_id or str(uuid.uuid4())
    now = utcnow()
    session.execute(insert(outbox).values(
        event_id=eid, topic=topic, payload=json.dumps(dict(payload), ensure_ascii=False, default=str),
        create_time=now, attempts=0, next_attempt_time=now,
    ))
    return eid


def first_delivery(session: Session, inbox: Table, event_id: str, topic: str) -> bool:
    """Record ``event_id`` as received; False when it was already processed."""
    if not event_id:
        return True
    if session.execute(select(inbox.c.event_id).where(inbox.c.event_id == event_id)).first():
        return False
    try:
        with session.begin_nested():
            session.execute(insert(inbox).values(event_id=event_id, topic=topic, receive_time=utcnow()))
    except Exception as e:
        if is_unique_violation(e):
            return False
        raise
    return True


# Codes a retry cannot fix: the event is parked (kept, with its error) and the
# relay moves on so one poisoned event does not block the queue forever.
_PERMANENT = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED,
              grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNAUTHENTICATED}


class OutboxRelay:
    """Delivers queued events in order through ``handlers[topic](event_id, payload)``."""

    def __init__(self, engine: Engine, outbox: Table, handlers: Mapping[str, Handler], *,
                 service: str = "relay", poll_interval: float = 0.2, max_backoff: float = 30.0,
                 batch_size: int = 50, max_attempts: int = 200) -> None:
        self.engine = engine
        self.outbox = outbox
        self.handlers = dict(handlers)
        self.service = service
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.batch_size = batch_size
        # Past this many failures (about 1.5 h at the default backoff) an event is
        # parked so it cannot block the queue behind it forever; an operator
        # finds it with its last error in the outbox table.
        self.max_attempts = max_attempts
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Deliver soon (after a commit that queued an event)."""
        self._wake.set()

    def pending(self) -> int:
        with self.engine.connect() as conn:
            rows = conn.execute(select(self.outbox.c.seq).where(
                self.outbox.c.deliver_time.is_(None), self.outbox.c.park_time.is_(None)))
            return len(rows.all())

    def run_once(self) -> int:
        """Deliver what is due, oldest first; stop at the first retryable failure.

        On PostgreSQL one relay at a time holds an advisory lock for the
        table, so several replicas never deliver the same event twice or out
        of order; the others return 0 and try again on their next tick.
        """
        if self.engine.dialect.name != "postgresql":
            return self._deliver()
        with self.engine.connect() as lock_conn:
            key = zlib.crc32(f"permit-outbox:{self.service}:{self.outbox.name}".encode())
            if not lock_conn.execute(select(func.pg_try_advisory_lock(key))).scalar():
                return 0
            try:
                return self._deliver()
            finally:
                lock_conn.execute(select(func.pg_advisory_unlock(key)))
                lock_conn.commit()

    def _deliver(self) -> int:
        from permitkit.client import service_principal

        delivered = 0
        now = utcnow()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(self.outbox).where(self.outbox.c.deliver_time.is_(None),
                                          self.outbox.c.park_time.is_(None))
                .order_by(self.outbox.c.seq).limit(self.batch_size)
            ).mappings().all()
        for row in rows:
            if row["next_attempt_time"] > now:
                break  # keep order: a later event waits for an earlier retry
            handler = self.handlers.get(row["topic"])
            payload = json.loads(row["payload"])
            try:
                if handler is None:
                    raise LookupError(f"no handler for topic {row['topic']}")
                with bind(principal=service_principal(self.service), request_id=row["event_id"]):
                    handler(row["event_id"], payload)
            except Exception as e:  # noqa: BLE001 - every failure is recorded and retried
                code = e.code() if isinstance(e, grpc.RpcError) else None
                attempts = row["attempts"] + 1
                permanent = code in _PERMANENT or isinstance(e, LookupError) or attempts >= self.max_attempts
                delay = min(self.max_backoff, 0.2 * (2 ** min(attempts, 10)))
                with self.engine.begin() as conn:
                    conn.execute(update(self.outbox).where(self.outbox.c.seq == row["seq"]).values(
                        attempts=attempts, last_error=f"{type(e).__name__}: {e}"[:2000],
                        next_attempt_time=now + dt.timedelta(seconds=delay),
                        park_time=now if permanent else None,
                    ))
                OUTBOX_DELIVERIES.labels(row["topic"], "parked" if permanent else "retry").inc()
                log.warning("outbox_delivery_failed", topic=row["topic"], event_id=row["event_id"],
                            attempts=attempts, permanent=permanent, error=str(e)[:300])
                if permanent:
                    continue
                break
            with self.engine.begin() as conn:
                conn.execute(update(self.outbox).where(self.outbox.c.seq == row["seq"]).values(
                    deliver_time=utcnow(), attempts=row["attempts"] + 1, last_error=None))
            OUTBOX_DELIVERIES.labels(row["topic"], "delivered").inc()
            log.info("outbox_delivered", topic=row["topic"], event_id=row["event_id"])
            delivered += 1
        return delivered

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                n = self.run_once()
            except Exception:  # noqa: BLE001 - the database may be briefly away
                log.exception("outbox_relay_error")
                n = 0
            if n == 0:
                self._wake.wait(self.poll_interval)
                self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"outbox-{self.service}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
