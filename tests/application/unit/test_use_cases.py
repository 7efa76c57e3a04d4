"""Use cases with the in-memory unit of work: the form, submit, management and review events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from google.protobuf import any_pb2

from permit_application import services as svc
from permit_application import values as vo
from permit_application.models import Application, ReviewEvent, ReviewKind, State
from permit_application.services import StepInput
from permitkit.context import Principal
from permitkit.errors import PermitError
from tests.application.conftest import (
    APPLICANT,
    DEMO_EXPORT,
    END,
    NOW,
    OTHER,
    PARTY,
    START,
    cargo,
    complete_steps,
    fleet_vehicles,
    hand_fleet,
    manual_agent,
    materials,
    overall,
    passage,
)
from tests.application.unit.fakes import FakeUnitOfWork, Store


def reason_of(exc: pytest.ExceptionInfo[PermitError]) -> str:
    return exc.value.reason


def new_draft(uow: Callable[[], FakeUnitOfWork], principal: Principal = APPLICANT, **kw: Any) -> Application:
    return svc.create_application(uow(), principal=principal, notice_shown_time=NOW - dt.timedelta(seconds=6),
                                  now=NOW, **kw)


def fill(uow: Callable[[], FakeUnitOfWork], app: Application, principal: Principal = APPLICANT,
         **overrides: Any) -> Application:
    s = complete_steps(**overrides)
    return svc.update_application(uow(), principal=principal, name=app.name, etag="", now=NOW,
                                  steps=StepInput(**s.__dict__))


def submitted(uow: Callable[[], FakeUnitOfWork], **overrides: Any) -> Application:
    app = fill(uow, new_draft(uow), **overrides)
    return svc.submit_application(uow(), principal=APPLICANT, name=app.name, now=NOW)


def event(app: Application, kind: str, n: int, **kw: Any) -> tuple[str, ReviewEvent]:
    """A fact of the approval context about ``app`` (the application it concerns, the event)."""
    return app.name, ReviewEvent(event_id=f"ev-{app.id}-{n}", kind=ReviewKind(kind), officer="officers/o1", **kw)


def record(uow: Callable[[], FakeUnitOfWork], e: tuple[str, ReviewEvent]) -> bool:
    return svc.record_review_event(uow(), application=e[0], event=e[1], now=NOW)


def get(uow: Callable[[], FakeUnitOfWork], app: Application) -> Application:
    return svc.get_application(uow(), principal=APPLICANT, name=app.name)


class TestCreateApplication:
    def test_refused_until_the_notice_was_shown_for_5_seconds_AP_1(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        with pytest.raises(PermitError) as e:
            svc.create_application(uow(), principal=APPLICANT, now=NOW,
                                   notice_shown_time=NOW - dt.timedelta(seconds=4, microseconds=999_999))
        assert reason_of(e) == "NOTICE_NOT_READ"
        with pytest.raises(PermitError) as e:
            svc.create_application(uow(), principal=APPLICANT, now=NOW, notice_shown_time=None)
        assert reason_of(e) == "NOTICE_NOT_READ"
        app = svc.create_application(uow(), principal=APPLICANT, now=NOW,
                                     notice_shown_time=NOW - dt.timedelta(seconds=5))
        assert app.status == State.DRAFT and app.state_label == "未提交"

    def test_a_notice_time_in_the_future_does_not_count_AP_1(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        with pytest.raises(PermitError) as e:
            svc.create_application(uow(), principal=APPLICANT, now=NOW,
                                   notice_shown_time=NOW + dt.timedelta(seconds=60))
        assert reason_of(e) == "NOTICE_NOT_READ"

    def test_numbers_are_unique_readable_and_sequential_per_day_PQ_1(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        a, b = new_draft(uow), new_draft(uow)
        assert a.number == "DJ1320261201000001" and b.number == "DJ1320261201000002"
        assert a.name == "applications/DJ1320261201000001"

    def test_a_retry_with_the_same_request_id_returns_the_same_draft_AP_10(
            self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        a = new_draft(uow, request_id="r-1")
        b = new_draft(uow, request_id="r-1")
        assert a.id == b.id and len(store.apps) == 1

    @pytest.mark.parametrize(("onboarding", "reason"), [
        ("LICENCE_REQUIRED", "LICENCE_REQUIRED"), ("LICENCE_PENDING", "LICENCE_REVIEW_PENDING"),
        ("LICENCE_REJECTED", "LICENCE_REJECTED"), (None, "LICENCE_REQUIRED"),
    ])
    def test_a_party_without_an_approved_licence_cannot_apply_ID_5(
            self, uow: Callable[[], FakeUnitOfWork], onboarding: str | None, reason: str) -> None:
        p = replace(APPLICANT, onboarding=onboarding)
        with pytest.raises(PermitError) as e:
            new_draft(uow, principal=p)
        assert reason_of(e) == reason
        assert e.value.code.name == "FAILED_PRECONDITION"

    def test_an_officer_is_not_an_applicant(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        officer = Principal(subject="officers/o1", roles=frozenset({"officer.review"}), province="130000")
        with pytest.raises(PermitError) as e:
            new_draft(uow, principal=officer)
        assert reason_of(e) == "NOT_APPLICANT"


class TestUpdateApplication:
    def test_a_fleet_plate_fills_every_vehicle_field_AP_4(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = new_draft(uow)
        app = svc.update_application(uow(), principal=APPLICANT, name=app.name, etag=app.etag, now=NOW,
                                     steps=StepInput(vehicles=fleet_vehicles()))
        tractor, trailer = app.vehicle_values
        assert (tractor.source, tractor.kind, tractor.curb_mass_kg, tractor.axle_count, tractor.make_model) == \
            ("FLEET", "TRACTOR", 8800, 3, "解放牌CA4250P66K24T1A1E5")
        assert tractor.fleet_vehicle.startswith("vehicles/")
        assert (trailer.kind, trailer.length_mm) == ("FLATBED_TRAILER", 13000)

    def test_a_hand_entered_vehicle_needs_every_field_and_two_licence_images_AP_4(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = new_draft(uow)
        with pytest.raises(PermitError) as e:
            svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                   steps=StepInput(vehicles=[vo.Vehicle(plate_number="冀C54321", vehicle_type="重型货车",
                                                                        licence_documents=["documents/l1"])]))
        assert reason_of(e) == "INVALID_FIELD"
        fields = {v.field for v in e.value.violations}
        assert fields == {f"vehicles[0].{f}" for f in ("make_model", "curb_mass_kg", "axle_count", "wheelbase_mm",
                                                        "tyre_count", "length_mm", "width_mm", "height_mm",
                                                        "licence_documents")}

    def test_vehicles_are_added_and_removed_tractor_plus_trailers_AP_4(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = new_draft(uow)
        trailer2 = vo.Vehicle(plate_number="冀C1234挂", vehicle_type="重型低平板半挂车", make_model="X", curb_mass_kg=7000,
                              axle_count=2, wheelbase_mm=1310, tyre_count=8, length_mm=9000, width_mm=3000,
                              height_mm=1500, licence_documents=["documents/l1", "documents/l2"])
        app = svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                     steps=StepInput(vehicles=[*fleet_vehicles(), trailer2]))
        assert [v.plate_number for v in app.vehicle_values] == ["冀A12345", "冀B6789挂", "冀C1234挂"]
        assert app.vehicle_values[2].source == "MANUAL"
        app = svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                     steps=StepInput(vehicles=fleet_vehicles()))
        assert [p.plate_number for p in app.plates] == ["冀A12345", "冀B6789挂"]
        with pytest.raises(PermitError) as e:
            svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                   steps=StepInput(vehicles=fleet_vehicles()[:1]))
        assert [v.reason for v in e.value.violations] == ["TRACTOR_WITHOUT_TRAILER"]

    def test_empty_load_skips_cargo_details_AP_3(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = new_draft(uow)
        app = svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                     steps=StepInput(cargo=vo.Cargo(empty_load=True, name="ignored", weight_kg=5)))
        assert app.cargo == {"empty_load": True, "name": "", "weight_kg": 0, "length_mm": 0, "width_mm": 0,
                             "height_mm": 0}

    def test_cargo_typed_in_tonnes_is_stored_in_kg_and_bad_decimals_name_the_field_AP_3(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = new_draft(uow)
        typed = vo.Cargo(name="变压器", typed={"weight_kg": "30.5", "length_mm": "10", "width_mm": "2.8",
                                                "height_mm": "2.5"})
        app = svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                     steps=StepInput(cargo=typed))
        assert app.cargo_value == vo.Cargo(name="变压器", weight_kg=30500, length_mm=10000, width_mm=2800, height_mm=2500)
        bad = replace(typed, typed={**typed.typed, "weight_kg": "30.5001", "height_mm": "-1"})
        with pytest.raises(PermitError) as e:
            svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                   steps=StepInput(cargo=bad))
        assert {(v.field, v.reason) for v in e.value.violations} == {
            ("cargo.weight_tonnes", "TOO_MANY_DECIMALS"), ("cargo.height_metres", "NEGATIVE")}

    def test_overall_must_cover_vehicles_and_cargo_AP_5(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = new_draft(uow)
        app = svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                     steps=StepInput(cargo=cargo(), vehicles=fleet_vehicles()))
        with pytest.raises(PermitError) as e:
            svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                   steps=StepInput(overall=overall(total_mass_kg=48299, length_mm=12999,
                                                                   axle_loads_kg=[8000] * 6)))
        assert {(v.field, v.reason) for v in e.value.violations} == {
            ("overall.total_mass_kg", "TOTAL_MASS_TOO_SMALL"), ("overall.length_mm", "DIMENSION_TOO_SMALL"),
            ("overall.axle_loads_kg", "AXLE_LOADS_SUM")}
        app = svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                     steps=StepInput(overall=overall()))
        assert app.permit_class == 1 and app.classification["rules"][0]["rule"] == "ART15_CLASS1"

    def test_a_stale_etag_is_refused_AP_2(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = new_draft(uow)
        first = svc.update_application(uow(), principal=APPLICANT, name=app.name, etag=app.etag, now=NOW,
                                       steps=StepInput(cargo=cargo()))
        with pytest.raises(PermitError) as e:
            svc.update_application(uow(), principal=APPLICANT, name=app.name, etag=app.etag, now=NOW,
                                   steps=StepInput(cargo=vo.Cargo(empty_load=True)))
        assert reason_of(e) == "ETAG_MISMATCH" and e.value.code.name == "ABORTED"
        assert first.etag != app.etag

    def test_a_failing_step_saves_nothing_of_the_request_AP_2(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = new_draft(uow)
        with pytest.raises(PermitError):
            svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                   steps=StepInput(cargo=cargo(), vehicles=[vo.Vehicle(plate_number="bad")]))
        assert get(uow, app).cargo is None

    def test_unknown_mask_paths_are_refused(self) -> None:
        with pytest.raises(PermitError) as e:
            StepInput.from_mask(["cargo", "state"], {})
        assert reason_of(e) == "INVALID_UPDATE_MASK"
        assert StepInput.from_mask(["cargo.weight_kg"], {"cargo": cargo()}).cargo == cargo()

    def test_another_partys_application_is_not_found_PQ_2(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = new_draft(uow)
        with pytest.raises(PermitError) as e:
            svc.update_application(uow(), principal=OTHER, name=app.name, etag="", now=NOW,
                                   steps=StepInput(cargo=cargo()))
        assert reason_of(e) == "APPLICATION_NOT_FOUND"
        with pytest.raises(PermitError) as e:
            svc.get_application(uow(), principal=OTHER, name=app.name)
        assert reason_of(e) == "APPLICATION_NOT_FOUND"

    def test_a_suggested_agent_fills_the_step_and_the_masked_id_is_kept_AP_8(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        (suggested,) = svc.suggest_agents(uow(), principal=APPLICANT, name_prefix="李").items
        app = new_draft(uow)
        app = svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                     steps=StepInput(agent=vo.Agent(agent_ref=suggested.name)))
        assert app.agent_value.id_number == "130102198507151232" and app.agent_value.source == "FLEET"
        masked = vo.Agent(name="李四", id_number="130102********1232", phone="13700137000")
        app = svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                     steps=StepInput(agent=masked))
        assert app.agent_value.id_number == "130102198507151232" and app.agent_value.phone == "13700137000"

    def test_a_hand_entered_agent_needs_valid_id_phone_and_three_images_AP_8(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = new_draft(uow)
        with pytest.raises(PermitError) as e:
            svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                   steps=StepInput(agent=vo.Agent(name="张三", id_number="130102199001011238",
                                                                  phone="123")))
        assert {v.reason for v in e.value.violations} == {
            "ID_NUMBER_INVALID", "PHONE_INVALID", "ID_CARD_IMAGES_REQUIRED", "POWER_OF_ATTORNEY_REQUIRED"}
        app = svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                     steps=StepInput(agent=manual_agent()))
        assert app.agent_value.source == "MANUAL"

    def test_a_route_not_ending_in_the_destination_needs_confirmation_AP_7a(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = new_draft(uow)
        rows = [vo.RouteRow("130000", ["G4"]), vo.RouteRow("320000", ["G2"]), vo.RouteRow("370000", ["G3"])]
        with pytest.raises(PermitError) as e:
            svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                   steps=StepInput(passage=passage(route=rows)))
        assert [(v.field, v.reason) for v in e.value.violations] == [
            ("passage.route_confirmed", "LAST_ROW_NOT_DESTINATION")]
        app = svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                     steps=StepInput(passage=passage(route=rows, route_confirmed=True)))
        assert app.route_provinces == ["130000", "320000", "370000"]

    @pytest.mark.parametrize(("kw", "reason"), [
        ({"start": dt.date(2026, 11, 30)}, "START_IN_PAST"),
        ({"end": dt.date(2026, 12, 9)}, "END_BEFORE_START"),
        ({"end": START + dt.timedelta(days=60)}, "PERIOD_TOO_LONG"),
        ({"end": dt.date(2027, 6, 10), "multi_trip": True}, "PERIOD_TOO_LONG"),
    ])
    def test_travel_period_rules(self, uow: Callable[[], FakeUnitOfWork], kw: dict[str, Any], reason: str) -> None:
        app = new_draft(uow)
        with pytest.raises(PermitError) as e:
            svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                   steps=StepInput(passage=passage(**kw)))
        assert [v.reason for v in e.value.violations] == [reason]

    def test_a_multi_trip_permit_may_last_six_months(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = new_draft(uow)
        app = svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                     steps=StepInput(passage=passage(end=dt.date(2027, 6, 9), multi_trip=True)))
        assert app.period_end == dt.date(2027, 6, 9)


class TestSubmitApplication:
    def test_a_complete_class_1_application_is_submitted_and_sent_for_review_AP_10(
            self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        app = submitted(uow)
        assert (app.status, app.state_label, app.submission, app.permit_class) == (State.SUBMITTED, "未受理", 1, 1)
        ((event_id, topic, ev),) = store.outbox
        assert topic == "permit.application.v1.ApplicationSubmitted" and ev.event_id == event_id
        assert (ev.application.name, ev.application.number, ev.applicant) == (app.name, app.number, PARTY)
        assert ev.province == "130000" and ev.submitted_by == APPLICANT.subject
        s = ev.submitted
        assert list(s.route_provinces) == ["130000", "370000", "320000"]
        # PQ-10: each vehicle's figures, for a later vehicle change.
        assert [v.plate_number for v in s.vehicles] == ["冀A12345", "冀B6789挂"]
        assert s.vehicles[0].curb_mass_kg > 0 and s.vehicles[0].axle_count > 0 and s.vehicles[0].fleet_vehicle
        assert (s.permit_class, s.submission) == (1, 1)
        assert (s.passage_dates.start_date.day, s.passage_dates.end_date.day) == (10, 20)
        assert s.cargo.weight_kg == app.cargo_value.weight_kg and s.overall.total_mass_kg > 0
        assert "documents/d1" in s.documents and "documents/poa" in s.documents
        # The agent's ID number and phone travel masked only.
        assert "*" in s.agent.masked_id_number and "*" in s.agent.masked_phone
        # CT-1: what the certificate prints: vehicle types, the cargo, the overall figures.
        assert all(v.vehicle_type for v in s.vehicles)
        assert s.cargo.name and s.cargo.weight_kg > 0 and s.cargo.length_mm > 0
        assert s.overall.total_mass_kg > 0 and s.overall.length_mm > 0 and s.overall.width_mm > 0
        assert store.locked == [["冀A12345", "冀B6789挂"]]
        # RV-2: the class with the rules that set it and the duplicate check, as at submission.
        assert s.classification.permit_class == 1 and s.classification.rules and s.classification.rule_set
        assert s.duplicate_check.ok and s.duplicate_check.HasField("check_time")
        assert [(v.plate_number, v.overlapping_applications) for v in s.duplicate_check.vehicles] == [
            ("冀A12345", 0), ("冀B6789挂", 0)]

    def test_a_retried_submit_is_idempotent_AP_10(self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        app = fill(uow, new_draft(uow))
        a = svc.submit_application(uow(), principal=APPLICANT, name=app.name, etag=app.etag, request_id="s1", now=NOW)
        b = svc.submit_application(uow(), principal=APPLICANT, name=app.name, etag=app.etag, request_id="s1", now=NOW)
        assert a.version == b.version and len(store.outbox) == 1
        with pytest.raises(PermitError) as e:
            svc.submit_application(uow(), principal=APPLICANT, name=app.name, request_id="other", now=NOW)
        assert reason_of(e) == "APPLICATION_NOT_SUBMITTABLE"

    def test_a_draft_missing_steps_lists_them_AP_10(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = new_draft(uow)
        svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                               steps=StepInput(cargo=cargo()))
        with pytest.raises(PermitError) as e:
            svc.submit_application(uow(), principal=APPLICANT, name=app.name, now=NOW)
        assert reason_of(e) == "APPLICATION_INCOMPLETE"
        assert [v.field for v in e.value.violations] == ["vehicles", "overall", "passage", "agent"]

    def test_a_combination_that_is_not_over_limit_needs_no_permit_AP_5(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        small = overall(total_mass_kg=48300, width_mm=3000, height_mm=3900, length_mm=18000)
        light_cargo = replace(cargo(), width_mm=2500)
        narrow_trailer = vo.Vehicle(plate_number="冀C1234挂", vehicle_type="重型平板半挂车", make_model="X",
                                    curb_mass_kg=9500, axle_count=3, wheelbase_mm=7600, tyre_count=12,
                                    length_mm=13000, width_mm=2500, height_mm=1600,
                                    licence_documents=["documents/l1", "documents/l2"])
        app = fill(uow, new_draft(uow), cargo=light_cargo, vehicles=[fleet_vehicles()[0], narrow_trailer],
                   overall=replace(small, width_mm=2550))
        with pytest.raises(PermitError) as e:
            svc.submit_application(uow(), principal=APPLICANT, name=app.name, now=NOW)
        assert reason_of(e) == "NOT_OVER_LIMIT"
        assert e.value.metadata["rule"] == "ART3_NOT_OVER_LIMIT" and "无需办理" in e.value.message

    def test_class_3_without_drawings_and_escort_plan_lists_exactly_what_is_missing_AP_9(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = fill(uow, new_draft(uow), overall=overall(height_mm=4600),
                   materials=[vo.Material("OUTLINE_DRAWING", "documents/o1")])
        with pytest.raises(PermitError) as e:
            svc.submit_application(uow(), principal=APPLICANT, name=app.name, now=NOW)
        assert reason_of(e) == "MATERIALS_MISSING"
        assert e.value.metadata["missing"] == "OUTLINE_DRAWING,ESCORT_PLAN"
        mats = [vo.Material("OUTLINE_DRAWING", f"documents/o{i}") for i in range(3)] + \
            [vo.Material("ESCORT_PLAN", "documents/e1")]
        app = svc.submit_application(uow(), principal=APPLICANT, name=app.name, now=NOW,
                                     steps=StepInput(materials=mats))
        assert app.status == State.SUBMITTED and app.permit_class == 3

    def test_an_overloaded_flatbed_is_refused_AP_5(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        loads = [6300, 8000, 8000, 13001, 6500, 6499]
        app = fill(uow, new_draft(uow), overall=overall(axle_loads_kg=loads))
        with pytest.raises(PermitError) as e:
            svc.submit_application(uow(), principal=APPLICANT, name=app.name, now=NOW)
        assert reason_of(e) == "OVER_LIMIT_REFUSED" and e.value.metadata["rule"] == "ART17_FLATBED_AXLE"

    def test_a_submitted_application_can_no_longer_be_saved_PQ_4(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = submitted(uow)
        with pytest.raises(PermitError) as e:
            svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                   steps=StepInput(cargo=cargo()))
        assert reason_of(e) == "APPLICATION_NOT_DRAFT"


class TestDuplicateCheck:
    def test_the_third_overlapping_application_of_a_vehicle_is_rejected_AP_6(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        # Filled while the vehicle was still free; two others are submitted meanwhile.
        third = fill(uow, new_draft(uow), passage=passage(start=dt.date(2026, 12, 15), end=dt.date(2026, 12, 25)))
        a, b = submitted(uow), submitted(uow)
        with pytest.raises(PermitError) as e:
            svc.submit_application(uow(), principal=APPLICANT, name=third.name, now=NOW)
        assert reason_of(e) == "VEHICLE_TIME_CONFLICT"
        assert e.value.metadata["applications"].split(",") == [a.name, b.name]
        assert e.value.metadata["plate_numbers"] == "冀A12345,冀B6789挂"
        assert get(uow, third).status == State.DRAFT
        assert a.number in e.value.message

    def test_the_submitted_event_records_how_many_others_hold_each_vehicle_RV_2_AP_6(
            self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        submitted(uow)
        submitted(uow)
        second = store.outbox[-1][2].submitted.duplicate_check
        assert second.ok and [(v.plate_number, v.overlapping_applications) for v in second.vehicles] == [
            ("冀A12345", 1), ("冀B6789挂", 1)]

    def test_choosing_dates_already_warns_of_the_conflict_AP_6(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        submitted(uow), submitted(uow)
        app = new_draft(uow)
        svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                               steps=StepInput(vehicles=fleet_vehicles()))
        with pytest.raises(PermitError) as e:
            svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                   steps=StepInput(passage=passage()))
        assert reason_of(e) == "VEHICLE_TIME_CONFLICT"
        free = svc.check_vehicle_schedule(uow(), principal=APPLICANT, name=app.name, start=dt.date(2026, 12, 21),
                                          end=dt.date(2026, 12, 22), now=NOW)
        assert free == []

    def test_only_days_with_two_others_conflict_AP_6(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        submitted(uow, passage=passage(start=dt.date(2026, 12, 10), end=dt.date(2026, 12, 12)))
        submitted(uow, passage=passage(start=dt.date(2026, 12, 15), end=dt.date(2026, 12, 17)))
        # Overlaps both, but never both on the same day: at most two at any time.
        app = submitted(uow, passage=passage(start=dt.date(2026, 12, 10), end=dt.date(2026, 12, 17)))
        assert app.status == State.SUBMITTED
        with pytest.raises(PermitError) as e:
            submitted(uow, passage=passage(start=dt.date(2026, 12, 16), end=dt.date(2026, 12, 16)))
        assert reason_of(e) == "VEHICLE_TIME_CONFLICT"

    def test_withdrawn_denied_drafts_and_abolished_permits_do_not_count_AP_6(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        fill(uow, new_draft(uow))  # a draft never counts
        a, b = submitted(uow), submitted(uow)
        svc.withdraw_application(uow(), principal=APPLICANT, name=a.name, now=NOW)
        c = submitted(uow)
        assert c.status == State.SUBMITTED
        record(uow, event(b, "CASE_ACCEPTED", 1, province="130000"))
        record(uow, event(b, "PERMIT_ISSUED", 2, permit="permits/p1", permit_number="冀2026-1",
                          permit_start_date=START, permit_end_date=END))
        with pytest.raises(PermitError):
            submitted(uow)  # b (issued, valid) and c still hold the vehicle
        record(uow, event(b, "PERMIT_ABOLISHED", 3))
        assert submitted(uow).status == State.SUBMITTED

    def test_returned_applications_still_count_AP_6(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        a, _ = submitted(uow), submitted(uow)
        record(uow, event(a, "CASE_RETURNED", 1, reason="材料不清晰"))
        with pytest.raises(PermitError) as e:
            submitted(uow)
        assert reason_of(e) == "VEHICLE_TIME_CONFLICT"


def submitted_by_other(uow: Callable[[], FakeUnitOfWork], **overrides: Any) -> Application:
    """王五's application for the carrier's vehicles, typed in by hand (AP-6 counts it too)."""
    app = fill(uow, new_draft(uow, principal=OTHER), principal=OTHER, vehicles=hand_fleet(), **overrides)
    return svc.submit_application(uow(), principal=OTHER, name=app.name, now=NOW)


def identifiers(*apps: Application) -> set[str]:
    """What would name an application to someone else: its number (= id) and name."""
    return {x for a in apps for x in (a.number, a.id, a.name)}


def assert_names_none_of(exc: pytest.ExceptionInfo[PermitError], apps: list[Application]) -> None:
    said = [exc.value.message, *exc.value.metadata.values()]
    leaked = {x for x in identifiers(*apps) for text in said if x in text}
    assert not leaked, (leaked, said)


class TestDuplicateCheckAcrossParties:
    """AP-6 counts every party's applications of a vehicle, but names only the caller's own."""

    def test_the_check_counts_another_partys_applications_without_naming_them_AP_6(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        carriers = [submitted(uow), submitted(uow)]
        theirs = new_draft(uow, principal=OTHER)
        (c,) = svc.check_vehicle_schedule(uow(), principal=OTHER, name=theirs.name, start=START, end=END,
                                          plates=["冀A12345"], now=NOW)
        assert (c.plate_number, c.applications) == ("冀A12345", [])  # counted, not named
        assert c.other_party_count == 2
        message = svc.conflict_message([c])
        assert "时间发生冲突" in message and "2 件" in message and "其他申请人" in message
        assert not {x for x in identifiers(*carriers) if x in message}
        assert "2026-12" not in message  # nor the carrier's travel dates
        assert "撤回" not in message  # 王五 cannot withdraw the carrier's applications

    def test_saving_dates_for_a_hand_typed_plate_of_another_party_names_none_of_its_applications_AP_6(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        carriers = [submitted(uow), submitted(uow)]
        theirs = new_draft(uow, principal=OTHER)
        with pytest.raises(PermitError) as e:
            svc.update_application(uow(), principal=OTHER, name=theirs.name, etag="", now=NOW,
                                   steps=StepInput(vehicles=hand_fleet(), passage=passage()))
        assert reason_of(e) == "VEHICLE_TIME_CONFLICT"
        assert_names_none_of(e, carriers)
        assert e.value.metadata["applications"] == e.value.metadata["application_numbers"] == ""
        assert e.value.metadata["plate_numbers"] == "冀A12345,冀B6789挂"
        assert e.value.metadata["other_party_counts"] == "2,2"
        assert "车辆冀A12345、冀B6789挂在所选通行期内已有 2 件申请" in e.value.message

    def test_submitting_a_hand_typed_plate_of_another_party_names_none_of_its_applications_AP_6(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        theirs = fill(uow, new_draft(uow, principal=OTHER), principal=OTHER, vehicles=hand_fleet())
        carriers = [submitted(uow), submitted(uow)]  # meanwhile, the vehicle's two places are taken
        with pytest.raises(PermitError) as e:
            svc.submit_application(uow(), principal=OTHER, name=theirs.name, now=NOW)
        assert reason_of(e) == "VEHICLE_TIME_CONFLICT"
        assert_names_none_of(e, carriers)
        assert e.value.metadata["other_party_counts"] == "2,2" and e.value.metadata["applications"] == ""
        assert svc.get_application(uow(), principal=OTHER, name=theirs.name).status == State.DRAFT

    def test_a_vehicle_held_by_both_parties_names_only_the_callers_own_with_its_dates_AP_6(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        mine = submitted(uow)
        theirs = submitted_by_other(uow, passage=passage(start=dt.date(2026, 12, 12), end=dt.date(2026, 12, 18)))
        both = ["冀A12345", "冀B6789挂"]
        check = svc.check_vehicle_schedule(uow(), principal=APPLICANT, name=new_draft(uow).name, start=START,
                                           end=END, plates=both, now=NOW)
        assert [(c.plate_number, [a.name for a in c.applications]) for c in check] == [
            ("冀A12345", [mine.name]), ("冀B6789挂", [mine.name])]
        assert [c.other_party_count for c in check] == [1, 1]
        message = svc.conflict_message(check)
        assert f"您的申请 {mine.number}（2026-12-10至2026-12-20），以及 1 件其他申请人的申请" in message
        assert "撤回" in message and "更换车辆" in message
        assert not {x for x in identifiers(theirs) if x in message} and "2026-12-12" not in message
        # The other way round, 王五 sees his own application and the carrier's as a count.
        (first, _) = svc.check_vehicle_schedule(uow(), principal=OTHER, name=new_draft(uow, principal=OTHER).name,
                                                start=START, end=END, plates=both, now=NOW)
        assert ([a.name for a in first.applications], first.other_party_count) == ([theirs.name], 1)
        assert mine.number not in svc.conflict_message([first])

    def test_the_carriers_refused_submit_names_its_own_application_only_AP_6(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        third = fill(uow, new_draft(uow))
        mine = submitted(uow)
        theirs = submitted_by_other(uow)
        with pytest.raises(PermitError) as e:
            svc.submit_application(uow(), principal=APPLICANT, name=third.name, now=NOW)
        assert reason_of(e) == "VEHICLE_TIME_CONFLICT"
        assert_names_none_of(e, [theirs])
        assert (e.value.metadata["applications"], e.value.metadata["application_numbers"]) == (mine.name, mine.number)
        assert mine.number in e.value.message
        assert e.value.metadata["other_party_counts"] == "1,1"


class TestManagement:
    def test_a_draft_is_deleted_for_good_and_the_trail_remains_PQ_4(
            self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        app = fill(uow, new_draft(uow))
        svc.delete_application(uow(), principal=APPLICANT, name=app.name, etag=app.etag, now=NOW)
        with pytest.raises(PermitError) as e:
            get(uow, app)
        assert reason_of(e) == "APPLICATION_NOT_FOUND"
        assert [(c.from_state, c.to_state) for c in store.changes if c.application_id == app.id] == [
            ("", "DRAFT"), ("DRAFT", "DELETED")]

    def test_only_drafts_can_be_deleted_PQ_4(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = submitted(uow)
        with pytest.raises(PermitError) as e:
            svc.delete_application(uow(), principal=APPLICANT, name=app.name, now=NOW)
        assert reason_of(e) == "APPLICATION_NOT_DRAFT"

    def test_one_more_like_this_prefills_a_new_draft_without_dates_PQ_3(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        src = submitted(uow)
        record(uow, event(src, "CASE_ACCEPTED", 1, province="130000"))
        record(uow, event(src, "PROVINCE_DENIED", 2, province="370000", reason="路线不可行"))
        clone = svc.clone_application(uow(), principal=APPLICANT, name=src.name, now=NOW)
        assert clone.status == State.DRAFT and clone.id != src.id
        assert clone.source_application == src.name
        assert clone.cargo == src.cargo and clone.vehicles == src.vehicles and clone.overall == src.overall
        p = clone.passage_value
        assert p.start_date is None and p.end_date is None and p.route == passage().route
        assert clone.period_start is None and clone.submission == 0 and clone.progress == []

    def test_submitted_and_processing_applications_can_be_withdrawn_PQ_5_PQ_8(
            self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        a = submitted(uow)
        a = svc.withdraw_application(uow(), principal=APPLICANT, name=a.name, reason="计划取消", now=NOW)
        assert (a.status, a.state_label) == (State.WITHDRAWN, "已撤销")
        _, topic, withdrawn = store.outbox[-1]
        assert topic == "permit.application.v1.ApplicationWithdrawn"
        assert (withdrawn.application.name, withdrawn.reason, withdrawn.applicant) == (a.name, "计划取消", PARTY)
        b = submitted(uow)
        record(uow, event(b, "CASE_ACCEPTED", 1, province="130000"))
        assert svc.withdraw_application(uow(), principal=APPLICANT, name=b.name, now=NOW).status == State.WITHDRAWN

    @pytest.mark.parametrize("kind", ["draft", "issued", "denied"])
    def test_other_states_cannot_be_withdrawn_PQ_5(self, uow: Callable[[], FakeUnitOfWork], kind: str) -> None:
        if kind == "draft":
            app = new_draft(uow)
        else:
            app = submitted(uow)
            record(uow, event(app, "CASE_ACCEPTED", 1, province="130000"))
            if kind == "issued":
                record(uow, event(app, "PERMIT_ISSUED", 2, permit_number="P1", permit_start_date=START,
                                  permit_end_date=END))
            else:
                record(uow, event(app, "CASE_DENIED", 2))
        with pytest.raises(PermitError) as e:
            svc.withdraw_application(uow(), principal=APPLICANT, name=app.name, now=NOW)
        assert reason_of(e) == "APPLICATION_NOT_WITHDRAWABLE"

    def test_list_pages_filters_and_searches_own_applications_PQ_2(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        s1 = submitted(uow)
        d1 = new_draft(uow)
        d2 = new_draft(uow)
        new_draft(uow, principal=OTHER)
        page = svc.list_applications(uow(), principal=APPLICANT, page_size=2)
        assert [a.id for a in page.items] == [d2.id, d1.id] and page.total == 3 and page.next_page_token
        rest = svc.list_applications(uow(), principal=APPLICANT, page_size=2, page_token=page.next_page_token)
        assert [a.id for a in rest.items] == [s1.id] and rest.next_page_token == ""
        assert [a.id for a in svc.list_applications(uow(), principal=APPLICANT, state=State.SUBMITTED).items] == [s1.id]
        assert [a.id for a in svc.search_applications(uow(), principal=APPLICANT, query="冀b6789").items] == [s1.id]
        assert [a.id for a in svc.search_applications(uow(), principal=APPLICANT, query=d1.number[-3:]).items] == [d1.id]
        with pytest.raises(PermitError) as e:
            svc.list_applications(uow(), principal=APPLICANT, page_token="garbage")
        assert reason_of(e) == "INVALID_PAGE_TOKEN"

    def test_vehicles_of_earlier_applications_are_suggested_AP_4(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        manual = vo.Vehicle(plate_number="冀C1234挂", vehicle_type="重型平板半挂车", make_model="X", curb_mass_kg=9500,
                            axle_count=3, wheelbase_mm=7600, tyre_count=12, length_mm=13000, width_mm=3000,
                            height_mm=1600, licence_documents=["documents/l1", "documents/l2"])
        submitted(uow, vehicles=[fleet_vehicles()[0], manual])
        plates = [(v.plate_number, v.source) for v in svc.suggest_vehicles(uow(), principal=APPLICANT, plate_prefix="冀").items]
        assert plates == [("冀A12345", "FLEET"), ("冀B6789挂", "FLEET"), ("冀C1234挂", "HISTORY")]
        assert [a.agent_name for a in svc.suggest_agents(uow(), principal=APPLICANT).items] == ["李四", "张三"]
        # Choosing it next time needs no new images: the earlier ones come along.
        app = svc.update_application(uow(), principal=APPLICANT, name=new_draft(uow).name, etag="", now=NOW,
                                     steps=StepInput(vehicles=[fleet_vehicles()[0], vo.Vehicle(plate_number="冀C1234挂")]))
        assert (app.vehicle_values[1].source, app.vehicle_values[1].licence_documents) == (
            "HISTORY", ["documents/l1", "documents/l2"])
        assert svc.suggest_vehicles(uow(), principal=OTHER).items == []


class TestReviewEvents:
    def test_the_review_moves_the_state_to_issued_with_every_province_AP_10_PQ_2(
            self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        app = submitted(uow)
        assert record(uow, event(app, "CASE_ACCEPTED", 1, province="130000", submission=1))
        app = get(uow, app)
        assert app.status == State.PROCESSING
        assert [(p.province, p.decision) for p in app.progress] == [
            ("130000", "ACCEPTED"), ("370000", "PENDING"), ("320000", "PENDING")]
        for i, prov in enumerate(["130000", "370000", "320000"]):
            record(uow, event(app, "PROVINCE_APPROVED", 10 + i, province=prov))
        record(uow, event(app, "PERMIT_ISSUED", 20, permit="permits/p1", permit_number="冀大件2026-0001",
                          permit_start_date=START, permit_end_date=END))
        app = get(uow, app)
        assert (app.status, app.state_label, app.permit_number, app.permit_state) == (
            State.ISSUED, "已发证", "冀大件2026-0001", "VALID")
        assert [p.decision_label for p in app.progress] == ["同意", "同意", "同意"]
        topic, approved = store.outbox[-1][1:]
        assert topic == "permit.application.v1.RouteApproved"
        assert (approved.route[1].province, list(approved.route[1].roads)) == ("370000", ["G3京台高速"])
        assert approved.applicant == PARTY and approved.permit_number == "冀大件2026-0001"
        trail = svc.list_state_changes(uow(), principal=APPLICANT, name=app.name).items
        moves = [(c.from_state, c.to_state) for c in trail if c.from_state != c.to_state]
        assert moves == [("", "DRAFT"), ("DRAFT", "SUBMITTED"), ("SUBMITTED", "PROCESSING"),
                         ("PROCESSING", "ISSUED")]
        assert all(c.actor and c.change_time for c in trail)
        assert trail[2].actor == "officers/o1" and trail[1].actor == APPLICANT.subject

    def test_a_repeated_event_is_applied_once(self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        app = submitted(uow)
        e = event(app, "CASE_ACCEPTED", 1, province="130000")
        assert record(uow, e) is True
        before = len(store.changes)
        assert record(uow, e) is False
        assert len(store.changes) == before

    def test_a_returned_application_shows_the_reason_and_can_only_be_submitted_PQ_6(
            self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        app = submitted(uow)
        record(uow, event(app, "CASE_ACCEPTED", 1, province="130000"))
        record(uow, event(app, "PROVINCE_RETURNED", 2, province="370000", reason="请补充护送方案"))
        app = get(uow, app)
        assert (app.status, app.state_label, app.return_reason) == (State.RETURNED, "退回补正", "请补充护送方案")
        with pytest.raises(PermitError) as e:
            svc.update_application(uow(), principal=APPLICANT, name=app.name, etag="", now=NOW,
                                   steps=StepInput(cargo=cargo()))
        assert reason_of(e) == "CORRECTION_SUBMIT_ONLY"
        fixed = replace(cargo(), name="变压器（补正）")
        app = svc.submit_application(uow(), principal=APPLICANT, name=app.name, etag=app.etag, now=NOW,
                                     steps=StepInput(cargo=fixed))
        assert (app.status, app.submission, app.return_reason, app.cargo["name"]) == (
            State.SUBMITTED, 2, "", "变压器（补正）")
        _, topic, corrected = store.outbox[-1]
        assert topic == "permit.application.v1.ApplicationCorrected"
        assert corrected.submitted.submission == 2 and corrected.return_reason == "请补充护送方案"

    def test_events_of_an_earlier_submission_are_ignored(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = submitted(uow)
        record(uow, event(app, "CASE_RETURNED", 1, reason="退回"))
        svc.submit_application(uow(), principal=APPLICANT, name=app.name, now=NOW)
        assert record(uow, event(app, "CASE_ACCEPTED", 2, province="130000", submission=1)) is False
        assert get(uow, app).status == State.SUBMITTED

    def test_one_denial_denies_the_application_RV_3(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = submitted(uow)
        record(uow, event(app, "CASE_ACCEPTED", 1, province="130000"))
        record(uow, event(app, "PROVINCE_DENIED", 2, province="320000", reason="桥梁限载"))
        app = get(uow, app)
        assert (app.status, app.state_label) == (State.DENIED, "不予许可")
        assert [p.decision for p in app.progress] == ["ACCEPTED", "PENDING", "DENIED"]

    def test_review_outcomes_need_the_service_role(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        from permit.approval.v1 import events_pb2 as approval_events
        from permit.events.v1 import event_sink_pb2
        from permit_application import event_handlers
        from permitkit.context import bind

        app = submitted(uow)
        packed = any_pb2.Any()
        packed.Pack(approval_events.PermitIssued(event_id="e1", application={"name": app.name}))
        request = event_sink_pb2.DeliverRequest(envelope=event_sink_pb2.Envelope(event_id="e1", event=packed))
        with bind(principal=APPLICANT), pytest.raises(PermitError) as e:
            event_handlers.sink(uow).Deliver(request, None)
        assert reason_of(e) == "NOT_SERVICE"

    def test_an_event_that_does_not_fit_the_state_is_kept_in_the_trail_and_ignored(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = submitted(uow)
        assert record(uow, event(app, "PERMIT_ISSUED", 1, permit_number="P", permit_start_date=START,
                                 permit_end_date=END)) is False
        assert get(uow, app).status == State.SUBMITTED
        last = svc.list_state_changes(uow(), principal=APPLICANT, name=app.name).items[-1]
        assert (last.from_state, last.to_state, last.event_id) == ("SUBMITTED", "SUBMITTED", f"ev-{app.id}-1")
        assert "忽略" in last.reason

    def test_a_province_deciding_after_a_denial_is_still_shown_RV_3(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = submitted(uow)
        record(uow, event(app, "CASE_ACCEPTED", 1, province="130000"))
        record(uow, event(app, "PROVINCE_DENIED", 2, province="320000"))
        assert record(uow, event(app, "PROVINCE_APPROVED", 3, province="370000")) is True
        app = get(uow, app)
        assert app.status == State.DENIED
        assert [p.decision for p in app.progress] == ["ACCEPTED", "APPROVED", "DENIED"]

    def test_a_withdrawal_stands_against_a_late_acceptance_PQ_5(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = submitted(uow)
        svc.withdraw_application(uow(), principal=APPLICANT, name=app.name, now=NOW)
        assert record(uow, event(app, "CASE_ACCEPTED", 1, province="130000")) is False
        assert get(uow, app).status == State.WITHDRAWN

    def test_a_vehicle_change_replaces_the_plate_by_a_fleet_vehicle_PQ_10(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        spare = {"plate": "冀A54321", "type": "重型半挂牵引车", "make_model": "解放牌CA4250P66K24T1A1E5",
                 "curb_mass_kg": 8800, "axles": 3, "wheelbase_mm": 3300, "tyres": 10, "length_mm": 6900,
                 "width_mm": 2500, "height_mm": 3350}
        svc.import_legacy_records(uow(), export={"accounts": [{"legacy_id": "L1001", "vehicles": [spare]}]},
                                  check_caller=False, now=NOW)
        app = submitted(uow)
        record(uow, event(app, "CASE_ACCEPTED", 1, province="130000"))
        record(uow, event(app, "VEHICLE_CHANGED", 2, old_plate_number="冀A12345", new_plate_number="冀A54321"))
        app = get(uow, app)
        assert [p.plate_number for p in app.plates] == ["冀A54321", "冀B6789挂"]

    def test_an_extension_moves_the_permit_end_date(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = submitted(uow)
        record(uow, event(app, "CASE_ACCEPTED", 1, province="130000"))
        record(uow, event(app, "PERMIT_ISSUED", 2, permit_number="P1", permit_start_date=START, permit_end_date=END))
        record(uow, event(app, "PERMIT_EXTENDED", 3, permit_end_date=dt.date(2026, 12, 30)))
        app = get(uow, app)
        assert (app.permit_state, app.permit_end_date, app.period_end) == (
            "EXTENDED", dt.date(2026, 12, 30), dt.date(2026, 12, 30))


class TestLegacyImport:
    def test_the_export_fills_the_party_fleet_and_agents_ID_3(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        vehicles = svc.suggest_vehicles(uow(), principal=APPLICANT).items
        assert [(v.party, v.plate_number, v.axle_count, v.tyre_count, v.source) for v in vehicles] == [
            (PARTY, "冀A12345", 3, 10, "FLEET"), (PARTY, "冀B6789挂", 3, 12, "FLEET")]

    def test_importing_twice_changes_nothing_ID_3(self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        before = (dict(store.vehicles), dict(store.agents))
        svc.import_legacy_records(uow(), export=DEMO_EXPORT, check_caller=False, now=NOW)
        assert (set(store.vehicles), set(store.agents)) == (set(before[0]), set(before[1]))

    def test_past_applications_are_imported_and_count_for_the_duplicate_check_ID_3_AP_6(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        past = [{"number": f"DJ132026110100000{i}", "state": "已发证", "vehicles": ["冀A12345"],
                 "passage": {"origin_province": "130000", "destination_province": "320000",
                             "route": [{"province": "130000", "roads": ["G4"]}],
                             "start_date": "2026-12-01", "end_date": "2026-12-31"},
                 "permit_number": f"P{i}"} for i in (1, 2)]
        c = svc.import_legacy_records(uow(), export={"accounts": [{"legacy_id": "L1001", "applications": past}]},
                                      check_caller=False, now=NOW)
        assert c.applications == 2
        listed = svc.list_applications(uow(), principal=APPLICANT, state=State.ISSUED).items
        assert {a.number for a in listed} == {"DJ1320261101000001", "DJ1320261101000002"}
        with pytest.raises(PermitError) as e:
            submitted(uow)
        assert reason_of(e) == "VEHICLE_TIME_CONFLICT"

    def test_a_bad_plate_in_the_export_is_named(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        with pytest.raises(PermitError) as e:
            svc.import_legacy_records(uow(), export={"accounts": [{"legacy_id": "L7", "vehicles": [{"plate": "XX"}]}]},
                                      check_caller=False, now=NOW)
        assert reason_of(e) == "INVALID_EXPORT" and e.value.field == "accounts[L7].vehicles[0].plate_number"


def test_materials_fixture_is_not_required_for_class_1() -> None:
    """The walking slice attaches one OTHER document; class I requires none (AP-9)."""
    assert [m.kind for m in materials()] == ["OTHER"]


def test_a_vehicle_change_brings_a_new_power_of_attorney_PQ_10(uow: Callable[[], FakeUnitOfWork]) -> None:
    spare = {"plate": "冀A54321", "type": "重型半挂牵引车", "make_model": "解放牌CA4250P66K24T1A1E5",
             "curb_mass_kg": 8800, "axles": 3, "wheelbase_mm": 3300, "tyres": 10, "length_mm": 6900,
             "width_mm": 2500, "height_mm": 3350}
    svc.import_legacy_records(uow(), export={"accounts": [{"legacy_id": "L1001", "vehicles": [spare]}]},
                              check_caller=False, now=NOW)
    app = submitted(uow)
    record(uow, event(app, "CASE_ACCEPTED", 1, province="130000"))
    with pytest.raises(PermitError) as e:
        record(uow, event(app, "VEHICLE_CHANGED", 2, old_plate_number="冀A12345", new_plate_number="冀Z99999"))
    assert reason_of(e) == "INVALID_EVENT"
    record(uow, event(app, "VEHICLE_CHANGED", 3, old_plate_number="冀A12345", new_plate_number="冀A54321",
                      documents=["documents/poa-2"]))
    assert get(uow, app).agent_value.power_of_attorney_document == "documents/poa-2"
