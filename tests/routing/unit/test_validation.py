"""AP-7a route validation: origin first, destination last (or confirmed), adjacency."""

from __future__ import annotations

import pytest

from permit_routing import services
from permit_routing.errors import RouteTooLong
from permit_routing.reference import load_reference_data
from permit_routing.routes import Row
from permit_routing.validation import validate_route

REF = load_reference_data()
BJ, TJ, HE, SD, HA, HB, HN, GD, HI, GX = ("110000", "120000", "130000", "370000", "410000", "420000",
                                          "430000", "440000", "460000", "450000")


def check(origin: str, destination: str, *rows: Row):  # type: ignore[no-untyped-def]
    return validate_route(REF, origin=origin, destination=destination, rows=list(rows))


def reasons(problems) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.reason for p in problems]


def test_a_clean_route_is_valid_and_lists_approving_provinces_in_order_AP_7a() -> None:
    result = check(HE, HB, Row(HE, ("G4",)), Row(HA, ("G4",)), Row(HB, ("G4",)))
    assert result.valid
    assert result.errors == () and result.warnings == ()
    assert result.approving_provinces == (HE, HA, HB)
    assert result.rows[0].roads == ("G4京港澳高速",)


def test_first_row_must_be_the_origin_province_AP_7a() -> None:
    result = check(HE, HB, Row(HA, ("G4",)), Row(HB, ("G4",)))
    assert not result.valid
    assert reasons(result.errors) == ["FIRST_ROW_NOT_ORIGIN"]
    assert result.errors[0].field == "rows[0].province"
    assert result.approving_provinces[0] == HE  # origin first even then


def test_last_row_not_destination_is_a_warning_to_confirm_AP_7a() -> None:
    """Re-entering a province: HE -> HA -> HB -> HA; destination HB is not last."""
    result = check(HE, HB, Row(HE, ("G4",)), Row(HA, ("G4",)), Row(HB, ("G4",)), Row(HA, ("G55",)))
    assert result.valid
    assert reasons(result.warnings) == ["LAST_ROW_NOT_DESTINATION"]
    w = result.warnings[0]
    assert w.field == "rows[3].province" and w.line == 4
    assert "请确认" in w.message
    assert result.approving_provinces == (HE, HA, HB)  # distinct, in travel order


def test_destination_never_reached_is_an_error_AP_7a() -> None:
    result = check(HE, HB, Row(HE, ("G4",)), Row(HA, ("G4",)))
    assert reasons(result.errors) == ["DESTINATION_NOT_ON_ROUTE"]


def test_non_adjacent_consecutive_provinces_warn_naming_the_pair_AP_7a() -> None:
    result = check(HE, HB, Row(HE, ("G4",)), Row(HB, ("G4",)))
    assert result.valid
    assert reasons(result.warnings) == ["PROVINCES_NOT_ADJACENT"]
    w = result.warnings[0]
    assert w.provinces == (HE, HB)
    assert "河北省" in w.message and "湖北省" in w.message
    assert w.field == "rows[1].province"


def test_guangdong_hainan_ferry_counts_as_adjacent_AP_7a() -> None:
    result = check(HN, HI, Row(HN, ("G4",)), Row(GD, ("G15",)), Row(HI, ("G15",)))
    assert result.valid and result.warnings == ()


def test_guangxi_hainan_has_no_link_AP_7a() -> None:
    result = check(GX, HI, Row(GX, ("G75",)), Row(HI, ("G75",)))
    assert reasons(result.warnings) == ["PROVINCES_NOT_ADJACENT"]


def test_same_province_twice_in_a_row_warns() -> None:
    result = check(HE, HA, Row(HE, ("G4",)), Row(HE, ("G45",)), Row(HA, ("G4",)))
    assert reasons(result.warnings) == ["SAME_PROVINCE_REPEATED"]


@pytest.mark.parametrize(("rows", "reason", "field"), [
    ([], "ROUTE_EMPTY", "rows"),
    ([Row(HE, ())], "ROW_WITHOUT_ROADS", "rows[0].roads"),
    ([Row(HE, ("G4", " "))], "EMPTY_ROAD", "rows[0].roads[1]"),
    ([Row(HE, ("G4",)), Row("999999", ("G4",))], "UNKNOWN_PROVINCE", "rows[1].province"),
    ([Row(HE, ("G4",)), Row("", ("G4",))], "PROVINCE_REQUIRED", "rows[1].province"),
])
def test_row_errors_name_the_field_AP_7a(rows: list[Row], reason: str, field: str) -> None:
    result = validate_route(REF, origin=HE, destination=HE, rows=rows)
    assert (reason, field) in [(p.reason, p.field) for p in result.errors]
    assert not result.valid


def test_missing_and_unknown_origin_destination_AP_7a() -> None:
    result = check("", "123", Row(HE, ("G4",)))
    assert [(p.reason, p.field) for p in result.errors] == [
        ("ORIGIN_REQUIRED", "origin_province"), ("UNKNOWN_PROVINCE", "destination_province")]


def test_rows_can_be_added_and_removed_and_revalidated_AP_7a() -> None:
    rows = [Row(HE, ("G4",)), Row(HB, ("G4",))]
    assert reasons(check(HE, HB, *rows).warnings) == ["PROVINCES_NOT_ADJACENT"]
    rows.insert(1, Row(HA, ("G4",)))  # add the missing province
    assert check(HE, HB, *rows).warnings == ()
    del rows[1]
    assert reasons(check(HE, HB, *rows).warnings) == ["PROVINCES_NOT_ADJACENT"]


def test_single_province_route_is_valid() -> None:
    result = check(HE, HE, Row(HE, ("G4",)))
    assert result.valid and result.approving_provinces == (HE,)


def test_too_many_rows_is_rejected_by_the_use_case() -> None:
    with pytest.raises(RouteTooLong) as e:
        services.validate_route(REF, origin_province=HE, destination_province=HA,
                                rows=[Row(HE, ("G4",))] * 101)
    assert e.value.field == "rows"
