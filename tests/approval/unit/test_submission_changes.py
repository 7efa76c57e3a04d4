"""What changed between two submissions, field by field (RV-2, PQ-6)."""

from __future__ import annotations

from permit.application.v1 import application_pb2, events_pb2
from permit_approval.models import FieldChange, changes_between


def _submitted(**kw: object) -> events_pb2.SubmittedApplication:
    base = events_pb2.SubmittedApplication(
        submission=1, permit_class=2,
        cargo=application_pb2.Cargo(name="变压器", weight_kg=30000),
        vehicles=[application_pb2.Vehicle(plate_number="冀A12345", curb_mass_kg=9000, axle_count=3)])
    base.MergeFrom(events_pb2.SubmittedApplication(**kw))  # type: ignore[arg-type]
    return base


def test_a_changed_figure_is_listed_with_its_path_and_both_values_RV_2() -> None:
    before = _submitted()
    after = _submitted(submission=2)
    after.cargo.weight_kg = 28000
    assert changes_between(before, after) == [FieldChange("cargo.weight_kg", "30000", "28000")]


def test_the_submission_number_alone_is_no_change_RV_2() -> None:
    assert changes_between(_submitted(), _submitted(submission=2)) == []


def test_list_items_are_compared_by_position_and_added_or_removed_fields_show_empty_RV_2() -> None:
    before = _submitted()
    after = _submitted(submission=2)
    after.vehicles[0].axle_count = 4
    after.vehicles.add(plate_number="冀B6789挂")
    after.cargo.ClearField("name")
    changes = {c.field: (c.before, c.after) for c in changes_between(before, after)}
    assert changes == {"vehicles[0].axle_count": ("3", "4"), "vehicles[1].plate_number": ("", "冀B6789挂"),
                       "cargo.name": ("变压器", "")}


def test_scalar_lists_are_one_value_RV_2() -> None:
    before = _submitted(route_provinces=["130000", "370000"])
    after = _submitted(route_provinces=["130000", "320000"])
    assert changes_between(before, after) == [
        FieldChange("route_provinces", "130000, 370000", "130000, 320000")]
