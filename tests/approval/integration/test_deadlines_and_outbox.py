"""Deadlines in working days (RV-4) and outbox delivery to the application service, including
while it is down, over gRPC on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import grpc
import pytest
from google.type import date_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from permit.approval.v1 import approval_pb2 as pb
from permit.approval.v1 import approval_service_pb2 as svc
from permitkit.testing import free_port, wait_for_port
from tests.approval.conftest import HEBEI, ROUTE, SHANDONG, Running, reason_of

pytestmark = pytest.mark.integration


def due(r: pb.Review) -> tuple[int, int, int]:
    return (r.due_date.year, r.due_date.month, r.due_date.day)


class TestDeadlines:
    def test_deadline_skips_the_national_day_holiday_and_counts_the_makeup_workday_RV_4(
            self, running: Running) -> None:
        running.clock.set_local(2026, 9, 28)  # Monday before the 2026 National Day holiday
        case = running.submit(permit_class=1)
        # Art. 16: 2 working days for acceptance: Tue 29 and Wed 30 Sep.
        assert (case.acceptance_due_date.month, case.acceptance_due_date.day) == (9, 30)
        case = running.accept(case)
        # Class I, cross-province: 5 working days: 29, 30 Sep, then 8, 9 Oct and the
        # make-up Saturday 10 Oct (1-7 Oct are holidays).
        assert {due(r) for r in case.reviews} == {(2026, 10, 10)}
        assert not any(r.due_date_provisional for r in case.reviews)

    def test_deadline_into_2027_is_flagged_until_the_year_is_loaded_RV_4(
            self, running: Running) -> None:
        running.clock.set_local(2026, 12, 24)
        case = running.accept(running.submit(permit_class=3))
        assert all(r.due_date_provisional for r in case.reviews)
        provisional = due(case.reviews[0])
        # Counted as weekdays only: 25, 28-31 Dec (5), 1 Jan (6), 4-8 (11), 11-15 (16), 18-21.
        assert provisional == (2027, 1, 21)
        # An administrator loads 2027: New Year's Day (Friday) is a holiday.
        cal = running.stub.UpdateWorkingCalendar(
            svc.UpdateWorkingCalendarRequest(
                name="workingCalendars/2027",
                holidays=[date_pb2.Date(year=2027, month=1, day=1)]),
            metadata=running.admin())
        assert cal.name == "workingCalendars/2027"
        case = running.stub.GetCase(svc.GetCaseRequest(name=case.name), metadata=running.officer(HEBEI))
        assert not any(r.due_date_provisional for r in case.reviews)
        # 20 working days from Thu 24 Dec 2026: 25, 28-31 Dec (5), 4-8 Jan (10), 11-15 (15),
        # 18-22 (20) -> 22 Jan.
        assert due(case.reviews[0]) == (2027, 1, 22)
        # A correction of the year (4 Jan also off) recounts the deadlines again.
        running.stub.UpdateWorkingCalendar(
            svc.UpdateWorkingCalendarRequest(
                name="workingCalendars/2027",
                holidays=[date_pb2.Date(year=2027, month=1, day=1),
                          date_pb2.Date(year=2027, month=1, day=4)]),
            metadata=running.admin())
        case = running.stub.GetCase(svc.GetCaseRequest(name=case.name), metadata=running.officer(HEBEI))
        assert {due(r) for r in case.reviews} == {(2027, 1, 25)}

    def test_calendar_says_where_a_year_comes_from_and_flags_an_unknown_year_RV_4(
            self, running: Running) -> None:
        get = running.stub.GetWorkingCalendar
        y2026 = get(svc.GetWorkingCalendarRequest(name="workingCalendars/2026"),
                    metadata=running.officer(HEBEI))
        assert y2026.known and y2026.source == "library"
        assert (10, 1) in {(d.month, d.day) for d in y2026.holidays}
        assert (10, 10) in {(d.month, d.day) for d in y2026.workdays}
        y2027 = get(svc.GetWorkingCalendarRequest(name="workingCalendars/2027"),
                    metadata=running.officer(HEBEI))
        assert not y2027.known and y2027.source == ""
        running.stub.UpdateWorkingCalendar(
            svc.UpdateWorkingCalendarRequest(name="workingCalendars/2027",
                                             holidays=[date_pb2.Date(year=2027, month=1, day=1)]),
            metadata=running.admin())
        y2027 = get(svc.GetWorkingCalendarRequest(name="workingCalendars/2027"),
                    metadata=running.officer(HEBEI))
        assert y2027.known and y2027.source == "administrator"
        with pytest.raises(grpc.RpcError) as e:
            running.stub.UpdateWorkingCalendar(
                svc.UpdateWorkingCalendarRequest(name="workingCalendars/2027",
                                                 holidays=[date_pb2.Date(year=2028, month=1, day=1)]),
                metadata=running.admin())
        assert reason_of(e.value) == "DATE_OUTSIDE_YEAR"

    def test_only_an_administrator_loads_a_calendar_RV_4(self, running: Running) -> None:
        with pytest.raises(grpc.RpcError) as e:
            running.stub.UpdateWorkingCalendar(svc.UpdateWorkingCalendarRequest(name="workingCalendars/2027"),
                                               metadata=running.officer(HEBEI))
        assert reason_of(e.value) == "NOT_ADMIN"

    def test_suspended_time_does_not_count_toward_the_deadline_RV_4(self, running: Running) -> None:
        running.clock.set_local(2026, 12, 1)  # Tue
        case = running.accept(running.submit(permit_class=1))  # due Tue 8 Dec (5 working days)
        name = f"{case.name}/reviews/{SHANDONG}"
        running.clock.set_local(2026, 12, 3)  # Thu: 3 working days left (4, 7, 8 Dec)
        case = running.stub.SuspendReview(svc.SuspendReviewRequest(name=name, reason="G2大桥加固"),
                                          metadata=running.officer(SHANDONG))
        review = next(r for r in case.reviews if r.province == SHANDONG)
        assert review.suspended and review.remaining_days == 3
        running.clock.set_local(2026, 12, 21)  # long past the old due date
        case = running.stub.GetCase(svc.GetCaseRequest(name=case.name), metadata=running.officer(SHANDONG))
        flags = {r.province: r.overdue for r in case.reviews}
        assert flags == {HEBEI: True, SHANDONG: False, "320000": True}
        case = running.stub.ResumeReview(svc.ResumeReviewRequest(name=name),
                                         metadata=running.officer(SHANDONG))
        review = next(r for r in case.reviews if r.province == SHANDONG)
        # Mon 21 Dec + 3 working days -> Thu 24 Dec.
        assert not review.suspended and due(review) == (2026, 12, 24)
        kinds = [h.kind for h in case.history if h.province == SHANDONG]
        assert kinds[-2:] == ["REVIEW_SUSPENDED", "REVIEW_RESUMED"]
        with pytest.raises(grpc.RpcError) as e:
            running.stub.ResumeReview(svc.ResumeReviewRequest(name=name), metadata=running.officer(SHANDONG))
        assert reason_of(e.value) == "REVIEW_NOT_SUSPENDED"

    def test_only_the_reviewing_province_suspends_its_deadline_RV_4(self, running: Running) -> None:
        case = running.accept(running.submit())
        with pytest.raises(grpc.RpcError) as e:
            running.stub.SuspendReview(
                svc.SuspendReviewRequest(name=f"{case.name}/reviews/{SHANDONG}", reason="加固"),
                metadata=running.officer(HEBEI))
        assert reason_of(e.value) == "OTHER_PROVINCE"

    def test_overdue_review_is_flagged_RV_4(self, running: Running) -> None:
        case = running.accept(running.submit(permit_class=1))
        assert not any(r.overdue for r in case.reviews)
        running.clock.set_local(2026, 12, 20)
        case = running.decide(case, HEBEI)
        flags = {r.province: r.overdue for r in case.reviews}
        assert flags[HEBEI] is False  # decided: no longer overdue
        assert flags[SHANDONG] is True


class TestOutbox:
    def test_event_waits_in_the_outbox_while_the_application_service_is_down(
            self, running: Running) -> None:
        running.fake.stop()
        case = running.accept(running.submit())
        assert running.deliver() == 0
        assert running.app.relay.pending() == 2  # the submission's document grant, CASE_ACCEPTED
        # The state change is committed even though the peer is down.
        assert running.stub.GetCase(svc.GetCaseRequest(name=case.name),
                                    metadata=running.officer(HEBEI)).state == pb.CASE_STATE_UNDER_REVIEW
        running.fake.start()  # same port
        deadline = time.monotonic() + 30
        while running.app.relay.pending() and time.monotonic() < deadline:
            running.deliver()
            time.sleep(0.1)
        assert running.app.relay.pending() == 0
        assert running.fake.servicer.kinds() == ["CASE_ACCEPTED"]
        assert [g.application for g in running.fake.documents.requests] == [case.application]

    def test_queued_events_are_logged_with_their_topic_and_id(self, running: Running) -> None:
        from structlog.testing import capture_logs

        case = running.submit()
        with capture_logs() as logs:
            running.accept(case)
        queued = [entry for entry in logs if entry["event"] == "event_queued"]
        # One event: the review deadlines travel on CaseAccepted, not as events of their own.
        assert [(q["topic"], q["application"]) for q in queued] == [
            ("permit.approval.v1.CaseAccepted", case.application)]
        assert queued[0]["event_id"] and queued[0]["province"] == ROUTE[0]

    def test_started_relay_delivers_after_commit(self, running: Running) -> None:
        running.app.relay.start()
        running.accept(running.submit())
        deadline = time.monotonic() + 30
        while not running.fake.servicer.events and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running.fake.servicer.kinds() == ["CASE_ACCEPTED"]


class TestProcess:
    def _env(self, url: str, **extra: str) -> dict[str, str]:
        return {**os.environ, "PERMIT_APPROVAL_DATABASE_URL": url, "PERMIT_LOG_JSON": "1", **extra}

    def test_migrate_then_serve_answers_health_and_a_bad_setting_stops_with_one_line(
            self, make_database) -> None:  # type: ignore[no-untyped-def]
        url = make_database("approval")
        out = subprocess.run([sys.executable, "-m", "permit_approval", "migrate"],
                             env=self._env(url), capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        bad = subprocess.run([sys.executable, "-m", "permit_approval"],
                             env=self._env(url, PERMIT_APPROVAL_GRPC_PORT="not-a-port"),
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2
        assert bad.stderr.strip().splitlines() == [
            "configuration error: PERMIT_APPROVAL_GRPC_PORT must be an integer, got 'not-a-port'"]
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "permit_approval"],
                                env=self._env(url, PERMIT_APPROVAL_GRPC_PORT=str(port),
                                              APPLICATION_SERVICE_ADDR=f"127.0.0.1:{free_port()}"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_port("127.0.0.1", port, timeout=60, proc=proc)
            with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
                resp = health_pb2_grpc.HealthStub(ch).Check(
                    health_pb2.HealthCheckRequest(service="permit.approval.v1.ApprovalService"),
                    timeout=10)
                assert resp.status == health_pb2.HealthCheckResponse.SERVING
        finally:
            proc.terminate()
            proc.wait(30)
        assert proc.returncode == 0
