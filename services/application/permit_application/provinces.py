"""Province codes (GB/T 2260) of passages and route rows; a copy of the reference data."""

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


def province_name(code: str) -> str:
    return PROVINCES.get(code, code)


def ordered_distinct(provinces: list[str]) -> list[str]:
    """Distinct provinces in first-seen order (the approving provinces of a route)."""
    seen: list[str] = []
    for p in provinces:
        if p and p not in seen:
            seen.append(p)
    return seen
