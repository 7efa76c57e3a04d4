"""Routing end to end over HTTP through the gateway, against the started
processes: recognition of pasted route text with its problems by line and
column (AP-7b), validation with warnings and the approving provinces (AP-7a),
and the history recommendation of an applicant's own issued route, which
arrives from the application service through the outbox (AP-7c)."""

from __future__ import annotations

import re

import pytest

from tests.e2e import journey as j

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

HEBEI, SHANDONG, JIANGSU, HENAN = "130000", "370000", "320000", "410000"
G4, G2, G3 = "G4京港澳高速", "G2京沪高速", "G3京台高速"


def chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def problems(resp: dict, key: str = "problems") -> list[tuple[int, int, str]]:
    return [(p.get("line", 0), p.get("column", 0), p["reason"]) for p in resp.get(key, [])]


# --- AP-7b: recognition --------------------------------------------------------------


def test_pasted_multi_line_route_is_recognised_with_problems_by_line_and_column_AP_7b(api_as):
    text = ("1、河北省：G4-G1811；\r\n"      # numbered line, Windows line ending
            "（2）山东 ： G2 —— G3\r\n"     # messy: spaces round the colon, a doubled dash, no semicolon
            "江苏省 G2；\r\n"               # the colon forgotten after a known province
            "火星省：G1；")                 # an unknown province: no row
    parsed = api_as("person").post("/v1/routes:parse", {"text": text})
    assert parsed["rows"] == [
        {"province": HEBEI, "roads": [G4, "G1811"]},
        {"province": SHANDONG, "roads": [G2, G3]},
        {"province": JIANGSU, "roads": [G2]},
    ]
    assert problems(parsed) == [(3, 5, "MISSING_COLON"), (4, 1, "UNKNOWN_PROVINCE")]
    for p in parsed["problems"]:
        assert chinese(p["message"]) and f"第{p['line']}行" in p["message"]
    assert "火星省" in parsed["problems"][1]["message"]


def test_recognition_reports_empty_roads_and_border_names_AP_7b(api_as):
    parsed = api_as("person").post("/v1/routes:parse", {"text": "河北：G4--G45；\n河南：G4-冀豫界-G4；\n湖北：；"})
    assert [r["province"] for r in parsed["rows"]] == [HEBEI, HENAN, "420000"]
    assert parsed["rows"][1]["roads"] == [G4, G4]  # the border-crossing name is left out
    assert not parsed["rows"][2].get("roads")
    assert [reason for _, _, reason in problems(parsed)] == ["EMPTY_ROAD", "BORDER_CROSSING_NOT_NEEDED",
                                                            "PROVINCE_WITHOUT_ROADS"]
    assert problems(parsed)[0][:2] == (1, 7)


def test_empty_and_too_long_route_text_AP_7b(api_as):
    person = api_as("person")
    assert problems(person.post("/v1/routes:parse", {"text": " \n；"})) == [(1, 1, "ROUTE_TEXT_EMPTY")]
    r = person.http.post("/v1/routes:parse", json={"text": "河" * 20_001})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["reason"] == "ROUTE_TEXT_TOO_LONG" and chinese(err["message"])


def test_province_with_duan_suffix_and_missing_colon_is_recognised_AP_7b(api_as):
    parsed = api_as("person").post("/v1/routes:parse", {"text": "河北段：G4；\n江苏省段 G2；"})
    assert parsed["rows"] == [{"province": HEBEI, "roads": [G4]}, {"province": JIANGSU, "roads": [G2]}]
    assert [reason for _, _, reason in problems(parsed)] == ["MISSING_COLON"]


# --- AP-7a: validation ---------------------------------------------------------------


def test_validation_warns_on_a_non_adjacent_pair_and_lists_the_approving_provinces_AP_7a(api_as):
    v = api_as("person").post("/v1/routes:validate", {
        "originProvince": HEBEI, "destinationProvince": JIANGSU,
        "rows": [{"province": HEBEI, "roads": ["G4"]}, {"province": JIANGSU, "roads": [" 京沪高速 "]}]})
    assert v["valid"] is True and not v.get("errors")
    assert v["approvingProvinces"] == [HEBEI, JIANGSU]
    (w,) = v["warnings"]
    assert w["reason"] == "PROVINCES_NOT_ADJACENT" and w["line"] == 2
    assert w["field"] == "rows[1].province" and w["provinces"] == [HEBEI, JIANGSU]
    assert "河北省" in w["message"] and "江苏省" in w["message"]
    assert v["rows"] == [{"province": HEBEI, "roads": [G4]}, {"province": JIANGSU, "roads": [G2]}]


def test_validation_of_the_walking_slice_route_has_no_problems_AP_7a(api_as):
    v = api_as("person").post("/v1/routes:validate", {"originProvince": j.ORIGIN,
                                                      "destinationProvince": j.DESTINATION, "rows": j.ROUTE})
    assert v["valid"] is True and not v.get("errors") and not v.get("warnings")
    assert v["approvingProvinces"] == [j.ORIGIN, j.VIA, j.DESTINATION]


def test_validation_errors_and_re_entry_warning_AP_7a(api_as):
    person = api_as("person")
    bad = person.post("/v1/routes:validate", {
        "originProvince": HEBEI, "destinationProvince": JIANGSU,
        "rows": [{"province": SHANDONG, "roads": ["G2"]}, {"province": HEBEI}]})
    assert bad.get("valid", False) is False  # proto3 JSON omits false
    assert {e["reason"] for e in bad["errors"]} == {"FIRST_ROW_NOT_ORIGIN", "ROW_WITHOUT_ROADS",
                                                    "DESTINATION_NOT_ON_ROUTE"}
    assert all(chinese(e["message"]) for e in bad["errors"])
    # Re-entering a province after the destination: usable, but the user confirms.
    reentry = person.post("/v1/routes:validate", {
        "originProvince": HEBEI, "destinationProvince": JIANGSU,
        "rows": [{"province": HEBEI, "roads": ["G4"]}, {"province": SHANDONG, "roads": ["G2"]},
                 {"province": JIANGSU, "roads": ["G2"]}, {"province": SHANDONG, "roads": ["G3"]}]})
    assert reentry["valid"] is True
    assert "LAST_ROW_NOT_DESTINATION" in {w["reason"] for w in reentry["warnings"]}
    assert reentry["approvingProvinces"] == [HEBEI, SHANDONG, JIANGSU]


# --- AP-7c: history recommendation ---------------------------------------------------


def _recommended(api, origin: str = j.ORIGIN, destination: str = j.DESTINATION) -> list[dict]:
    return api.get("/v1/routes:recommend", params={"originProvince": origin,
                                                   "destinationProvince": destination}).get("routes", [])


def test_issued_permit_route_is_recommended_to_its_applicant_only_AP_7c(api_as):
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    shandong, jiangsu = api_as("shandong-review"), api_as("jiangsu-review")
    before = {r["lastApplication"] for r in _recommended(carrier)}

    app = j.fill_draft(carrier, start_in_days=14, days=3)
    j.submit(carrier, app)
    case = j.accept(hebei, j.case_of(hebei, app["name"]))
    j.wait_for(lambda: carrier.get(f"/v1/{app['name']}")["state"] == "STATE_PROCESSING", "处理中")
    j.approve(hebei, case, j.ORIGIN)
    j.approve(shandong, case, j.VIA)
    j.approve(jiangsu, case, j.DESTINATION)
    assert j.issue(hebei, case)["number"]
    assert app["name"] not in before

    route = j.wait_for(lambda: next((r for r in _recommended(carrier) if r["lastApplication"] == app["name"]), None),
                       "the issued route among the carrier's recommendations")
    assert [row["province"] for row in route["rows"]] == [j.ORIGIN, j.VIA, j.DESTINATION]
    assert route["rows"][0]["roads"][0] == G4 and route["rows"][1]["roads"] == [G2, G3]
    assert int(route["timesApproved"]) >= 1 and route["lastApproveTime"]
    # Identical routes are merged: one recommendation for this route.
    shapes = [repr(r["rows"]) for r in _recommended(carrier)]
    assert len(shapes) == len(set(shapes))

    # Another applicant does not see it; nor does the reverse direction.
    assert all(r["lastApplication"] != app["name"] for r in _recommended(api_as("person")))
    assert all(r["lastApplication"] != app["name"] for r in _recommended(carrier, j.DESTINATION, j.ORIGIN))


def test_recommendation_needs_a_party_and_known_provinces_AP_7c(api_as, anonymous):
    r = api_as("carrier").http.get("/v1/routes:recommend", params={"originProvince": "999999",
                                                                    "destinationProvince": JIANGSU})
    assert r.status_code == 400 and r.json()["error"]["reason"] == "UNKNOWN_PROVINCE", r.text
    assert anonymous.http.get("/v1/routes:recommend", params={"originProvince": HEBEI,
                                                               "destinationProvince": JIANGSU}).status_code == 401
    officer = api_as("hebei-accept").http.get("/v1/routes:recommend",
                                              params={"originProvince": HEBEI, "destinationProvince": JIANGSU})
    assert officer.status_code == 403 and officer.json()["error"]["reason"] == "PARTY_REQUIRED", officer.text
