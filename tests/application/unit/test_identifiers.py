"""AP-4 plate numbers, AP-8 ID numbers and phones."""

from __future__ import annotations

import pytest

from permit_application.identifiers import check_id_number, check_phone, check_plate, mask_id_number


@pytest.mark.parametrize(("plate", "kind"), [
    ("冀A12345", "ORDINARY"), ("苏E9X8Y7", "ORDINARY"), ("冀a 12345", "ORDINARY"),
    ("冀AD12345", "NEW_ENERGY"), ("京ADA1234", "NEW_ENERGY"), ("粤B12345D", "NEW_ENERGY"),
    ("冀B6789挂", "TRAILER"), ("鲁Q1A23挂", "TRAILER"),
])
def test_ordinary_new_energy_and_trailer_plates_are_accepted_AP_4(plate: str, kind: str) -> None:
    c = check_plate(plate)
    assert c.valid and c.kind == kind
    assert " " not in c.normalized and c.normalized == c.normalized.upper()


@pytest.mark.parametrize("plate", ["A12345", "冀A1234", "冀A123456", "冀AI2345", "冀AO2345", "冀A12345挂",
                                   "X冀12345", "冀AD12I45", "冀A12345678", ""])
def test_malformed_plates_are_refused_with_a_message_AP_4(plate: str) -> None:
    c = check_plate(plate)
    assert not c.valid and c.message


def test_resident_id_checksum_is_verified_AP_8() -> None:
    assert check_id_number("130102199001011237") is None
    assert check_id_number("37010219880611302x") is None  # lower-case x accepted
    assert "校验位" in (check_id_number("130102199001011238") or "")
    assert check_id_number("13010219900101123") is not None
    assert check_id_number("130102199013011237") is not None  # month 13


def test_id_numbers_are_masked_for_output_AP_8() -> None:
    assert mask_id_number("130102199001011237") == "130102********1237"


def test_phone_numbers_are_mainland_mobiles_AP_8() -> None:
    assert check_phone("13800138000") is None
    assert check_phone("12800138000") is not None
    assert check_phone("1380013800") is not None
