"""The PC side through the API (PC-1): the carrier keeps its vehicles and agents;
what it keeps is what the form suggests (AP-4, AP-8) and what a vehicle change may
switch to (PQ-10); retiring stops the suggestion, never the permits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pytest

from permit_application import services as svc
from permit_application import values as vo
from permit_application.access import DocumentRef
from permit_application.services import StepInput
from permitkit.context import Principal
from permitkit.errors import FieldViolation, PermitError
from tests.application.conftest import APPLICANT, NOW, OTHER, SERVICE, manual_agent
from tests.application.unit.fakes import FakeUnitOfWork

OFFICER = Principal(subject="officers/o1", roles=frozenset({"officer.accept"}), province="130000")


def tractor(**kw: object) -> vo.Vehicle:
    v = vo.Vehicle(plate_number="冀F66666", vehicle_type="重型半挂牵引车", make_model="东风牌DFH4250",
                   curb_mass_kg=8900, axle_count=3, wheelbase_mm=3800, tyre_count=10, length_mm=7000,
                   width_mm=2500, height_mm=3400, licence_documents=["documents/f1", "documents/f2"])
    return replace(v, **kw)  # type: ignore[arg-type]


class KindChecker:
    """Documents as the documents service would answer: each reference's kind."""

    def __init__(self, kinds: dict[str, str]) -> None:
        self.kinds = kinds
        self.seen: list[DocumentRef] = []

    def check(self, refs: list[DocumentRef]) -> list[FieldViolation]:
        self.seen += refs
        out = []
        for r in refs:
            kind = self.kinds.get(r.document)
            if kind is None:
                out.append(FieldViolation(r.field, "材料不存在或已删除，请重新上传。", "DOCUMENT_NOT_FOUND"))
            elif r.kinds and kind not in r.kinds:
                out.append(FieldViolation(r.field, "上传的材料类型与所需材料不符，请重新上传。", "DOCUMENT_KIND_MISMATCH"))
        return out


def test_a_kept_vehicle_is_suggested_listed_and_fills_the_form_PC_1_AP_4(uow: Callable[[], FakeUnitOfWork]) -> None:
    row = svc.create_fleet_vehicle(uow(), principal=APPLICANT, vehicle=tractor(plate_number="冀f66666"), now=NOW)
    assert (row.plate_number, row.source, row.kind, row.retire_time) == ("冀F66666", "FLEET", "TRACTOR", None)
    assert [v.plate_number for v in svc.suggest_vehicles(uow(), principal=APPLICANT, plate_prefix="F66").items] == [
        "冀F66666"]
    kept = [v.plate_number for v in svc.list_fleet_vehicles(uow(), principal=APPLICANT).items]
    assert "冀F66666" in kept and "冀A12345" in kept
    # The service asking for a vehicle change sees it as a PC-side vehicle (PQ-10).
    assert svc.get_vehicle(uow(), principal=SERVICE, name=row.name).source == "FLEET"
    # Nobody else sees it.
    assert svc.suggest_vehicles(uow(), principal=OTHER, plate_prefix="F66").items == []
    with pytest.raises(PermitError) as e:
        svc.retire_fleet_vehicle(uow(), principal=OTHER, name=row.name, now=NOW)
    assert e.value.reason == "VEHICLE_NOT_FOUND"


def test_the_form_checks_apply_plate_ranges_and_two_licence_images_PC_1_AP_4(
        uow: Callable[[], FakeUnitOfWork]) -> None:
    bad = tractor(plate_number="X12345", axle_count=0, wheelbase_mm=99_999_999, licence_documents=["documents/f1"])
    with pytest.raises(PermitError) as e:
        svc.create_fleet_vehicle(uow(), principal=APPLICANT, vehicle=bad, now=NOW)
    fields = {v.field: v.reason for v in e.value.violations}
    assert e.value.reason == "INVALID_FIELD"
    assert fields["vehicle.plate_number"] == "PLATE_INVALID"
    assert fields["vehicle.axle_count"] == "REQUIRED"
    assert fields["vehicle.wheelbase_mm"] == "OUT_OF_RANGE" or "vehicle.wheelbase_mm" in fields
    assert fields["vehicle.licence_documents"] == "LICENCE_IMAGES_REQUIRED"
    # Images must be licence images (the documents service holds each at most 1 MB).
    docs = KindChecker({"documents/f1": "VEHICLE_LICENCE", "documents/f2": "ID_CARD_FRONT"})
    with pytest.raises(PermitError) as e:
        svc.create_fleet_vehicle(uow(), principal=APPLICANT, vehicle=tractor(), now=NOW, document_checker=docs)
    assert [(v.field, v.reason) for v in e.value.violations] == [
        ("vehicle.licence_documents", "DOCUMENT_KIND_MISMATCH")]
    assert svc.suggest_vehicles(uow(), principal=APPLICANT, plate_prefix="F66").items == []


def test_officers_are_refused_and_a_plate_is_kept_once_PC_1(uow: Callable[[], FakeUnitOfWork]) -> None:
    with pytest.raises(PermitError) as e:
        svc.create_fleet_vehicle(uow(), principal=OFFICER, vehicle=tractor(), now=NOW)
    assert e.value.reason == "NOT_APPLICANT"
    with pytest.raises(PermitError) as e:
        svc.list_fleet_agents(uow(), principal=OFFICER)
    assert e.value.reason == "NOT_APPLICANT"
    svc.create_fleet_vehicle(uow(), principal=APPLICANT, vehicle=tractor(), now=NOW)
    with pytest.raises(PermitError) as e:
        svc.create_fleet_vehicle(uow(), principal=APPLICANT, vehicle=tractor(), now=NOW)
    assert (e.value.reason, e.value.field) == ("VEHICLE_EXISTS", "vehicle.plate_number")


def test_a_change_keeps_the_plate_and_rechecks_the_whole_PC_1(uow: Callable[[], FakeUnitOfWork]) -> None:
    row = svc.create_fleet_vehicle(uow(), principal=APPLICANT, vehicle=tractor(), now=NOW)
    later = NOW + dt.timedelta(hours=1)
    row = svc.update_fleet_vehicle(uow(), principal=APPLICANT, name=row.name,
                                   vehicle=vo.Vehicle(curb_mass_kg=9100, plate_number="冀Z00000"),
                                   update_mask=["curb_mass_kg"], now=later)
    assert (row.plate_number, row.curb_mass_kg, row.wheelbase_mm, row.update_time) == ("冀F66666", 9100, 3800, later)
    with pytest.raises(PermitError) as e:
        svc.update_fleet_vehicle(uow(), principal=APPLICANT, name=row.name, vehicle=vo.Vehicle(tyre_count=0),
                                 update_mask=["tyre_count"], now=later)
    assert [(v.field, v.reason) for v in e.value.violations] == [("vehicle.tyre_count", "REQUIRED")]
    with pytest.raises(PermitError) as e:
        svc.update_fleet_vehicle(uow(), principal=APPLICANT, name=row.name, vehicle=vo.Vehicle(),
                                 update_mask=["plate_number"], now=later)
    assert e.value.violations[0].reason == "INVALID_UPDATE_MASK"


def test_a_retired_vehicle_is_no_longer_suggested_but_stays_on_applications_PC_1_PQ_10(
        uow: Callable[[], FakeUnitOfWork]) -> None:
    from tests.application.unit.test_use_cases import submitted

    app = submitted(uow)
    (a12345,) = [v for v in svc.list_fleet_vehicles(uow(), principal=APPLICANT).items if v.plate_number == "冀A12345"]
    retired = svc.retire_fleet_vehicle(uow(), principal=APPLICANT, name=a12345.name, now=NOW)
    assert retired.retire_time == NOW
    again = svc.retire_fleet_vehicle(uow(), principal=APPLICANT, name=a12345.name, now=NOW + dt.timedelta(days=1))
    assert again.retire_time == NOW
    assert svc.suggest_vehicles(uow(), principal=APPLICANT, plate_prefix="A123").items == []
    assert "冀A12345" not in [v.plate_number for v in svc.list_fleet_vehicles(uow(), principal=APPLICANT).items]
    assert "冀A12345" in [v.plate_number for v in
                         svc.list_fleet_vehicles(uow(), principal=APPLICANT, show_retired=True).items]
    kept = svc.get_application(uow(), principal=APPLICANT, name=app.name)
    assert [v.plate_number for v in kept.vehicle_values][0] == "冀A12345"
    with pytest.raises(PermitError) as e:
        svc.update_fleet_vehicle(uow(), principal=APPLICANT, name=a12345.name, vehicle=tractor(), update_mask=[],
                                 now=NOW)
    assert e.value.reason == "VEHICLE_RETIRED"
    # Adding the plate again takes it back with the figures now given.
    back = svc.create_fleet_vehicle(uow(), principal=APPLICANT, vehicle=tractor(plate_number="冀A12345"), now=NOW)
    assert (back.id, back.retire_time, back.make_model) == (a12345.id, None, "东风牌DFH4250")


def test_kept_agents_are_checked_suggested_changed_and_retired_PC_1_AP_8(uow: Callable[[], FakeUnitOfWork]) -> None:
    with pytest.raises(PermitError) as e:
        svc.create_fleet_agent(uow(), principal=APPLICANT, now=NOW,
                               agent=replace(manual_agent(), id_number="130102199001011230", id_card_documents=[]))
    assert {v.field for v in e.value.violations} == {"agent.id_number", "agent.id_card_documents"}
    docs = KindChecker({"documents/id-front": "ID_CARD_FRONT", "documents/id-back": "ID_CARD_BACK",
                        "documents/poa": "POWER_OF_ATTORNEY"})
    row = svc.create_fleet_agent(uow(), principal=APPLICANT, agent=manual_agent(), now=NOW, document_checker=docs)
    assert len(docs.seen) == 3 and row.source == "FLEET"
    with pytest.raises(PermitError) as e:
        svc.create_fleet_agent(uow(), principal=APPLICANT, agent=manual_agent(), now=NOW)
    assert e.value.reason == "AGENT_EXISTS"
    row = svc.update_fleet_agent(uow(), principal=APPLICANT, name=row.name, agent=vo.Agent(phone="13700137001"),
                                 update_mask=["phone"], now=NOW)
    assert (row.phone, row.id_number) == ("13700137001", manual_agent().id_number)
    (s,) = svc.suggest_agents(uow(), principal=APPLICANT, name_prefix="张").items
    assert s.name == row.name
    svc.retire_fleet_agent(uow(), principal=APPLICANT, name=row.name, now=NOW)
    assert svc.suggest_agents(uow(), principal=APPLICANT, name_prefix="张").items == []
    # A retired agent can no longer be chosen in the form either.
    from tests.application.unit.test_use_cases import new_draft

    with pytest.raises(PermitError) as e:
        svc.update_application(uow(), principal=APPLICANT, name=new_draft(uow).name, etag="", now=NOW,
                               steps=StepInput(agent=vo.Agent(agent_ref=row.name)))
    assert [v.reason for v in e.value.violations] == ["AGENT_NOT_FOUND"]
