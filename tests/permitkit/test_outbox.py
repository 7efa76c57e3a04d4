"""permitkit.outbox and permitkit.events: typed events stored packed under their full name,
delivered in order per consumer with retries, parking and bounded backoff, one slow consumer
never holding back another, a relay woken by a commit, idempotent receivers (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from typing import Any

import grpc
import pytest
from sqlalchemy import MetaData, String, event, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from permit.application.v1 import events_pb2 as ev
from permit.events.v1 import event_sink_pb2, event_sink_pb2_grpc
from permit.type.v1 import types_pb2
from permitkit.client import call_metadata
from permitkit.context import Principal
from permitkit.db import SqlAlchemyUnitOfWork, make_base, make_engine, make_session_factory
from permitkit.errors import ErrorDetails
from permitkit.events import EventSink, LocalSink
from permitkit.outbox import (
    GrpcSink,
    OutboxRelay,
    Subscription,
    add_outbox_tables,
    first_delivery,
    record_event,
    topic_of,
)
from permitkit.testing import wait_for

pytestmark = pytest.mark.integration


class UnavailableError(Exception):
    pass


def withdrawn(n: int) -> ev.ApplicationWithdrawn:
    return ev.ApplicationWithdrawn(application=types_pb2.ApplicationRef(name=f"applications/A{n}", number=f"DJ{n}"),
                                   applicant="parties/p1", reason=f"r{n}")


def unpack(envelope: Any) -> ev.ApplicationWithdrawn:
    out = ev.ApplicationWithdrawn()
    envelope.event.Unpack(out)
    return out


@pytest.fixture
def tables(make_database):
    md = MetaData()
    outbox, inbox = add_outbox_tables(md)
    engine = make_engine(make_database("outbox"))
    md.create_all(engine)
    yield engine, outbox, inbox
    engine.dispose()


def record(engine, outbox, *events) -> list[str]:
    sf = make_session_factory(engine)
    with sf() as s:
        ids = [record_event(s, outbox, e) for e in events]
        s.commit()
    return ids


def test_an_event_is_stored_packed_under_its_full_name_with_id_and_time(tables):
    engine, outbox, _ = tables
    (eid,) = record(engine, outbox, withdrawn(1))
    with engine.connect() as c:
        row = c.execute(select(outbox)).mappings().one()
    assert row["topic"] == "permit.application.v1.ApplicationWithdrawn" == topic_of(ev.ApplicationWithdrawn)
    stored = ev.ApplicationWithdrawn.FromString(row["payload"])
    assert stored.event_id == eid and stored.occur_time.seconds > 0 and stored.reason == "r1"


def test_a_message_that_is_no_event_is_refused(tables):
    engine, outbox, _ = tables
    with make_session_factory(engine)() as s, pytest.raises(TypeError):
        record_event(s, outbox, types_pb2.RouteRow(province="130000"))


def test_events_are_delivered_in_order_and_retried_after_failure(tables):
    engine, outbox, _ = tables
    record(engine, outbox, withdrawn(0), withdrawn(1), withdrawn(2))
    got: list[str] = []
    fail_once = {"left": 1}

    def deliver(envelope: Any) -> None:
        e = unpack(envelope)
        if e.reason == "r1" and fail_once["left"]:
            fail_once["left"] -= 1
            raise UnavailableError("peer down")
        got.append(e.reason)

    relay = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], deliver)], max_backoff=0.0)
    assert relay.run_once() == 1  # r0 delivered, r1 failed: r2 must wait behind it
    assert got == ["r0"] and relay.pending() == 2
    assert relay.run_once() == 2
    assert got == ["r0", "r1", "r2"] and relay.pending() == 0


def test_a_failing_consumer_does_not_hold_back_another(tables):
    engine, outbox, _ = tables
    record(engine, outbox, withdrawn(1), withdrawn(2))
    fast: list[str] = []

    def down(envelope: Any) -> None:
        raise UnavailableError("slow consumer down")

    relay = OutboxRelay(engine, outbox, [
        Subscription.of("slow", [ev.ApplicationWithdrawn], down),
        Subscription.of("fast", [ev.ApplicationWithdrawn], lambda e: fast.append(unpack(e).reason))])
    assert relay.run_once() == 2
    assert fast == ["r1", "r2"]
    assert (relay.pending("slow"), relay.pending("fast")) == (2, 0)


def test_a_consumer_gets_only_its_topics(tables):
    engine, outbox, _ = tables
    record(engine, outbox, withdrawn(1), ev.RouteApproved(applicant="parties/p1"))
    seen: list[str] = []
    relay = OutboxRelay(engine, outbox, [Subscription.of("routing", [ev.RouteApproved],
                                                         lambda e: seen.append(e.topic))])
    assert relay.run_once() == 1 and seen == ["permit.application.v1.RouteApproved"]


def test_uncommitted_event_is_never_delivered(tables):
    engine, outbox, _ = tables
    with make_session_factory(engine)() as s:
        record_event(s, outbox, withdrawn(1))
        s.rollback()
    relay = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], lambda e: None)])
    assert relay.run_once() == 0


def test_inbox_accepts_an_event_once(tables):
    engine, _, inbox = tables
    sf = make_session_factory(engine)
    with sf() as s:
        assert first_delivery(s, inbox, "e-1", "t") is True
        s.commit()
    with sf() as s:
        assert first_delivery(s, inbox, "e-1", "t") is False
        assert first_delivery(s, inbox, "e-2", "t") is True
        s.commit()
    with sf() as s:
        assert s.scalar(select(func.count()).select_from(inbox)) == 2


def test_an_event_the_consumer_refuses_is_parked_for_it_and_does_not_block(tables):
    engine, outbox, _ = tables
    first, _ = record(engine, outbox, withdrawn(1), withdrawn(2))
    seen: list[str] = []

    class Refused(grpc.RpcError):
        def code(self) -> grpc.StatusCode:
            return grpc.StatusCode.INVALID_ARGUMENT

    def deliver(envelope: Any) -> None:
        if unpack(envelope).reason == "r1":
            raise Refused()
        seen.append(unpack(envelope).reason)

    relay = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], deliver)])
    assert relay.run_once() == 1
    assert seen == ["r2"] and relay.parked_events("c") == [first] and relay.pending() == 0


def test_event_failing_past_max_attempts_is_parked_and_the_next_one_goes_through(tables):
    engine, outbox, _ = tables
    stuck, _ = record(engine, outbox, withdrawn(1), withdrawn(2))
    delivered: list[str] = []

    def deliver(envelope: Any) -> None:
        if unpack(envelope).reason == "r1":
            raise UnavailableError("peer keeps failing")
        delivered.append(unpack(envelope).reason)

    relay = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], deliver)],
                        max_backoff=0.0, max_attempts=3)
    assert [relay.run_once() for _ in range(2)] == [0, 0]
    assert delivered == []
    relay.run_once()  # third failure parks it; the next event is delivered in the same round
    assert delivered == ["r2"] and relay.parked_events("c") == [stuck]


def test_the_backoff_doubles_and_stays_bounded():
    relay = OutboxRelay.__new__(OutboxRelay)
    relay.max_backoff = 30.0
    waits = [relay.backoff(n) for n in (1, 2, 3, 8, 50, 10_000)]
    assert waits[:3] == [0.4, 0.8, 1.6] and waits[3:] == [30.0, 30.0, 30.0]


def test_only_one_relay_delivers_at_a_time_on_postgresql(tables):
    """Two replicas of a service: while one holds a consumer's lock the other delivers nothing."""
    engine, outbox, _ = tables
    record(engine, outbox, withdrawn(1))
    inside, release = threading.Event(), threading.Event()
    seen: list[str] = []

    def slow(envelope: Any) -> None:
        seen.append(envelope.event_id)
        inside.set()
        release.wait(10)

    subs = [Subscription.of("c", [ev.ApplicationWithdrawn], slow)]
    first = OutboxRelay(engine, outbox, subs, service="svc")
    second = OutboxRelay(engine, outbox, subs, service="svc")
    t = threading.Thread(target=first.run_once)
    t.start()
    assert inside.wait(10)
    assert second.run_once() == 0
    release.set()
    t.join(10)
    assert len(seen) == 1
    assert second.run_once() == 0 and first.pending() == 0


def test_a_started_relay_keeps_its_lock_between_rounds_and_a_replica_takes_over_when_it_stops(tables):
    """Two started replicas: the one holding a consumer's lock keeps it from round to round
    (no lock and unlock per round), the other delivers nothing until the first stops."""
    engine, outbox, _ = tables
    seen: list[tuple[str, str]] = []
    got = threading.Semaphore(0)

    def sink(name: str) -> Any:
        def deliver(envelope: Any) -> None:
            seen.append((name, unpack(envelope).reason))
            got.release()
        return deliver

    def relay(name: str) -> OutboxRelay:
        return OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], sink(name))],
                           service="svc", poll_interval=0.2, listen_poll_interval=0.2)

    def advisory_locks() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())")).scalar_one())

    first, second = relay("first"), relay("second")
    first.start()
    try:
        record(engine, outbox, withdrawn(1))
        assert got.acquire(timeout=5)
        time.sleep(0.5)  # idle between rounds: the lock is still held
        assert advisory_locks() == 1
        second.start()
        for n in (2, 3):
            time.sleep(0.5)  # the second replica wakes and polls meanwhile
            record(engine, outbox, withdrawn(n))
            assert got.acquire(timeout=5)
        assert seen == [("first", "r1"), ("first", "r2"), ("first", "r3")]
        first.stop()
        record(engine, outbox, withdrawn(4))
        assert got.acquire(timeout=5)
        assert seen[-1] == ("second", "r4") and len(seen) == 4
    finally:
        first.stop()
        second.stop()
    assert advisory_locks() == 0  # both gave their lock back


def test_a_started_relay_reads_its_position_once_while_it_holds_the_lock(tables):
    """While a relay holds the consumer's lock nobody else moves the position: the rounds
    after the first read only the next events. A failed delivery's retry state is read
    from the database again (an operator's ``retry_now`` may change it), and so is the
    position after the lock was given back (another replica may have delivered)."""
    engine, outbox, _ = tables
    got = threading.Semaphore(0)
    failures = [0]

    def deliver(envelope: Any) -> None:
        if failures[0]:
            failures[0] -= 1
            raise UnavailableError("consumer down")
        got.release()

    relay = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], deliver)],
                        poll_interval=60.0, listen_poll_interval=60.0, max_backoff=0.2)
    position_reads: list[str] = []

    def count(conn, cursor, statement, *_):
        if statement.lstrip().upper().startswith("SELECT OUTBOX_CONSUMER.POSITION"):
            position_reads.append(statement)
    event.listen(engine, "before_cursor_execute", count)
    relay.start()
    try:
        assert relay._listening.wait(5), "the relay never listened"
        for n in range(4):
            record(engine, outbox, withdrawn(n))
            assert got.acquire(timeout=5)
        assert len(position_reads) == 1  # the first round's only
        failures[0] = 1
        record(engine, outbox, withdrawn(4))
        assert got.acquire(timeout=5)  # delivered on the retry
        assert len(position_reads) == 2  # the retry's round read the saved retry state
        record(engine, outbox, withdrawn(5))
        assert got.acquire(timeout=5)
        assert len(position_reads) == 2
    finally:
        relay.stop()
        event.remove(engine, "before_cursor_execute", count)
    assert relay.pending() == 0
    record(engine, outbox, withdrawn(6))
    before = len(position_reads)
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert relay.run_once() == 1  # a lock taken afresh: the position is read again
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(position_reads) == before + 1


def test_a_started_relay_saves_its_position_once_per_interval_and_when_it_stops(tables):
    """Rounds in quick succession move the position in memory; it is written at most once
    per ``save_interval`` (here after the burst), and at the latest when the relay stops."""
    engine, outbox, _ = tables
    got = threading.Semaphore(0)
    relay = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], lambda e: got.release())],
                        poll_interval=60.0, listen_poll_interval=60.0, save_interval=0.5)
    saves: list[float] = []

    def count(conn, cursor, statement, *_):
        if statement.lstrip().upper().startswith(("UPDATE OUTBOX_CONSUMER", "INSERT INTO OUTBOX_CONSUMER")):
            saves.append(time.monotonic())
    relay.start()
    try:
        assert relay._listening.wait(5), "the relay never listened"
        record(engine, outbox, withdrawn(0))
        assert got.acquire(timeout=5)
        time.sleep(0.8)  # the first position is saved within the interval
        assert relay.pending() == 0
        event.listen(engine, "after_cursor_execute", count)
        started = time.monotonic()
        for n in range(1, 6):
            record(engine, outbox, withdrawn(n))
            assert got.acquire(timeout=5)
        burst = time.monotonic() - started
        assert relay.pending() > 0 or burst >= 0.5  # delivered, not all saved yet
        wait_for(lambda: relay.pending() == 0, "the position saved without a stop", timeout=5, interval=0.05)
        assert relay.pending() == 0  # saved without a stop
        assert 1 <= len(saves) <= 1 + int(burst / 0.5)
    finally:
        relay.stop()
        event.remove(engine, "after_cursor_execute", count)
    lazy = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], lambda e: got.release())],
                       poll_interval=60.0, listen_poll_interval=60.0, save_interval=60.0)
    lazy.start()
    try:
        record(engine, outbox, withdrawn(6), withdrawn(7))
        lazy.wake()
        assert got.acquire(timeout=5) and got.acquire(timeout=5)
        assert lazy.pending() == 2  # delivered, the position not saved for a minute
    finally:
        lazy.stop()
    assert lazy.pending() == 0  # saved when it stopped


def test_events_delivered_by_a_relay_that_died_before_saving_are_delivered_again_and_applied_once(tables):
    """The position a relay kept in memory dies with it: the next relay delivers those
    events again, and the consumer's inbox turns the repeats into no-ops."""
    engine, outbox, inbox = tables
    sf = make_session_factory(engine)
    applied: list[str] = []
    received: list[str] = []

    def consumer(envelope: Any) -> None:
        received.append(envelope.event_id)
        with sf() as s:
            if first_delivery(s, inbox, envelope.event_id, envelope.topic):
                applied.append(unpack(envelope).reason)
            s.commit()

    dying = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], consumer)],
                        poll_interval=60.0, listen_poll_interval=60.0, save_interval=60.0)
    dying._save_due = lambda *a, **k: None  # type: ignore[method-assign]  # killed before any save
    dying.start()
    try:
        record(engine, outbox, withdrawn(1), withdrawn(2))
        dying.wake()
        wait_for(lambda: len(received) >= 2, "both events delivered", timeout=5, interval=0.02)
    finally:
        dying.stop()
    assert applied == ["r1", "r2"] and dying.pending() == 2
    heir = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], consumer)])
    assert heir.run_once() == 2
    assert len(received) == 4 and applied == ["r1", "r2"]
    assert heir.pending() == 0


def test_a_started_relay_is_woken_by_a_commit_not_by_its_poll(tables):
    engine, outbox, _ = tables
    got = threading.Event()
    relay = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], lambda e: got.set())],
                        poll_interval=60.0)
    relay.start()
    try:
        time.sleep(0.3)  # the relay found nothing and sleeps for its (long) poll interval
        record(engine, outbox, withdrawn(1))
        relay.wake()
        assert got.wait(5)
    finally:
        relay.stop()


def test_a_commit_from_another_process_wakes_a_listening_relay_AP_2(tables):
    """PostgreSQL LISTEN/NOTIFY: a writer that never calls ``wake`` (another process: a
    second replica, the legacy sync) still gets its event delivered at once."""
    engine, outbox, _ = tables
    got = threading.Event()
    relay = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], lambda e: got.set())],
                        poll_interval=60.0, listen_poll_interval=60.0)
    relay.start()
    other = make_engine(str(engine.url.render_as_string(hide_password=False)))
    try:
        assert relay._listening.wait(5), "the relay never listened"
        time.sleep(0.3)  # its first round found nothing: it sleeps for the poll interval
        record(other, outbox, withdrawn(1))
        assert got.wait(5)
    finally:
        relay.stop()
        other.dispose()


def test_a_commit_wakes_only_the_consumers_of_its_events(tables):
    """The notification names the topic: a consumer of other events does not run a round."""
    engine, outbox, _ = tables
    got = threading.Event()
    relay = OutboxRelay(engine, outbox, [
        Subscription.of("withdrawals", [ev.ApplicationWithdrawn], lambda e: got.set()),
        Subscription.of("routes", [ev.RouteApproved], lambda e: None)],
        poll_interval=60.0, listen_poll_interval=60.0)
    rounds = {"withdrawals": 0, "routes": 0}
    deliver = relay._deliver

    def counted(consumer: str, held: Any = None, **kw: Any) -> int:
        rounds[consumer] += 1
        return deliver(consumer, held, **kw)
    relay._deliver = counted  # type: ignore[method-assign]
    relay.start()
    try:
        assert relay._listening.wait(5), "the relay never listened"
        time.sleep(0.3)  # the first rounds (and the wake after LISTEN) are over
        before = dict(rounds)
        record(engine, outbox, withdrawn(1))
        relay.after_commit()  # what a unit of work calls: nothing more while listening
        assert got.wait(5)
        time.sleep(0.3)
        assert rounds["withdrawals"] == before["withdrawals"] + 1
        assert rounds["routes"] == before["routes"]
    finally:
        relay.stop()


def test_a_round_of_deliveries_moves_the_position_once(tables):
    engine, outbox, _ = tables
    record(engine, outbox, *(withdrawn(n) for n in range(5)))
    got: list[str] = []
    relay = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn],
                                                         lambda e: got.append(unpack(e).reason))])
    position_writes: list[str] = []

    def count(conn, cursor, statement, *_):
        if "outbox_consumer" in statement and not statement.lstrip().upper().startswith("SELECT"):
            position_writes.append(statement)
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert relay.run_once() == 5
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert got == [f"r{n}" for n in range(5)]
    assert len(position_writes) <= 2  # one UPDATE (and the INSERT of a first round)
    assert relay.pending() == 0


def test_a_rounds_new_position_is_saved_by_one_statement_without_begin_and_commit(tables):
    """After the first round (which inserts the consumer's row) a round's position save is
    its transaction: the UPDATE commits on its own, no transaction is left open around it."""
    engine, outbox, _ = tables
    relay = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], lambda e: None)])
    record(engine, outbox, withdrawn(0))
    assert relay.run_once() == 1
    record(engine, outbox, withdrawn(1), withdrawn(2))
    after_save: list[int] = []

    def status(conn, cursor, statement, *_):
        if statement.lstrip().upper().startswith("UPDATE OUTBOX_CONSUMER"):
            after_save.append(cursor.connection.info.transaction_status)
    event.listen(engine, "after_cursor_execute", status)
    try:
        assert relay.run_once() == 2
    finally:
        event.remove(engine, "after_cursor_execute", status)
    assert after_save == [0]  # psycopg's TransactionStatus.IDLE: committed, nothing open
    assert relay.pending() == 0


def test_a_round_runs_on_the_one_connection_that_holds_the_consumers_lock(tables):
    """Lock, read, save and unlock: one pooled connection per round, not one per step."""
    engine, outbox, _ = tables
    record(engine, outbox, *(withdrawn(n) for n in range(3)))
    relay = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], lambda e: None)])
    checkouts: list[int] = []

    def count(*_: Any) -> None:
        checkouts.append(1)
    event.listen(engine.pool, "checkout", count)
    try:
        assert relay.run_once() == 3
    finally:
        event.remove(engine.pool, "checkout", count)
    assert len(checkouts) == 1


def test_an_event_sink_over_grpc_dispatches_by_type_and_refuses_non_services(tables, grpc_serve):
    """The relay's GrpcSink to a consumer's EventSinkService: typed handler, service role only."""
    engine, outbox, _ = tables
    handled: list[str] = []
    sink = EventSink("c", {ev.ApplicationWithdrawn: lambda e: handled.append(e.reason) or True})
    channel = grpc_serve([sink.service_spec()], domain="permit.test")
    record(engine, outbox, withdrawn(1), ev.RouteApproved(applicant="parties/p1"))
    relay = OutboxRelay(engine, outbox, [Subscription.of(
        "c", [ev.ApplicationWithdrawn, ev.RouteApproved], GrpcSink(channel, producer="application"))], service="app")
    assert relay.run_once() == 1  # RouteApproved: no handler there, refused and parked
    assert handled == ["r1"] and len(relay.parked_events("c")) == 1
    stub = event_sink_pb2_grpc.EventSinkServiceStub(channel)
    with pytest.raises(grpc.RpcError) as e:
        stub.Deliver(event_sink_pb2.DeliverRequest(), metadata=call_metadata(
            Principal(subject="users/u1", roles=frozenset({"applicant"}))))
    assert ErrorDetails.from_rpc_error(e.value).reason == "NOT_SERVICE"


def test_a_local_sink_applies_in_process():
    handled: list[str] = []
    sink = EventSink("c", {ev.ApplicationWithdrawn: lambda e: handled.append(e.event_id) or True})
    from google.protobuf import any_pb2

    packed = any_pb2.Any()
    packed.Pack(ev.ApplicationWithdrawn(event_id="e1"))
    LocalSink(sink)(event_sink_pb2.Envelope(event_id="e1", event=packed))
    assert handled == ["e1"] and sink.topics == {"permit.application.v1.ApplicationWithdrawn"}


def test_unit_of_work_leaves_loaded_objects_readable_after_exit(tables):
    """A read-only use case returns what it loaded; leaving the UoW must not expire it."""
    Base = make_base()

    class Thing(Base):  # type: ignore[misc, valid-type]
        __tablename__ = "thing"
        id: Mapped[int] = mapped_column(primary_key=True)
        label: Mapped[str] = mapped_column(String(20))

    engine, _, _ = tables
    Base.metadata.create_all(engine)
    sf = make_session_factory(engine)
    with SqlAlchemyUnitOfWork(sf) as uow:
        uow.session.add(Thing(id=1, label="冀A12345"))
        uow.commit()
    with SqlAlchemyUnitOfWork(sf) as uow:
        thing = uow.session.get(Thing, 1)
    assert thing is not None and thing.label == "冀A12345"
    with SqlAlchemyUnitOfWork(sf) as uow:
        uow.session.add(Thing(id=2, label="never committed"))
    with SqlAlchemyUnitOfWork(sf) as uow:
        assert uow.session.get(Thing, 2) is None


def test_events_committed_out_of_seq_order_are_all_delivered_AP_2(tables):
    """Writers that queue an event and commit in another order than they took their seq, with
    a relay running meanwhile: every event is delivered once. Without the writers' lock the
    relay moves its position past an event still uncommitted and never delivers it."""
    engine, outbox, _ = tables
    sf = make_session_factory(engine)
    got: list[str] = []
    lock = threading.Lock()

    def deliver(envelope: Any) -> None:
        with lock:
            got.append(unpack(envelope).reason)

    relay = OutboxRelay(engine, outbox, [Subscription.of("c", [ev.ApplicationWithdrawn], deliver)])
    stop = threading.Event()

    def relay_loop() -> None:
        while not stop.is_set():
            relay.run_once()
            time.sleep(0.001)

    def writer(n: int) -> None:
        with sf() as s:
            record_event(s, outbox, withdrawn(n))
            time.sleep(0.002 * (7 - n % 8))  # later writers commit sooner
            s.commit()

    runner = threading.Thread(target=relay_loop)
    runner.start()
    try:
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wait_for(lambda: len(got) >= 40, "all 40 events delivered", timeout=10, interval=0.05)
    finally:
        stop.set()
        runner.join()
    assert sorted(got) == sorted(f"r{n}" for n in range(40))
    assert relay.pending() == 0
