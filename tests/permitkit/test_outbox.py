"""permitkit.outbox: in-order delivery, retries, parking, idempotent receivers (PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from permitkit.db import SqlAlchemyUnitOfWork, make_base, make_engine, make_session_factory
from permitkit.outbox import OutboxRelay, add_outbox_tables, first_delivery, record_event

pytestmark = pytest.mark.integration


class UnavailableError(Exception):
    pass


@pytest.fixture
def tables(make_database):
    md = MetaData()
    outbox, inbox = add_outbox_tables(md)
    engine = make_engine(make_database("outbox"))
    md.create_all(engine)
    yield engine, outbox, inbox
    engine.dispose()


def test_events_are_delivered_in_order_and_retried_after_failure(tables):
    engine, outbox, _ = tables
    sf = make_session_factory(engine)
    with sf() as s:
        for i in range(3):
            record_event(s, outbox, "t", {"i": i})
        s.commit()
    got: list[int] = []
    fail_once = {"left": 1}

    def handler(event_id: str, payload: dict) -> None:
        if payload["i"] == 1 and fail_once["left"]:
            fail_once["left"] -= 1
            raise UnavailableError("peer down")
        got.append(payload["i"])

    relay = OutboxRelay(engine, outbox, {"t": handler}, max_backoff=0.0)
    assert relay.run_once() == 1  # 0 delivered, 1 failed: 2 must wait behind it
    assert got == [0]
    assert relay.pending() == 2
    assert relay.run_once() == 2
    assert got == [0, 1, 2]
    assert relay.pending() == 0


def test_uncommitted_event_is_never_delivered(tables):
    engine, outbox, _ = tables
    sf = make_session_factory(engine)
    with sf() as s:
        record_event(s, outbox, "t", {"x": 1})
        s.rollback()
    relay = OutboxRelay(engine, outbox, {"t": lambda *_: None})
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


def test_event_without_handler_is_parked_and_does_not_block(tables):
    engine, outbox, _ = tables
    sf = make_session_factory(engine)
    with sf() as s:
        record_event(s, outbox, "unknown", {})
        record_event(s, outbox, "t", {"ok": True})
        s.commit()
    seen = []
    relay = OutboxRelay(engine, outbox, {"t": lambda eid, p: seen.append(p)})
    relay.run_once()
    assert seen == [{"ok": True}]
    with engine.connect() as c:
        parked = c.execute(select(outbox.c.topic, outbox.c.last_error).where(outbox.c.park_time.is_not(None))).all()
    assert parked[0][0] == "unknown" and "no handler" in parked[0][1]


def test_only_one_relay_delivers_at_a_time_on_postgresql(tables):
    """Two replicas of a service: while one holds the table's lock the other delivers nothing."""
    import threading

    engine, outbox, _ = tables
    sf = make_session_factory(engine)
    with sf() as s:
        record_event(s, outbox, "t", {"i": 1})
        s.commit()
    inside, release = threading.Event(), threading.Event()
    seen: list[str] = []

    def slow(event_id: str, payload: dict) -> None:
        seen.append(event_id)
        inside.set()
        release.wait(10)

    first = OutboxRelay(engine, outbox, {"t": slow}, service="svc")
    second = OutboxRelay(engine, outbox, {"t": slow}, service="svc")
    t = threading.Thread(target=first.run_once)
    t.start()
    assert inside.wait(10)
    assert second.run_once() == 0
    release.set()
    t.join(10)
    assert len(seen) == 1
    assert second.run_once() == 0 and first.pending() == 0


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


def test_event_failing_past_max_attempts_is_parked_and_the_next_one_goes_through(tables):
    engine, outbox, _ = tables
    sf = make_session_factory(engine)
    with sf() as s:
        record_event(s, outbox, "t", {"stuck": True})
        record_event(s, outbox, "t", {"stuck": False})
        s.commit()
    delivered = []

    def handler(event_id: str, payload: dict) -> None:
        if payload["stuck"]:
            raise UnavailableError("peer keeps failing")
        delivered.append(payload)

    relay = OutboxRelay(engine, outbox, {"t": handler}, max_backoff=0.0, max_attempts=3)
    assert [relay.run_once() for _ in range(2)] == [0, 0]
    assert delivered == []
    relay.run_once()  # third failure parks it; the next event is delivered in the same round
    assert delivered == [{"stuck": False}]
    with engine.connect() as c:
        (attempts,) = c.execute(select(outbox.c.attempts).where(outbox.c.park_time.is_not(None))).one()
    assert attempts == 3
