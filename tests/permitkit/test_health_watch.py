"""A relay's peer back: the health watch tells which peer turned SERVING within a second, and
``OutboxRelay.retry_now(consumer)`` makes that consumer's waiting delivery due at once (the relay
no longer waits out its backoff) without touching the other consumers (AP-2, RV-1)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import grpc
import pytest
from sqlalchemy import MetaData, select

from permit.application.v1 import events_pb2 as ev
from permit.type.v1 import types_pb2
from permitkit.client import make_channel
from permitkit.db import make_engine, make_session_factory, utcnow
from permitkit.events import EventSink
from permitkit.health_watch import watch_consumers, watch_peers
from permitkit.outbox import (
    CONSUMER_TABLE,
    GrpcSink,
    OutboxRelay,
    Subscription,
    add_outbox_tables,
    record_event,
)
from permitkit.server import grpc_server
from permitkit.testing import free_port

# The goal (printed) and the bound asserted: room for a busy 2-core CI machine.
GOAL_S, BOUND_S = 1.0, 2.0


def withdrawn(n: int) -> ev.ApplicationWithdrawn:
    return ev.ApplicationWithdrawn(application=types_pb2.ApplicationRef(name=f"applications/A{n}", number=f"DJ{n}"),
                                   applicant="parties/p1", reason=f"r{n}")


def _serve(port: int, services=()) -> grpc.Server:  # type: ignore[no-untyped-def]
    server, _ = grpc_server(domain="permit.test", services=list(services), port=port)
    server.start()
    return server


def _record(engine, outbox, *events) -> None:  # type: ignore[no-untyped-def]
    with make_session_factory(engine)() as s:
        for e in events:
            record_event(s, outbox, e)
        s.commit()


@pytest.fixture
def sqlite_outbox(tmp_path):
    md = MetaData()
    outbox, _ = add_outbox_tables(md)
    engine = make_engine(f"sqlite:///{tmp_path}/o.db")
    md.create_all(engine)
    yield engine, outbox
    engine.dispose()


def test_the_hook_is_told_which_peer_turned_serving_again():
    port = free_port()
    server = _serve(port)
    ch = make_channel(f"127.0.0.1:{port}")
    fired: list[str] = []
    again = threading.Event()
    watches = watch_peers({"documents": ch}, lambda name: (fired.append(name), again.set()))
    try:
        assert again.wait(5)  # serving at start
        again.clear()
        server.stop(0).wait()
        time.sleep(2.5)
        assert not again.is_set()
        server = _serve(port)
        back = time.monotonic()
        assert again.wait(5)
        took = time.monotonic() - back
        print(f"hook ran {took:.3f} s after the peer came back (goal < {GOAL_S:g} s)")
        assert took < BOUND_S
        assert fired == ["documents", "documents"]
    finally:
        for w in watches:
            w.stop()
        ch.close()
        server.stop(0)


def test_retry_now_makes_only_that_consumers_waiting_delivery_due_and_wakes_it(sqlite_outbox):
    engine, outbox = sqlite_outbox
    _record(engine, outbox, withdrawn(1))
    relay = OutboxRelay(engine, outbox, [
        Subscription.of("approval", [ev.ApplicationWithdrawn], lambda e: None),
        Subscription.of("routing", [ev.ApplicationWithdrawn], lambda e: None)])
    consumers = outbox.metadata.tables[CONSUMER_TABLE]
    later = utcnow() + dt.timedelta(seconds=25)
    with engine.begin() as conn:
        for name in ("approval", "routing"):
            conn.execute(consumers.insert().values(consumer=name, position=0, attempts=7, next_attempt_time=later,
                                                   last_error="UNAVAILABLE", update_time=utcnow()))
    assert relay.run_once() == 0  # both wait out their backoff
    relay.retry_now("approval")
    with engine.connect() as conn:
        rows = {r.consumer: r for r in conn.execute(select(consumers))}
    assert rows["approval"].next_attempt_time <= utcnow() and rows["approval"].attempts == 0
    assert rows["routing"].next_attempt_time > utcnow() and rows["routing"].attempts == 7
    assert relay._wakes["approval"].is_set() and not relay._wakes["routing"].is_set()
    assert relay.run_once("approval") == 1 and relay.run_once("routing") == 0
    with pytest.raises(KeyError):
        relay.retry_now("nobody")


def test_a_consumer_back_gets_its_events_at_once_not_after_the_backoff(sqlite_outbox):
    """The consumer's EventSink server stops; the relay fails and backs off (30 s); the server
    comes back on the same port; the watch of that consumer's channel calls retry_now and the
    event is delivered within a second, long before the backoff is over."""
    engine, outbox = sqlite_outbox
    handled: list[str] = []
    got = threading.Event()

    def apply(e: ev.ApplicationWithdrawn) -> bool:
        handled.append(e.reason)
        got.set()
        return True

    sink = EventSink("approval", {ev.ApplicationWithdrawn: apply})
    port = free_port()
    ch = make_channel(f"127.0.0.1:{port}")
    relay = OutboxRelay(engine, outbox, [Subscription.of("approval", [ev.ApplicationWithdrawn],
                                                         GrpcSink(ch, producer="application", timeout=1.0))],
                        service="application", poll_interval=60.0, max_backoff=30.0)
    relay.backoff = lambda attempts: 30.0  # type: ignore[method-assign] - every failure waits long
    server = None
    watches = []
    try:
        relay.start()
        watches = watch_consumers(relay, {"approval": ch, "not-a-consumer": ch})
        assert [w.name for w in watches] == ["approval"]
        _record(engine, outbox, withdrawn(1))
        relay.wake()
        consumers = outbox.metadata.tables[CONSUMER_TABLE]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the first attempt failed: waiting ~30 s
            with engine.connect() as conn:
                attempts = conn.execute(select(consumers.c.attempts)).scalar()
            if attempts:
                break
            time.sleep(0.05)
        assert attempts == 1 and not handled
        server = _serve(port, [sink.service_spec()])
        back = time.monotonic()
        assert got.wait(BOUND_S + 3), "not delivered after the consumer came back"
        took = time.monotonic() - back
        print(f"delivered {took:.3f} s after the consumer came back (goal < {GOAL_S:g} s, backoff 30 s)")
        assert took < BOUND_S and handled == ["r1"]
    finally:
        for w in watches:
            w.stop()
        relay.stop()
        ch.close()
        if server is not None:
            server.stop(0)
