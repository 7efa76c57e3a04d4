"""Check digits and masking of the two party identifiers: the unified social
credit code (GB 32100-2015) and the resident ID number (GB 11643-1999)."""

from __future__ import annotations

from permit_identity.provinces import province_of_division
from permitkit import dates
from permitkit.identifiers import gb11643_birth_date, gb11643_check_char, has_gb11643_check_char

# GB 32100: 31 characters, no I, O, Z, S, V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalise(value: str) -> str:
    """Upper case without surrounding or inner blanks (users paste `9113 0100 ...`)."""
    return "".join(value.split()).upper()


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    """True for an 18-character code from the GB 32100 alphabet with a correct check character."""
    code = normalise(value)
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def id_check_char(first17: str) -> str:
    """The GB 11643 check character (0-9 or X) for the first 17 digits."""
    return gb11643_check_char(first17)


def is_valid_id_number(value: str) -> bool:
    """True for an 18-character resident ID number: digits, a real birth date, a
    known province and the right check character."""
    n = normalise(value)
    if not has_gb11643_check_char(n):
        return False
    born = gb11643_birth_date(n)
    if born is None or born.year < 1900 or born > dates.today():
        return False
    return province_of_division(n[:6]) is not None


def province_of_uscc(value: str) -> str | None:
    """The province of a USCC's registration division (characters 3-8)."""
    return province_of_division(normalise(value)[2:8])


def province_of_id_number(value: str) -> str | None:
    """The province of an ID number's address code (digits 1-6)."""
    return province_of_division(normalise(value)[:6])


def mask_id_number(value: str) -> str:
    """`130102199003071234` -> `1301**********1234`: ID numbers never leave whole."""
    n = normalise(value)
    if len(n) <= 8:
        return "*" * len(n)
    return n[:4] + "*" * (len(n) - 8) + n[-4:]
