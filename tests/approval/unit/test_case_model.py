"""The case state machine without a database (RV-1 to RV-4, PQ-5 to PQ-11)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from permit_approval.models import (
    Actor,
    Case,
    CaseState,
    Decision,
    EventKind,
    Permit,
    PermitState,
    ReviewState,
)
from permit_approval.workdays import WorkingCalendar
from permitkit.errors import FailedPrecondition, InvalidArgument, PermitError

HEBEI, SHANDONG, JIANGSU = "130000", "370000", "320000"
NOW = dt.datetime(2026, 12, 1, 2, tzinfo=dt.UTC)  # Tue 1 Dec 2026, 10:00 Shanghai
CAL = WorkingCalendar.from_library()
ORIGIN = Actor(f"officers/{HEBEI}", HEBEI)
APPLICANT = Actor("users/u1")


def officer(p: str) -> Actor:
    return Actor(f"officers/{p}", p)


def new_case(**over: Any) -> Case:
    kw: dict[str, Any] = dict(
        application="applications/A1", application_number="DJ1", applicant="parties/p1",
        origin_province=HEBEI, destination_province=JIANGSU,
        route_provinces=[HEBEI, SHANDONG, JIANGSU],
        route=[{"province": HEBEI, "roads": ["G1"]}, {"province": SHANDONG, "roads": ["G2"]},
               {"province": JIANGSU, "roads": ["G3"]}],
        permit_class=2, plate_numbers=["冀A12345"],
        vehicles=[{"plate_number": "冀A12345", "curb_mass_kg": 9000, "axle_count": 3,
                   "wheelbase_mm": 3500, "tyre_count": 10}],
        start_date=dt.date(2026, 12, 10), end_date=dt.date(2026, 12, 20), multi_trip=False,
        submission=1, documents=[], now=NOW, calendar=CAL)
    kw.update(over)
    return Case.open(**kw)


def accepted(**over: Any) -> Case:
    case = new_case(**over)
    case.accept(actor=ORIGIN, now=NOW, calendar=CAL)
    return case


def review_states(case: Case) -> dict[str, str]:
    return {r.province: str(r.state) for r in case.reviews}


def reason(exc: pytest.ExceptionInfo[PermitError]) -> str:
    return exc.value.reason


class TestSubmission:
    def test_new_case_awaits_acceptance_with_a_two_working_day_due_date_RV_1_RV_4(self) -> None:
        case = new_case()
        assert case.state == CaseState.AWAITING_ACCEPTANCE
        assert case.acceptance_due_date == dt.date(2026, 12, 3)
        assert case.reviews == []

    @pytest.mark.parametrize(("over", "code"), [
        ({"route_provinces": []}, "ROUTE_PROVINCES_REQUIRED"),
        ({"permit_class": 4}, "PERMIT_CLASS_INVALID"),
        ({"route_provinces": [SHANDONG, HEBEI]}, "ORIGIN_NOT_ON_ROUTE"),
        ({"application": "A1"}, "APPLICATION_REQUIRED"),
    ])
    def test_invalid_submissions_are_rejected(self, over: dict[str, Any], code: str) -> None:
        with pytest.raises(InvalidArgument) as e:
            new_case(**over)
        assert reason(e) == code

    def test_route_provinces_are_kept_once_each_in_order(self) -> None:
        case = new_case(route_provinces=[HEBEI, SHANDONG, HEBEI, JIANGSU])
        assert case.route_provinces == [HEBEI, SHANDONG, JIANGSU]


class TestAcceptance:
    def test_acceptance_opens_one_pending_review_per_route_province_RV_1(self) -> None:
        case = accepted()
        assert case.state == CaseState.UNDER_REVIEW
        assert review_states(case) == {HEBEI: "PENDING", SHANDONG: "PENDING", JIANGSU: "PENDING"}
        # Class II cross-province: 10 working days from Tue 1 Dec -> Tue 15 Dec.
        assert {r.due_date for r in case.reviews} == {dt.date(2026, 12, 15)}
        assert [e.kind for e in case.events] == [EventKind.CASE_ACCEPTED]

    def test_a_case_cannot_be_accepted_twice_RV_1(self) -> None:
        case = accepted()
        with pytest.raises(FailedPrecondition) as e:
            case.accept(actor=ORIGIN, now=NOW, calendar=CAL)
        assert reason(e) == "CASE_NOT_AWAITING_ACCEPTANCE"

    def test_return_and_refusal_need_a_reason_RV_1(self) -> None:
        with pytest.raises(InvalidArgument):
            new_case().return_for_correction(actor=ORIGIN, reason=" ", now=NOW)
        case = new_case()
        case.refuse(actor=ORIGIN, reason="可分载货物", now=NOW)
        assert case.state == CaseState.REFUSED
        assert case.events[-1].kind == EventKind.CASE_DENIED


class TestDecisions:
    def test_all_approved_makes_the_case_ready_to_issue_RV_3(self) -> None:
        case = accepted()
        for p in (JIANGSU, HEBEI):
            case.decide(province=p, decision=Decision.APPROVE, reason="", actor=officer(p), now=NOW)
            assert case.state == CaseState.UNDER_REVIEW
        case.decide(province=SHANDONG, decision=Decision.APPROVE, reason="", actor=officer(SHANDONG),
                    now=NOW)
        assert case.state == CaseState.READY_TO_ISSUE

    def test_one_denial_denies_and_cancels_the_open_reviews_RV_3(self) -> None:
        case = accepted()
        case.decide(province=HEBEI, decision=Decision.APPROVE, reason="", actor=ORIGIN, now=NOW)
        case.decide(province=SHANDONG, decision=Decision.DENY, reason="限高", actor=officer(SHANDONG),
                    now=NOW)
        assert case.state == CaseState.DENIED
        assert review_states(case) == {HEBEI: "APPROVED", SHANDONG: "DENIED", JIANGSU: "CANCELLED"}

    def test_a_decided_review_cannot_be_decided_again_RV_2(self) -> None:
        case = accepted()
        case.decide(province=HEBEI, decision=Decision.APPROVE, reason="", actor=ORIGIN, now=NOW)
        with pytest.raises(FailedPrecondition) as e:
            case.decide(province=HEBEI, decision=Decision.DENY, reason="x", actor=ORIGIN, now=NOW)
        assert reason(e) == "REVIEW_NOT_PENDING"

    def test_a_province_not_on_the_route_has_no_review_RV_2(self) -> None:
        with pytest.raises(PermitError) as e:
            accepted().decide(province="440000", decision=Decision.APPROVE, reason="",
                              actor=officer("440000"), now=NOW)
        assert reason(e) == "REVIEW_NOT_FOUND"

    def test_adjustment_needs_a_route_for_the_deciding_province_only_PQ_7(self) -> None:
        case = accepted()
        for rows, code in (([], "SUGGESTED_ROUTE_REQUIRED"),
                           ([{"province": JIANGSU, "roads": ["G9"]}], "SUGGESTED_ROUTE_INVALID"),
                           ([{"province": SHANDONG, "roads": []}], "SUGGESTED_ROUTE_INVALID")):
            with pytest.raises(InvalidArgument) as e:
                case.decide(province=SHANDONG, decision=Decision.REQUIRE_ADJUSTMENT, reason="施工",
                            actor=officer(SHANDONG), now=NOW, suggested_route=rows)
            assert reason(e) == code

    def test_an_open_adjustment_blocks_issue_until_answered_PQ_7(self) -> None:
        case = accepted()
        for p in (HEBEI, JIANGSU):
            case.decide(province=p, decision=Decision.APPROVE, reason="", actor=officer(p), now=NOW)
        case.decide(province=SHANDONG, decision=Decision.REQUIRE_ADJUSTMENT, reason="施工",
                    actor=officer(SHANDONG), now=NOW,
                    suggested_route=[{"province": SHANDONG, "roads": ["G20"]}])
        assert case.state == CaseState.UNDER_REVIEW
        case.respond_to_adjustment(province=SHANDONG, accept=True, escort_plan="", actor=APPLICANT,
                                   now=NOW, calendar=CAL)
        assert case.state == CaseState.UNDER_REVIEW
        assert case.route[1] == {"province": SHANDONG, "roads": ["G20"]}
        case.decide(province=SHANDONG, decision=Decision.APPROVE, reason="", actor=officer(SHANDONG),
                    now=NOW)
        assert case.state == CaseState.READY_TO_ISSUE

    def test_answering_without_a_proposal_is_refused_PQ_7(self) -> None:
        with pytest.raises(FailedPrecondition) as e:
            accepted().respond_to_adjustment(province=SHANDONG, accept=True, escort_plan="",
                                             actor=APPLICANT, now=NOW, calendar=CAL)
        assert reason(e) == "NO_ADJUSTMENT_PROPOSED"


class TestResubmission:
    def test_resubmission_reopens_changed_parts_and_keeps_unchanged_approvals(self) -> None:
        case = accepted()
        case.decide(province=HEBEI, decision=Decision.APPROVE, reason="", actor=ORIGIN, now=NOW)
        case.decide(province=JIANGSU, decision=Decision.APPROVE, reason="", actor=officer(JIANGSU),
                    now=NOW)
        case.decide(province=SHANDONG, decision=Decision.RETURN, reason="补正", actor=officer(SHANDONG),
                    now=NOW)
        later = NOW + dt.timedelta(days=2)
        case.reopen(submission=2, route_provinces=[HEBEI, SHANDONG, JIANGSU],
                    route=[{"province": HEBEI, "roads": ["G1"]},
                           {"province": SHANDONG, "roads": ["G2", "S9"]},
                           {"province": JIANGSU, "roads": ["G4"]}],
                    permit_class=2, plate_numbers=["冀A12345"], vehicles=[], start_date=None,
                    end_date=None, multi_trip=False, documents=[], application_number="",
                    destination_province="", now=later, calendar=CAL)
        assert case.state == CaseState.AWAITING_ACCEPTANCE and case.submission == 2
        case.accept(actor=ORIGIN, now=later, calendar=CAL)
        assert review_states(case) == {HEBEI: "APPROVED", SHANDONG: "PENDING", JIANGSU: "PENDING"}
        assert case.state == CaseState.UNDER_REVIEW
        # The reopened reviews count their deadline from the new acceptance (Thu 3 Dec + 10).
        assert {r.due_date for r in case.reviews if r.state == "PENDING"} == {dt.date(2026, 12, 17)}

    def test_a_province_dropped_from_the_route_loses_its_review_PQ_6(self) -> None:
        case = accepted()
        case.decide(province=JIANGSU, decision=Decision.RETURN, reason="改走安徽",
                    actor=officer(JIANGSU), now=NOW)
        case.reopen(submission=2, route_provinces=[HEBEI, SHANDONG],
                    route=[{"province": HEBEI, "roads": ["G1"]},
                           {"province": SHANDONG, "roads": ["G2"]}],
                    permit_class=2, plate_numbers=[], vehicles=[], start_date=None,
                    end_date=None, multi_trip=False, documents=[], application_number="",
                    destination_province=SHANDONG, now=NOW, calendar=CAL)
        case.accept(actor=ORIGIN, now=NOW, calendar=CAL)
        assert review_states(case) == {HEBEI: "PENDING", SHANDONG: "PENDING"}

    def test_only_a_returned_case_can_be_reopened(self) -> None:
        with pytest.raises(FailedPrecondition) as e:
            accepted().reopen(submission=2, route_provinces=[HEBEI], route=[], permit_class=2,
                              plate_numbers=[], vehicles=[], start_date=None, end_date=None,
                              multi_trip=False, documents=[], application_number="",
                              destination_province="", now=NOW, calendar=CAL)
        assert reason(e) == "CASE_NOT_REOPENABLE"


class TestCancellation:
    @pytest.mark.parametrize("setup", ["submitted", "accepted"])
    def test_withdrawal_from_submitted_or_processing_PQ_5_PQ_8(self, setup: str) -> None:
        case = new_case() if setup == "submitted" else accepted()
        case.cancel(actor=Actor("services/application"), reason="", now=NOW)
        assert case.state == CaseState.CANCELLED
        assert all(r.state == ReviewState.CANCELLED for r in case.reviews)

    def test_an_issued_case_cannot_be_withdrawn_PQ_8(self) -> None:
        case = accepted()
        for p in case.route_provinces:
            case.decide(province=p, decision=Decision.APPROVE, reason="", actor=officer(p), now=NOW)
        Permit.issue(case, number="N1", actor=ORIGIN, now=NOW)
        with pytest.raises(FailedPrecondition) as e:
            case.cancel(actor=Actor("services/application"), reason="", now=NOW)
        assert reason(e) == "CASE_NOT_CANCELLABLE"


class TestVehicleChange:
    def spec(self, **over: int) -> dict[str, Any]:
        s: dict[str, Any] = {"plate_number": "冀A99999", "curb_mass_kg": 9000, "axle_count": 3,
                             "wheelbase_mm": 3500, "tyre_count": 10}
        s.update(over)
        return s

    def test_identical_vehicle_is_accepted_and_replaces_the_plate_on_approval_PQ_10(self) -> None:
        case = accepted()
        vc = case.request_vehicle_change(old_plate="冀A12345", new_vehicle="vehicles/v9",
                                         new_spec=self.spec(), power_of_attorney="documents/p",
                                         actor=APPLICANT, now=NOW)
        case.decide_vehicle_change(change_id=vc.id, approve=True, reason="", actor=ORIGIN, now=NOW)
        assert case.plate_numbers == ["冀A99999"]
        assert case.events[-1].kind == EventKind.VEHICLE_CHANGED

    def test_a_different_wheelbase_is_refused_PQ_10(self) -> None:
        with pytest.raises(FailedPrecondition) as e:
            accepted().request_vehicle_change(old_plate="冀A12345", new_vehicle="vehicles/v9",
                                              new_spec=self.spec(wheelbase_mm=3600),
                                              power_of_attorney="documents/p", actor=APPLICANT,
                                              now=NOW)
        assert reason(e) == "VEHICLE_NOT_EQUIVALENT"
        assert e.value.metadata["mismatched"] == "wheelbase_mm"

    def test_the_vehicle_itself_is_no_change_PQ_10(self) -> None:
        case = accepted()
        with pytest.raises(InvalidArgument) as e:
            case.request_vehicle_change(old_plate="冀A12345", new_vehicle="vehicles/v1",
                                        new_spec=self.spec(plate_number="冀A12345"),
                                        power_of_attorney="documents/p", actor=APPLICANT, now=NOW)
        assert reason(e) == "SAME_VEHICLE" and e.value.field == "new_vehicle"
        assert case.vehicle_changes == []

    def test_another_vehicle_of_the_case_cannot_stand_in_PQ_10(self) -> None:
        case = accepted(plate_numbers=["冀A12345", "冀A55555"])
        with pytest.raises(InvalidArgument) as e:
            case.request_vehicle_change(old_plate="冀A12345", new_vehicle="vehicles/v5",
                                        new_spec=self.spec(plate_number="冀A55555"),
                                        power_of_attorney="documents/p", actor=APPLICANT, now=NOW)
        assert reason(e) == "VEHICLE_ALREADY_ON_CASE" and e.value.field == "new_vehicle"
        assert case.vehicle_changes == []

    def test_only_while_processing_PQ_10(self) -> None:
        with pytest.raises(FailedPrecondition):
            new_case().request_vehicle_change(old_plate="冀A12345", new_vehicle="vehicles/v9",
                                              new_spec=self.spec(), power_of_attorney="documents/p",
                                              actor=APPLICANT, now=NOW)


class TestPermit:
    def ready(self, **over: Any) -> Case:
        case = accepted(**over)
        for p in case.route_provinces:
            case.decide(province=p, decision=Decision.APPROVE, reason="", actor=officer(p), now=NOW)
        return case

    def test_issue_only_when_ready_RV_3(self) -> None:
        with pytest.raises(FailedPrecondition) as e:
            Permit.issue(accepted(), number="N1", actor=ORIGIN, now=NOW)
        assert reason(e) == "CASE_NOT_READY_TO_ISSUE"

    def test_validity_comes_from_the_passage_dates(self) -> None:
        case = self.ready()
        permit = Permit.issue(case, number="N1", actor=ORIGIN, now=NOW)
        assert (permit.start_date, permit.end_date) == (dt.date(2026, 12, 10), dt.date(2026, 12, 20))
        assert case.state == CaseState.ISSUED and case.permit_id == permit.id

    def test_expiry_is_derived_from_the_date(self) -> None:
        permit = Permit.issue(self.ready(), number="N1", actor=ORIGIN, now=NOW)
        assert permit.effective_state(dt.date(2026, 12, 20)) == PermitState.VALID
        assert permit.effective_state(dt.date(2026, 12, 21)) == PermitState.EXPIRED

    def test_multi_trip_extension_cannot_pass_six_months_PQ_11(self) -> None:
        case = self.ready(multi_trip=True)
        permit = Permit.issue(case, number="N1", actor=ORIGIN, now=NOW)
        with pytest.raises(InvalidArgument) as e:
            permit.request_extension(case=case, new_end_date=dt.date(2027, 6, 10), provinces=[HEBEI],
                                     reason="延期", actor=APPLICANT, now=NOW)
        assert reason(e) == "MULTI_TRIP_TOO_LONG"
        permit.request_extension(case=case, new_end_date=dt.date(2027, 6, 9), provinces=[HEBEI],
                                 reason="延期", actor=APPLICANT, now=NOW)

    def test_one_pending_extension_at_a_time_PQ_11(self) -> None:
        case = self.ready()
        permit = Permit.issue(case, number="N1", actor=ORIGIN, now=NOW)
        permit.request_extension(case=case, new_end_date=dt.date(2026, 12, 25), provinces=[HEBEI],
                                 reason="r", actor=APPLICANT, now=NOW)
        with pytest.raises(FailedPrecondition) as e:
            permit.request_extension(case=case, new_end_date=dt.date(2026, 12, 26), provinces=[HEBEI],
                                     reason="r", actor=APPLICANT, now=NOW)
        assert reason(e) == "EXTENSION_PENDING"

    def test_extension_decisions_are_audited_on_the_case_PQ_11(self) -> None:
        case = self.ready()
        permit = Permit.issue(case, number="N1", actor=ORIGIN, now=NOW)
        ext = permit.request_extension(case=case, new_end_date=dt.date(2026, 12, 25),
                                       provinces=[SHANDONG], reason="延误", actor=APPLICANT, now=NOW)
        permit.decide_extension(case=case, extension_id=ext.id, province=SHANDONG, approve=True,
                                reason="", actor=officer(SHANDONG), now=NOW)
        kinds = [(h.kind, h.actor) for h in case.history[-3:]]
        assert kinds == [("EXTENSION_REQUESTED", "users/u1"),
                         ("EXTENSION_APPROVED", f"officers/{SHANDONG}"),
                         ("PERMIT_EXTENDED", f"officers/{SHANDONG}")]
        assert permit.state == PermitState.EXTENDED and permit.end_date == dt.date(2026, 12, 25)

    def test_an_abolished_permit_cannot_be_extended_PQ_9_PQ_11(self) -> None:
        case = self.ready()
        permit = Permit.issue(case, number="N1", actor=ORIGIN, now=NOW)
        permit.abolish(case=case, reason="", actor=APPLICANT, now=NOW)
        assert case.history[-1].kind == "PERMIT_ABOLISHED"
        with pytest.raises(FailedPrecondition) as e:
            permit.request_extension(case=case, new_end_date=dt.date(2026, 12, 25), provinces=[HEBEI],
                                     reason="r", actor=APPLICANT, now=NOW)
        assert reason(e) == "PERMIT_NOT_ACTIVE"
