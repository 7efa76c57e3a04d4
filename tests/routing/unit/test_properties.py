"""Property-based tests of recognition (AP-7b) and validation (AP-7a)."""

from __future__ import annotations

import os
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from permit_routing.recognition import parse_route_text, render_route_text
from permit_routing.reference import load_reference_data
from permit_routing.routes import Row
from permit_routing.validation import validate_route

REF = load_reference_data()
CODES = [p.code for p in REF.provinces]
NAMES = sorted(REF.province_names())
# ROUTING_PROPERTY_EXAMPLES=5000 for a deeper run than the default.
PROPERTY_SETTINGS = settings(max_examples=int(os.environ.get("ROUTING_PROPERTY_EXAMPLES", "300")),
                             deadline=None, suppress_health_check=[HealthCheck.too_slow])

known_roads = st.sampled_from(
    [e.code for e in REF.expressways] + [e.name for e in REF.expressways]
    + [e.display_name for e in REF.expressways] + ["S201", "G107", "X012", "石家庄绕城高速", "京港澳 高速"])
free_roads = st.text(
    alphabet=st.characters(categories=("Lu", "Ll", "Lo", "Nd")), min_size=1, max_size=12,
).flatmap(lambda s: st.sampled_from([s, f"{s} {s}"]))


def _normalised(road: str) -> str | None:
    name = REF.normalise_road(road)
    if REF.border_crossing(name.text) is not None or REF.road_words(name.text) is not None:
        return None  # by design a border crossing is dropped and "G4 S201" is two roads
    return name.text if name.text and name.mismatch is None else None


roads = st.one_of(known_roads, free_roads).map(_normalised).filter(lambda r: r is not None)
route_rows = st.lists(
    st.builds(Row, st.sampled_from(CODES), st.lists(roads, min_size=1, max_size=5).map(tuple)),
    min_size=1, max_size=8)


@PROPERTY_SETTINGS
@given(route_rows)
def test_render_then_parse_gives_the_same_rows_AP_7b(rows: list[Row]) -> None:
    """AP-7b: rows rendered in the manual's format recognise back to the same rows, no problems."""
    result = parse_route_text(REF, render_route_text(REF, rows))
    assert list(result.rows) == rows
    assert result.problems == ()


def _typed_variants(road: str) -> list[str]:
    """Ways people type the same road: code, name, code + name, lower case, full width."""
    e = REF.normalise_road(road).expressway
    if e is None:
        return [road]
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in e.code)
    return [e.code, e.code.lower(), e.name, e.display_name, e.name + "公路", f"{e.code} {e.name}",
            f"{e.name}({e.code})", full_width]


@st.composite
def messy_rendering(draw: st.DrawFn, rows: list[Row]) -> str:
    """``rows`` written the way people paste them: every punctuation variant, names, blanks."""
    out: list[str] = []
    for i, row in enumerate(rows):
        province = REF.province(row.province)
        assert province is not None
        starts_line = not out or out[-1].endswith("\n")
        numbering = [f"{i + 1}、", f"{i + 1}.", f"({i + 1})", "④"] if starts_line else []
        out.append(draw(st.sampled_from(["", " ", "\u3000", *numbering])))
        out.append(draw(st.sampled_from(province.names)))
        out.append(draw(st.sampled_from(["：", ":", " ： ", "︰", "：\u3000"])))
        for j, road in enumerate(row.roads):
            if j:
                out.append(draw(st.sampled_from(["-", "－", "—", "——", "–", "‐", "~", "～", "→", "->", "、",
                                                 "，", " - ", ">"])))
            out.append(draw(st.sampled_from(_typed_variants(road))))
        last = i == len(rows) - 1
        out.append(draw(st.sampled_from(["；", ";", "；\n", "\n", "\r\n", ";\r\n", "。", "；\n\n \n", "，",
                                         " ", "、"] + (["", "\n"] if last else []))))
    return "".join(out)


@PROPERTY_SETTINGS
@given(st.data(), route_rows)
def test_messy_pasted_rendering_recognises_the_same_rows_AP_7b(data: st.DataObject, rows: list[Row]) -> None:
    """AP-7b: full/half-width punctuation, dash variants, aliases, spellings, line endings."""
    text = data.draw(messy_rendering(rows))
    result = parse_route_text(REF, text)
    assert list(result.rows) == rows, text
    assert result.problems == (), text


# Route-like noise: province names, every punctuation variant, roads, blanks, line breaks.
route_tokens = st.one_of(
    st.sampled_from(NAMES), known_roads, free_roads,
    st.sampled_from(list(":：;；。-－—–‐~～、,，→>=  \u3000\t\n\r\n\r\ufeff\u200b1.①（）()段")),
)
route_like_text = st.lists(route_tokens, max_size=40).map("".join)
any_text = st.one_of(st.text(max_size=300), route_like_text)


def _check_invariants(text: str) -> None:
    result = parse_route_text(REF, text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    line_count = len(lines.splitlines()) or 1
    for p in result.problems:
        assert 1 <= p.line <= max(line_count, text.count("\n") + text.count("\r") + 1)
        assert p.column >= 1
        assert p.reason and p.reason.isupper() and p.message
    for row in result.rows:
        assert row.province in CODES
        for road in row.roads:
            assert road and road == road.strip()
            assert not set(road) & set(":：;；\n\r")
    if not result.rows:
        # Never a silent drop: text that yields no rows always says why.
        assert result.problems, repr(text)


@PROPERTY_SETTINGS
@given(any_text)
def test_arbitrary_text_never_raises_and_every_problem_is_positioned_AP_7b(text: str) -> None:
    """AP-7b: any input at all comes back as rows + positioned problems, never an exception."""
    _check_invariants(text)


@PROPERTY_SETTINGS
@given(any_text)
def test_recognised_rows_are_a_fixed_point_of_render_and_parse_AP_7b(text: str) -> None:
    rows = list(parse_route_text(REF, text).rows)
    assert list(parse_route_text(REF, render_route_text(REF, rows)).rows) == rows


@PROPERTY_SETTINGS
@given(st.text(max_size=60))
def test_road_normalisation_is_idempotent_AP_7b(text: str) -> None:
    once = REF.normalise_road(text).text
    assert REF.normalise_road(once).text == once
    assert once == unicodedata.normalize("NFKC", once)


@PROPERTY_SETTINGS
@given(st.sampled_from(CODES + ["", "999999"]), st.sampled_from(CODES + ["", "x"]),
       st.lists(st.builds(Row, st.sampled_from(CODES + ["", "000000"]),
                          st.lists(st.text(max_size=8), max_size=4).map(tuple)), max_size=10))
def test_validation_never_raises_and_lists_distinct_provinces_origin_first_AP_7a(
        origin: str, destination: str, rows: list[Row]) -> None:
    result = validate_route(REF, origin=origin, destination=destination, rows=rows)
    assert len(set(result.approving_provinces)) == len(result.approving_provinces)
    assert all(c in CODES for c in result.approving_provinces)
    if origin in CODES:
        assert result.approving_provinces[0] == origin
    assert result.valid == (not result.errors)
    if result.valid:
        assert rows and rows[0].province == origin and destination in [r.province for r in rows]
