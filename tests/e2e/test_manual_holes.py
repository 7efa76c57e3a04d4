"""The manual walked again as a new user would, over HTTP against the started processes:
the rules a phone could break and the answers that did not say what was wrong.

- AP-1: the 许可须知 comes with a receipt of the server's clock; a back-dated notice
  time cannot shorten the 5 seconds.
- AP-6 on a vehicle change (PQ-10) and an extension (PQ-11): neither may make a third
  overlapping application of a vehicle, also when two are asked at once.
- The allowed actions of each of the seven statuses (PQ-1, the manual's 操作列), and
  every other action refused.
- Bad input is always a 400 with a Chinese message, however many fields are wrong;
  the upload limit says 1 MB; impossible dates say what is wrong; false verdicts are
  in the JSON; expressway short names are recognised (AP-7b); ``/docs`` answers; an
  upload keeps the file name given (AP-9).

Windows: applications here travel 600..720 days out with trucks entered by hand under
fresh plates, or the vehicles of the second PC-side carrier (``twin_carrier``) far from
the days section 三 gives it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e import forms as f
from tests.e2e import journey as j
from tests.e2e.forms import CLASS1_CARGO, HAND_CARGO
from tests.e2e.test_manual_3_progress import (
    TWIN_TRACTORS,
    TWIN_TRAILER,
    accepted,
    approved_by_all,
    current,
    reached,
    submitted,
    twin_carrier,  # noqa: F401 - the fixture, shared
    twin_fleet,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def hand_app(api, *, start_in: int, days: int = 3, plate: str | None = None) -> dict:
    """A class I draft of a truck entered by hand (a fresh plate unless given)."""
    return f.fill(api, start_in=start_in, days=days, cargo=HAND_CARGO, width=3000,
                  vehicles=[f.hand_truck(api, plate)])


def issued(api_as, app: dict) -> tuple[dict, dict]:
    """Submitted, accepted, approved by every route province and issued: (permit, case)."""
    case = accepted(api_as, submitted(api_as("carrier"), app))
    case = approved_by_all(api_as, case)
    permit = j.issue(api_as("hebei-accept"), case)
    reached(api_as("carrier"), app, "STATE_ISSUED")
    return permit, case


def both_at_once(*calls):
    """Send the calls together (a barrier before each); their responses in order."""
    barrier = threading.Barrier(len(calls))

    def go(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(go, calls))


def outcome(responses: list[httpx.Response]) -> list[str]:
    return sorted("ok" if r.status_code == 200 else r.json()["error"]["reason"] for r in responses)


# ==== AP-1: the notice by the server's clock ===================================================

def test_a_back_dated_notice_time_cannot_shorten_the_five_seconds_AP_1(api_as):
    carrier = api_as("carrier")
    notice = carrier.get("/v1/notice")
    hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    # The phone says it showed the notice an hour ago: the server counts from its receipt.
    r = carrier.http.post("/v1/applications", json={"noticeReceipt": notice["receipt"], "noticeShownTime": hour_ago,
                                                    "requestId": str(uuid.uuid4())})
    e = f.refused_zh(r, 400, "NOTICE_NOT_READ")
    assert float(e["metadata"]["shown_seconds"]) < 5
    # Without a receipt a notice time alone is never enough.
    f.refused_zh(carrier.http.post("/v1/applications", json={"noticeShownTime": hour_ago}), 400,
                 "NOTICE_NOT_READ")
    # Another party's receipt, or one altered, is not this carrier's reading.
    theirs = api_as("person").get("/v1/notice")["receipt"]
    forged = notice["receipt"][:-2] + ("AA" if not notice["receipt"].endswith("AA") else "BB")
    time.sleep(j.NOTICE_SECONDS)
    for receipt in (theirs, forged):
        f.refused_zh(carrier.http.post("/v1/applications", json={"noticeReceipt": receipt}), 400,
                     "NOTICE_RECEIPT_INVALID")
    # A phone whose clock runs an hour ahead is not blocked once the 5 s have passed.
    ahead = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    app = carrier.post("/v1/applications", {"noticeReceipt": notice["receipt"], "noticeShownTime": ahead,
                                            "requestId": str(uuid.uuid4())})
    assert app["state"] == "STATE_DRAFT"


# ==== AP-6 on a vehicle change (PQ-10) ========================================================

def twin_app(api, *, start_in: int) -> dict:
    """The second carrier's application with its first tractor and its trailer, submitted."""
    fleet = twin_fleet(api)
    vehicles = [fleet[TWIN_TRACTORS[0]], fleet[TWIN_TRAILER]]
    agent = api.get("/v1/agents:suggest", params={"namePrefix": "周"})["agents"][0]
    app = f.new_draft(api)
    app = f.save(api, app, "cargo", {"cargo": CLASS1_CARGO})
    app = f.save(api, app, "vehicles", {"vehicles": vehicles})
    app = f.save(api, app, "overall", {"overall": f.overall(vehicles, CLASS1_CARGO, height=4000, width=3000)})
    app = f.save(api, app, "passage", {"passage": f.passage(start_in, 3)})
    app = f.save(api, app, "agent", {"agent": {"agentRef": agent["agentRef"]}})
    return submitted(api, app)


def change_to_twin(api, case: dict, poa: str) -> httpx.Response:
    twin = twin_fleet(api)[TWIN_TRACTORS[1]]["fleetVehicle"]
    return api.http.post(f"/v1/{case['name']}/vehicleChanges",
                         json={"oldPlateNumber": TWIN_TRACTORS[0], "newVehicle": twin, "powerOfAttorney": poa})


def occupy(api_as, plate: str, *, start_in: int, n: int) -> None:
    """``n`` applications of the demo carrier holding ``plate`` (typed by hand) on those days."""
    carrier = api_as("carrier")
    for _ in range(n):
        submitted(carrier, hand_app(carrier, start_in=start_in, plate=plate))


def test_a_vehicle_change_that_would_make_a_third_overlap_is_refused_PQ_10_AP_6(api_as, twin_carrier):  # noqa: F811
    carrier, hebei = twin_carrier, api_as("hebei-accept")
    # The identical tractor already travels twice on those days (for another carrier, typed by hand).
    occupy(api_as, TWIN_TRACTORS[1], start_in=640, n=2)
    app = twin_app(carrier, start_in=640)
    case = accepted(api_as, app, carrier)
    e = f.refused_zh(change_to_twin(carrier, case, f.upload(carrier, "POWER_OF_ATTORNEY")), 400,
                     "VEHICLE_TIME_CONFLICT")
    assert TWIN_TRACTORS[1] in e["message"] and e["metadata"]["other_party_counts"] == "2"
    assert e["metadata"]["applications"] == ""  # the other carrier's applications are not named
    assert hebei.get(f"/v1/{case['name']}").get("vehicleChanges", []) == []
    assert current(carrier, app)["vehicles"][0]["plateNumber"] == TWIN_TRACTORS[0]


def test_two_vehicle_changes_raced_onto_one_vehicle_make_no_third_overlap_PQ_10_AP_6(api_as, twin_carrier):  # noqa: F811
    carrier = twin_carrier
    occupy(api_as, TWIN_TRACTORS[1], start_in=650, n=1)
    cases = [accepted(api_as, twin_app(carrier, start_in=650), carrier) for _ in range(2)]
    poas = [f.upload(carrier, "POWER_OF_ATTORNEY") for _ in cases]
    answers = both_at_once(*(lambda c=c, p=p: change_to_twin(carrier, c, p) for c, p in zip(cases, poas, strict=True)))
    assert outcome(answers) == ["VEHICLE_TIME_CONFLICT", "ok"]
    # And the tractor's places stay full for any other application of those days: the
    # pending change holds one of them.
    demo = api_as("carrier")
    check = demo.post(f"/v1/{f.new_draft(demo)['name']}:checkVehicleSchedule", {
        "startDate": f.passage(651, 1)["startDate"], "endDate": f.passage(651, 1)["endDate"],
        "plateNumbers": [TWIN_TRACTORS[1]]})
    assert check["ok"] is False and check["conflicts"][0]["plateNumber"] == TWIN_TRACTORS[1]


def test_a_refused_vehicle_change_gives_its_place_back_PQ_10_AP_6(api_as, twin_carrier):  # noqa: F811
    carrier, hebei, demo = twin_carrier, api_as("hebei-accept"), api_as("carrier")
    occupy(api_as, TWIN_TRACTORS[1], start_in=670, n=1)
    first, second = (accepted(api_as, twin_app(carrier, start_in=670), carrier) for _ in range(2))
    case = carrier.post(f"/v1/{first['name']}/vehicleChanges",
                        {"oldPlateNumber": TWIN_TRACTORS[0], "newVehicle": twin_fleet(carrier)[TWIN_TRACTORS[1]][
                            "fleetVehicle"], "powerOfAttorney": f.upload(carrier, "POWER_OF_ATTORNEY")})
    f.refused_zh(change_to_twin(carrier, second, f.upload(carrier, "POWER_OF_ATTORNEY")), 400,
                 "VEHICLE_TIME_CONFLICT")  # the pending change holds the tractor's second place

    draft = f.new_draft(demo)

    def schedule_ok() -> bool:
        return demo.post(f"/v1/{draft['name']}:checkVehicleSchedule", {
            "startDate": f.passage(671, 1)["startDate"], "endDate": f.passage(671, 1)["endDate"],
            "plateNumbers": [TWIN_TRACTORS[1]]})["ok"]

    assert schedule_ok() is False
    hebei.post(f"/v1/{case['vehicleChanges'][-1]['name']}:decide",
               {"decision": "DECISION_DENY", "reason": "委托书未盖公章"})
    # The denial's event reaches the application service, which gives the place back.
    j.wait_for(schedule_ok, "the refused change's place given back")
    case = carrier.post(f"/v1/{second['name']}/vehicleChanges",
                        {"oldPlateNumber": TWIN_TRACTORS[0], "newVehicle": twin_fleet(carrier)[TWIN_TRACTORS[1]][
                            "fleetVehicle"], "powerOfAttorney": f.upload(carrier, "POWER_OF_ATTORNEY")})
    assert case["vehicleChanges"][-1]["state"] == "CHANGE_REQUEST_STATE_PENDING"


# ==== AP-6 on an extension (PQ-11) ============================================================

def extend(api, permit: dict, days: int) -> httpx.Response:
    end = dt.date(**permit["endDate"]) + dt.timedelta(days=days)
    return api.http.post(f"/v1/{permit['name']}/extensions",
                         json={"newEndDate": j._date(end), "provinces": [j.VIA], "reason": "设备到货延迟"})


def test_an_extension_that_would_make_a_third_overlap_is_refused_PQ_11_AP_6(api_as):
    carrier = api_as("carrier")
    app = hand_app(carrier, start_in=660)
    plate = app["vehicles"][0]["plateNumber"]
    permit, _ = issued(api_as, app)
    occupy(api_as, plate, start_in=663, n=2)  # the two days after the permit are taken twice
    e = f.refused_zh(extend(carrier, permit, 2), 400, "VEHICLE_TIME_CONFLICT")
    assert plate in e["message"]
    assert carrier.get(f"/v1/{permit['name']}").get("extensions", []) == []


def test_two_extensions_raced_into_one_free_place_make_no_third_overlap_PQ_11_AP_6(api_as):
    carrier = api_as("carrier")
    first = hand_app(carrier, start_in=670)
    plate = first["vehicles"][0]["plateNumber"]
    second = hand_app(carrier, start_in=670, plate=plate)
    permits = [issued(api_as, first)[0], issued(api_as, second)[0]]
    occupy(api_as, plate, start_in=673, n=1)
    answers = both_at_once(*(lambda p=p: extend(carrier, p, 2) for p in permits))
    assert outcome(answers) == ["VEHICLE_TIME_CONFLICT", "ok"]


# ==== the manual's 操作列: what each status allows ===============================================

ALLOWED = {
    "STATE_DRAFT": ["EDIT", "SUBMIT", "DELETE", "CLONE"],
    "STATE_SUBMITTED": ["WITHDRAW", "CLONE"],
    "STATE_PROCESSING": ["WITHDRAW", "CHANGE_VEHICLE", "CLONE"],
    "STATE_RETURNED": ["CORRECT", "CLONE"],
    "STATE_ISSUED": ["EXTEND", "ABOLISH", "CLONE"],
    "STATE_DENIED": ["CLONE"],
    "STATE_WITHDRAWN": ["CLONE"],
}
ACTIONS = ("EDIT", "SUBMIT", "DELETE", "WITHDRAW", "CORRECT", "RESPOND_TO_ADJUSTMENT", "CHANGE_VEHICLE",
           "EXTEND", "ABOLISH", "CLONE")
# SUBMIT and CORRECT are one call (a submit, with the corrected steps or not): where one
# is allowed the other is the same request, so it is not tried as "another" action.
SAME_CALL = {"SUBMIT": "CORRECT", "CORRECT": "SUBMIT"}
# A withdrawal repeated (a client's retry after a lost answer) answers the withdrawn
# application as it is: nothing changes, so it is no other action.
RETRIES = {("STATE_WITHDRAWN", "WITHDRAW")}


def attempt(api, action: str, app: dict, case: str, permit: str, fleet_vehicle: str) -> httpx.Response:
    name, h = app["name"], api.http
    if action == "EDIT":
        return h.patch(f"/v1/{name}", params={"updateMask": "cargo"}, json={"cargo": HAND_CARGO})
    if action == "SUBMIT":
        return h.post(f"/v1/{name}:submit", json={"requestId": str(uuid.uuid4())})
    if action == "CORRECT":
        return h.post(f"/v1/{name}:submit", json={"updateMask": "cargo", "application": {"cargo": HAND_CARGO}})
    if action == "DELETE":
        return h.delete(f"/v1/{name}")
    if action == "WITHDRAW":
        return h.post(f"/v1/{name}:withdraw", json={"reason": "不再运输"})
    if action == "RESPOND_TO_ADJUSTMENT":
        return h.post(f"/v1/{case}/reviews/{j.VIA}:respond", json={"accept": True})
    if action == "CHANGE_VEHICLE":
        return h.post(f"/v1/{case}/vehicleChanges", json={
            "oldPlateNumber": (app.get("vehicles") or [{"plateNumber": f.TRACTOR}])[0]["plateNumber"],
            "newVehicle": fleet_vehicle,
            "powerOfAttorney": f.upload(api, "POWER_OF_ATTORNEY")})
    if action == "EXTEND":
        return h.post(f"/v1/{permit}/extensions", json={"newEndDate": j._date(f.TODAY + dt.timedelta(days=730)),
                                                       "provinces": [j.VIA], "reason": "延误"})
    if action == "ABOLISH":
        return h.post(f"/v1/{permit}:abolish", json={"reason": "运输已完成"})
    raise AssertionError(action)


def test_the_allowed_actions_match_the_manual_for_each_of_the_seven_statuses_and_every_other_is_refused_PQ_1(
        api_as):
    """Each status reached by its own flow; ``allowedActions`` lists the manual's 操作列, and
    every other action is refused with a Chinese message and leaves the status as it was."""
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    fleet_vehicle = f.fleet(carrier)[0]["fleetVehicle"]

    def case_of(app):
        return j.case_of(hebei, app["name"])

    apps: dict[str, tuple[dict, str, str]] = {}
    draft = f.new_draft(carrier)
    apps["STATE_DRAFT"] = (draft, "cases/none", "permits/none")
    app = submitted(carrier, hand_app(carrier, start_in=700))
    apps["STATE_SUBMITTED"] = (app, case_of(app)["name"], "permits/none")
    app = hand_app(carrier, start_in=700)
    apps["STATE_PROCESSING"] = (app, accepted(api_as, submitted(carrier, app))["name"], "permits/none")
    app = submitted(carrier, hand_app(carrier, start_in=700))
    case = case_of(app)
    hebei.post(f"/v1/{case['name']}:return", {"reason": "请补充行驶证照片", "etag": case.get("etag", "")})
    apps["STATE_RETURNED"] = (reached(carrier, app, "STATE_RETURNED"), case["name"], "permits/none")
    app = submitted(carrier, hand_app(carrier, start_in=700))
    case = case_of(app)
    hebei.post(f"/v1/{case['name']}:refuse", {"reason": "超限运输车辆不符合要求", "etag": case.get("etag", "")})
    apps["STATE_DENIED"] = (reached(carrier, app, "STATE_DENIED"), case["name"], "permits/none")
    app = submitted(carrier, hand_app(carrier, start_in=700))
    case = case_of(app)
    carrier.post(f"/v1/{app['name']}:withdraw", {"reason": "计划取消"})
    apps["STATE_WITHDRAWN"] = (reached(carrier, app, "STATE_WITHDRAWN"), case["name"], "permits/none")
    app = hand_app(carrier, start_in=710)
    permit, case = issued(api_as, app)
    apps["STATE_ISSUED"] = (app, case["name"], permit["name"])

    for state, (app, case_name, permit_name) in apps.items():
        shown = current(carrier, app)
        assert shown["state"] == state
        allowed = [a.removeprefix("APPLICATION_ACTION_") for a in shown.get("allowedActions", [])]
        assert allowed == ALLOWED[state], (state, allowed)
        for action in ACTIONS:
            if action in allowed or SAME_CALL.get(action) in allowed:
                continue
            r = attempt(carrier, action, shown, case_name, permit_name, fleet_vehicle)
            if (state, action) in RETRIES and r.status_code == 200:
                assert r.json()["updateTime"] == shown["updateTime"], (state, action, r.text)
                continue
            assert 400 <= r.status_code < 500, (state, action, r.status_code, r.text)
            assert f.chinese(r.json()["error"]["message"]), (state, action, r.text)
        assert current(carrier, app)["state"] == state, (state, "changed by a refused action")


# ==== found by trying it as a new user would ===================================================

def test_a_step_with_hundreds_of_bad_entries_is_a_400_in_chinese_saying_how_many_more_AP_2(api_as):
    """100 vehicles, 100 route rows of an unknown province, 300 unknown documents: never
    429 RESOURCE_EXHAUSTED (a client would retry for ever) but 400 with the list capped."""
    carrier = api_as("carrier")
    app = hand_app(carrier, start_in=600)
    steps = {
        "vehicles": {"vehicles": [{"plateNumber": f"冀E{10000 + i}"} for i in range(100)]},
        "passage": {"passage": {**f.passage(600, 3), "route": [{"province": "990000", "roads": ["G4"]}] * 100}},
        "materials": {"materials": [{"kind": "MATERIAL_KIND_OTHER", "document": f"documents/{uuid.uuid4().hex}"}
                                    for _ in range(300)]},
    }
    for mask, body in steps.items():
        r = carrier.http.patch(f"/v1/{app['name']}", params={"updateMask": mask}, json=body)
        if mask == "materials" and r.status_code == 200:  # the references are checked on submit
            r = f.submit_raw(carrier, r.json())
        assert r.status_code == 400, (mask, r.status_code, r.text[:300])
        e = r.json()["error"]
        assert f.chinese(e["message"]) and "Stream removed" not in r.text, (mask, e["message"])
        meta = next((d.get("metadata", {}) for d in e["details"] if d["@type"].endswith("ErrorInfo")), {})
        if "omitted_violations" in meta:
            assert f"另有 {meta['omitted_violations']} 处" in e["message"]
            assert len(e["fieldViolations"]) + int(meta["omitted_violations"]) == int(meta["violation_count"])


def test_an_upload_over_the_limit_is_told_the_1_mb_limit_AP_9(api_as):
    r = f.upload_file(api_as("carrier"), "TRANSPORT_PLAN", "运输方案.png", b"\x89PNG" + b"\0" * (3 * 1024 * 1024),
                      "image/png")
    assert r.status_code == 413, r.text
    message = r.json()["error"]["message"]
    assert "1 MB" in message and "2 MB" not in message, message


def test_an_upload_equal_to_an_earlier_one_keeps_the_name_given_AP_9(api_as):
    carrier = api_as("carrier")
    png = j.tiny_png((12, 34, 56))
    first = f.document(carrier, "TRANSPORT_PLAN", "运输方案-第一版.png", png, "image/png")
    second = f.document(carrier, "TRANSPORT_PLAN", "运输方案-定稿.png", png, "image/png")
    assert carrier.get(f"/v1/{second}")["filename"] == "运输方案-定稿.png"
    assert carrier.get(f"/v1/{first}")["filename"] == "运输方案-第一版.png"


@pytest.mark.parametrize(("date", "told"), [({"year": 2027, "month": 2, "day": 30}, "2月没有30日"),
                                            ({"year": 2027, "month": 13, "day": 1}, "月份应为1至12")])
def test_an_impossible_date_says_what_is_wrong_AP_7(api_as, date, told):
    carrier = api_as("carrier")
    app = f.new_draft(carrier)
    passage = {**f.passage(600, 3), "startDate": date}
    r = carrier.http.patch(f"/v1/{app['name']}", params={"updateMask": "passage"}, json={"passage": passage})
    e = f.refused_zh(r, 400, "INVALID_FIELD")
    assert e["fields"]["passage.start_date"] == "DATE_INVALID"
    assert told in r.text and "请选择通行起始日期" not in r.text


def test_a_false_verdict_is_in_the_json_AP_6_AP_7a(api_as):
    carrier = api_as("carrier")
    v = carrier.post("/v1/routes:validate", {"originProvince": j.ORIGIN, "destinationProvince": j.DESTINATION,
                                             "rows": [{"province": j.DESTINATION, "roads": ["G2"]}]})
    assert v["valid"] is False
    assert carrier.get("/v1/vehicles:validatePlate", params={"plateNumber": "冀A1"})["valid"] is False
    # Two applications of one hand-typed plate fill its places: the check answers ok: false.
    plate = f.hand_plate()
    occupy(api_as, plate, start_in=690, n=2)
    app = f.new_draft(carrier)
    check = carrier.post(f"/v1/{app['name']}:checkVehicleSchedule",
                         {"startDate": f.passage(690, 1)["startDate"], "endDate": f.passage(690, 1)["endDate"],
                          "plateNumbers": [plate]})
    assert check["ok"] is False and check["conflicts"][0]["plateNumber"] == plate


def test_expressway_short_names_are_recognised_and_odd_characters_noted_AP_7b(api_as):
    r = api_as("carrier").post("/v1/routes:parse", {"text": "四川：成渝环线高速-G5🚚；\n重庆：G93；"})
    assert [row["roads"] for row in r["rows"]] == [["G93成渝地区环线高速", "G5🚚"], ["G93成渝地区环线高速"]]
    [note] = [p for p in r["problems"] if p["reason"] == "ROAD_NAME_ODD_CHARACTER"]
    assert (note["line"], note["column"]) == (1, 13) and "🚚" in note["message"]


def test_the_docs_the_readme_advertises_answer(anonymous):
    r = anonymous.http.get("/docs")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "/openapi.json" in r.text and "我要申请" in r.text
