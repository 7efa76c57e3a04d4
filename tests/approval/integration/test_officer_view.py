"""What officers decide on (RV-2): the application as submitted on the case, kept per
submission, the changes of a resubmission since the returned one, and the work queue's
filters, search and counts; over gRPC on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from permit.application.v1 import application_pb2
from permit.application.v1 import events_pb2 as application_events
from permit.approval.v1 import approval_pb2 as pb
from permit.approval.v1 import approval_service_pb2 as svc
from permit_approval.models import Case
from permit_approval.repository import _narrowing
from tests.approval.conftest import HEBEI, JIANGSU, SHANDONG, SHANGHAI_P, Running, reason_of

pytestmark = pytest.mark.integration


def figures(weight_kg: int = 30000) -> application_events.SubmittedApplication:
    return application_events.SubmittedApplication(
        cargo=application_pb2.Cargo(name="变压器", weight_kg=weight_kg, length_mm=12000, width_mm=3200,
                                    height_mm=3000),
        overall=application_pb2.Overall(total_mass_kg=weight_kg + 21000, length_mm=18000, width_mm=3200,
                                        height_mm=4300, axle_spacings_mm=[3500, 1350, 9000, 1310],
                                        axle_loads_kg=[7000, 11000, 11000, 11000, 11000]),
        agent=application_events.SubmittedAgent(name="张三", masked_id_number="130102********1234",
                                                 id_card_documents=["documents/id1"]),
        classification=application_pb2.Classification(
            over_limit=True, permit_class=2, rule_set="GB1589@2016-07-26",
            rules=[application_pb2.RuleHit(rule="ART15_CLASS2_MASS", field="overall.total_mass_kg",
                                           value=weight_kg + 21000, limit=49000)]),
        duplicate_check=application_events.DuplicateCheck(ok=True, vehicles=[
            application_events.VehicleOverlap(plate_number="冀A12345", overlapping_applications=1)]))


def test_the_case_carries_the_application_as_submitted_RV_2(running: Running) -> None:
    case = running.submit(figures=figures())
    got = running.stub.GetCase(svc.GetCaseRequest(name=case.name), metadata=running.officer(SHANDONG),
                               timeout=10)
    s = got.submitted
    assert s.submission == 1 and s.HasField("submit_time")
    a = s.application
    assert a.cargo.weight_kg == 30000 and a.overall.total_mass_kg == 51000
    assert list(a.overall.axle_loads_kg) == [7000, 11000, 11000, 11000, 11000]
    assert list(a.overall.axle_spacings_mm) == [3500, 1350, 9000, 1310]
    assert [v.plate_number for v in a.vehicles] == ["冀A12345", "冀B6789挂"]
    assert a.vehicles[0].curb_mass_kg == 9000
    assert a.agent.masked_id_number == "130102********1234"
    assert a.classification.rules[0].rule == "ART15_CLASS2_MASS"
    assert a.duplicate_check.ok and a.duplicate_check.vehicles[0].overlapping_applications == 1
    assert [r.province for r in a.route] == [HEBEI, SHANDONG, JIANGSU]
    assert a.passage_dates.start_date.day == 10
    assert list(got.changes) == [] and got.changes_since_submission == 0


def test_an_officer_off_the_route_does_not_see_the_case_RV_2(running: Running) -> None:
    case = running.submit(figures=figures())
    with pytest.raises(grpc.RpcError) as e:
        running.stub.GetCase(svc.GetCaseRequest(name=case.name), metadata=running.officer(SHANGHAI_P),
                             timeout=10)
    assert reason_of(e.value) == "OTHER_PROVINCE"


def test_a_resubmission_shows_what_changed_since_the_returned_version_RV_2_PQ_6(running: Running) -> None:
    case = running.submit(figures=figures(30000))
    running.stub.ReturnCase(svc.ReturnCaseRequest(name=case.name, reason="货物重量有误"),
                            metadata=running.officer(HEBEI), timeout=10)
    running.submit(submission=2, figures=figures(28000))
    got = running.stub.GetCase(svc.GetCaseRequest(name=case.name), metadata=running.officer(HEBEI), timeout=10)
    changes = {c.field: (c.before, c.after) for c in got.changes}
    assert changes == {"cargo.weight_kg": ("30000", "28000"),
                       "overall.total_mass_kg": ("51000", "49000"),
                       "classification.rules[0].value": ("51000", "49000")}
    assert got.changes_since_submission == 1 and got.submitted.submission == 2
    assert got.submitted.application.cargo.weight_kg == 28000


def test_a_repeated_submission_event_keeps_the_first_snapshot_RV_2(running: Running) -> None:
    case = running.submit(figures=figures(30000), event_id="e1")
    running.submit(figures=figures(1), event_id="e2")  # the same submission number again
    got = running.stub.GetCase(svc.GetCaseRequest(name=case.name), metadata=running.service(), timeout=10)
    assert got.submitted.application.cargo.weight_kg == 30000


def work_queue(running: Running, officer: list[tuple[str, str]], **kw: object) -> svc.ListWorkQueueResponse:
    """ListWorkQueue with the request fields ``kw``, as ``officer``."""
    return running.stub.ListWorkQueue(svc.ListWorkQueueRequest(**kw), metadata=officer,  # type: ignore[arg-type]
                                      timeout=10)


def test_the_work_queue_filters_searches_and_counts_by_state_RV_2(running: Running) -> None:
    a1 = running.submit(application="applications/Q1", permit_class=2)
    running.submit(application="applications/Q2", permit_class=3)
    running.submit(application="applications/Q3", permit_class=2)
    running.accept(a1)
    acceptor = running.officer(HEBEI)

    def queue(**kw: object) -> svc.ListWorkQueueResponse:
        return work_queue(running, acceptor, **kw)

    everything = queue()
    counts = {pb.CaseState.Name(c.state): c.count for c in everything.state_counts}
    assert counts == {"CASE_STATE_AWAITING_ACCEPTANCE": 2, "CASE_STATE_UNDER_REVIEW": 1}
    assert everything.total_size == 3
    waiting = queue(state=pb.CASE_STATE_AWAITING_ACCEPTANCE)
    assert sorted(c.application for c in waiting.cases) == ["applications/Q2", "applications/Q3"]
    assert waiting.total_size == 2
    assert [c.application for c in queue(permit_class=3).cases] == ["applications/Q2"]
    assert [c.application for c in queue(query="djq3").cases] == ["applications/Q3"]
    assert len(queue(query="冀 a12345").cases) == 3  # every case has the plate
    assert queue(query="冀Z00000").cases == [] and queue(query="冀Z00000").total_size == 0
    assert queue(overdue_only=True).cases == []
    running.clock.now += dt.timedelta(days=30)
    overdue = queue(overdue_only=True)
    assert {c.application for c in overdue.cases} == {"applications/Q1", "applications/Q2", "applications/Q3"}
    assert queue(claimed_by_me=True).cases == []
    running.stub.ClaimReview(svc.ClaimReviewRequest(name=f"{a1.name}/reviews/{HEBEI}"), metadata=acceptor,
                             timeout=10)
    assert [c.application for c in queue(claimed_by_me=True).cases] == ["applications/Q1"]
    with pytest.raises(grpc.RpcError) as e:
        queue(permit_class=4)
    assert reason_of(e.value) == "PERMIT_CLASS_INVALID"
    with pytest.raises(grpc.RpcError) as e:
        queue(query="x" * 65)
    assert reason_of(e.value) == "QUERY_TOO_LONG"


def test_the_queue_paged_in_the_database_is_the_filtered_queue_page_by_page_RV_2_RV_4(running: Running) -> None:
    """Without filters the queue is paged and counted by the database; with a filter every case
    is checked in turn. Both give the same cases in the same order, and the same counts."""
    names = [running.submit(application=f"applications/P{i}", permit_class=1 + i % 3) for i in range(7)]
    for case in names[:3]:
        running.accept(case)
    acceptor = running.officer(HEBEI)

    def queue(**kw: object) -> svc.ListWorkQueueResponse:
        return work_queue(running, acceptor, **kw)

    paged: list[str] = []
    token = ""
    while True:
        page = queue(page_size=2, page_token=token)
        assert len(page.cases) <= 2 and page.total_size == 7
        paged += [c.application for c in page.cases]
        token = page.next_page_token
        if not token:
            break
    everything = queue(query="冀A12345", page_size=200)  # a filter every case matches: checked in turn
    assert paged == [c.application for c in everything.cases] and len(paged) == 7
    assert ({pb.CaseState.Name(c.state): c.count for c in queue().state_counts}
            == {pb.CaseState.Name(c.state): c.count for c in everything.state_counts}
            == {"CASE_STATE_AWAITING_ACCEPTANCE": 4, "CASE_STATE_UNDER_REVIEW": 3})
    under_review = queue(state=pb.CASE_STATE_UNDER_REVIEW, page_size=2)
    assert under_review.total_size == 3 and len(under_review.cases) == 2 and under_review.next_page_token


def test_a_filtered_work_queue_loads_only_the_cases_its_filters_may_keep_RV_2(running: Running) -> None:
    """A search, a class or "claimed by me" is narrowed in the database: the province's whole
    queue is not loaded to be filtered one case at a time (it holds thousands at national scale)."""
    cases = [running.submit(application=f"applications/F{i}", permit_class=1 + i % 3) for i in range(6)]
    acceptor = running.officer(HEBEI)
    loaded: list[str] = []

    def count(target: Case, _context: object) -> None:
        loaded.append(target.application)

    def queue(**kw: object) -> list[str]:
        loaded.clear()
        return [c.application for c in work_queue(running, acceptor, **kw).cases]

    sa_event.listen(Case, "load", count)
    try:
        assert queue(query="djf4") == ["applications/F4"] and loaded == ["applications/F4"]
        assert sorted(queue(permit_class=3)) == ["applications/F2", "applications/F5"]
        assert sorted(loaded) == ["applications/F2", "applications/F5"]
        assert len(queue(query="冀 a12345")) == 6 and len(loaded) == 6  # the plate every case has
        assert queue(query="鲁A12345") == [] and loaded == []
        assert queue(claimed_by_me=True) == [] and loaded == []
        running.accept(cases[1])
        running.stub.ClaimReview(svc.ClaimReviewRequest(name=f"{cases[1].name}/reviews/{HEBEI}"), metadata=acceptor,
                                 timeout=10)
        assert queue(claimed_by_me=True, permit_class=2) == ["applications/F1"] and loaded == ["applications/F1"]
    finally:
        sa_event.remove(Case, "load", count)


def test_the_work_queue_search_is_answered_from_its_trigram_indexes_RV_2(running: Running) -> None:
    """At national scale a search by number or plate must not read every case of the country:
    on PostgreSQL each condition the search sends is one a trigram index holds (an expression
    that drifted from its index's would be a scan again)."""
    running.submit(application="applications/T1")
    conds = _narrowing(province=HEBEI, permit_class=0, text="冀A12345", claimed_by="")
    with Session(running.app.engine) as s:
        assert s.scalars(select(Case.application).where(*conds)).all() == ["applications/T1"]
        s.execute(text("SET LOCAL enable_seqscan = off"))  # the table is small: ask what could be used
        compiled = select(Case.id).where(*conds).compile(s.get_bind())
        plan = "\n".join(r[0] for r in s.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
    assert "Seq Scan" not in plan, plan
    # The number, the plate as written and the plate with its Chinese character escaped.
    assert plan.count("Bitmap Index Scan on ix_review_case_number_search") == 1, plan
    assert plan.count("Bitmap Index Scan on ix_review_case_plates_search") == 2, plan


def test_the_counts_follow_every_step_at_once_for_each_kind_of_officer_RV_2(running: Running) -> None:
    """The counts per state are kept with the cases, not counted on each read: after each
    step the officer who took it, and every other, sees the new counts at once; an officer
    who accepts and reviews counts a case waiting for both once."""
    from permit.type.v1 import types_pb2

    def counts(province: str, *roles: str) -> dict[str, int]:
        q = running.stub.ListWorkQueue(svc.ListWorkQueueRequest(page_size=1),
                                       metadata=running.officer(province, *roles),  # type: ignore[arg-type]
                                       timeout=10)
        got = {pb.CaseState.Name(c.state).removeprefix("CASE_STATE_"): c.count for c in q.state_counts}
        assert q.total_size == sum(got.values())
        return got

    def hebei() -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        return counts(HEBEI, "officer.accept"), counts(HEBEI, "officer.review"), counts(HEBEI)

    a = running.submit(application="applications/K1")
    b = running.submit(application="applications/K2")
    assert hebei() == ({"AWAITING_ACCEPTANCE": 2}, {}, {"AWAITING_ACCEPTANCE": 2})
    a = running.accept(a)
    assert hebei() == ({"AWAITING_ACCEPTANCE": 1}, {"UNDER_REVIEW": 1},
                       {"AWAITING_ACCEPTANCE": 1, "UNDER_REVIEW": 1})
    assert counts(SHANDONG) == counts(JIANGSU) == {"UNDER_REVIEW": 1}
    # A vehicle change to decide: Hebei's acceptance officer sees the case too, the officer
    # of both still once.
    running.fake.servicer.vehicles["vehicles/v9"] = application_pb2.Vehicle(
        plate_number="冀A99999", owner="parties/p1", source="FLEET", curb_mass_kg=9000,
        axle_count=3, wheelbase_mm=3500, tyre_count=10)
    a = running.stub.RequestVehicleChange(
        svc.RequestVehicleChangeRequest(case=a.name, old_plate_number="冀A12345", new_vehicle="vehicles/v9",
                                        power_of_attorney="documents/poa2"),
        metadata=running.applicant())  # type: ignore[arg-type]
    assert hebei() == ({"AWAITING_ACCEPTANCE": 1, "UNDER_REVIEW": 1}, {"UNDER_REVIEW": 1},
                       {"AWAITING_ACCEPTANCE": 1, "UNDER_REVIEW": 1})
    running.decide(a, HEBEI)
    assert hebei() == ({"AWAITING_ACCEPTANCE": 1, "UNDER_REVIEW": 1}, {},
                       {"AWAITING_ACCEPTANCE": 1, "UNDER_REVIEW": 1})
    running.stub.DecideVehicleChange(svc.DecideVehicleChangeRequest(name=a.vehicle_changes[0].name,
                                                                    decision=pb.DECISION_APPROVE),
                                     metadata=running.officer(HEBEI), timeout=10)  # type: ignore[arg-type]
    assert hebei() == ({"AWAITING_ACCEPTANCE": 1}, {}, {"AWAITING_ACCEPTANCE": 1})
    running.decide(a, SHANDONG)
    assert counts(SHANDONG) == {} and counts(JIANGSU) == {"UNDER_REVIEW": 1}
    a = running.decide(a, JIANGSU)
    assert counts(JIANGSU) == {}
    assert hebei() == ({"AWAITING_ACCEPTANCE": 1, "READY_TO_ISSUE": 1}, {},
                       {"AWAITING_ACCEPTANCE": 1, "READY_TO_ISSUE": 1})
    running.issue(a)
    assert hebei() == ({"AWAITING_ACCEPTANCE": 1}, {}, {"AWAITING_ACCEPTANCE": 1})
    # Returned by a province, corrected, accepted again; then withdrawn.
    b = running.accept(b)
    running.decide(b, SHANDONG, pb.DECISION_RETURN, reason="补充材料")
    assert counts(SHANDONG) == counts(JIANGSU) == {} and hebei() == ({}, {}, {})
    b = running.submit(application="applications/K2", submission=2)
    assert hebei() == ({"AWAITING_ACCEPTANCE": 1}, {}, {"AWAITING_ACCEPTANCE": 1})
    running.accept(b)
    assert counts(SHANDONG) == {"UNDER_REVIEW": 1}
    running.send(application_events.ApplicationWithdrawn(
        event_id="w1", application=types_pb2.ApplicationRef(name=b.application), reason="不再运输"))
    assert counts(SHANDONG) == {} and hebei() == ({}, {}, {})
