"""AP-3: tonnes/metres with up to three decimals, stored exactly as kg/mm."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as s

from permit_application.quantities import QuantityError, check_range, format_thousandths, parse_thousandths


@pytest.mark.parametrize(("text", "value"), [
    ("12.5", 12500), ("12.500", 12500), ("12", 12000), ("0.001", 1), ("12.05", 12050), (".5", 500),
    (" 3.25 ", 3250), ("7.", 7000), ("1，5", 1500),
])
def test_up_to_three_decimals_are_stored_exactly_AP_3(text: str, value: int) -> None:
    assert parse_thousandths(text, unit="吨") == value


@pytest.mark.parametrize(("value", "text"), [(12500, "12.500"), (1, "0.001"), (12000, "12.000"), (100050, "100.050")])
def test_values_are_shown_with_three_decimals_AP_3(value: int, text: str) -> None:
    assert format_thousandths(value) == text


@pytest.mark.parametrize(("text", "reason"), [
    ("12.5001", "TOO_MANY_DECIMALS"), ("-1", "NEGATIVE"), ("0", "ZERO"), ("0.000", "ZERO"),
    ("abc", "NOT_A_NUMBER"), ("", "NOT_A_NUMBER"), ("1.2.3", "NOT_A_NUMBER"), (".", "NOT_A_NUMBER"),
])
def test_bad_inputs_get_a_reason_and_a_chinese_message_AP_3(text: str, reason: str) -> None:
    with pytest.raises(QuantityError) as e:
        parse_thousandths(text, unit="吨")
    assert e.value.reason == reason
    assert any("\u4e00" <= ch <= "\u9fff" for ch in e.value.message)


def test_absurd_values_are_refused_AP_3() -> None:
    with pytest.raises(QuantityError) as e:
        check_range(2_000_001, minimum=1, maximum=2_000_000, unit="吨")
    assert e.value.reason == "TOO_LARGE"
    check_range(2_000_000, minimum=1, maximum=2_000_000, unit="吨")


@given(s.integers(min_value=1, max_value=10**9))
def test_format_then_parse_round_trips_AP_3(value: int) -> None:
    assert parse_thousandths(format_thousandths(value), unit="米") == value
