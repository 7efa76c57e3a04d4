"""Transactional outbox and inbox for integration events (protobuf messages).

The producer writes an event message in the same transaction as its state
change (``record_event``): the outbox row holds the packed message with its
full protobuf name as the topic. One relay per producing service
(``OutboxRelay``) delivers every event to each subscribed consumer through
``permit.events.v1.EventSinkService.Deliver``; each consumer has its own
position in the outbox and its own retry state, so a slow or failing consumer
never holds back the others. Per consumer, events go out in the order they
were recorded; a retryable failure is retried with a bounded backoff; an event
the consumer cannot take (or one failing past ``max_attempts``) is parked for
that consumer (kept with its error) and the next one goes through.

The consumer records the event id in its inbox (``first_delivery``) in the
same transaction as its own change, so a repeat is a no-op; ``permitkit.events``
dispatches a delivered envelope to the typed handler of its message.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
import structlog
from google.protobuf import any_pb2, timestamp_pb2
from google.protobuf.message import Message
from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from permitkit.context import bind
from permitkit.db import SINGLE_STATEMENT, UTCDateTime, precompiled, upsert_insert, utcnow
from permitkit.metrics import OUTBOX_DELIVERIES

log = structlog.get_logger("permitkit.outbox")

OUTBOX_TABLE = "outbox_event"
CONSUMER_TABLE = "outbox_consumer"
PARKED_TABLE = "outbox_parked"
INBOX_TABLE = "inbox_event"


def add_outbox_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Add the outbox (``outbox_event`` with ``outbox_consumer`` positions and
    ``outbox_parked`` events) and the inbox (``inbox_event``) to a service's
    metadata; returns (outbox, inbox)."""
    outbox = Table(
        OUTBOX_TABLE, metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        # The full protobuf name of the packed message.
        Column("topic", String(100), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("create_time", UTCDateTime(), nullable=False),
    )
    Table(
        CONSUMER_TABLE, metadata,
        Column("consumer", String(50), primary_key=True),
        # The seq of the last event this consumer is done with (delivered or parked).
        Column("position", Integer, nullable=False, default=0),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt_time", UTCDateTime(), nullable=True),
        Column("last_error", Text, nullable=True),
        Column("update_time", UTCDateTime(), nullable=False),
    )
    Table(
        PARKED_TABLE, metadata,
        Column("consumer", String(50), nullable=False),
        Column("seq", Integer, nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("topic", String(100), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("last_error", Text, nullable=True),
        Column("park_time", UTCDateTime(), nullable=False),
        PrimaryKeyConstraint("consumer", "seq"),
    )
    return outbox, add_inbox_table(metadata)


def add_inbox_table(metadata: MetaData) -> Table:
    """Add ``inbox_event`` (the ids of the events a consumer has applied) to its metadata."""
    return Table(
        INBOX_TABLE, metadata,
        Column("event_id", String(36), primary_key=True),
        Column("topic", String(100), nullable=False),
        Column("receive_time", UTCDateTime(), nullable=False),
    )


def topic_of(message: Message | type[Message]) -> str:
    """The topic of an event: its message's full protobuf name."""
    return message.DESCRIPTOR.full_name


def record_event(session: Session, outbox: Table, message: Message, *, now: dt.datetime | None = None) -> str:
    """Queue ``event`` inside the caller's transaction; returns its id.

    An empty ``event_id`` field is filled with a new UUID and an unset
    ``occur_time`` with ``now``, so the stored message is the one delivered.
    """
    event: Any = message  # a message of some events.proto: event_id, occur_time
    fields = event.DESCRIPTOR.fields_by_name
    if "event_id" not in fields:
        raise TypeError(f"{topic_of(event)} is not an integration event (no event_id)")
    when = now or utcnow()
    if not event.event_id:
        event.event_id = str(uuid.uuid4())
    if "occur_time" in fields and not event.HasField("occur_time"):
        event.occur_time.FromDatetime(when.astimezone(dt.UTC))
    eid: str = event.event_id
    topic = topic_of(event)
    if session.get_bind().dialect.name == "postgresql":
        _serialise_outbox_writers(session, outbox, topic)
    # Core on the session's connection: the ORM's bulk-insert path has nothing to add here.
    session.connection().execute(_writes(outbox).insert, {
        "event_id": eid, "topic": topic, "payload": event.SerializeToString(), "create_time": when})
    return eid


@dataclass(frozen=True)
class _Writes:
    insert: Any
    lock_and_notify: Any


@functools.cache
def _writes(outbox: Table) -> _Writes:
    """A producer's two statements per event, built once per outbox table (building a
    statement and its cache key costs about as much as running it)."""
    key = zlib.crc32(f"permit-outbox-writers:{outbox.name}".encode())
    return _Writes(
        insert=insert(outbox),
        lock_and_notify=select(func.pg_advisory_xact_lock(key),
                               func.pg_notify(notify_channel(outbox), bindparam("topic"))))


def notify_channel(outbox: Table) -> str:
    """The PostgreSQL channel a commit that queued an event notifies (per database)."""
    return f"permit_{outbox.name}"


def _serialise_outbox_writers(session: Session, outbox: Table, topic: str) -> None:
    """Make the outbox's ``seq`` order its commit order, and have the commit notify the
    topic's listeners (PostgreSQL; one statement).

    A relay reads past its position in ``seq`` order. Were two transactions to take
    seq 10 and 11 and the second commit first, a relay could deliver 11, move its
    position there and never see 10 once it commits: an event lost. So a writer takes
    a transaction-scoped advisory lock before its outbox row gets its seq and keeps it
    until it commits or rolls back: rows become visible in seq order. The caller's
    pending changes are flushed first, so every row lock the transaction needs is
    taken before it queues here (the wait holds nothing the lock holder may need);
    the section under the lock is the event's insert and the commit. SQLite needs
    nothing: its writers are serialised by BEGIN IMMEDIATE.

    ``pg_notify`` is delivered at commit (not at all on rollback): every relay of this
    database, in any process, then wakes the consumers of the topic (the payload)
    instead of at its next poll.
    """
    session.flush()
    session.connection().execute(_writes(outbox).lock_and_notify, {"topic": topic})


def first_delivery(session: Session, inbox: Table, event_id: str, topic: str) -> bool:
    """Record ``event_id`` as received; False when it was already processed.

    One statement (``INSERT ... ON CONFLICT DO NOTHING``): a repeat inserts nothing.
    A repeat delivered while the first is still in flight waits for that transaction
    and then inserts nothing, or goes on when it rolled back.
    """
    if not event_id:
        return True
    conn = session.connection()  # Core: a text clause has nothing for the ORM to do
    stmt = _inbox_insert(conn.dialect.name, inbox)
    return conn.execute(stmt, {"event_id": event_id, "topic": topic, "receive_time": utcnow()}).first() is not None


@functools.cache
def _inbox_insert(dialect: str, inbox: Table) -> Any:
    return precompiled(upsert_insert(dialect)(inbox).on_conflict_do_nothing(index_elements=["event_id"])
                       .returning(inbox.c.event_id), dialect, ["event_id", "topic", "receive_time"])


def envelope_of(row: Any, producer: str) -> Any:
    """The ``permit.events.v1.Envelope`` of one outbox row (a mapping of its columns)."""
    from permit.events.v1 import event_sink_pb2

    packed = any_pb2.Any(type_url=f"type.googleapis.com/{row['topic']}", value=bytes(row["payload"]))
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(row["create_time"].astimezone(dt.UTC))
    return event_sink_pb2.Envelope(event_id=str(row["event_id"]), topic=str(row["topic"]), producer=producer,
                                   occur_time=ts, event=packed)


Deliver = Callable[[Any], None]


@dataclass(frozen=True)
class Subscription:
    """A consumer of some of a producer's events: its name, the topics (full
    message names) it takes and how an envelope reaches it."""

    consumer: str
    topics: frozenset[str]
    deliver: Deliver

    @classmethod
    def of(cls, consumer: str, events: Iterable[type[Message] | str], deliver: Deliver) -> Subscription:
        return cls(consumer, frozenset(e if isinstance(e, str) else topic_of(e) for e in events), deliver)


class GrpcSink:
    """Delivers an envelope to a consumer's ``EventSinkService.Deliver`` as the
    producing service (``services/{producer}``), with a deadline."""

    def __init__(self, channel: grpc.Channel, *, producer: str, timeout: float = 5.0) -> None:
        from permit.events.v1 import event_sink_pb2_grpc

        self._stub = event_sink_pb2_grpc.EventSinkServiceStub(channel)
        self._producer = producer
        self._timeout = timeout

    def __call__(self, envelope: Any) -> None:
        from permit.events.v1 import event_sink_pb2
        from permitkit.client import call_metadata, service_principal

        self._stub.Deliver(event_sink_pb2.DeliverRequest(envelope=envelope), timeout=self._timeout,
                           metadata=tuple(call_metadata(service_principal(self._producer), envelope.event_id)))


# Codes a retry cannot fix: the event is parked for that consumer (kept, with its
# error) and the consumer's next event goes through.
_PERMANENT = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED,
              grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNAUTHENTICATED}


@dataclass
class _Kept:
    """A consumer's position as a started relay holding the consumer's lock (on ``conn``)
    last saved, read or delivered up to; ``unsaved_since``: since when it is past what is
    saved (None: saved). Only a clean state is kept: a failed delivery's retry state is
    read again (``retry_now`` may change it)."""

    conn: Connection
    position: int
    unsaved_since: float | None = None


class OutboxRelay:
    """Delivers the outbox to every subscription, each consumer on its own thread
    with its own position, in order, retrying with a bounded backoff."""

    def __init__(self, engine: Engine, outbox: Table, subscriptions: Iterable[Subscription], *,
                 service: str = "relay", poll_interval: float = 0.5, max_backoff: float = 30.0,
                 batch_size: int = 50, max_attempts: int = 200, listen_poll_interval: float = 5.0,
                 save_interval: float = 1.0) -> None:
        self.engine = engine
        self.outbox = outbox
        self.consumers = outbox.metadata.tables[CONSUMER_TABLE]
        self.parked = outbox.metadata.tables[PARKED_TABLE]
        self.subscriptions = {s.consumer: s for s in subscriptions}
        self.service = service
        self.poll_interval = poll_interval
        # The poll while a LISTEN connection is up: commits wake the relay themselves, so a
        # poll only covers a notification lost with its connection.
        self.listen_poll_interval = max(poll_interval, listen_poll_interval)
        # The longest wait between two attempts of a failing delivery (bounded:
        # a consumer back after an outage is served within this).
        self.max_backoff = max_backoff
        self.batch_size = batch_size
        # Past this many failures (about 1.5 h at the default backoff) an event is
        # parked for that consumer so it cannot block the queue behind it forever;
        # an operator finds it with its last error in ``outbox_parked``.
        self.max_attempts = max_attempts
        self._stop = threading.Event()
        self._wakes = {c: threading.Event() for c in self.subscriptions}
        self._threads: list[threading.Thread] = []
        # When each consumer's next delivery attempt is due (None: nothing waits out a
        # backoff), as its last delivery round found it.
        self._due: dict[str, dt.datetime | None] = {}
        # Set while a connection LISTENs on the outbox's channel (PostgreSQL): commits
        # in any process wake the relay, and polling is only a safety net.
        self._listening = threading.Event()
        # A started relay's view of each consumer whose lock it holds (``_Kept``): no other
        # relay moves the position meanwhile, so a round need not read it, and the relay
        # saves it at most every ``save_interval`` seconds (and when it stops or gives the
        # lock up), not after every round. A relay that dies in between leaves events the
        # consumer gets again and ignores (inbox).
        self.save_interval = save_interval
        self._kept: dict[str, _Kept] = {}
        # Each round's statements, built once (building a statement and its cache key cost
        # more than running it): the consumer's position, its next events, the new position.
        c = self.consumers
        self._q_position = select(c.c.position, c.c.attempts, c.c.next_attempt_time).where(
            c.c.consumer == bindparam("consumer"))
        self._q_events = {name: select(outbox).where(outbox.c.seq > bindparam("position"),
                                                     outbox.c.topic.in_(sorted(s.topics)))
                          .order_by(outbox.c.seq).limit(batch_size)
                          for name, s in self.subscriptions.items()}
        self._q_save = update(c).where(c.c.consumer == bindparam("b_consumer")).values(
            position=bindparam("b_position"), attempts=bindparam("b_attempts"),
            next_attempt_time=bindparam("b_next_attempt_time"), last_error=bindparam("b_last_error"),
            update_time=bindparam("b_update_time"))
        # The same, as a round's whole transaction (no BEGIN and COMMIT around it).
        self._q_save_alone = self._q_save.execution_options(**{SINGLE_STATEMENT: True})

    @property
    def topics(self) -> frozenset[str]:
        """Every topic some consumer subscribes to."""
        return frozenset(t for s in self.subscriptions.values() for t in s.topics)

    def wake(self, consumer: str | None = None, *, topics: Iterable[str] | None = None) -> None:
        """Deliver soon: ``consumer``'s thread, the threads of the consumers of ``topics``,
        or every consumer's."""
        wanted = frozenset(topics) if topics is not None else None
        for name, w in self._wakes.items():
            if consumer is not None and name != consumer:
                continue
            if wanted is not None and not (wanted & self.subscriptions[name].topics):
                continue
            w.set()

    def after_commit(self) -> None:
        """Called by a unit of work after a commit that queued events. While the relay
        listens (PostgreSQL), the commit's notification wakes the consumers of the events'
        topics, so nothing more is done; otherwise every consumer is woken."""
        if not self._listening.is_set():
            self.wake()

    def retry_now(self, consumer: str | None = None) -> None:
        """The consumer's peer is back (``permitkit.health_watch``): a delivery waiting out
        its backoff is due now, with the backoff started afresh, and the consumer's thread
        is woken. Every consumer when None; a consumer not waiting is only woken."""
        if consumer is not None and consumer not in self.subscriptions:
            raise KeyError(f"{self.service} relay has no consumer {consumer!r}")
        names = [consumer] if consumer else list(self.subscriptions)
        now = utcnow()
        with self.engine.begin() as conn:
            hurried = conn.execute(update(self.consumers).where(
                self.consumers.c.consumer.in_(names), self.consumers.c.next_attempt_time > now)
                .values(attempts=0, next_attempt_time=now, update_time=now)).rowcount
        if hurried:
            log.info("outbox_retry_now", service=self.service, consumers=names)
        for name in names:
            self.wake(name)

    def pending(self, consumer: str | None = None) -> int:
        """Events not yet delivered (or parked) for ``consumer``, or for any consumer."""
        names = [consumer] if consumer else list(self.subscriptions)
        with self.engine.connect() as conn:
            return sum(self._pending(conn, n) for n in names)

    def _pending(self, conn: Connection, consumer: str) -> int:
        sub = self.subscriptions[consumer]
        position = self._position(conn, consumer)[0]
        return int(conn.execute(select(func.count()).select_from(self.outbox).where(
            self.outbox.c.seq > position, self.outbox.c.topic.in_(sub.topics))).scalar() or 0)

    def parked_events(self, consumer: str) -> list[str]:
        """The ids of the events parked for ``consumer``, oldest first."""
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(self.parked.c.event_id).where(
                self.parked.c.consumer == consumer).order_by(self.parked.c.seq))]

    def _position(self, conn: Connection, consumer: str) -> tuple[int, int, dt.datetime | None]:
        row = conn.execute(self._q_position, {"consumer": consumer}).first()
        if row is None:
            return 0, 0, None
        return int(row[0]), int(row[1]), row[2]

    def _save(self, conn: Connection, consumer: str, *, position: int, attempts: int,
              next_attempt_time: dt.datetime | None, last_error: str | None, alone: bool = False) -> None:
        """The consumer's new position and retry state. ``alone``: the update is its round's
        whole transaction (one round trip, no BEGIN and COMMIT around it)."""
        values = {"position": position, "attempts": attempts, "next_attempt_time": next_attempt_time,
                  "last_error": last_error, "update_time": utcnow()}
        done = conn.execute(self._q_save_alone if alone else self._q_save,
                            {"b_consumer": consumer, **{f"b_{k}": v for k, v in values.items()}})
        if done.rowcount == 0:
            conn.execute(insert(self.consumers).values(consumer=consumer, **values))

    def run_once(self, consumer: str | None = None) -> int:
        """Deliver what is due to ``consumer`` (every consumer when None); returns
        how many events were delivered.

        On PostgreSQL one relay at a time holds an advisory lock per consumer, so
        several replicas never deliver the same event twice or out of order.
        """
        names = [consumer] if consumer else list(self.subscriptions)
        return sum(self._run_consumer(n) for n in names)

    def _run_consumer(self, consumer: str) -> int:
        if self.engine.dialect.name != "postgresql":
            return self._deliver(consumer)
        held = self._take_lock(consumer)
        if held is None:
            return 0
        try:
            return self._deliver(consumer, held)
        finally:
            self._release(held, consumer)

    def _lock_key(self, consumer: str) -> int:
        return zlib.crc32(f"permit-outbox:{self.service}:{consumer}".encode())

    def _take_lock(self, consumer: str) -> Connection | None:
        """A pooled connection holding the consumer's advisory lock (a session lock, kept
        across its transactions), or None while another relay holds it."""
        conn = self.engine.connect()
        try:
            if not conn.execute(select(func.pg_try_advisory_lock(self._lock_key(consumer)))).scalar():
                conn.close()
                return None
            conn.commit()
        except BaseException:
            conn.invalidate()
            conn.close()
            raise
        return conn

    def _release(self, held: Connection | None, consumer: str) -> None:
        """Give the consumer's lock back; a connection that cannot is discarded, which
        ends its session and so its lock."""
        if held is None:
            return
        try:
            held.rollback()
            held.execute(select(func.pg_advisory_unlock(self._lock_key(consumer))))
            held.commit()
        except Exception:  # noqa: BLE001 - the connection is gone: so is its lock
            held.invalidate()
        finally:
            held.close()

    def backoff(self, attempts: int) -> float:
        """Seconds before the next attempt after ``attempts`` failures: doubling, capped."""
        return float(min(self.max_backoff, 0.2 * (2 ** min(attempts, 16))))

    @contextmanager
    def _tx(self, conn: Connection | None) -> Iterator[Connection]:
        """A short transaction on the round's connection (the one holding the consumer's
        lock), else on a pooled one."""
        if conn is None:
            with self.engine.begin() as pooled:
                yield pooled
        else:
            with conn.begin():
                yield conn

    def _deliver(self, consumer: str, held: Connection | None = None, *, defer_save: bool = False) -> int:
        """One round: read past the position, deliver, save the position. ``held``: the
        connection holding the consumer's lock, which the round's statements use too;
        ``defer_save``: a new position after a clean round is saved later (``_save_due``)."""
        from permitkit.client import service_principal

        sub = self.subscriptions[consumer]
        delivered = 0
        now = utcnow()
        kept = self._kept.pop(consumer, None)
        if kept is not None and (held is None or kept.conn is not held):
            kept = None  # kept under a lock given up since: another relay may have moved on
        unsaved_since = kept.unsaved_since if kept is not None else None
        with self._tx(held) as conn:
            if kept is not None:
                position, attempts, next_attempt = kept.position, 0, None
            else:
                position, attempts, next_attempt = self._position(conn, consumer)
            self._due[consumer] = next_attempt
            if next_attempt is not None and next_attempt > now:
                return 0  # keep order: the consumer's next event waits for its retry
            rows = conn.execute(self._q_events[consumer], {"position": position}).mappings().all()
        clean = attempts == 0 and next_attempt is None
        # The position moves once per round, not once per event: a relay stopped in the
        # middle delivers the round's delivered events again, which consumers ignore (inbox).
        done = position
        for row in rows:
            try:
                with bind(principal=service_principal(self.service), request_id=row["event_id"]):
                    sub.deliver(envelope_of(row, self.service))
            except Exception as e:  # noqa: BLE001 - every failure is recorded and retried
                code = e.code() if isinstance(e, grpc.RpcError) else None
                attempts += 1
                permanent = code in _PERMANENT or attempts >= self.max_attempts
                error = f"{type(e).__name__}: {e}"[:2000]
                unsaved_since = None  # the position is saved with the failure
                with self._tx(held) as conn:
                    if permanent:
                        conn.execute(insert(self.parked).values(
                            consumer=consumer, seq=row["seq"], event_id=row["event_id"], topic=row["topic"],
                            attempts=attempts, last_error=error, park_time=utcnow()))
                        done = row["seq"]
                        self._save(conn, consumer, position=done, attempts=0, next_attempt_time=None,
                                   last_error=error)
                    else:
                        due = utcnow() + dt.timedelta(seconds=self.backoff(attempts))
                        self._save(conn, consumer, position=done, attempts=attempts, last_error=error,
                                   next_attempt_time=due)
                        self._due[consumer] = due
                position = done
                OUTBOX_DELIVERIES.labels(row["topic"], "parked" if permanent else "retry").inc()
                log.warning("outbox_delivery_failed", topic=row["topic"], event_id=row["event_id"],
                            consumer=consumer, attempts=attempts, permanent=permanent, error=str(e)[:300])
                if permanent:
                    attempts = 0
                    continue
                return delivered
            done = row["seq"]
            attempts = 0
            OUTBOX_DELIVERIES.labels(row["topic"], "delivered").inc()
            log.info("outbox_delivered", topic=row["topic"], event_id=row["event_id"], consumer=consumer)
            delivered += 1
        if done != position and clean and defer_save:
            if unsaved_since is None:
                unsaved_since = time.monotonic()
        elif done != position or not clean:
            with self._tx(held) as conn:
                self._save(conn, consumer, position=done, attempts=0, next_attempt_time=None, last_error=None,
                           alone=True)
            unsaved_since = None
            self._due[consumer] = None
        if defer_save and held is not None:
            self._kept[consumer] = _Kept(held, done, unsaved_since)
        return delivered

    def _save_due(self, consumer: str, held: Connection | None, *, now: bool = False) -> None:
        """Save the position a started relay has delivered up to once it has waited
        ``save_interval`` seconds, or ``now``."""
        kept = self._kept.get(consumer)
        if kept is None or held is None or kept.conn is not held or kept.unsaved_since is None:
            return
        if not now and time.monotonic() - kept.unsaved_since < self.save_interval:
            return
        with self._tx(held) as conn:
            self._save(conn, consumer, position=kept.position, attempts=0, next_attempt_time=None,
                       last_error=None, alone=True)
        kept.unsaved_since = None

    def _loop(self, consumer: str) -> None:
        """The consumer's thread. On PostgreSQL it keeps the consumer's lock from round to
        round (two statements fewer per round); another replica's thread tries the lock
        at each of its wakes and takes over when this one stops, fails or loses its
        connection."""
        wake = self._wakes[consumer]
        postgres = self.engine.dialect.name == "postgresql"
        held: Connection | None = None
        try:
            while not self._stop.is_set():
                wake.clear()
                try:
                    if not postgres:
                        n = self._deliver(consumer)
                    else:
                        held = held or self._take_lock(consumer)
                        n = self._deliver(consumer, held, defer_save=True) if held is not None else 0
                        self._save_due(consumer, held)
                except Exception:  # noqa: BLE001 - the database may be briefly away
                    log.exception("outbox_relay_error", consumer=consumer)
                    self._kept.pop(consumer, None)  # delivered again by whoever takes the lock
                    self._release(held, consumer)
                    held, n = None, 0
                if n < self.batch_size:
                    # Idle, or waiting for a retry: sleep until woken by a commit, the
                    # poll interval, the consumer's next attempt or the save of its position,
                    # whichever is first.
                    wake.wait(self._sleep(consumer))
        finally:
            try:
                self._save_due(consumer, held, now=True)
            except Exception:  # noqa: BLE001 - not saved: the next relay delivers them again
                log.warning("outbox_position_not_saved", consumer=consumer)
            self._kept.pop(consumer, None)
            self._release(held, consumer)

    def _sleep(self, consumer: str) -> float:
        poll = self.listen_poll_interval if self._listening.is_set() else self.poll_interval
        kept = self._kept.get(consumer)
        if kept is not None and kept.unsaved_since is not None:
            poll = min(poll, max(0.0, kept.unsaved_since + self.save_interval - time.monotonic()))
        due = self._due.get(consumer)
        if due is None:
            return poll
        return max(0.05, min(self.max_backoff, (due - utcnow()).total_seconds()))

    def _listen(self) -> None:
        """On each commit that queued an event, in any process, wake the consumers of its
        topic (PostgreSQL ``LISTEN``); reconnects after a lost connection, polling meanwhile."""
        import psycopg

        channel = notify_channel(self.outbox)
        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'LISTEN "{channel}"')
                    self._listening.set()
                    self.wake()  # anything committed before the LISTEN
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake(topics=[note.payload] if note.payload else None)
            except Exception as e:  # noqa: BLE001 - the database may be briefly away
                log.warning("outbox_listen_lost", service=self.service, error=str(e)[:300])
            finally:
                self._listening.clear()
            self._stop.wait(1.0)

    def start(self) -> None:
        for consumer in self.subscriptions:
            t = threading.Thread(target=self._loop, args=(consumer,), name=f"outbox-{self.service}-{consumer}",
                                 daemon=True)
            t.start()
            self._threads.append(t)
        if self.engine.dialect.name == "postgresql" and self.subscriptions:
            t = threading.Thread(target=self._listen, name=f"outbox-{self.service}-listen", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 3.0) -> None:
        """Stop every consumer's thread, waiting ``timeout`` seconds in all (not per thread):
        a delivery in flight is retried by the next start, its consumer being idempotent."""
        self._stop.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))


# -- migrations ------------------------------------------------------------------------------
# Each service's Alembic revision calls these, so every outbox has the same shape.

def upgrade_outbox_to_messages(op: object) -> None:
    """From the JSON outbox (one delivery state per event) to the typed one (packed
    messages, one position per consumer). The JSON rows are dropped: run the upgrade
    once the previous relay has drained its outbox."""
    import sqlalchemy as sa

    from permitkit.db import UTCDateTime

    o: Any = op
    o.drop_index("ix_outbox_event_deliver_time", table_name=OUTBOX_TABLE)
    o.drop_table(OUTBOX_TABLE)
    o.create_table(
        OUTBOX_TABLE,
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("create_time", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox_event"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_event_id"),
    )
    o.create_table(
        CONSUMER_TABLE,
        sa.Column("consumer", sa.String(length=50), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_time", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("update_time", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name="pk_outbox_consumer"),
    )
    o.create_table(
        PARKED_TABLE,
        sa.Column("consumer", sa.String(length=50), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("park_time", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "seq", name="pk_outbox_parked"),
    )


def downgrade_outbox_to_json(op: object) -> None:
    """Back to the JSON outbox (its rows cannot be read back: dropped)."""
    import sqlalchemy as sa

    from permitkit.db import UTCDateTime

    o: Any = op
    o.drop_table(PARKED_TABLE)
    o.drop_table(CONSUMER_TABLE)
    o.drop_table(OUTBOX_TABLE)
    o.create_table(
        OUTBOX_TABLE,
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("create_time", UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_time", UTCDateTime(timezone=True), nullable=False),
        sa.Column("deliver_time", UTCDateTime(timezone=True), nullable=True),
        sa.Column("park_time", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox_event"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_event_id"),
    )
    o.create_index("ix_outbox_event_deliver_time", OUTBOX_TABLE, ["deliver_time"], unique=False)


def create_inbox(op: object) -> None:
    """The inbox of a service that had none (a new consumer)."""
    import sqlalchemy as sa

    from permitkit.db import UTCDateTime

    o: Any = op
    o.create_table(
        INBOX_TABLE,
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("receive_time", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_inbox_event"),
    )
