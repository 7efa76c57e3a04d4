"""The check character of the resident identity number (GB 11643-1999, ISO 7064
MOD 11-2): a published, domain-free algorithm every context validates with.
What a context adds (a known province, a plausible birth year, its messages)
stays in the context."""

from __future__ import annotations

import datetime as dt
import re

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
_SHAPE = re.compile(r"\d{17}[\dX]")


def gb11643_check_char(first17: str) -> str:
    """The check character (0-9 or X) for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("the first 17 characters of an ID number are digits")
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def has_gb11643_shape(value: str) -> bool:
    """18 characters: 17 digits and a digit or X (upper case)."""
    return bool(_SHAPE.fullmatch(value))


def gb11643_birth_date(value: str) -> dt.date | None:
    """The birth date digits 7-14 encode, or None when they are no date."""
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def has_gb11643_check_char(value: str) -> bool:
    """An 18-character number whose last character is the check of the other 17."""
    return has_gb11643_shape(value) and gb11643_check_char(value[:17]) == value[17]
