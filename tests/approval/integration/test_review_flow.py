"""Parallel review over gRPC on PostgreSQL: acceptance, decisions, issue, returns, adjustments
(RV-1 to RV-3, PQ-6, PQ-7), with events delivered to the application service."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import grpc
import pytest
from sqlalchemy import event as sa_event

from permit.application.v1 import events_pb2 as application_events
from permit.approval.v1 import approval_pb2 as pb
from permit.approval.v1 import approval_service_pb2 as svc
from permit.type.v1 import types_pb2
from permitkit.errors import ErrorDetails
from tests.approval.conftest import HEBEI, JIANGSU, ROUTE, SHANDONG, Running, kind_of, reason_of

pytestmark = pytest.mark.integration


def states(case: pb.Case) -> dict[str, str]:
    return {r.province: pb.ReviewState.Name(r.state).removeprefix("REVIEW_STATE_")
            for r in case.reviews}


class TestThreeProvinceCase:
    def test_case_goes_through_acceptance_parallel_approvals_and_issue_RV_1_RV_3(
            self, running: Running) -> None:
        case = running.submit()
        assert case.state == pb.CASE_STATE_AWAITING_ACCEPTANCE
        assert case.reviews == []
        case = running.accept(case)
        assert case.state == pb.CASE_STATE_UNDER_REVIEW
        # RV-1: one review per route province, origin included, all open at once.
        assert states(case) == {HEBEI: "PENDING", SHANDONG: "PENDING", JIANGSU: "PENDING"}
        assert [r.name for r in case.reviews] == [f"{case.name}/reviews/{p}" for p in ROUTE]
        # Decisions arrive in any order; the case waits for every province.
        case = running.decide(case, JIANGSU, conditions=["夜间22:00-次日6:00通行"])
        case = running.decide(case, HEBEI)
        assert case.state == pb.CASE_STATE_UNDER_REVIEW
        with pytest.raises(grpc.RpcError) as e:
            running.issue(case)
        assert reason_of(e.value) == "CASE_NOT_READY_TO_ISSUE"
        case = running.decide(case, SHANDONG)
        assert case.state == pb.CASE_STATE_READY_TO_ISSUE
        permit = running.issue(case)
        assert permit.state == pb.PERMIT_STATE_VALID
        assert permit.number.startswith("132026")
        assert (permit.start_date.day, permit.end_date.day) == (10, 20)
        assert [(c.province, c.text) for c in permit.conditions] == [(JIANGSU, "夜间22:00-次日6:00通行")]
        got = running.stub.GetCase(svc.GetCaseRequest(name=case.application),
                                   metadata=running.applicant())
        assert got.state == pb.CASE_STATE_ISSUED and got.permit == permit.name
        # PQ-2: every province's decision with who and when.
        assert all(r.officer.startswith("officers/") and r.HasField("decide_time")
                   for r in got.reviews)
        assert running.deliver() == 6  # the submission's document grant, then 5 review events
        assert running.fake.servicer.kinds() == [
            "CASE_ACCEPTED", "PROVINCE_APPROVED", "PROVINCE_APPROVED", "PROVINCE_APPROVED",
            "PERMIT_ISSUED"]
        assert [e.province for e in running.fake.servicer.events[1:4]] == [JIANGSU, HEBEI, SHANDONG]
        issued = running.fake.servicer.events[-1]
        assert kind_of(issued) == "PERMIT_ISSUED"
        assert issued.permit == permit.name and issued.permit_number == permit.number
        assert issued.validity.end_date.day == 20 and issued.submission == 1
        assert issued.application.number == "DJA1" and [r.province for r in issued.route] == ROUTE
        # Delivered as the approval service, not as the officer who acted.
        assert running.fake.servicer.metadata[-1]["x-permit-subject"] == "services/approval"
        assert "service" in running.fake.servicer.metadata[-1]["x-permit-roles"]

    def test_every_transition_is_audited_with_who_from_to_and_why(self, running: Running) -> None:
        case = running.accept(running.submit())
        case = running.decide(case, SHANDONG, pb.DECISION_DENY, "桥梁限载，不予许可")
        kinds = [(h.kind, h.actor, h.from_state, h.to_state) for h in case.history]
        assert ("CASE_ACCEPTED", f"officers/{HEBEI}-1", "AWAITING_ACCEPTANCE", "UNDER_REVIEW") in kinds
        assert ("PROVINCE_DENIED", f"officers/{SHANDONG}-1", "PENDING", "DENIED") in kinds
        denied = next(h for h in case.history if h.kind == "CASE_DENIED")
        assert denied.reason == "桥梁限载，不予许可" and denied.HasField("occur_time")


class TestDenial:
    def test_one_denial_denies_the_case_and_closes_open_reviews_RV_3(self, running: Running) -> None:
        case = running.accept(running.submit())
        case = running.decide(case, HEBEI)
        case = running.decide(case, SHANDONG, pb.DECISION_DENY, "超出桥梁承载能力")
        assert case.state == pb.CASE_STATE_DENIED
        assert states(case) == {HEBEI: "APPROVED", SHANDONG: "DENIED", JIANGSU: "CANCELLED"}
        with pytest.raises(grpc.RpcError) as e:
            running.decide(case, JIANGSU)
        assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        running.deliver()
        last = running.fake.servicer.events[-1]
        assert kind_of(last) == "PROVINCE_DENIED"
        assert (last.province, last.reason) == (SHANDONG, "超出桥梁承载能力")

    def test_denial_without_reason_is_rejected_RV_2(self, running: Running) -> None:
        case = running.accept(running.submit())
        with pytest.raises(grpc.RpcError) as e:
            running.decide(case, SHANDONG, pb.DECISION_DENY, "")
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert reason_of(e.value) == "REASON_REQUIRED"


class TestRefusal:
    def test_origin_refuses_to_accept_with_a_reason_and_the_applicant_sees_a_denial_RV_1(
            self, running: Running) -> None:
        case = running.submit()
        with pytest.raises(grpc.RpcError) as e:
            running.stub.RefuseCase(svc.RefuseCaseRequest(name=case.name), metadata=running.officer(HEBEI))
        assert reason_of(e.value) == "REASON_REQUIRED"
        case = running.stub.RefuseCase(svc.RefuseCaseRequest(name=case.name, reason="货物可解体"),
                                       metadata=running.officer(HEBEI))
        assert case.state == pb.CASE_STATE_REFUSED and case.reason == "货物可解体"
        running.deliver()
        ev = running.fake.servicer.events[-1]
        assert kind_of(ev) == "CASE_DENIED" and ev.reason == "货物可解体"


class TestReturnAndResubmission:
    def test_origin_returns_before_acceptance_and_resubmission_awaits_acceptance_again_PQ_6(
            self, running: Running) -> None:
        case = running.submit()
        case = running.stub.ReturnCase(svc.ReturnCaseRequest(name=case.name, reason="行驶证照片不清晰"),
                                       metadata=running.officer(HEBEI))
        assert case.state == pb.CASE_STATE_RETURNED and case.reason == "行驶证照片不清晰"
        case = running.submit(submission=2)
        assert case.state == pb.CASE_STATE_AWAITING_ACCEPTANCE and case.submission == 2
        running.deliver()
        assert running.fake.servicer.kinds() == ["CASE_RETURNED"]

    def test_resubmission_keeps_approvals_of_provinces_whose_part_did_not_change_PQ_6(
            self, running: Running) -> None:
        case = running.accept(running.submit())
        case = running.decide(case, HEBEI)
        case = running.decide(case, JIANGSU)
        case = running.decide(case, SHANDONG, pb.DECISION_RETURN, "请补充山东段绕行说明")
        assert case.state == pb.CASE_STATE_RETURNED
        # The applicant corrects only Shandong's part of the route.
        case = running.submit(submission=2, rows=[(HEBEI, ["G1"]), (SHANDONG, ["G3", "S1"]),
                                                  (JIANGSU, ["G3"])])
        # The corrected submission is accepted again by the origin (未受理 -> 处理中).
        assert case.state == pb.CASE_STATE_AWAITING_ACCEPTANCE and case.submission == 2
        running.deliver()
        before = len(running.fake.servicer.events)
        case = running.accept(case)
        assert case.state == pb.CASE_STATE_UNDER_REVIEW
        assert states(case) == {HEBEI: "APPROVED", SHANDONG: "PENDING", JIANGSU: "APPROVED"}
        # The kept approvals are announced again after the acceptance, for the progress view.
        running.deliver()
        again = running.fake.servicer.events[before:]
        assert running.fake.servicer.kinds()[before:] == [
            "CASE_ACCEPTED", "PROVINCE_APPROVED", "PROVINCE_APPROVED"]
        assert [(e.province, e.submission, e.officer) for e in again[1:]] == [
            (HEBEI, 2, f"officers/{HEBEI}-1"), (JIANGSU, 2, f"officers/{JIANGSU}-1")]
        case = running.decide(case, SHANDONG)
        assert case.state == pb.CASE_STATE_READY_TO_ISSUE

    def test_a_repeated_or_older_submission_changes_nothing(self, running: Running) -> None:
        first = running.submit()
        again = running.submit(event_id="another-delivery-same-submission")
        assert again.name == first.name and again.etag == first.etag
        dup = running.submit()  # same event id: the inbox ignores it
        assert dup.name == first.name

    def test_opening_a_case_reads_the_working_calendar_once_RV_4(self, running: Running) -> None:
        """The due dates of the new reviews and the reminder dates of its events come from one
        read of the administrator's calendar years in the delivery's transaction."""
        reads: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            if "calendar_year" in statement and statement.lstrip().upper().startswith("SELECT"):
                reads.append(statement)
        sa_event.listen(running.app.engine, "before_cursor_execute", count)
        try:
            running.submit()
        finally:
            sa_event.remove(running.app.engine, "before_cursor_execute", count)
        assert len(reads) == 1

    def test_a_delivery_tells_whether_it_opened_the_case_RV_1(self, running: Running) -> None:
        """The relay's Deliver answers ``applied``: True for the delivery that opened the
        case, False for another delivery of the same submission and for a repeat."""
        running.submit()
        assert running.applied is True
        running.submit(event_id="another-delivery-same-submission")
        assert running.applied is False
        running.submit()
        assert running.applied is False


class TestRouteAdjustment:
    def _propose(self, running: Running, permit_class: int = 2) -> pb.Case:
        case = running.accept(running.submit(permit_class=permit_class))
        return running.stub.ProposeRouteAdjustment(
            svc.ProposeRouteAdjustmentRequest(name=f"{case.name}/reviews/{SHANDONG}",
                                              suggested_route=[types_pb2.RouteRow(province=SHANDONG,
                                                                           roads=["G2", "G15"])],
                                              reason="G3济南段施工"),
            metadata=running.officer(SHANDONG))

    def test_accepted_adjustment_replaces_the_route_and_fast_tracks_the_province_PQ_7(
            self, running: Running) -> None:
        case = self._propose(running)
        assert states(case)[SHANDONG] == "ADJUSTMENT_PROPOSED"
        review = next(r for r in case.reviews if r.province == SHANDONG)
        assert [list(r.roads) for r in review.suggested_route] == [["G2", "G15"]]
        case = running.stub.RespondToAdjustment(
            svc.RespondToAdjustmentRequest(name=review.name, accept=True),
            metadata=running.applicant())
        assert case.state == pb.CASE_STATE_UNDER_REVIEW
        review = next(r for r in case.reviews if r.province == SHANDONG)
        assert review.state == pb.REVIEW_STATE_PENDING and review.fast_track
        # Tue 2026-12-01 + 1 working day
        assert (review.due_date.month, review.due_date.day) == (12, 2)
        assert [(r.province, list(r.roads)) for r in case.route] == [
            (HEBEI, ["G1"]), (SHANDONG, ["G2", "G15"]), (JIANGSU, ["G3"])]
        running.deliver()
        assert running.fake.servicer.kinds()[-2:] == ["ROUTE_ADJUSTMENT_PROPOSED",
                                                      "ROUTE_ADJUSTMENT_ACCEPTED"]
        accepted = running.fake.servicer.events[-1]
        assert [list(r.roads) for r in accepted.route if r.province == SHANDONG] == [["G2", "G15"]]

    def test_rejected_adjustment_denies_the_application_PQ_7(self, running: Running) -> None:
        case = self._propose(running)
        case = running.stub.RespondToAdjustment(
            svc.RespondToAdjustmentRequest(name=f"{case.name}/reviews/{SHANDONG}", accept=False),
            metadata=running.applicant())
        assert case.state == pb.CASE_STATE_DENIED
        running.deliver()
        assert running.fake.servicer.kinds()[-1] == "CASE_DENIED"

    def test_class_III_acceptance_needs_an_updated_escort_plan_PQ_7(self, running: Running) -> None:
        case = self._propose(running, permit_class=3)
        name = f"{case.name}/reviews/{SHANDONG}"
        with pytest.raises(grpc.RpcError) as e:
            running.stub.RespondToAdjustment(svc.RespondToAdjustmentRequest(name=name, accept=True),
                                             metadata=running.applicant())
        assert reason_of(e.value) == "ESCORT_PLAN_REQUIRED"
        case = running.stub.RespondToAdjustment(
            svc.RespondToAdjustmentRequest(name=name, accept=True, escort_plan="documents/esc2"),
            metadata=running.applicant())
        assert "documents/esc2" in case.documents

    def test_suggested_route_is_validated_by_the_routing_service_PQ_7(self, running: Running) -> None:
        case = running.accept(running.submit())
        # A row without roads fails the routing service's check; a row of another
        # province fails the rule that a province adjusts only its own part.
        for rows, problems in (([types_pb2.RouteRow(province=SHANDONG, roads=[])], "ROW_WITHOUT_ROADS"),
                               ([types_pb2.RouteRow(province=JIANGSU, roads=["G9"])], None)):
            with pytest.raises(grpc.RpcError) as e:
                running.stub.ProposeRouteAdjustment(
                    svc.ProposeRouteAdjustmentRequest(name=f"{case.name}/reviews/{SHANDONG}",
                                                      suggested_route=rows, reason="施工"),
                    metadata=running.officer(SHANDONG))
            details = ErrorDetails.from_rpc_error(e.value)
            assert details.reason == "SUGGESTED_ROUTE_INVALID"
            assert details.metadata.get("problems") == problems
        calls_before = len(running.fake.routing.calls)
        case = running.stub.ProposeRouteAdjustment(
            svc.ProposeRouteAdjustmentRequest(name=f"{case.name}/reviews/{SHANDONG}",
                                              suggested_route=[types_pb2.RouteRow(province=SHANDONG,
                                                                           roads=["G2"])],
                                              reason="施工"),
            metadata=running.officer(SHANDONG))
        sent = running.fake.routing.calls[calls_before:]
        # The whole adjusted route was checked, not just the province's own rows.
        assert [(r.province, list(r.roads)) for r in sent[-1].rows] == [
            (HEBEI, ["G1"]), (SHANDONG, ["G2"]), (JIANGSU, ["G3"])]
        assert states(case)[SHANDONG] == "ADJUSTMENT_PROPOSED"

    def test_adjustment_is_refused_while_the_routing_service_is_down_PQ_7(
            self, running: Running) -> None:
        case = running.accept(running.submit())
        running.fake.stop()
        with pytest.raises(grpc.RpcError) as e:
            running.stub.ProposeRouteAdjustment(
                svc.ProposeRouteAdjustmentRequest(name=f"{case.name}/reviews/{SHANDONG}",
                                                  suggested_route=[types_pb2.RouteRow(province=SHANDONG,
                                                                               roads=["G2"])],
                                                  reason="施工"),
                metadata=running.officer(SHANDONG))
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        # Approving needs no peer.
        assert states(running.decide(case, SHANDONG))[SHANDONG] == "APPROVED"

    def test_only_the_applicant_may_answer_an_adjustment_PQ_7(self, running: Running) -> None:
        case = self._propose(running)
        with pytest.raises(grpc.RpcError) as e:
            running.stub.RespondToAdjustment(
                svc.RespondToAdjustmentRequest(name=f"{case.name}/reviews/{SHANDONG}", accept=False),
                metadata=running.applicant("parties/someone-else"))
        # Answered as if absent: another applicant does not learn the case exists.
        assert reason_of(e.value) == "CASE_NOT_FOUND"


class TestScope:
    def test_another_provinces_officer_is_refused_RV_1_RV_2(self, running: Running) -> None:
        case = running.submit()
        with pytest.raises(grpc.RpcError) as e:
            running.stub.AcceptCase(svc.AcceptCaseRequest(name=case.name),
                                    metadata=running.officer(SHANDONG))
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert reason_of(e.value) == "OTHER_PROVINCE"
        case = running.accept(case)
        with pytest.raises(grpc.RpcError) as e:
            running.stub.DecideReview(
                svc.DecideReviewRequest(name=f"{case.name}/reviews/{SHANDONG}",
                                        decision=pb.DECISION_APPROVE),
                metadata=running.officer(JIANGSU))
        assert reason_of(e.value) == "OTHER_PROVINCE"
        with pytest.raises(grpc.RpcError) as e:
            running.stub.GetCase(svc.GetCaseRequest(name=case.name),
                                 metadata=running.officer("440000"))
        assert reason_of(e.value) == "OTHER_PROVINCE"
        # An officer of a route province may read it.
        assert running.stub.GetCase(svc.GetCaseRequest(name=case.name),
                                    metadata=running.officer(JIANGSU)).name == case.name

    def test_officer_without_the_review_role_cannot_decide_RV_2(self, running: Running) -> None:
        case = running.accept(running.submit())
        with pytest.raises(grpc.RpcError) as e:
            running.stub.DecideReview(
                svc.DecideReviewRequest(name=f"{case.name}/reviews/{HEBEI}",
                                        decision=pb.DECISION_APPROVE),
                metadata=running.officer(HEBEI, "officer.accept"))
        assert reason_of(e.value) == "NOT_OFFICER"

    def test_applicants_see_only_their_own_case_PQ_2(self, running: Running) -> None:
        case = running.submit()
        with pytest.raises(grpc.RpcError) as e:
            running.stub.GetCase(svc.GetCaseRequest(name=case.application),
                                 metadata=running.applicant("parties/other"))
        assert reason_of(e.value) == "CASE_NOT_FOUND"  # as if absent: no existence oracle

    def test_the_event_sink_needs_the_service_role(self, running: Running) -> None:
        running.submit(application="applications/x")  # as the application service: fine
        with pytest.raises(grpc.RpcError) as e:
            running.send(application_events.ApplicationWithdrawn(
                event_id="x", application=types_pb2.ApplicationRef(name="applications/x")),
                metadata=running.applicant())
        assert reason_of(e.value) == "NOT_SERVICE"

    def test_work_queue_shows_only_the_officers_province_ordered_by_due_date_RV_4(
            self, running: Running) -> None:
        a = running.submit(application="applications/A1")
        running.clock.set_local(2026, 12, 2)
        b = running.submit(application="applications/B2", route=[SHANDONG, HEBEI])
        running.clock.set_local(2026, 12, 3)
        c = running.submit(application="applications/C3")
        hebei_acceptor = running.officer(HEBEI, "officer.accept")
        queue = running.stub.ListWorkQueue(svc.ListWorkQueueRequest(), metadata=hebei_acceptor)
        assert [x.name for x in queue.cases] == [a.name, c.name]  # B2 is Shandong's to accept
        running.accept(a)
        hebei_reviewer = running.officer(HEBEI, "officer.review")
        queue = running.stub.ListWorkQueue(svc.ListWorkQueueRequest(), metadata=hebei_reviewer)
        assert [x.name for x in queue.cases] == [a.name]
        page = running.stub.ListWorkQueue(svc.ListWorkQueueRequest(page_size=1),
                                          metadata=running.officer(HEBEI))
        assert len(page.cases) == 1 and page.next_page_token
        rest = running.stub.ListWorkQueue(
            svc.ListWorkQueueRequest(page_size=5, page_token=page.next_page_token),
            metadata=running.officer(HEBEI))
        assert {x.name for x in [*page.cases, *rest.cases]} == {a.name, c.name}
        assert b.name not in {x.name for x in rest.cases}
        # The token pages only the queue it came from: not another province's, not an edited one.
        edited = page.next_page_token[:-1] + ("A" if page.next_page_token[-1] != "A" else "B")
        for token, officer in ((page.next_page_token, running.officer(SHANDONG)),
                               (edited, running.officer(HEBEI))):
            with pytest.raises(grpc.RpcError) as e:
                running.stub.ListWorkQueue(svc.ListWorkQueueRequest(page_token=token), metadata=officer)
            assert reason_of(e.value) == "INVALID_PAGE_TOKEN"


    def test_origin_queue_holds_cases_to_issue_and_vehicle_changes_to_decide_RV_3_PQ_10(
            self, running: Running) -> None:
        from permit.application.v1 import application_pb2 as app_pb

        acceptor = running.officer(HEBEI, "officer.accept")
        ready = running.approve_all(running.accept(running.submit(application="applications/R1")))
        changing = running.accept(running.submit(application="applications/V1"))
        running.fake.servicer.vehicles["vehicles/v9"] = app_pb.Vehicle(
            plate_number="冀A99999", owner="parties/p1", source="FLEET", curb_mass_kg=9000,
            axle_count=3, wheelbase_mm=3500, tyre_count=10)
        running.stub.RequestVehicleChange(
            svc.RequestVehicleChangeRequest(case=changing.name, old_plate_number="冀A12345",
                                            new_vehicle="vehicles/v9", power_of_attorney="documents/p"),
            metadata=running.applicant())
        queue = running.stub.ListWorkQueue(svc.ListWorkQueueRequest(), metadata=acceptor)
        assert {c.name for c in queue.cases} == {ready.name, changing.name}
        running.issue(ready)
        queue = running.stub.ListWorkQueue(svc.ListWorkQueueRequest(), metadata=acceptor)
        assert [c.name for c in queue.cases] == [changing.name]


class TestRacingOfficers:
    def test_two_officers_deciding_at_once_cannot_both_win_RV_2(self, running: Running) -> None:
        case = running.accept(running.submit())
        name = f"{case.name}/reviews/{SHANDONG}"
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def decide(ident: str, decision: int) -> None:
            barrier.wait()
            try:
                running.stub.DecideReview(
                    svc.DecideReviewRequest(name=name, decision=decision, reason="意见"),
                    metadata=running.officer(SHANDONG, ident=ident), timeout=20)
                outcomes.append("won")
            except grpc.RpcError as e:
                outcomes.append(reason_of(e))

        threads = [threading.Thread(target=decide, args=("a", pb.DECISION_APPROVE)),
                   threading.Thread(target=decide, args=("b", pb.DECISION_DENY))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["REVIEW_NOT_PENDING", "won"] or sorted(outcomes) == [
            "CASE_NOT_UNDER_REVIEW", "won"]
        final = running.stub.GetCase(svc.GetCaseRequest(name=case.name),
                                     metadata=running.officer(SHANDONG))
        decided = [h for h in final.history if h.province == SHANDONG and h.kind.startswith("PROVINCE_")]
        assert len(decided) == 1

    def test_claim_keeps_a_second_officer_off_the_review(self, running: Running) -> None:
        case = running.accept(running.submit())
        name = f"{case.name}/reviews/{SHANDONG}"
        running.stub.ClaimReview(svc.ClaimReviewRequest(name=name),
                                 metadata=running.officer(SHANDONG, ident="a"))
        with pytest.raises(grpc.RpcError) as e:
            running.stub.DecideReview(svc.DecideReviewRequest(name=name, decision=pb.DECISION_APPROVE),
                                      metadata=running.officer(SHANDONG, ident="b"))
        assert reason_of(e.value) == "REVIEW_CLAIMED_BY_OTHER"
        running.stub.ReleaseReview(svc.ReleaseReviewRequest(name=name),
                                   metadata=running.officer(SHANDONG, ident="a"))
        case = running.stub.DecideReview(svc.DecideReviewRequest(name=name, decision=pb.DECISION_APPROVE),
                                         metadata=running.officer(SHANDONG, ident="b"))
        assert states(case)[SHANDONG] == "APPROVED"

    def test_a_claim_lapses_so_another_officer_can_take_the_review(self, running: Running) -> None:
        case = running.accept(running.submit())
        name = f"{case.name}/reviews/{SHANDONG}"
        running.stub.ClaimReview(svc.ClaimReviewRequest(name=name),
                                 metadata=running.officer(SHANDONG, ident="a"))
        with pytest.raises(grpc.RpcError) as e:
            running.stub.ClaimReview(svc.ClaimReviewRequest(name=name),
                                     metadata=running.officer(SHANDONG, ident="b"))
        assert reason_of(e.value) == "REVIEW_CLAIMED_BY_OTHER"
        running.clock.now += dt.timedelta(minutes=31)
        case = running.stub.ClaimReview(svc.ClaimReviewRequest(name=name),
                                        metadata=running.officer(SHANDONG, ident="b"))
        review = next(r for r in case.reviews if r.province == SHANDONG)
        assert review.claimed_by == f"officers/{SHANDONG}-b"

    def test_stale_etag_is_refused(self, running: Running) -> None:
        case = running.submit()
        with pytest.raises(grpc.RpcError) as e:
            running.stub.AcceptCase(svc.AcceptCaseRequest(name=case.name, etag="999"),
                                    metadata=running.officer(HEBEI))
        assert e.value.code() == grpc.StatusCode.ABORTED and reason_of(e.value) == "ETAG_MISMATCH"


class TestWithdrawal:
    def test_withdrawal_closes_every_open_review_PQ_8(self, running: Running) -> None:
        case = running.accept(running.submit())
        case = running.decide(case, HEBEI)
        withdrawn = application_events.ApplicationWithdrawn(
            event_id="w1", application=types_pb2.ApplicationRef(name=case.application), reason="不再运输")
        assert running.send(withdrawn) is True
        case = running.stub.GetCase(svc.GetCaseRequest(name=case.name), metadata=running.service())
        assert case.state == pb.CASE_STATE_CANCELLED
        assert states(case) == {HEBEI: "APPROVED", SHANDONG: "CANCELLED", JIANGSU: "CANCELLED"}
        running.send(withdrawn)
        again = running.stub.GetCase(svc.GetCaseRequest(name=case.name), metadata=running.service())
        assert again.etag == case.etag  # idempotent by event id
        # The withdrawal came from the application service: nothing is echoed back to it.
        running.deliver()
        assert running.fake.servicer.kinds() == ["CASE_ACCEPTED", "PROVINCE_APPROVED"]

    def test_withdrawal_before_acceptance_PQ_5(self, running: Running) -> None:
        case = running.submit()
        running.send(application_events.ApplicationWithdrawn(
            event_id="w2", application=types_pb2.ApplicationRef(name=case.application)))
        case = running.stub.GetCase(svc.GetCaseRequest(name=case.name), metadata=running.service())
        assert case.state == pb.CASE_STATE_CANCELLED
        with pytest.raises(grpc.RpcError) as e:
            running.accept(case)
        assert reason_of(e.value) == "CASE_NOT_AWAITING_ACCEPTANCE"
