"""Check digits of the party identifiers (GB 32100 USCC, GB 11643 ID number): ID-3, ID-4."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from permit_identity import identifiers as ids


class TestUscc:
    def test_demo_code_is_valid_ID_3(self) -> None:
        assert ids.is_valid_uscc("91130100MA0DPQ7R8A")

    def test_lower_case_and_blanks_are_normalised_ID_3(self) -> None:
        assert ids.is_valid_uscc(" 9113 0100ma0dpq7r8a ")

    def test_wrong_check_character_is_refused_ID_3(self) -> None:
        assert not ids.is_valid_uscc("91130100MA0DPQ7R8B")

    def test_letters_outside_the_gb32100_alphabet_are_refused_ID_3(self) -> None:
        # I, O, Z, S, V are not used by GB 32100.
        code = "91130100MA0DPQ7RI"
        assert not ids.is_valid_uscc(code + "0")
        assert not any(ids.is_valid_uscc(code + c) for c in ids.USCC_ALPHABET)

    def test_wrong_length_is_refused_ID_3(self) -> None:
        assert not ids.is_valid_uscc("91130100MA0DPQ7R8")
        assert not ids.is_valid_uscc("")

    @given(st.text(alphabet=ids.USCC_ALPHABET, min_size=17, max_size=17))
    def test_exactly_one_check_character_fits_any_body_ID_3(self, body: str) -> None:
        fits = [c for c in ids.USCC_ALPHABET if ids.is_valid_uscc(body + c)]
        assert fits == [ids.uscc_check_char(body)]

    def test_province_comes_from_the_registration_division_ID_5(self) -> None:
        assert ids.province_of_uscc("91130100MA0DPQ7R8A") == "130000"
        assert ids.province_of_uscc("91370100MA3C5LQ011") == "370000"


class TestIdNumber:
    def test_standard_example_with_x_check_is_valid_ID_3(self) -> None:
        # The example number printed in GB 11643-1999.
        assert ids.is_valid_id_number("11010519491231002X")
        assert ids.is_valid_id_number("11010519491231002x")

    def test_wrong_check_digit_is_refused_ID_3(self) -> None:
        assert not ids.is_valid_id_number("110105194912310021")

    def test_impossible_birth_date_is_refused_ID_3(self) -> None:
        body = "11010519490231002"  # 31 February
        assert not ids.is_valid_id_number(body + ids.id_check_char(body))

    def test_unknown_province_is_refused_ID_3(self) -> None:
        body = "99010519491231002"
        assert not ids.is_valid_id_number(body + ids.id_check_char(body))

    def test_letters_are_refused_ID_3(self) -> None:
        assert not ids.is_valid_id_number("1101051949123100AX")

    @given(st.dates(min_value=__import__("datetime").date(1920, 1, 1),
                    max_value=__import__("datetime").date(2008, 12, 31)),
           st.text(alphabet=string.digits, min_size=3, max_size=3))
    def test_exactly_one_check_character_fits_ID_3(self, born, seq: str) -> None:  # type: ignore[no-untyped-def]
        body = f"130102{born:%Y%m%d}{seq}"
        fits = [c for c in "0123456789X" if ids.is_valid_id_number(body + c)]
        assert fits == [ids.id_check_char(body)]

    def test_mask_keeps_only_four_characters_each_end(self) -> None:
        assert ids.mask_id_number("130102199003075218") == "1301**********5218"
