"""AP-5 classification (Art. 3 over-limit, Art. 15 classes, Art. 17 refusals) and
AP-9 required materials, as versioned rule data; boundaries are exact."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from permit_application import values as vo
from permit_application.rules import (
    RULES_DIR,
    MaterialInputs,
    classify,
    gross_limit,
    load_rule_sets,
    reference_overall,
    required_materials,
    rule_set_for,
)

RULES = rule_set_for(dt.date(2026, 12, 1))


def truck(axles: int = 2) -> list[vo.Vehicle]:
    return [vo.Vehicle(plate_number="冀A12345", kind="TRUCK", axle_count=axles, curb_mass_kg=8000)]


def train(tractor_axles: int = 3, trailer_axles: int = 3, trailer: str = "FLATBED_TRAILER") -> list[vo.Vehicle]:
    return [vo.Vehicle(plate_number="冀A12345", kind="TRACTOR", axle_count=tractor_axles, curb_mass_kg=8800),
            vo.Vehicle(plate_number="冀B6789挂", kind=trailer, axle_count=trailer_axles, curb_mass_kg=9500)]


def ov(h: int = 3000, w: int = 2500, length: int = 15000, gross: int = 40000, loads: list[int] | None = None,
       **kw: object) -> vo.Overall:
    return vo.Overall(total_mass_kg=gross, height_mm=h, width_mm=w, length_mm=length, axle_loads_kg=loads or [],
                      **kw)  # type: ignore[arg-type]


def test_on_every_art3_limit_the_combination_is_not_over_limit_and_needs_no_permit_AP_5() -> None:
    v = classify(RULES, truck(2), ov(h=4000, w=2550, length=18100, gross=18000))
    assert not v.over_limit and v.permit_class == 0
    assert v.rules[0].rule == "ART3_NOT_OVER_LIMIT"
    assert "无需办理" in v.message
    assert v.rule_set == "JT-2016-62@2016-09-21"


@pytest.mark.parametrize(("kw", "rule"), [
    ({"h": 4001}, "ART3_HEIGHT"), ({"w": 2551}, "ART3_WIDTH"), ({"length": 18101}, "ART3_LENGTH"),
])
def test_one_millimetre_over_an_art3_dimension_is_over_limit_AP_5(kw: dict[str, int], rule: str) -> None:
    base = dict(h=4000, w=2550, length=18100, gross=18000) | kw
    v = classify(RULES, truck(2), ov(**base))
    assert v.over_limit and v.permit_class == 1
    assert v.rules[0].rule == "ART15_CLASS1"
    assert rule in [r.rule for r in v.rules]


def test_one_kilogram_over_the_gross_limit_is_class_2_AP_5() -> None:
    v = classify(RULES, truck(2), ov(h=3000, w=2500, length=12000, gross=18001))
    assert (v.over_limit, v.permit_class) == (True, 2)
    assert v.rules[0].rule == "ART15_CLASS2_GROSS"
    assert "ART3_GROSS" in [r.rule for r in v.rules]


@pytest.mark.parametrize(("vehicles", "overall_kw", "limit"), [
    (truck(2), {}, 18000),
    (truck(3), {}, 25000),
    (train(2, 1, "OTHER_TRAILER"), {}, 27000),
    (truck(4), {}, 31000),
    (train(2, 2, "OTHER_TRAILER"), {}, 36000),
    (train(2, 3), {}, 43000),
    (train(3, 3), {}, 49000),
    (train(3, 3), {"single_drive_axle": True}, 46000),
    (train(3, 3), {"single_tyre_axle_count": 2}, 43000),
    (train(3, 4), {}, 49000),
])
def test_art3_gross_limit_by_axles_and_type_AP_5(vehicles: list[vo.Vehicle], overall_kw: dict[str, object],
                                                 limit: int) -> None:
    assert gross_limit(RULES, vehicles, ov(**overall_kw))[0] == limit  # type: ignore[arg-type]
    at = classify(RULES, vehicles, ov(gross=limit, **overall_kw))  # type: ignore[arg-type]
    over = classify(RULES, vehicles, ov(gross=limit + 1, **overall_kw))  # type: ignore[arg-type]
    assert not at.over_limit
    assert over.over_limit and over.permit_class == 2


@pytest.mark.parametrize(("kw", "cls", "rule"), [
    ({"h": 4200, "w": 3000, "length": 20000}, 1, "ART15_CLASS1"),
    ({"h": 4201}, 2, "ART15_CLASS2_HEIGHT"),
    ({"w": 3001}, 2, "ART15_CLASS2_WIDTH"),
    ({"length": 20001}, 2, "ART15_CLASS2_LENGTH"),
    ({"h": 4500, "w": 3750, "length": 28000, "gross": 100000}, 2, "ART15_CLASS2_HEIGHT"),
    ({"h": 4501}, 3, "ART15_CLASS3_HEIGHT"),
    ({"w": 3751}, 3, "ART15_CLASS3_WIDTH"),
    ({"length": 28001}, 3, "ART15_CLASS3_LENGTH"),
    ({"gross": 100001}, 3, "ART15_CLASS3_GROSS"),
])
def test_class_boundaries_stay_in_the_lower_class_AP_5(kw: dict[str, int], cls: int, rule: str) -> None:
    base = dict(h=4100, w=2600, length=18000, gross=40000) | kw
    v = classify(RULES, train(3, 3), ov(**base))
    assert v.permit_class == cls
    assert v.rules[0].rule == rule
    assert ["一类", "二类", "三类"][cls - 1] in v.message


@pytest.mark.parametrize(("loads", "refused", "rule"), [
    ([6000, 8000, 8000, 10000, 10000, 10000], False, None),
    ([6000, 8000, 8000, 10000, 10000, 10001], True, "ART17_FLATBED_AVERAGE_AXLE"),
    ([6000, 8000, 8000, 13000, 8000, 8000], False, None),
    ([6000, 8000, 8000, 13001, 8000, 8000], True, "ART17_FLATBED_AXLE"),
])
def test_flatbed_trailer_axle_load_refusals_AP_5(loads: list[int], refused: bool, rule: str | None) -> None:
    v = classify(RULES, train(3, 3), ov(h=4100, gross=sum(loads), loads=loads))
    assert v.refused is refused
    if rule:
        assert v.rules[0].rule == rule and v.message.startswith("不予许可")


@pytest.mark.parametrize(("trailer_loads", "refused", "rule"), [
    ([9000, 9000, 9000, 9000], False, None),
    ([9000, 9001, 9000, 9000], True, "ART17_HYDRAULIC_AVERAGE_LINE"),
    ([10000, 10000, 8000, 8000], False, None),
    ([10000, 10001, 7000, 7000], True, "ART17_HYDRAULIC_LINE"),
])
def test_hydraulic_trailer_axle_line_refusals_AP_5(trailer_loads: list[int], refused: bool, rule: str | None) -> None:
    vehicles = train(3, 4, "HYDRAULIC_TRAILER")
    loads = [7000, 9000, 9000, *trailer_loads]
    v = classify(RULES, vehicles, ov(h=4100, gross=sum(loads), loads=loads))
    assert v.refused is refused
    if rule:
        assert v.rules[0].rule == rule


def test_a_newer_rule_set_applies_from_its_effective_date(tmp_path: Path) -> None:
    shutil.copy(RULES_DIR / "jt-2016-62.json", tmp_path / "a.json")
    newer = json.loads((RULES_DIR / "jt-2016-62.json").read_text(encoding="utf-8"))
    newer["id"], newer["effective_date"] = "PROVINCE-TIGHTER", "2027-01-01"
    newer["over_limit"]["max_height_mm"] = 3900
    (tmp_path / "b.json").write_text(json.dumps(newer), encoding="utf-8")
    sets = load_rule_sets(tmp_path)
    old = rule_set_for(dt.date(2026, 12, 31), sets)
    new = rule_set_for(dt.date(2027, 1, 1), sets)
    assert old.id == "JT-2016-62" and new.id == "PROVINCE-TIGHTER"
    v_old, v_new = classify(old, truck(2), ov(h=3950, gross=10000)), classify(new, truck(2), ov(h=3950, gross=10000))
    assert not v_old.over_limit
    assert v_new.over_limit and v_new.rule_set == "PROVINCE-TIGHTER@2027-01-01"
    with pytest.raises(LookupError):
        rule_set_for(dt.date(2000, 1, 1), sets)


def test_reference_values_are_derived_from_vehicles_and_cargo_AP_5() -> None:
    vehicles = [vo.Vehicle(axle_count=3, curb_mass_kg=8800, wheelbase_mm=3300, length_mm=6900, width_mm=2500,
                           height_mm=3350),
                vo.Vehicle(axle_count=3, curb_mass_kg=9500, wheelbase_mm=7600, length_mm=13000, width_mm=3000,
                           height_mm=1600)]
    ref = reference_overall(vehicles, vo.Cargo(weight_kg=30001, length_mm=14000, width_mm=2800, height_mm=2500))
    assert ref.total_mass_kg == 48301 and sum(ref.axle_loads_kg) == 48301 and len(ref.axle_loads_kg) == 6
    assert (ref.length_mm, ref.width_mm, ref.height_mm) == (14000, 3000, 3350)
    assert len(ref.axle_spacings_mm) == 5 and sum(ref.axle_spacings_mm) == 3300 + 7600


def _kinds(reqs: list) -> list[tuple[str, int]]:  # type: ignore[type-arg]
    return [(r.kind, r.required) for r in reqs]


def test_class_3_needs_three_outline_drawings_and_an_escort_plan_AP_9() -> None:
    reqs = required_materials(RULES, MaterialInputs(permit_class=3, materials=[vo.Material("OUTLINE_DRAWING", "documents/a")]))
    assert _kinds(reqs) == [("OUTLINE_DRAWING", 3), ("ESCORT_PLAN", 1)]
    assert reqs[0].provided == 1 and reqs[0].missing


def test_class_1_and_2_need_no_drawings_AP_9() -> None:
    assert required_materials(RULES, MaterialInputs(permit_class=2)) == []


def test_multi_trip_needs_a_transport_plan_AP_9() -> None:
    reqs = required_materials(RULES, MaterialInputs(permit_class=1, passage=vo.Passage(multi_trip=True)))
    assert _kinds(reqs) == [("TRANSPORT_PLAN", 1)]


def test_hand_entered_vehicles_and_agent_need_their_images_AP_9() -> None:
    data = MaterialInputs(
        permit_class=1,
        vehicles=[vo.Vehicle(plate_number="冀A12345", source="FLEET"),
                  vo.Vehicle(plate_number="冀C11111挂", source="MANUAL", licence_documents=["documents/l1"])],
        agent=vo.Agent(source="MANUAL", id_card_documents=["documents/f", "documents/b"]))
    reqs = required_materials(RULES, data)
    assert [(r.kind, r.field, r.missing) for r in reqs] == [
        ("VEHICLE_LICENCE", "vehicles[1].licence_documents", True),
        ("AGENT_ID_CARD", "agent.id_card_documents", False),
        ("POWER_OF_ATTORNEY", "agent.power_of_attorney_document", True),
    ]


@given(h=st.integers(1000, 6000), w=st.integers(1000, 5000), length=st.integers(5000, 40000),
       gross=st.integers(10000, 150000), bump=st.sampled_from(["h", "w", "length", "gross"]),
       by=st.integers(1, 5000))
def test_a_larger_combination_never_gets_a_lower_class_AP_5(h: int, w: int, length: int, gross: int, bump: str,
                                                           by: int) -> None:
    base = dict(h=h, w=w, length=length, gross=gross)
    bigger = base | {bump: base[bump] + by}
    a, b = classify(RULES, train(3, 3), ov(**base)), classify(RULES, train(3, 3), ov(**bigger))
    assert b.permit_class >= a.permit_class
    assert b.over_limit >= a.over_limit
    assert (a.permit_class == 0) == (not a.over_limit)
