"""Healing: reconnect settings on every channel, a lost database connection retried once or
answered 503 DATABASE_UNAVAILABLE (never 500), on real PostgreSQL connections cut by the server."""

from __future__ import annotations

import threading
import time

import grpc
import psycopg
import pytest
from sqlalchemy import text

from permitkit.client import CHANNEL_OPTIONS, channel_options, make_channel
from permitkit.db import CONFLICT_RETRIES, is_transient_db_error, make_engine, retry_transient
from permitkit.errors import ErrorDetails
from permitkit.server import grpc_server

SERVICE = "permit.test.v1.DbService"


def _identity(b: bytes) -> bytes:
    return b


def test_channel_options_reconnect_within_a_second_and_keep_alive():
    opts = dict(channel_options())
    assert opts["grpc.max_reconnect_backoff_ms"] * 1.2 < 1000  # gRPC adds up to 20 % jitter
    assert opts["grpc.initial_reconnect_backoff_ms"] <= 200
    assert opts["grpc.keepalive_time_ms"] > 0
    # A caller's own value wins over the default, without duplicating the key.
    mixed = channel_options([("grpc.max_reconnect_backoff_ms", 500)])
    assert [v for k, v in mixed if k == "grpc.max_reconnect_backoff_ms"] == [500]
    assert len(mixed) == len(CHANNEL_OPTIONS)


def _serve_on(port: int) -> grpc.Server:
    server, _ = grpc_server(domain="permit.test", services=[], port=port)
    server.start()
    return server


def test_a_peer_that_comes_back_is_reached_within_a_second():
    """The reconnect backoff stops growing below 1 s: after a long outage the channel
    finds its peer again within a second of it listening."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from permitkit.testing import free_port

    port = free_port()
    server = _serve_on(port)
    ch = make_channel(f"127.0.0.1:{port}")
    stub = health_pb2_grpc.HealthStub(ch)
    assert stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING
    server.stop(0).wait()
    # Down for a while: the backoff would have grown to tens of seconds by default.
    down_until = time.monotonic() + 4
    while time.monotonic() < down_until:
        with pytest.raises(grpc.RpcError):
            stub.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
        time.sleep(0.2)
    server = _serve_on(port)
    back = time.monotonic()
    try:
        while True:
            try:
                stub.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
                break
            except grpc.RpcError:
                assert time.monotonic() - back < 1.5, "peer not reached again"
                time.sleep(0.02)
        healed = time.monotonic() - back
        print(f"reconnected {healed:.3f} s after the peer listened again")
        assert healed < 1.1
    finally:
        ch.close()
        server.stop(0)


def test_transient_error_recognised_through_wrapping():
    from sqlalchemy.exc import IntegrityError, OperationalError

    op = OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection unexpectedly"))
    assert is_transient_db_error(op)
    try:
        try:
            raise op
        except OperationalError as e:
            raise ValueError("wrapped") from e
    except ValueError as wrapped:
        assert is_transient_db_error(wrapped)
    assert not is_transient_db_error(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_transient_db_error(RuntimeError("bug"))


@pytest.fixture
def pg(make_database):
    url = make_database("transient")
    engine = make_engine(url, pool_size=2)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE item (id text PRIMARY KEY)"))
    yield url, engine
    engine.dispose()


def _kill_my_backends(url: str) -> None:
    name = url.rpartition("/")[2]
    admin = url.rpartition("/")[0].replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))


@pytest.mark.integration
def test_unit_of_work_cut_before_commit_is_retried_once_on_a_fresh_connection(pg):
    url, engine = pg
    attempts = []

    def work() -> int:
        attempts.append(1)
        with engine.connect() as c:
            c.execute(text("SELECT 1"))
            if len(attempts) == 1:
                _kill_my_backends(url)  # the connection dies under the transaction
            c.execute(text("INSERT INTO item VALUES ('a')"))
            c.commit()
        return len(attempts)

    assert retry_transient(work) == 2
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM item")).scalar() == 1


@pytest.mark.integration
def test_no_retry_once_a_commit_went_out(pg):
    url, engine = pg
    attempts = []

    def work() -> None:
        attempts.append(1)
        with engine.connect() as c:
            c.execute(text("INSERT INTO item VALUES ('b')"))
            c.commit()
            _kill_my_backends(url)
            c.execute(text("SELECT 1"))

    with pytest.raises(Exception) as ei:
        retry_transient(work)
    assert is_transient_db_error(ei.value)
    assert len(attempts) == 1  # the write landed: not done twice


class DbEcho:
    def __init__(self, url: str, engine) -> None:
        self.url, self.engine = url, engine
        self.calls = 0
        self.lock = threading.Lock()

    def call(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        with self.lock:
            self.calls += 1
        with self.engine.connect() as c:
            c.execute(text("SELECT 1"))
            if request in (b"cut-once", b"cut-always") and (request == b"cut-always" or self.calls == 1):
                _kill_my_backends(self.url)
            return str(c.execute(text("SELECT count(*) FROM item")).scalar()).encode()


@pytest.mark.integration
def test_server_retries_a_cut_read_once_and_answers_503_not_500_when_it_persists(pg):
    url, engine = pg
    servicer = DbEcho(url, engine)

    def add(s, server):
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {
            "Call": grpc.unary_unary_rpc_method_handler(s.call, _identity, _identity)}),))

    server, port = grpc_server(domain="permit.test", services=[(add, servicer, SERVICE)], port=0)
    server.start()
    ch = make_channel(f"127.0.0.1:{port}")
    stub = ch.unary_unary(f"/{SERVICE}/Call", request_serializer=_identity, response_deserializer=_identity)
    try:
        assert stub(b"cut-once", timeout=10) == b"0"
        assert servicer.calls == 2
        with pytest.raises(grpc.RpcError) as ei:
            stub(b"cut-always", timeout=10)
        d = ErrorDetails.from_rpc_error(ei.value)
        assert d.code == grpc.StatusCode.UNAVAILABLE
        assert d.reason == "DATABASE_UNAVAILABLE"
        assert "暂时不可用" in d.message
    finally:
        ch.close()
        server.stop(0)


def _deadlock_pair(engine) -> tuple[list[BaseException], int]:
    """Two transactions that lock rows 'x' and 'y' in opposite orders, in step: PostgreSQL
    detects the deadlock and rolls one of them back (40P01). Returns the errors left and the
    number of attempts the two sides made."""
    with engine.begin() as c:
        c.execute(text("INSERT INTO item VALUES ('x'), ('y') ON CONFLICT DO NOTHING"))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    attempts: list[str] = []

    def side(first: str, second: str) -> None:
        def work() -> None:
            attempts.append(first)
            with engine.connect() as c:
                c.execute(text("SELECT id FROM item WHERE id = :i FOR UPDATE"), {"i": first})
                if attempts.count(first) == 1:  # in step on the first attempt only
                    barrier.wait(timeout=10)
                c.execute(text("SELECT id FROM item WHERE id = :i FOR UPDATE"), {"i": second})
                c.commit()
        try:
            retry_transient(work)
        except BaseException as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    threads = [threading.Thread(target=side, args=p) for p in (("x", "y"), ("y", "x"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return errors, len(attempts)


@pytest.mark.integration
def test_a_deadlock_victim_is_run_again_and_both_sides_finish(pg):
    """A deadlock rolls the victim's whole transaction back: nothing of it was written, so the
    unit of work runs again (after a short pause) instead of answering 500."""
    _, engine = pg
    errors, attempts = _deadlock_pair(engine)
    assert errors == []
    assert attempts == 3  # the victim ran twice


@pytest.mark.integration
def test_a_conflict_that_persists_is_aborted_concurrent_update_not_internal(pg):
    url, engine = pg
    attempts: list[int] = []

    def call(request: bytes, context: grpc.ServicerContext) -> bytes:
        attempts.append(1)
        with engine.connect() as c:
            # Raised by the server for this transaction, as a real deadlock victim's would be.
            c.execute(text("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$"))
        return b""

    def add(s, server):
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {
            "Call": grpc.unary_unary_rpc_method_handler(call, _identity, _identity)}),))

    server, port = grpc_server(domain="permit.test", services=[(add, None, SERVICE)], port=0)
    server.start()
    ch = make_channel(f"127.0.0.1:{port}")
    stub = ch.unary_unary(f"/{SERVICE}/Call", request_serializer=_identity, response_deserializer=_identity)
    try:
        with pytest.raises(grpc.RpcError) as ei:
            stub(b"", timeout=10)
        d = ErrorDetails.from_rpc_error(ei.value)
        assert (d.code, d.reason) == (grpc.StatusCode.ABORTED, "CONCURRENT_UPDATE")
        assert "同时修改" in d.message
        assert len(attempts) == 1 + CONFLICT_RETRIES
    finally:
        ch.close()
        server.stop(0)
