"""AP-6 must hold under concurrency on PostgreSQL: parallel submissions for one
vehicle never leave more than two overlapping applications."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from sqlalchemy import create_engine, text

from tests.application.integration.conftest import Harness, error_of

pytestmark = pytest.mark.integration

N = 8


def test_parallel_submissions_for_one_vehicle_leave_at_most_two_overlapping_AP_6(harness: Harness) -> None:
    """On PostgreSQL (row locks per plate) and on the embedded SQLite default (BEGIN IMMEDIATE)."""
    pg = harness
    drafts = [pg.fill(pg.create()) for _ in range(N)]
    barrier = threading.Barrier(N)

    def submit(app):  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            return "ok", pg.submit(app).name
        except grpc.RpcError as e:
            d = error_of(e)
            return d.reason, d.metadata.get("applications", "")

    with ThreadPoolExecutor(N) as pool:
        results = list(pool.map(submit, drafts))
    ok = [name for r, name in results if r == "ok"]
    conflicts = [r for r, _ in results if r != "ok"]
    assert len(ok) == 2
    assert conflicts == ["VEHICLE_TIME_CONFLICT"] * (N - 2)
    # Every refusal names exactly the two that got through.
    assert {frozenset(apps.split(",")) for r, apps in results if r != "ok"} == {frozenset(ok)}
    engine = create_engine(pg.url)
    with engine.connect() as conn:
        counts = conn.execute(text(
            "SELECT v.plate_number, count(*) FROM application a JOIN application_vehicle v "
            "ON v.application_id = a.id WHERE a.state = 'SUBMITTED' GROUP BY v.plate_number")).all()
    engine.dispose()
    assert sorted(counts) == [("冀A12345", 2), ("冀B6789挂", 2)]


def test_parallel_retries_of_one_submit_send_one_case_AP_10(pg: Harness) -> None:
    app = pg.fill(pg.create())
    barrier = threading.Barrier(4)

    def submit(_: int) -> str:
        barrier.wait()
        try:
            return pg.submit(app, request_id="client-retry").state_label
        except grpc.RpcError as e:
            return error_of(e).reason

    with ThreadPoolExecutor(4) as pool:
        labels = list(pool.map(submit, range(4)))
    assert labels == ["未受理"] * 4
    assert pg.app.relay.run_once() == 1
    assert len(pg.approval.sink.received) == 1


def test_parallel_vehicle_changes_onto_one_vehicle_leave_at_most_two_overlapping_AP_6_PQ_10(
        harness: Harness) -> None:
    """Four applications ask at once to change onto the same vehicle for the same days
    (ReserveVehicleTime, as the approval service does before recording each change):
    two get it, two are told of the time conflict."""
    import datetime as dt

    from google.type import date_pb2

    from permit.application.v1 import application_internal_pb2 as ipb
    from permit.application.v1 import application_internal_pb2_grpc as ipb_grpc

    pg = harness
    windows = [(dt.date(2026, 12, 10), dt.date(2026, 12, 14)), (dt.date(2026, 12, 16), dt.date(2026, 12, 20))]
    apps = [pg.submit(pg.fill(pg.create(), start=s, end=e)) for s, e in windows for _ in range(2)]
    barrier = threading.Barrier(len(apps))
    internal = ipb_grpc.ApplicationInternalServiceStub(pg.channel)

    def reserve(app):  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            internal.ReserveVehicleTime(ipb.ReserveVehicleTimeRequest(
                application=app.name, key=f"cases/{app.number}/vehicleChanges/1", plate_numbers=["冀A54321"],
                start_date=date_pb2.Date(year=2026, month=12, day=12),
                end_date=date_pb2.Date(year=2026, month=12, day=18)), metadata=pg.service_md())
            return "ok"
        except grpc.RpcError as e:
            return error_of(e).reason

    with ThreadPoolExecutor(len(apps)) as pool:
        results = list(pool.map(reserve, apps))
    assert sorted(results) == ["VEHICLE_TIME_CONFLICT", "VEHICLE_TIME_CONFLICT", "ok", "ok"]
    engine = create_engine(pg.url)
    with engine.connect() as conn:
        held = conn.execute(text("SELECT count(*) FROM vehicle_hold WHERE plate_number = '冀A54321'")).scalar()
    engine.dispose()
    assert held == 2


def test_parallel_new_drafts_get_distinct_numbers_of_the_day_AP_1(harness: Harness) -> None:
    """我要申请 from many phones at once: every draft its own number of the day, none lost
    (PostgreSQL takes the number in a transaction of its own; SQLite under its write lock)."""
    barrier = threading.Barrier(N)

    def create(_: int) -> str:
        barrier.wait()
        return harness.create().number

    with ThreadPoolExecutor(N) as pool:
        numbers = list(pool.map(create, range(3 * N)))
    assert len(set(numbers)) == 3 * N
    seqs = sorted(int(n[-6:]) for n in numbers)
    assert seqs == list(range(seqs[0], seqs[0] + 3 * N))  # consecutive: nothing taken twice or skipped
