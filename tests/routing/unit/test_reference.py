"""Routing reference data (AP-7): provinces, adjacency with the 粤-琼 ferry, expressways."""

from __future__ import annotations

import hashlib

import pytest

from permit_routing.reference import DATA_DIR, Link, load_reference_data

REF = load_reference_data()


def test_the_31_provinces_with_gbt_2260_codes_AP_7() -> None:
    codes = [p.code for p in REF.provinces]
    assert len(codes) == 31 == len(set(codes))
    assert all(len(c) == 6 and c.endswith("0000") for c in codes)
    assert REF.province("130000").name == "河北省"  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["河北", "冀", "河北省", " 河 北 "])
def test_every_alias_names_the_same_province_AP_7b(name: str) -> None:
    assert REF.province_named(name).code == "130000"  # type: ignore[union-attr]


@pytest.mark.parametrize(("name", "code"), [("内蒙古", "150000"), ("内蒙", "150000"), ("黔", "520000"),
                                            ("滇", "530000"), ("宁夏自治区", "640000")])
def test_aliases_from_the_data_file_AP_7b(name: str, code: str) -> None:
    assert REF.province_named(name).code == code  # type: ignore[union-attr]


def test_unknown_names_are_not_provinces() -> None:
    assert REF.province_named("湖广") is None
    assert REF.province_named("") is None
    assert REF.province_named("台湾") is None


def test_adjacency_is_symmetric_and_only_guangdong_hainan_is_a_ferry_AP_7a() -> None:
    assert REF.link("130000", "410000") is Link.LAND
    assert REF.link("410000", "130000") is Link.LAND
    assert REF.link("440000", "460000") is Link.FERRY
    assert [pair for pair, kind in REF.links.items() if kind is Link.FERRY] == [frozenset({"440000", "460000"})]
    assert REF.link("130000", "420000") is None
    assert REF.neighbours("460000", Link.LAND) == []


def test_every_province_but_hainan_has_a_land_neighbour_AP_7a() -> None:
    lonely = [p.code for p in REF.provinces if not REF.neighbours(p.code, Link.LAND)]
    assert lonely == ["460000"]


@pytest.mark.parametrize("typed", ["G4", "g4", "G4京港澳高速", "京港澳高速", "京港澳高速公路", "G4 京港澳高速",
                                   "G4高速", "G4京港澳", "京港澳高速(G4)", "Ｇ４"])
def test_expressway_spellings_normalise_to_one_road_AP_7b(typed: str) -> None:
    assert REF.normalise_road(typed).text == "G4京港澳高速"


def test_normalising_is_idempotent_and_keeps_unknown_roads() -> None:
    for typed in ["G4", "S201", "石家庄 绕城  高速", "G107"]:
        once = REF.normalise_road(typed).text
        assert REF.normalise_road(once).text == once
    assert REF.normalise_road("石家庄 绕城  高速").text == "石家庄 绕城 高速"


def test_code_name_mismatch_is_flagged_not_fixed_AP_7b() -> None:
    road = REF.normalise_road("G4京沪高速")
    assert road.text == "G4京沪高速"
    assert road.mismatch is not None and road.mismatch.code == "G2"


def test_data_files_match_their_version_checksums() -> None:
    """A data change needs a new VERSION and new SHA256SUMS (data/README.md)."""
    assert REF.version == (DATA_DIR / "VERSION").read_text().strip()
    for line in (DATA_DIR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest() == digest, name
