"""A relay's peer back: the health watch calls the hook within a second, and hurry_outbox
makes waiting events due at once (the relay no longer waits out its backoff)."""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import MetaData, select

from permitkit.client import make_channel
from permitkit.db import make_engine, utcnow
from permitkit.health_watch import hurry_outbox, watch_peers
from permitkit.outbox import add_outbox_tables, record_event
from permitkit.server import build_server
from permitkit.testing import free_port


def _serve(port: int):
    server, _ = build_server(domain="permit.test", services=[], port=port)
    server.start()
    return server


def test_hook_runs_when_the_peer_turns_serving_again():
    port = free_port()
    server = _serve(port)
    ch = make_channel(f"127.0.0.1:{port}")
    fired = threading.Event()
    watches = watch_peers({"peer": ch}, fired.set)
    try:
        assert fired.wait(5)  # serving at start
        fired.clear()
        server.stop(0).wait()
        time.sleep(2.5)
        assert not fired.is_set()
        server = _serve(port)
        back = time.monotonic()
        assert fired.wait(3)
        took = time.monotonic() - back
        print(f"hook ran {took:.3f} s after the peer came back")
        assert took < 1.0
    finally:
        for w in watches:
            w.stop()
        ch.close()
        server.stop(0)


def test_hurry_outbox_makes_waiting_events_due_now(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/o.db")
    md = MetaData()
    outbox, _ = add_outbox_tables(md)
    md.create_all(engine)
    later = utcnow() + dt.timedelta(seconds=25)
    with engine.begin() as conn:
        from sqlalchemy.orm import Session
        with Session(bind=conn) as s:
            record_event(s, outbox, "t", {"n": 1})
            s.flush()
        conn.execute(outbox.update().values(next_attempt_time=later, attempts=7))
    woke = []
    hurry_outbox(engine, outbox, lambda: woke.append(1))()
    with engine.connect() as conn:
        due = conn.execute(select(outbox.c.next_attempt_time)).scalar_one()
    assert due <= utcnow() and woke == [1]
