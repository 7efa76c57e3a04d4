"""AP-7b route text recognition: a table of realistic (and ugly) pasted texts."""

from __future__ import annotations

import pytest

from permit_routing.recognition import MAX_PROBLEMS, parse_route_text, render_route_text
from permit_routing.reference import load_reference_data
from permit_routing.routes import Row

REF = load_reference_data()

HE, HA, HB, BJ, TJ, NM, XJ, GD, HI = ("130000", "410000", "420000", "110000", "120000", "150000",
                                      "650000", "440000", "460000")
G4, G45, G5, G1, G2, G30, G6, G70, G15 = ("G4京港澳高速", "G45大广高速", "G5京昆高速", "G1京哈高速",
                                          "G2京沪高速", "G30连霍高速", "G6京藏高速", "G70福银高速",
                                          "G15沈海高速")

# (id, text, expected rows, expected problems as (line, column, reason))
CLEAN = [
    ("manual_format",
     "河北省：G4-G45；\n河南省：G4；\n湖北省：G4-G70；",
     [Row(HE, (G4, G45)), Row(HA, (G4,)), Row(HB, (G4, G70))], []),
    ("half_width_punctuation",
     "河北省:G4-G45;\n河南省:G4;",
     [Row(HE, (G4, G45)), Row(HA, (G4,))], []),
    ("windows_line_endings_and_missing_last_semicolon",
     "河北省：G4-G45；\r\n河南省：G4\r\n",
     [Row(HE, (G4, G45)), Row(HA, (G4,))], []),
    ("old_mac_line_endings",
     "河北：G4\r河南：G4",
     [Row(HE, (G4,)), Row(HA, (G4,))], []),
    ("blank_lines_and_stray_spaces",
     "\n\n  河北省 ： G4 - G45 ；  \n\n\n   河南省：  G4  ；\n\n",
     [Row(HE, (G4, G45)), Row(HA, (G4,))], []),
    ("ideographic_and_zero_width_spaces",
     "\ufeff河北\u3000：\u200bG4\u3000－\u3000G45；",
     [Row(HE, (G4, G45))], []),
    ("dash_variants",
     "河北：G4－G45—G5–G1‐G2~G30",
     [Row(HE, (G4, G45, G5, G1, G2, G30))], []),
    ("double_em_dash_and_arrows_are_one_separator",
     "河北：G4——G45→G5->G1—>G2~~G30=>G6",
     [Row(HE, (G4, G45, G5, G1, G2, G30, G6))], []),
    ("enumeration_comma_between_roads",
     "河北：G4、G45，G5,G1",
     [Row(HE, (G4, G45, G5, G1))], []),
    ("several_provinces_on_one_line",
     "河北：G4；河南：G4；湖北：G4-G70；",
     [Row(HE, (G4,)), Row(HA, (G4,)), Row(HB, (G4, G70))], []),
    ("provinces_separated_by_comma_or_space",
     "河北：G4-G45，河南：G4 湖北：G70",
     [Row(HE, (G4, G45)), Row(HA, (G4,)), Row(HB, (G70,))], []),
    ("province_glued_to_previous_road",
     "河北：G4河南：G4",
     [Row(HE, (G4,)), Row(HA, (G4,))], []),
    ("every_alias_kind",
     "河北：G4；冀：G4；河北省：G4；内蒙古：G6；内蒙古自治区：G6；蒙：G6；内蒙：G6",
     [Row(HE, (G4,))] * 3 + [Row(NM, (G6,))] * 4, []),
    ("province_with_words_around_it",
     "河北段：G4；新疆境内：G30；途经河南省：G4；经湖北路段：G4",
     [Row(HE, (G4,)), Row(XJ, (G30,)), Row(HA, (G4,)), Row(HB, (G4,))], []),
    ("list_numbering_in_front",
     "1、河北：G4；\n2.河南：G4；\n（3）湖北：G4；\n④天津：G1；\n五、北京：G1；",
     [Row(HE, (G4,)), Row(HA, (G4,)), Row(HB, (G4,)), Row(TJ, (G1,)), Row(BJ, (G1,))], []),
    ("line_broken_after_a_dash_continues_the_row",
     "河北：G4-\nG45-G5；\n河南：G4\n-G70；",
     [Row(HE, (G4, G45, G5)), Row(HA, (G4, G70))], []),
    ("full_width_letters_and_digits",
     "河北：Ｇ４－Ｇ４５",
     [Row(HE, (G4, G45))], []),
    ("expressway_spellings_are_one_road",
     "河北：G4-G4京港澳高速-京港澳高速-京港澳高速公路-g4-G4 京港澳高速-G4高速-京港澳高速(G4)",
     [Row(HE, (G4,) * 8)], []),
    ("unknown_roads_kept_as_typed",
     "河北：S201-石家庄绕城高速-G107-X012 县道",
     [Row(HE, ("S201", "石家庄绕城高速", "G107", "X012 县道"))], []),
    ("expressways_separated_by_spaces_only",
     "河北：G4 G45  大广高速 京港澳高速；河南：G4 京港澳高速",
     [Row(HE, (G4, G45, G45, G4)), Row(HA, (G4,))], []),
    ("route_numbers_separated_by_spaces_only",
     "河北：G4 S201 x012",
     [Row(HE, (G4, "S201", "X012"))], []),
    ("spaces_inside_a_road_name_are_kept",
     "河北：石家庄 绕城高速-G4 京港澳高速",
     [Row(HE, ("石家庄 绕城高速", G4))], []),
    ("lowercase_route_letter_upper_cased",
     "河北：s201-g107",
     [Row(HE, ("S201", "G107"))], []),
    ("ferry_provinces",
     "广东：G15；海南：G15；",
     [Row(GD, (G15,)), Row(HI, (G15,))], []),
    ("full_stop_ends_a_province",
     "河北：G4。河南：G4。",
     [Row(HE, (G4,)), Row(HA, (G4,))], []),
    ("ascii_full_stop_at_the_end",
     "河北：G4;河南：G45大广高速.",
     [Row(HE, (G4,)), Row(HA, (G45,))], []),
]

UGLY = [
    ("empty_text", "", [], [(1, 1, "ROUTE_TEXT_EMPTY")]),
    ("only_whitespace_and_semicolons", " \n\t；;\r\n ", [], [(1, 1, "ROUTE_TEXT_EMPTY")]),
    ("unknown_province_keeps_other_rows",
     "河北：G4；\n湖广：G4；\n河南：G4；",
     [Row(HE, (G4,)), Row(HA, (G4,))], [(2, 1, "UNKNOWN_PROVINCE")]),
    ("province_without_roads",
     "河北：G4；\n河南：；\n湖北：G4",
     [Row(HE, (G4,)), Row(HA, ()), Row(HB, (G4,))], [(2, 3, "PROVINCE_WITHOUT_ROADS")]),
    ("empty_roads_between_and_after_dashes",
     "河北：G4--G45-；",
     [Row(HE, (G4, G45))], [(1, 7, "EMPTY_ROAD"), (1, 11, "EMPTY_ROAD")]),
    ("punctuation_is_not_a_road",
     "河北：G4-.",
     [Row(HE, (G4,))], [(1, 7, "EMPTY_ROAD")]),
    ("leading_dash",
     "河北：-G4",
     [Row(HE, (G4,))], [(1, 4, "EMPTY_ROAD")]),
    ("missing_colon_after_a_known_province",
     "河北G4-G45；\n河南省 G4；",
     [Row(HE, (G4, G45)), Row(HA, (G4,))], [(1, 3, "MISSING_COLON"), (2, 5, "MISSING_COLON")]),
    ("missing_colon_and_no_province",
     "河北：G4；\nG4-G45；",
     [Row(HE, (G4,))], [(2, 1, "MISSING_COLON")]),
    ("expressway_name_is_not_a_province",
     "京港澳高速-G5",
     [], [(1, 1, "MISSING_COLON")]),
    ("province_alone_on_its_line",
     "河北：G4；\n豫\n鄂：G4",
     [Row(HE, (G4,)), Row(HA, ()), Row(HB, (G4,))], [(2, 1, "PROVINCE_WITHOUT_ROADS")]),
    ("colon_without_province",
     "：G4-G45；\n河北：G4",
     [Row(HE, (G4,))], [(1, 1, "MISSING_PROVINCE")]),
    ("code_and_name_disagree",
     "河北：G4京沪高速-G45",
     [Row(HE, ("G4京沪高速", G45))], [(1, 4, "ROAD_CODE_NAME_MISMATCH")]),
    ("border_crossing_names_are_dropped_with_a_note",
     "河北：G4-冀豫界-G4；\n河南：G4-河南湖北省界收费站；",
     [Row(HE, (G4, G4)), Row(HA, (G4,))],
     [(1, 7, "BORDER_CROSSING_NOT_NEEDED"), (2, 7, "BORDER_CROSSING_NOT_NEEDED")]),
    ("only_a_heading",
     "通行路线：\n\n",
     [], [(1, 1, "ROUTE_TEXT_EMPTY")]),
    ("heading_above_the_rows_is_skipped",
     "通行路线：\n河北：G4；",
     [Row(HE, (G4,))], []),
    ("unknown_text_with_roads_before_a_colon_is_reported",
     "高速：G4；\n河北：G4；",
     [Row(HE, (G4,))], [(1, 1, "UNKNOWN_PROVINCE")]),
    ("columns_count_characters_of_the_original_line",
     "  河北：G4；  湖广：G4；",
     [Row(HE, (G4,))], [(1, 11, "UNKNOWN_PROVINCE")]),
    ("several_problems_in_text_order",
     "湖广：G4；河北：；\n天津：G1--G2",
     [Row(HE, ()), Row(TJ, (G1, G2))],
     [(1, 1, "UNKNOWN_PROVINCE"), (1, 9, "PROVINCE_WITHOUT_ROADS"), (2, 7, "EMPTY_ROAD")]),
]


@pytest.mark.parametrize(("text", "rows", "problems"), [c[1:] for c in CLEAN], ids=[c[0] for c in CLEAN])
def test_pasted_text_becomes_rows_AP_7b(text: str, rows: list[Row], problems: list[tuple[int, int, str]]) -> None:
    """AP-7b: lenient recognition of the manual's format as people really paste it."""
    result = parse_route_text(REF, text)
    assert list(result.rows) == rows
    assert [(p.line, p.column, p.reason) for p in result.problems] == problems


@pytest.mark.parametrize(("text", "rows", "problems"), [c[1:] for c in UGLY], ids=[c[0] for c in UGLY])
def test_every_problem_has_position_and_reason_beside_parsed_rows_AP_7b(
        text: str, rows: list[Row], problems: list[tuple[int, int, str]]) -> None:
    """AP-7b: never a crash, never a silent drop: problems with line/column, parsed rows kept."""
    result = parse_route_text(REF, text)
    assert list(result.rows) == rows
    assert [(p.line, p.column, p.reason) for p in result.problems] == problems
    for p in result.problems:
        assert p.message and any("\u4e00" <= ch <= "\u9fff" for ch in p.message)


def test_problem_message_names_the_position_and_the_offending_text_AP_7b() -> None:
    result = parse_route_text(REF, "河北：G4；\n湖广：G4；")
    (problem,) = result.problems
    assert problem.message.startswith("第2行第1列")
    assert "湖广" in problem.message


def test_a_one_character_typo_in_a_province_gets_a_suggestion_AP_7b() -> None:
    (problem,) = parse_route_text(REF, "河北生：G4").problems  # 生 typed for 省
    assert problem.reason == "UNKNOWN_PROVINCE"
    assert "是否为“河北省”" in problem.message
    (ambiguous,) = parse_route_text(REF, "河比省：G4").problems  # 河北省 or 河南省: no guess
    assert "是否为" not in ambiguous.message


def test_problems_are_capped_with_a_note_where_the_rest_start_AP_7b() -> None:
    text = "".join(f"湖广{i}：G4；\n" for i in range(300)) + "河北：G4"
    result = parse_route_text(REF, text)
    assert result.rows == (Row(HE, (G4,)),)
    assert len(result.problems) == MAX_PROBLEMS + 1
    last = result.problems[-1]
    assert (last.reason, last.line, last.column) == ("TOO_MANY_PROBLEMS", MAX_PROBLEMS + 1, 1)
    assert "100" in last.message


def test_rendered_rows_use_the_manual_format_AP_7b() -> None:
    text = render_route_text(REF, [Row(HE, (G4, G45)), Row(HA, (G4,))])
    assert text == "河北省：G4京港澳高速-G45大广高速；\n河南省：G4京港澳高速；"


@pytest.mark.parametrize("typed", ["江苏省段 G2", "江苏境内 G2", "江苏段G2"])
def test_province_suffix_before_a_missing_colon_stays_with_the_province_AP_7b(typed: str) -> None:
    """AP-7b: "江苏省段 G2" is 江苏 + G2 with a missing colon, not a road named "段 G2"."""
    result = parse_route_text(REF, f"河北段：G4；\n{typed}；")
    assert [(r.province, r.roads) for r in result.rows] == [("130000", ("G4京港澳高速",)),
                                                           ("320000", ("G2京沪高速",))]
    assert [p.reason for p in result.problems] == ["MISSING_COLON"]


@pytest.mark.parametrize("typed", ["成渝环线高速", "G93成渝环线高速", "成渝环线高速公路", "成渝地区环线高速", "G93"])
def test_short_forms_of_an_expressway_name_come_from_the_reference_data_AP_7b(typed: str) -> None:
    """成渝环线高速 is how people write G93 成渝地区环线高速; the short names are data."""
    result = parse_route_text(REF, f"重庆：G65-{typed}；")
    assert result.rows == (Row("500000", ("G65包茂高速", "G93成渝地区环线高速")),)
    assert result.problems == ()
    assert "成渝环线高速" in next(e for e in REF.expressways if e.code == "G93").aliases


@pytest.mark.parametrize(("text", "line", "column", "odd"), [
    ("河北：G4-G45🚚；", 1, 10, "🚚"), ("河北：G4；\n河南：★G4", 2, 4, "★"), ("河北：G4-G45\u2764\ufe0f", 1, 10, "\u2764"),
    ("河北：G4-S201$", 1, 11, "$"),
])
def test_a_road_with_a_character_no_road_name_has_gets_a_note_at_it_AP_7b(text, line, column, odd) -> None:
    result = parse_route_text(REF, text)
    notes = [p for p in result.problems if p.reason == "ROAD_NAME_ODD_CHARACTER"]
    assert [(p.line, p.column) for p in notes] == [(line, column)]
    assert odd in notes[0].message and f"第{line}行第{column}列" in notes[0].message
    assert result.rows  # the rows still parse; the road is kept as typed for the user to fix


def test_ordinary_road_names_get_no_odd_character_note_AP_7b() -> None:
    result = parse_route_text(REF, "河北：G4-S201(石家庄段)-京昆高速·北段-G107国道#2；")
    assert [p.reason for p in result.problems] == []
