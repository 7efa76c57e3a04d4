"""AP-6 on a vehicle change (PQ-10) and an extension (PQ-11): the approval side reserves
the vehicles' time here, under the same check and per-vehicle lock as submit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pytest

from permit_application import holds
from permit_application import services as svc
from permit_application.actions import Action, allowed_actions
from permit_application.models import Application, State
from permitkit.errors import PermitError
from tests.application.conftest import APPLICANT, END, NOW, SERVICE, START, hand_fleet, passage
from tests.application.unit.fakes import FakeUnitOfWork, Store
from tests.application.unit.test_use_cases import event, get, record, submitted

NEW_TRACTOR = "冀E11111"
DAY = dt.timedelta(days=1)


def others_on(uow: Callable[[], FakeUnitOfWork], plate: str, n: int = 2, **kw) -> list[Application]:
    """``n`` submitted applications of the tractor ``plate`` (hand-entered) in [START, END]."""
    tractor, trailer = hand_fleet()
    trailer = replace(trailer, plate_number="冀E3333挂")
    return [submitted(uow, vehicles=[replace(tractor, plate_number=plate), trailer], **kw) for _ in range(n)]


def reserve(uow, app: Application, key: str, plates: list[str], start=None, end=None) -> None:
    holds.reserve_vehicle_time(uow(), principal=SERVICE, application=app.name, key=key, plates=plates,
                               start=start, end=end, now=NOW)


class TestVehicleChange:
    def test_a_change_onto_a_vehicle_with_two_overlapping_applications_is_refused_PQ_10_AP_6(
            self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        first, second = others_on(uow, NEW_TRACTOR)
        app = submitted(uow)  # its vehicles are the fleet's
        with pytest.raises(PermitError) as e:
            reserve(uow, app, "cases/c1/vehicleChanges/v1", [NEW_TRACTOR])
        assert e.value.reason == "VEHICLE_TIME_CONFLICT"
        assert e.value.metadata["applications"].split(",") == [first.name, second.name]
        assert store.holds == {}

    def test_a_held_vehicle_counts_for_every_later_submit_until_released_PQ_10_AP_6(
            self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        others_on(uow, NEW_TRACTOR, n=1)
        app = submitted(uow)
        reserve(uow, app, "cases/c1/vehicleChanges/v1", [NEW_TRACTOR])
        reserve(uow, app, "cases/c1/vehicleChanges/v1", [NEW_TRACTOR])  # a retry changes nothing
        assert len(store.holds) == 1 and store.locked[-1] == [NEW_TRACTOR]
        with pytest.raises(PermitError) as e:
            others_on(uow, NEW_TRACTOR, n=1)  # the change and the first one fill both places
        assert e.value.reason == "VEHICLE_TIME_CONFLICT"
        assert holds.release_vehicle_time(uow(), principal=SERVICE, key="cases/c1/vehicleChanges/v1")
        assert others_on(uow, NEW_TRACTOR, n=1)[0].status == State.SUBMITTED

    def test_the_approved_change_replaces_its_hold_PQ_10(self, uow: Callable[[], FakeUnitOfWork],
                                                        store: Store) -> None:
        app = submitted(uow)
        record(uow, event(app, "CASE_ACCEPTED", 1, province="130000"))
        reserve(uow, app, "cases/c1/vehicleChanges/v1", ["冀A54321"])
        with uow() as u:
            u.fleet.upsert_vehicle(app.party, replace(hand_fleet()[0], plate_number="冀A54321"), source="FLEET")
            u.commit()
        record(uow, event(app, "VEHICLE_CHANGED", 2, old_plate_number="冀A12345", new_plate_number="冀A54321"))
        assert "冀A54321" in [p.plate_number for p in get(uow, app).plates]
        assert store.holds == {}  # the application itself now holds the vehicle

    def test_a_withdrawn_application_holds_nothing_PQ_5_AP_6(self, uow: Callable[[], FakeUnitOfWork],
                                                              store: Store) -> None:
        others_on(uow, NEW_TRACTOR, n=1)
        app = submitted(uow)
        reserve(uow, app, "cases/c1/vehicleChanges/v1", [NEW_TRACTOR])
        svc.withdraw_application(uow(), principal=APPLICANT, name=app.name, now=NOW)
        assert store.holds == {}  # the pending change's hold went with the withdrawal
        assert others_on(uow, NEW_TRACTOR, n=1)[0].status == State.SUBMITTED
        with pytest.raises(PermitError) as e:
            reserve(uow, app, "cases/c1/vehicleChanges/v2", [NEW_TRACTOR])
        assert e.value.reason == "APPLICATION_NOT_ACTIVE"

    def test_only_a_peer_service_reserves(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = submitted(uow)
        with pytest.raises(PermitError) as e:
            holds.reserve_vehicle_time(uow(), principal=APPLICANT, application=app.name, key="k",
                                       plates=[NEW_TRACTOR], now=NOW)
        assert e.value.reason == "NOT_SERVICE"


class TestExtension:
    def issued(self, uow) -> Application:
        app = submitted(uow)
        record(uow, event(app, "CASE_ACCEPTED", 1, province="130000"))
        record(uow, event(app, "PERMIT_ISSUED", 2, permit="permits/p1", permit_number="冀2026-1",
                          permit_start_date=START, permit_end_date=END))
        return get(uow, app)

    def test_an_extension_into_two_later_applications_is_refused_PQ_11_AP_6(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        app = self.issued(uow)
        later = passage(start=END + DAY, end=END + 5 * DAY)
        submitted(uow, passage=later), submitted(uow, passage=later)
        with pytest.raises(PermitError) as e:
            reserve(uow, app, "permits/p1/extensions/e1", ["冀A12345", "冀B6789挂"], END + DAY, END + 3 * DAY)
        assert e.value.reason == "VEHICLE_TIME_CONFLICT"

    def test_the_extended_days_count_once_held_and_once_extended_PQ_11_AP_6(
            self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        app = self.issued(uow)
        submitted(uow, passage=passage(start=END + DAY, end=END + 5 * DAY))
        reserve(uow, app, "permits/p1/extensions/e1", ["冀A12345", "冀B6789挂"], END + DAY, END + 3 * DAY)
        with pytest.raises(PermitError):
            submitted(uow, passage=passage(start=END + 2 * DAY, end=END + 2 * DAY))
        record(uow, event(app, "PERMIT_EXTENDED", 3, permit_end_date=END + 3 * DAY))
        assert store.holds == {}
        with pytest.raises(PermitError):
            submitted(uow, passage=passage(start=END + 2 * DAY, end=END + 2 * DAY))


class TestDecisionEvents:
    """The approval's decision events name the hold (AP-6): a refusal gives it back, an
    approval replaces it with the application's own data; each once (idempotent)."""

    def test_a_refused_change_gives_its_vehicle_time_back_once_PQ_10_AP_6(
            self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        from permit.approval.v1 import events_pb2 as approval_events
        from permit.type.v1 import types_pb2
        from permit_application import event_handlers

        others_on(uow, NEW_TRACTOR, n=1)
        app = submitted(uow)
        reserve(uow, app, "cases/c1/vehicleChanges/v1", [NEW_TRACTOR])
        sink = event_handlers.sink(uow, lambda: NOW)
        refused = approval_events.VehicleChangeDecided(
            event_id="d1", application=types_pb2.ApplicationRef(name=app.name, number=app.number),
            applicant=app.party, province="130000", case="cases/c1", approved=False, reason="车辆不符",
            new_plate_number=NEW_TRACTOR, vehicle_change="cases/c1/vehicleChanges/v1")
        assert sink.handle(refused) is True
        assert store.holds == {}
        assert sink.handle(refused) is False  # a redelivery changes nothing
        assert others_on(uow, NEW_TRACTOR, n=1)[0].status == State.SUBMITTED  # the place is free again

    def test_an_abolished_permit_leaves_no_hold_of_a_pending_extension_AP_6(
            self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        from permit.approval.v1 import events_pb2 as approval_events
        from permit.type.v1 import types_pb2
        from permit_application import event_handlers

        app = TestExtension().issued(uow)
        reserve(uow, app, "permits/p1/extensions/e1", ["冀A12345", "冀B6789挂"], END + DAY, END + 3 * DAY)
        assert len(store.holds) == 2
        sink = event_handlers.sink(uow, lambda: NOW)
        ref = types_pb2.ApplicationRef(name=app.name, number=app.number)
        assert sink.handle(approval_events.PermitAbolished(
            event_id="ab1", application=ref, applicant=app.party, permit="permits/p1", reason="运输完成")) is True
        assert get(uow, app).permit_state == "ABOLISHED"
        assert store.holds == {}

    def test_a_refused_extension_gives_its_days_back_and_an_approved_one_replaces_them_PQ_11_AP_6(
            self, uow: Callable[[], FakeUnitOfWork], store: Store) -> None:
        from google.type import date_pb2

        from permit.approval.v1 import events_pb2 as approval_events
        from permit.type.v1 import types_pb2
        from permit_application import event_handlers

        app = TestExtension().issued(uow)
        sink = event_handlers.sink(uow, lambda: NOW)
        ref = {"application": types_pb2.ApplicationRef(name=app.name, number=app.number),
               "applicant": app.party, "case": "cases/c1", "permit": "permits/p1", "submission": 1}
        reserve(uow, app, "permits/p1/extensions/e1", ["冀A12345", "冀B6789挂"], END + DAY, END + 3 * DAY)
        assert sink.handle(approval_events.ExtensionDecided(event_id="x1", province="370000", approved=False,
                                                            reason="施工", extension="permits/p1/extensions/e1",
                                                            **ref)) is True
        assert store.holds == {}
        reserve(uow, app, "permits/p1/extensions/e2", ["冀A12345", "冀B6789挂"], END + DAY, END + 3 * DAY)
        new_end = END + 3 * DAY
        validity = types_pb2.DateRange(end_date=date_pb2.Date(year=new_end.year, month=new_end.month,
                                                              day=new_end.day))
        assert sink.handle(approval_events.ExtensionDecided(event_id="x2", province="370000", approved=True,
                                                            validity=validity, extension="permits/p1/extensions/e2",
                                                            **ref)) is True
        assert store.holds == {} and get(uow, app).period_end == new_end
        submitted(uow, passage=passage(start=END + 2 * DAY, end=END + 2 * DAY))
        with pytest.raises(PermitError) as e:  # the application's own new end date takes the day now
            submitted(uow, passage=passage(start=END + 2 * DAY, end=END + 2 * DAY))
        assert e.value.reason == "VEHICLE_TIME_CONFLICT"


class TestAllowedActions:
    def test_each_status_offers_the_manuals_actions_PQ_2(self, uow: Callable[[], FakeUnitOfWork]) -> None:
        today = NOW.date()
        app = submitted(uow)
        assert allowed_actions(app, today) == [Action.WITHDRAW, Action.CLONE]
        record(uow, event(app, "CASE_ACCEPTED", 1, province="130000"))
        assert allowed_actions(get(uow, app), today) == [Action.WITHDRAW, Action.CHANGE_VEHICLE, Action.CLONE]
        record(uow, event(app, "ROUTE_ADJUSTMENT_PROPOSED", 2, province="370000"))
        assert Action.RESPOND_TO_ADJUSTMENT in allowed_actions(get(uow, app), today)
        record(uow, event(app, "PERMIT_ISSUED", 3, permit="permits/p1", permit_number="冀2026-1",
                          permit_start_date=START, permit_end_date=END))
        issued = get(uow, app)
        assert allowed_actions(issued, today) == [Action.EXTEND, Action.ABOLISH, Action.CLONE]
        assert allowed_actions(issued, END + DAY) == [Action.CLONE]  # expired
        record(uow, event(app, "PERMIT_ABOLISHED", 4))
        assert allowed_actions(get(uow, app), today) == [Action.CLONE]

    def test_a_draft_a_returned_and_a_withdrawn_application_PQ_4_PQ_6(
            self, uow: Callable[[], FakeUnitOfWork]) -> None:
        today = NOW.date()
        app = submitted(uow)
        record(uow, event(app, "CASE_RETURNED", 1, reason="材料不清晰"))
        assert allowed_actions(get(uow, app), today) == [Action.CORRECT, Action.CLONE]
        other = submitted(uow)
        svc.withdraw_application(uow(), principal=APPLICANT, name=other.name, now=NOW)
        assert allowed_actions(get(uow, other), today) == [Action.CLONE]
        draft = svc.clone_application(uow(), principal=APPLICANT, name=other.name, now=NOW)
        assert allowed_actions(draft, today) == [Action.EDIT, Action.SUBMIT, Action.DELETE, Action.CLONE]
