"""Routing owns the province reference data (GB/T 2260, AP-7): the contexts that
need code -> name (identity for officers and parties, ID-6; application for
passages, AP-7) keep a copy of routing's provinces.csv, never a table of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OWNER = ROOT / "services/routing/permit_routing/data/provinces.csv"


@pytest.mark.parametrize("ctx", ["identity", "application"])
def test_the_province_table_is_a_copy_of_routings(ctx: str) -> None:
    copy = ROOT / f"services/{ctx}/permit_{ctx}/data/provinces.csv"
    assert copy.read_bytes() == OWNER.read_bytes(), (
        f"copy {OWNER.relative_to(ROOT)} to {copy.relative_to(ROOT)} after a new routing data version")


@pytest.mark.parametrize("ctx", ["identity", "application"])
def test_the_copy_loads_the_31_provinces(ctx: str) -> None:
    import importlib

    provinces = importlib.import_module(f"permit_{ctx}.provinces")
    assert len(provinces.PROVINCES) == 31
    assert provinces.PROVINCES["130000"] == "河北省" and provinces.is_province("650000")
    assert not provinces.is_province("130100")
