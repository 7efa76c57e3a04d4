"""Province codes (GB/T 2260) that scope officers and parties; a copy of the reference data."""

from __future__ import annotations

import csv
from pathlib import Path

# Routing owns the province reference data; data/provinces.csv is a copy of
# services/routing/permit_routing/data/provinces.csv (a test keeps them equal).
_DATA = Path(__file__).resolve().parent / "data" / "provinces.csv"
with _DATA.open(encoding="utf-8", newline="") as _f:
    PROVINCES: dict[str, str] = {row["code"]: row["name"] for row in csv.DictReader(_f)}


def is_province(code: str) -> bool:
    """True for one of the 31 provincial-level division codes."""
    return code in PROVINCES


def province_of_division(division: str) -> str | None:
    """The province of a 6-digit administrative division code (`130102` -> `130000`)."""
    if len(division) < 2 or not division[:2].isdigit():
        return None
    code = division[:2] + "0000"
    return code if code in PROVINCES else None
