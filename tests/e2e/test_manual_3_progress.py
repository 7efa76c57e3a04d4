"""Section 三 of the user manual, 进度查询与变更, walked over HTTP against the started
processes as a carrier and the officers do it, in the manual's order:

- 许可状态: the seven statuses, each reached by its own flow (PQ-1);
- 1 许可进度查询: list, search by number and plate, details, per-province progress (PQ-2);
- 2 许可管理: 再来一件 (PQ-3), 未提交 (PQ-4), 未受理 (PQ-5), 退回补正 (PQ-6),
  调整路线 (PQ-7), 处理中撤销 (PQ-8), 已发证废止 (PQ-9);
- 3 许可变更: 车辆变更 (PQ-10), 延期 (PQ-11);
- and the officers' side those need: acceptance and parallel review (RV-1), every kind of
  decision (RV-2), issue only when all approved (RV-3), deadlines in working days (RV-4),
  permit number, validity and public verification (RV-5).

Officers: hebei-accept (origin 河北, accepts, reviews, issues), shandong-review and
jiangsu-review (the route provinces of ``journey.ROUTE``), beijing-review (off the route).

The stack is shared: applications holding the demo fleet (冀A12345 + 冀B6789挂) travel
500..560 days out (one keeps its earlier 105), each test in its own window (AP-6 allows two
overlapping applications per vehicle); the rest use trucks entered by hand with fresh plates, or the fleet of a
second PC-side carrier imported for the vehicle change.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import chinese_calendar
import pytest

from permitkit import dates
from tests.e2e import forms as f
from tests.e2e import journey as j
from tests.e2e.conftest import Api
from tests.e2e.forms import CLASS1_CARGO, HAND_CARGO, OFFICER_OF, TRACTOR, TRAILER

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

BEIJING = "110000"
LABELS = {"STATE_DRAFT": "未提交", "STATE_SUBMITTED": "未受理", "STATE_PROCESSING": "处理中",
          "STATE_ISSUED": "已发证", "STATE_DENIED": "不予许可", "STATE_WITHDRAWN": "已撤销",
          "STATE_RETURNED": "退回补正"}


# ---- the carrier's and the officers' steps ------------------------------------------------

def current(api, app: dict) -> dict:
    return api.get(f"/v1/{app['name']}")


def state_of(api, app: dict) -> str:
    return current(api, app)["state"]


def reached(api, app: dict, state: str) -> dict:
    """The application once the approval side's event has moved it to ``state``."""
    return j.wait_for(lambda: (a := current(api, app))["state"] == state and a, LABELS[state])


def progress(api, app: dict) -> dict[str, str]:
    return {p["province"]: p["decision"] for p in current(api, app).get("progress", [])}


def plate_of(app: dict) -> str:
    return app["vehicles"][0]["plateNumber"]


def hand_filled(api, *, start_in: int = 30, days: int = 3, cargo: dict | None = None,
                width: int = 3000, height: int = 4000) -> dict:
    """A draft with a truck entered by hand under a fresh plate: free of the fleet's windows."""
    return f.fill(api, start_in=start_in, days=days, cargo=cargo, width=width, height=height,
                  vehicles=[f.hand_truck(api)])


def submitted(api, app: dict) -> dict:
    r = f.submit_raw(api, app)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "STATE_SUBMITTED"
    return r.json()


def accepted(api_as, app: dict, applicant=None) -> dict:
    """河北 accepts the submitted application; the applicant (the demo carrier unless
    another is given) then sees 处理中 (RV-1)."""
    hebei = api_as("hebei-accept")
    case = j.accept(hebei, j.case_of(hebei, app["name"]))
    reached(applicant or api_as("carrier"), app, "STATE_PROCESSING")
    return case


def approved_by_all(api_as, case: dict) -> dict:
    for province, persona in OFFICER_OF.items():
        case = j.approve(api_as(persona), case, province)
    return case


def issued(api_as, app: dict) -> dict:
    """Submit, accept, every route province approves, 河北 issues: the permit (RV-3)."""
    case = accepted(api_as, submitted(api_as("carrier"), app))
    permit = j.issue(api_as("hebei-accept"), approved_by_all(api_as, case))
    reached(api_as("carrier"), app, "STATE_ISSUED")
    return permit


def started(api_as, start_in_days: int) -> tuple[dict, dict]:
    """The demo fleet's journey up to 处理中; each test its own passage window."""
    carrier = api_as("carrier")
    app = j.fill_draft(carrier, start_in_days=start_in_days, days=3)
    j.submit(carrier, app)
    return app, accepted(api_as, app)


def decide(officer, case: dict, province: str, decision: str, **body):
    """POST :decide; returns the raw response (the caller checks 200 or the refusal)."""
    return officer.http.post(f"/v1/{case['name']}/reviews/{province}:decide",
                             json={"decision": f"DECISION_{decision}", **body})


def listed(api, **params) -> list[dict]:
    """Every page of the applicant's list for ``params`` (PQ-2)."""
    out: list[dict] = []
    token = ""
    while True:
        r = api.get("/v1/applications", params={**params, "pageSize": 100, "pageToken": token})
        out += r.get("applications", [])
        token = r.get("nextPageToken", "")
        if not token:
            return out


def queue_order(officer) -> list[str]:
    """The applications of the officer's work queue in the order it answers them (RV-4)."""
    names: list[str] = []
    token = ""
    while True:
        r = officer.get("/v1/workQueue", params={"pageSize": 200, "pageToken": token})
        names += [c["application"] for c in r.get("cases", [])]
        token = r.get("nextPageToken", "")
        if not token:
            return names


def as_date(d: dict) -> dt.date:
    return dt.date(d["year"], d["month"], d["day"])


def later(d: dict, days: int) -> dict:
    return j._date(as_date(d) + dt.timedelta(days=days))


def local_day(timestamp: str) -> dt.date:
    """The Asia/Shanghai date of an RFC 3339 instant: deadlines count local days."""
    return dates.local_date(dt.datetime.fromisoformat(timestamp))


def event_day(case: dict, kind: str) -> dt.date:
    return local_day(next(e for e in reversed(case["history"]) if e["kind"] == kind)["occurTime"])


def download_status(officer, document: str) -> int:
    return officer.http.get(f"/v1/{document}:downloadUrl").status_code


# ---- 许可状态: seven, each reached by its own flow (PQ-1) --------------------------------------

@pytest.fixture(scope="module")
def seven(api_as) -> dict[str, dict]:
    """One application in each of the seven statuses, reached the way the manual tells."""
    carrier, hebei, shandong = api_as("carrier"), api_as("hebei-accept"), api_as("shandong-review")
    apps = {"STATE_DRAFT": hand_filled(carrier),  # 保存: never submitted
            "STATE_SUBMITTED": submitted(carrier, hand_filled(carrier))}

    withdrawn = submitted(carrier, hand_filled(carrier))
    carrier.post(f"/v1/{withdrawn['name']}:withdraw", {"etag": withdrawn["etag"], "reason": "计划取消"})
    apps["STATE_WITHDRAWN"] = withdrawn

    returned = submitted(carrier, hand_filled(carrier))
    hebei.post(f"/v1/{j.case_of(hebei, returned['name'])['name']}:return", {"reason": "请补充货物照片"})
    apps["STATE_RETURNED"] = returned

    processing = submitted(carrier, hand_filled(carrier))
    accepted(api_as, processing)
    apps["STATE_PROCESSING"] = processing

    denied = submitted(carrier, hand_filled(carrier))
    case = accepted(api_as, denied)
    assert decide(shandong, case, j.VIA, "DENY", reason="途经桥梁限载，不予许可").status_code == 200
    apps["STATE_DENIED"] = denied

    permitted = hand_filled(carrier)
    issued(api_as, permitted)
    apps["STATE_ISSUED"] = permitted
    return {state: reached(carrier, app, state) for state, app in apps.items()}


def test_each_of_the_seven_statuses_is_shown_with_its_chinese_label_in_list_and_details_PQ_1(api_as, seven):
    carrier = api_as("carrier")
    assert set(seven) == set(LABELS)
    for state, app in seven.items():
        details = current(carrier, app)
        assert (details["state"], details["stateLabel"]) == (state, LABELS[state]), details["number"]
        # The list finds it by its plate and by its status, with the same label.
        by_plate = {(a["name"], a["stateLabel"]) for a in listed(carrier, query=plate_of(app))}
        assert (app["name"], LABELS[state]) in by_plate
        assert app["name"] in {a["name"] for a in listed(carrier, state=state)}
        assert all(a["stateLabel"] == LABELS[state] for a in listed(carrier, state=state, query="冀E"))
    # The reasons behind 不予许可 and 退回补正 are shown with them.
    assert seven["STATE_DENIED"]["returnReason"] == "途经桥梁限载，不予许可"
    assert seven["STATE_RETURNED"]["returnReason"] == "请补充货物照片"
    assert seven["STATE_ISSUED"]["permitNumber"]


# ---- 1 许可进度查询 (PQ-2) ------------------------------------------------------------------

def test_saved_draft_is_found_in_the_list_and_by_number_and_plate_AP_10_PQ_2(api_as):
    carrier = api_as("carrier")
    plate = f.hand_plate()
    app = f.save(carrier, f.new_draft(carrier), "vehicles", {"vehicles": [f.hand_truck(carrier, plate)]})

    drafts = carrier.get("/v1/applications", params={"state": "STATE_DRAFT", "pageSize": 100})
    assert app["name"] in {a["name"] for a in drafts["applications"]}
    assert all(a["state"] == "STATE_DRAFT" for a in drafts["applications"])
    assert drafts["totalSize"] >= 1
    not_accepted = carrier.get("/v1/applications", params={"state": "STATE_SUBMITTED", "pageSize": 100})
    assert app["name"] not in {a["name"] for a in not_accepted.get("applications", [])}

    by_number = carrier.get("/v1/applications:search", params={"query": app["number"]})["applications"]
    assert [a["name"] for a in by_number] == [app["name"]]
    by_plate = carrier.get("/v1/applications:search", params={"query": plate})["applications"]
    assert [a["name"] for a in by_plate] == [app["name"]]
    assert [a["name"] for a in carrier.get("/v1/applications", params={"query": plate})["applications"]] == [
        app["name"]]
    # Another applicant finds nothing by the same number.
    other = api_as("person").get("/v1/applications:search", params={"query": app["number"]})
    assert not other.get("applications")
    f.refused(carrier.http.get("/v1/applications:search", params={"query": ""}), 400, "QUERY_REQUIRED")


def test_processing_application_shows_every_provinces_progress_as_they_review_in_parallel_PQ_2_RV_1_RV_3(
        api_as):
    """Click 处理中: the per-province progress. The origin accepts for all, the route provinces
    decide in any order, and the permit waits until the last of them approved."""
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    shandong, jiangsu, beijing = api_as("shandong-review"), api_as("jiangsu-review"), api_as("beijing-review")
    app = submitted(carrier, hand_filled(carrier))
    case = j.case_of(hebei, app["name"])
    assert case["state"] == "CASE_STATE_AWAITING_ACCEPTANCE" and not case.get("reviews")
    # Before acceptance only the origin's acceptance officer has work; a reviewer may not accept.
    assert app["name"] in f.queue(hebei) and app["name"] not in f.queue(shandong)
    f.refused(shandong.http.post(f"/v1/{case['name']}:accept", json={}), 403, "NOT_OFFICER")
    # 北京 is not on the route: it neither sees the case nor has it in its queue.
    f.refused(beijing.http.get(f"/v1/{case['name']}"), 403, "OTHER_PROVINCE")
    assert app["name"] not in f.queue(beijing)

    case = j.accept(hebei, case)
    assert {r["province"]: r["state"] for r in case["reviews"]} == {p: "REVIEW_STATE_PENDING" for p in OFFICER_OF}
    # Every route province has it at once (parallel review).
    for persona in ("shandong-review", "jiangsu-review"):
        assert app["name"] in f.queue(api_as(persona)), persona
    details = reached(carrier, app, "STATE_PROCESSING")
    assert details["stateLabel"] == "处理中"
    assert [(p["province"], p["decisionLabel"], p.get("origin", False)) for p in details["progress"]] == [
        (j.ORIGIN, "已受理", True), (j.VIA, "待审批", False), (j.DESTINATION, "待审批", False)]
    found = carrier.get("/v1/applications:search", params={"query": app["number"]})["applications"]
    assert [(a["name"], a["stateLabel"]) for a in found] == [(app["name"], "处理中")]

    # The destination decides first; the applicant sees each decision as it comes.
    j.approve(jiangsu, case, j.DESTINATION)
    j.wait_for(lambda: progress(carrier, app).get(j.DESTINATION) == "REVIEW_DECISION_APPROVED", "江苏 同意")
    assert progress(carrier, app)[j.VIA] == "REVIEW_DECISION_PENDING"
    j.approve(hebei, case, j.ORIGIN)
    # Two of three approved: no permit yet (RV-3).
    f.refused(hebei.http.post(f"/v1/{case['name']}:issuePermit", json={}), 400, "CASE_NOT_READY_TO_ISSUE")
    case = j.approve(shandong, case, j.VIA)
    assert case["state"] == "CASE_STATE_READY_TO_ISSUE"
    rows = j.wait_for(lambda: (p := current(carrier, app)["progress"]) and
                      all(r["decision"] == "REVIEW_DECISION_APPROVED" for r in p) and p, "every province 同意")
    assert {r["decisionLabel"] for r in rows} == {"同意"} and all(r.get("decideTime") for r in rows)
    # The applicant reads the same progress on the case, with who decided.
    mine = carrier.get(f"/v1/{app['name']}/case")
    assert {r["province"]: r["officer"] for r in mine["reviews"]} == {
        p: f"officers/{persona}" for p, persona in OFFICER_OF.items()}
    j.issue(hebei, case)
    assert reached(carrier, app, "STATE_ISSUED")["stateLabel"] == "已发证"


# ---- 2(1) 再来一件 (PQ-3) -------------------------------------------------------------------

def test_one_more_like_this_clones_a_prefilled_draft_without_dates_PQ_3(api_as):
    carrier = api_as("carrier")
    source = f.fill(carrier, start_in=540)
    source = f.attach(carrier, source, [("OTHER", f.upload(carrier, "TRANSPORT_PLAN"))])
    rid = f"clone-{source['number']}"
    clone = carrier.post(f"/v1/{source['name']}:clone", {"requestId": rid})
    assert clone["name"] != source["name"] and clone["number"] != source["number"]
    assert clone["state"] == "STATE_DRAFT" and clone["sourceApplication"] == source["name"]
    assert clone["cargo"] == source["cargo"]
    assert [v["plateNumber"] for v in clone["vehicles"]] == [TRACTOR, TRAILER]
    assert clone["overall"] == source["overall"]
    assert clone["agent"]["name"] == "李四"
    assert clone["passage"]["route"] == source["passage"]["route"]
    assert not clone["passage"].get("startDate") and not clone["passage"].get("endDate")
    # A retry of the same click gives the same draft.
    assert carrier.post(f"/v1/{source['name']}:clone", {"requestId": rid})["name"] == clone["name"]

    # Then the normal flow: choose dates, submit.
    clone = f.save(carrier, clone, "passage", {"passage": f.passage(544, 2)})
    assert submitted(carrier, clone)["stateLabel"] == "未受理"


def test_one_more_like_this_is_offered_on_every_status_PQ_3(api_as, seven):
    carrier = api_as("carrier")
    for state, source in seven.items():
        clone = carrier.post(f"/v1/{source['name']}:clone", {})
        assert (clone["state"], clone["stateLabel"]) == ("STATE_DRAFT", "未提交"), state
        assert clone["sourceApplication"] == source["name"], state
        assert (clone["cargo"], clone["overall"]) == (source["cargo"], source["overall"]), state
        assert [v["plateNumber"] for v in clone["vehicles"]] == [plate_of(source)], state
        assert clone["passage"]["route"] == source["passage"]["route"], state
        assert not clone["passage"].get("startDate"), state
        # The source stays as it was.
        assert state_of(carrier, source) == state
    # A clone goes through the normal flow like a new application.
    clone = carrier.post(f"/v1/{seven['STATE_DENIED']['name']}:clone", {})
    clone = f.save(carrier, clone, "passage", {"passage": f.passage(40, 2)})
    assert submitted(carrier, clone)["sourceApplication"] == seven["STATE_DENIED"]["name"]
    # Only one's own applications can be cloned.
    f.refused(api_as("person").http.post(f"/v1/{seven['STATE_ISSUED']['name']}:clone", json={}), 404,
              "APPLICATION_NOT_FOUND")


# ---- 2(2) 未提交: edit, submit as is, delete (PQ-4) --------------------------------------------

def test_a_saved_draft_is_edited_later_then_submitted_as_is_PQ_4(api_as):
    carrier = api_as("carrier")
    saved = hand_filled(carrier, cargo={**CLASS1_CARGO, "name": "风电叶片"})
    # 编辑许可: the draft is opened from the list and a step is changed, the rest kept.
    draft = next(a for a in listed(carrier, query=saved["number"]))
    assert draft["stateLabel"] == "未提交"
    edited = f.save(carrier, current(carrier, draft), "cargo", {"cargo": {**CLASS1_CARGO, "name": "风电机舱"}})
    assert edited["cargo"]["name"] == "风电机舱" and edited["vehicles"] == saved["vehicles"]
    # 提交许可: submitted as it stands, with no changes in the request.
    r = carrier.http.post(f"/v1/{edited['name']}:submit", json={"etag": edited["etag"]})
    assert r.status_code == 200, r.text
    sent = r.json()
    assert (sent["state"], sent["stateLabel"], sent["submission"]) == ("STATE_SUBMITTED", "未受理", 1)
    assert sent["cargo"] == edited["cargo"] and sent["passage"] == edited["passage"]
    assert j.case_of(api_as("hebei-accept"), sent["name"])["plateNumbers"] == [plate_of(saved)]
    # Once submitted it is no longer a draft to edit or delete.
    f.refused(f.save(carrier, sent, "cargo", {"cargo": CLASS1_CARGO}, expect=400), 400, "APPLICATION_NOT_DRAFT")
    f.refused(carrier.http.delete(f"/v1/{sent['name']}"), 400, "APPLICATION_NOT_DRAFT")


def test_a_draft_is_deleted_for_good_PQ_4(api_as):
    carrier = api_as("carrier")
    app = f.save(carrier, f.new_draft(carrier), "cargo", {"cargo": {"emptyLoad": True}})
    f.refused(carrier.http.delete(f"/v1/{app['name']}", params={"etag": "stale"}), 409, "ETAG_MISMATCH")
    carrier.call("DELETE", f"/v1/{app['name']}", params={"etag": app["etag"]})
    f.refused(carrier.http.get(f"/v1/{app['name']}"), 404, "APPLICATION_NOT_FOUND")
    drafts = carrier.get("/v1/applications", params={"state": "STATE_DRAFT", "pageSize": 100})
    assert app["name"] not in {a["name"] for a in drafts.get("applications", [])}
    assert not carrier.get("/v1/applications:search", params={"query": app["number"]}).get("applications")
    f.refused(carrier.http.delete(f"/v1/{app['name']}"), 404, "APPLICATION_NOT_FOUND")


# ---- 2(3) 未受理: withdraw (PQ-5) -----------------------------------------------------------

def test_withdrawn_application_is_void_and_its_case_is_cancelled_PQ_5(api_as):
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    app = submitted(carrier, f.fill(carrier, start_in=550))
    case = j.case_of(hebei, app["name"])
    assert case["state"] == "CASE_STATE_AWAITING_ACCEPTANCE"
    assert app["name"] in f.queue(hebei)

    withdrawn = carrier.post(f"/v1/{app['name']}:withdraw", {"etag": app["etag"], "reason": "计划取消"})
    assert withdrawn["state"] == "STATE_WITHDRAWN" and withdrawn["stateLabel"] == "已撤销"
    j.wait_for(lambda: hebei.get(f"/v1/{case['name']}")["state"] == "CASE_STATE_CANCELLED", "case cancelled")
    assert app["name"] not in f.queue(hebei)
    f.refused(hebei.http.post(f"/v1/{case['name']}:accept", json={}), 400, "CASE_NOT_AWAITING_ACCEPTANCE")

    # A client retry of the withdrawal answers the same void application, recorded once.
    again = carrier.post(f"/v1/{app['name']}:withdraw", {"etag": app["etag"], "reason": "计划取消"})
    assert again["state"] == "STATE_WITHDRAWN"
    # Void for good: no edit, no submit, no delete.
    f.refused(f.save(carrier, withdrawn, "cargo", {"cargo": {"emptyLoad": True}}, expect=400), 400,
              "APPLICATION_NOT_DRAFT")
    f.refused(f.submit_raw(carrier, withdrawn), 400, "APPLICATION_NOT_SUBMITTABLE")
    f.refused(carrier.http.delete(f"/v1/{app['name']}"), 400, "APPLICATION_NOT_DRAFT")
    assert state_of(carrier, app) == "STATE_WITHDRAWN"
    changes = carrier.get(f"/v1/{app['name']}/stateChanges")["stateChanges"]
    # The applicant's changes, the retry not among them; the approval side's echo of the
    # cancellation (CASE_WITHDRAWN) is kept in the trail as a no-op (RecordReviewEvent).
    mine = [c for c in changes if c["actor"].startswith("users/")]
    assert [(c.get("fromState", "STATE_UNSPECIFIED"), c["toState"]) for c in mine] == [
        ("STATE_UNSPECIFIED", "STATE_DRAFT"), ("STATE_DRAFT", "STATE_SUBMITTED"),
        ("STATE_SUBMITTED", "STATE_WITHDRAWN")]
    assert all(c["actor"] == "services/approval" and c["toState"] == "STATE_WITHDRAWN"
               for c in changes if c not in mine)
    assert mine[-1]["reason"] == "计划取消" and len({c["actor"] for c in mine}) == 1


def test_a_draft_cannot_be_withdrawn_PQ_5(api_as):
    carrier = api_as("carrier")
    app = f.new_draft(carrier)
    f.refused(carrier.http.post(f"/v1/{app['name']}:withdraw", json={"etag": app["etag"]}), 400,
              "APPLICATION_NOT_WITHDRAWABLE")


# ---- 2(4) 退回补正: reason, correct and resubmit, no saving (PQ-6, RV-1, RV-2) -------------------

def test_returned_application_shows_the_reason_and_is_corrected_by_submitting_PQ_6_RV_1(api_as):
    """The origin returns the submission before accepting it."""
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    app = submitted(carrier, f.fill(carrier, start_in=556))
    case = j.case_of(hebei, app["name"])
    f.refused(hebei.http.post(f"/v1/{case['name']}:return", json={"reason": " "}), 400, "REASON_REQUIRED")
    reason = "货物尺寸与轮廓不符，请核实后补正"
    returned = hebei.post(f"/v1/{case['name']}:return", {"reason": reason, "etag": case.get("etag", "")})
    assert returned["state"] == "CASE_STATE_RETURNED"

    app = reached(carrier, app, "STATE_RETURNED")
    assert app["stateLabel"] == "退回补正" and app["returnReason"] == reason
    last = carrier.get(f"/v1/{app['name']}/stateChanges")["stateChanges"][-1]
    assert (last["fromState"], last["toState"], last["actor"], last["reason"]) == (
        "STATE_SUBMITTED", "STATE_RETURNED", "officers/hebei-accept", reason)
    assert app["submission"] == 1

    # A correction cannot be saved on its own...
    corrected = {**CLASS1_CARGO, "lengthMm": "9500"}
    f.refused(f.save(carrier, app, "cargo", {"cargo": corrected}, expect=400), 400, "CORRECTION_SUBMIT_ONLY")
    assert current(carrier, app)["cargo"]["lengthMm"] == "9000"

    # ...only submitted together with its changes.
    r = f.submit_raw(carrier, app, application={"cargo": corrected}, updateMask="cargo")
    assert r.status_code == 200, r.text
    resubmitted = r.json()
    assert resubmitted["state"] == "STATE_SUBMITTED" and resubmitted["submission"] == 2
    assert resubmitted["cargo"]["lengthMm"] == "9500"
    j.wait_for(lambda: hebei.get(f"/v1/{case['name']}")["state"] == "CASE_STATE_AWAITING_ACCEPTANCE",
               "the resubmission waiting for acceptance again")
    assert app["name"] in f.queue(hebei)


def test_province_return_then_resubmission_keeps_unchanged_approvals_PQ_6_RV_2(api_as):
    """A route province returns during review, with a reason; the corrected resubmission keeps
    the approvals of the provinces whose part of the route did not change."""
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    shandong, jiangsu = api_as("shandong-review"), api_as("jiangsu-review")
    app, case = started(api_as, 500)
    j.approve(hebei, case, j.ORIGIN)
    j.approve(shandong, case, j.VIA)
    f.refused(decide(jiangsu, case, j.DESTINATION, "RETURN"), 400, "REASON_REQUIRED")
    assert decide(jiangsu, case, j.DESTINATION, "RETURN", reason="请补充江苏段通行时间").status_code == 200
    returned = reached(carrier, app, "STATE_RETURNED")
    assert returned["returnReason"] == "请补充江苏段通行时间"
    assert progress(carrier, app)[j.DESTINATION] == "REVIEW_DECISION_RETURNED"
    j.submit(carrier, returned)
    case = j.wait_for(lambda: (c := carrier.get(f"/v1/{app['name']}/case"))["state"] == "CASE_STATE_AWAITING_ACCEPTANCE"
                      and c, "case back to acceptance")
    case = j.accept(hebei, case)
    decisions = {r["province"]: r["state"] for r in case["reviews"]}
    assert decisions == {j.ORIGIN: "REVIEW_STATE_APPROVED", j.VIA: "REVIEW_STATE_APPROVED",
                         j.DESTINATION: "REVIEW_STATE_PENDING"}
    j.wait_for(lambda: progress(carrier, app).get(j.VIA) == "REVIEW_DECISION_APPROVED",
               "kept approval shown to the applicant")
    j.approve(jiangsu, case, j.DESTINATION)
    j.issue(hebei, case)
    reached(carrier, app, "STATE_ISSUED")


# ---- 2(5) 调整路线: accept speeds approval, reject means denial, class III escort plan (PQ-7) ----

def test_route_adjustment_accepted_by_the_applicant_is_fast_tracked_PQ_7_RV_2_RV_4(api_as):
    carrier, hebei, shandong = api_as("carrier"), api_as("hebei-accept"), api_as("shandong-review")
    app, case = started(api_as, 506)
    normal_due = next(r["dueDate"] for r in case["reviews"] if r["province"] == j.VIA)
    # The suggested route is the province's own part, and must be given.
    f.refused(shandong.http.post(f"/v1/{case['name']}/reviews/{j.VIA}:proposeAdjustment",
                                 json={"reason": "G2施工"}), 400, "SUGGESTED_ROUTE_REQUIRED")
    f.refused(shandong.http.post(f"/v1/{case['name']}/reviews/{j.VIA}:proposeAdjustment",
                                 json={"suggestedRoute": [{"province": j.DESTINATION, "roads": ["G15"]}],
                                       "reason": "G2施工"}), 400, "SUGGESTED_ROUTE_INVALID")
    shandong.post(f"/v1/{case['name']}/reviews/{j.VIA}:proposeAdjustment",
                  {"suggestedRoute": [{"province": j.VIA, "roads": ["G20", "G15"]}], "reason": "G2施工"})
    row = j.wait_for(lambda: next((p for p in current(carrier, app)["progress"] if p["province"] == j.VIA
                                   and p["decision"] == "REVIEW_DECISION_ROUTE_ADJUSTMENT"), None),
                     "adjustment shown to the applicant")
    assert row["decisionLabel"] == "建议调整路线" and row["reason"] == "G2施工"
    assert [(r["province"], r["roads"]) for r in row["suggestedRoute"]] == [(j.VIA, ["G20", "G15"])]

    case = carrier.post(f"/v1/{case['name']}/reviews/{j.VIA}:respond", {"accept": True})
    assert [r["roads"] for r in case["route"] if r["province"] == j.VIA] == [["G20", "G15"]]
    review = next(r for r in case["reviews"] if r["province"] == j.VIA)
    # Accepting speeds the province up: a fast-track deadline well before the normal one.
    assert review["state"] == "REVIEW_STATE_PENDING" and review["fastTrack"] is True
    assert as_date(review["dueDate"]) < as_date(normal_due)
    j.wait_for(lambda: any(r["province"] == j.VIA and r["roads"] == ["G20", "G15"]
                           for r in current(carrier, app)["passage"]["route"]),
               "route replaced in the application")
    f.refused(carrier.http.post(f"/v1/{case['name']}/reviews/{j.VIA}:respond", json={"accept": True}), 400,
              "NO_ADJUSTMENT_PROPOSED")
    for persona, province in (("shandong-review", j.VIA), ("hebei-accept", j.ORIGIN),
                              ("jiangsu-review", j.DESTINATION)):
        case = j.approve(api_as(persona), case, province)
    permit = j.issue(hebei, case)
    assert [r["roads"] for r in permit["route"] if r["province"] == j.VIA] == [["G20", "G15"]]


def test_route_adjustment_rejected_by_the_applicant_means_denial_PQ_7_RV_2(api_as):
    carrier, jiangsu = api_as("carrier"), api_as("jiangsu-review")
    app = submitted(carrier, hand_filled(carrier))
    case = accepted(api_as, app)
    r = decide(jiangsu, case, j.DESTINATION, "REQUIRE_ADJUSTMENT", reason="G2南京段限高",
               suggestedRoute=[{"province": j.DESTINATION, "roads": ["G25", "G42"]}])
    assert r.status_code == 200, r.text
    j.wait_for(lambda: progress(carrier, app).get(j.DESTINATION) == "REVIEW_DECISION_ROUTE_ADJUSTMENT",
               "adjustment shown to the applicant")
    # Only the applicant answers the suggestion.
    f.refused(jiangsu.http.post(f"/v1/{case['name']}/reviews/{j.DESTINATION}:respond", json={"accept": False}),
              403, "NOT_APPLICANT")
    case = carrier.post(f"/v1/{case['name']}/reviews/{j.DESTINATION}:respond", {"accept": False})
    assert case["state"] == "CASE_STATE_DENIED"
    assert {r["province"]: r["state"] for r in case["reviews"]} == {
        j.ORIGIN: "REVIEW_STATE_CANCELLED", j.VIA: "REVIEW_STATE_CANCELLED", j.DESTINATION: "REVIEW_STATE_DENIED"}
    denied = reached(carrier, app, "STATE_DENIED")
    assert denied["stateLabel"] == "不予许可" and denied["returnReason"] == "申请人不采纳建议路线"
    assert [r["roads"] for r in denied["passage"]["route"] if r["province"] == j.DESTINATION] == [["G2"]]
    f.refused(decide(api_as("shandong-review"), case, j.VIA, "APPROVE"), 400, "CASE_NOT_UNDER_REVIEW")


def test_class_three_route_adjustment_needs_an_updated_escort_plan_PQ_7_AP_9(api_as):
    carrier, shandong, jiangsu = api_as("carrier"), api_as("shandong-review"), api_as("jiangsu-review")
    app = hand_filled(carrier, height=4600)
    assert app["permitClass"] == 3
    old_plan = f.upload(carrier, "ESCORT_PLAN")
    app = f.attach(carrier, app, [*[("OUTLINE_DRAWING", f.upload(carrier, "OUTLINE_DRAWING")) for _ in range(3)],
                                 ("ESCORT_PLAN", old_plan)])
    case = accepted(api_as, submitted(carrier, app))
    shandong.post(f"/v1/{case['name']}/reviews/{j.VIA}:proposeAdjustment",
                  {"suggestedRoute": [{"province": j.VIA, "roads": ["G3"]}], "reason": "G2桥梁加固"})
    j.wait_for(lambda: progress(carrier, app).get(j.VIA) == "REVIEW_DECISION_ROUTE_ADJUSTMENT", "调整路线")
    respond = f"/v1/{case['name']}/reviews/{j.VIA}:respond"
    f.refused(carrier.http.post(respond, json={"accept": True}), 400, "ESCORT_PLAN_REQUIRED")

    new_plan = f.upload(carrier, "ESCORT_PLAN")
    case = carrier.post(respond, {"accept": True, "escortPlan": new_plan})
    assert new_plan in case["documents"]
    plans = j.wait_for(lambda: [m["document"] for m in current(carrier, app)["materials"]
                                if m["kind"] == "MATERIAL_KIND_ESCORT_PLAN" and m["document"] == new_plan],
                       "the updated escort plan in the application")
    assert plans == [new_plan] and old_plan not in {m["document"] for m in current(carrier, app)["materials"]}
    # The provinces on the route may read the updated plan.
    j.wait_for(lambda: download_status(jiangsu, new_plan) == 200, "the new escort plan granted to 江苏")
    j.approve(shandong, case, j.VIA)


# ---- 2(6) 处理中撤销 (PQ-8) -----------------------------------------------------------------

def test_withdrawal_while_processing_closes_the_case_PQ_8(api_as):
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    app, case = started(api_as, 512)
    j.approve(hebei, case, j.ORIGIN)
    j.wait_for(lambda: progress(carrier, app)[j.ORIGIN] == "REVIEW_DECISION_APPROVED", "河北 同意")
    withdrawn = carrier.post(f"/v1/{app['name']}:withdraw", {"etag": current(carrier, app)["etag"]})
    assert (withdrawn["state"], withdrawn["stateLabel"]) == ("STATE_WITHDRAWN", "已撤销")
    case = j.wait_for(lambda: (c := hebei.get(f"/v1/{case['name']}"))["state"] == "CASE_STATE_CANCELLED" and c,
                      "case cancelled")
    assert {r["province"]: r["state"] for r in case["reviews"]} == {
        j.ORIGIN: "REVIEW_STATE_APPROVED", j.VIA: "REVIEW_STATE_CANCELLED", j.DESTINATION: "REVIEW_STATE_CANCELLED"}
    f.refused(decide(api_as("shandong-review"), case, j.VIA, "APPROVE"), 400, "CASE_NOT_UNDER_REVIEW")
    f.refused(hebei.http.post(f"/v1/{case['name']}:issuePermit", json={}), 400, "CASE_NOT_READY_TO_ISSUE")
    assert app["name"] not in f.queue(api_as("jiangsu-review"))
    # Void for good.
    f.refused(f.submit_raw(carrier, withdrawn), 400, "APPLICATION_NOT_SUBMITTABLE")
    assert state_of(carrier, app) == "STATE_WITHDRAWN"


# ---- 2(7) 已发证废止 (PQ-9) -----------------------------------------------------------------

def test_issued_permit_is_abolished_when_the_transport_is_done_PQ_9_RV_5(api_as, anonymous):
    carrier = api_as("carrier")
    # Travelling from today (Asia/Shanghai): the permit is valid at once.
    today = dates.today()
    app = hand_filled(carrier, start_in=(today - f.TODAY).days)
    permit = issued(api_as, app)
    assert anonymous.post("/v1/permits:verify", {"verificationCode": permit["verificationCode"]})["result"] == \
        "VERIFICATION_RESULT_VALID"
    # Only the holder ends it: not another applicant, not an officer.
    f.refused(api_as("person").http.post(f"/v1/{permit['name']}:abolish", json={}), 404, "PERMIT_NOT_FOUND")
    f.refused(api_as("hebei-accept").http.post(f"/v1/{permit['name']}:abolish", json={}), 403, "NOT_APPLICANT")

    abolished = carrier.post(f"/v1/{permit['name']}:abolish", {"reason": "运输完成"})
    assert abolished["state"] == "PERMIT_STATE_ABOLISHED" and abolished["abolishReason"] == "运输完成"
    shown = j.wait_for(lambda: (a := current(carrier, app)).get("permitState") == "PERMIT_STATE_ABOLISHED" and a,
                       "已废止 shown to the applicant")
    assert (shown["stateLabel"], shown["permitStateLabel"]) == ("已发证", "已废止")
    v = anonymous.post("/v1/permits:verify", {"verificationCode": permit["verificationCode"]})
    assert v["result"] == "VERIFICATION_RESULT_ABOLISHED" and v["permitNumber"] == permit["number"]
    # Ended for good: no second abolition, no extension.
    f.refused(carrier.http.post(f"/v1/{permit['name']}:abolish", json={}), 400, "PERMIT_NOT_ACTIVE")
    f.refused(carrier.http.post(f"/v1/{permit['name']}/extensions",
                                json={"newEndDate": later(permit["endDate"], 3), "provinces": [j.VIA],
                                      "reason": "延误"}), 400, "PERMIT_NOT_ACTIVE")


# ---- 3(1) 车辆变更 (PQ-10) ------------------------------------------------------------------

# A second legal-person carrier on the PC side, whose fleet holds two tractors with the same
# curb mass, axles, wheelbase and tyres (and a third with another wheelbase).
TWIN_USCC = "91130100MA0E7T2K4G"
TWIN_TRACTORS = ("冀C10001", "冀C10002", "冀C10003")
TWIN_TRAILER = "冀C1003挂"
TWIN_ACCOUNT = {
    "legacy_id": "L3001", "kind": "ENTERPRISE", "name": "石家庄恒通重载运输有限公司", "uscc": TWIN_USCC,
    "province": "130000", "address": "河北省石家庄市桥西区自强路8号", "contact_phone": "0311-86005678",
    "legal_representative": {"name": "钱明", "id_number": "130102198001011232"},
    "vehicles": [
        *({"plate": plate, "type": "重型半挂牵引车", "make_model": "解放牌CA4250P66K24T1A1E5",
           "curb_mass_kg": 8800, "axles": 3, "wheelbase_mm": wheelbase, "tyres": 10,
           "length_mm": 6900, "width_mm": 2500, "height_mm": 3350}
          for plate, wheelbase in zip(TWIN_TRACTORS, (3300, 3300, 3500), strict=True)),
        {"plate": TWIN_TRAILER, "type": "重型平板半挂车", "make_model": "通华牌THT9400TDP", "curb_mass_kg": 9500,
         "axles": 3, "wheelbase_mm": 7600, "tyres": 12, "length_mm": 13000, "width_mm": 3000, "height_mm": 1600},
    ],
    "agents": [{"name": "周七", "id_number": "130102198806124517", "phone": "13900139000"}],
    "applications": [],
}


@pytest.fixture(scope="module")
def twin_carrier(stack, tmp_path_factory) -> Api:
    """The second carrier, signed in on the APP as its legal person.

    Fleet vehicles are maintained on the PC side only (如果没有可选择的车辆请到电脑端进行车辆信息维护),
    so they arrive the way every PC-side record does: the PC system's export, synced into the
    owner services by the one command (PC-3); the carrier is then linked on first entry (ID-3).
    """
    export = tmp_path_factory.mktemp("pc-export") / "export.json"
    export.write_text(json.dumps({"accounts": [TWIN_ACCOUNT]}, ensure_ascii=False), encoding="utf-8")
    stack.sync(export, "--partial")
    ticket = stack.run("permit_identity", "mint-ticket", "--channel", "APP", "--user-type", "LEGAL",
                       "--uid", "pc-L3001-legal", "--name", TWIN_ACCOUNT["name"],
                       "--uscc", TWIN_USCC).stdout.strip().splitlines()[-1]
    session = Api(stack.gateway_url).post("/v1/sessions:signIn", {"channel": "CHANNEL_APP", "ticket": ticket})
    api = Api(stack.gateway_url, session["accessToken"])
    assert api.get("/v1/me")["party"] == "parties/L3001"
    return api


def twin_fleet(api) -> dict[str, dict]:
    vehicles = api.get("/v1/vehicles:suggest", params={"platePrefix": "冀C", "pageSize": 50})["vehicles"]
    return {v["plateNumber"]: v for v in vehicles}


def twin_submitted(api) -> dict:
    """The second carrier's application with its first tractor and its trailer."""
    fleet = twin_fleet(api)
    vehicles = [fleet[TWIN_TRACTORS[0]], fleet[TWIN_TRAILER]]
    agent = api.get("/v1/agents:suggest", params={"namePrefix": "周"})["agents"][0]
    app = f.new_draft(api)
    app = f.save(api, app, "cargo", {"cargo": CLASS1_CARGO})
    app = f.save(api, app, "vehicles", {"vehicles": vehicles})
    app = f.save(api, app, "overall", {"overall": f.overall(vehicles, CLASS1_CARGO, height=4000, width=3000)})
    app = f.save(api, app, "passage", {"passage": f.passage(30, 3)})
    app = f.save(api, app, "agent", {"agent": {"agentRef": agent["agentRef"]}})
    return submitted(api, app)


def request_change(api, case: dict, old: str, new_vehicle: str, poa: str = ""):
    return api.http.post(f"/v1/{case['name']}/vehicleChanges",
                         json={"oldPlateNumber": old, "newVehicle": new_vehicle, "powerOfAttorney": poa})


def test_vehicle_change_to_an_identical_fleet_vehicle_with_a_new_power_of_attorney_PQ_10(api_as, twin_carrier):
    carrier, hebei, jiangsu = twin_carrier, api_as("hebei-accept"), api_as("jiangsu-review")
    fleet = twin_fleet(carrier)
    twin, other = fleet[TWIN_TRACTORS[1]]["fleetVehicle"], fleet[TWIN_TRACTORS[2]]["fleetVehicle"]
    app = twin_submitted(carrier)
    case = j.case_of(hebei, app["name"])
    poa = f.upload(carrier, "POWER_OF_ATTORNEY")
    # Only while 处理中.
    f.refused(request_change(carrier, case, TWIN_TRACTORS[0], twin, poa), 400, "CASE_NOT_UNDER_REVIEW")
    case = accepted(api_as, app, carrier)

    # Refusals, each with its reason: no new power of attorney, a plate not on the case,
    # another wheelbase.
    f.refused(request_change(carrier, case, TWIN_TRACTORS[0], twin), 400, "POWER_OF_ATTORNEY_REQUIRED")
    f.refused(request_change(carrier, case, "冀C99999", twin, poa), 400, "PLATE_NOT_ON_CASE")
    e = f.refused(request_change(carrier, case, TWIN_TRACTORS[0], other, poa), 400, "VEHICLE_NOT_EQUIVALENT")
    assert e["metadata"]["mismatched"] == "wheelbase_mm"

    # The identical tractor: pending until the origin decides; 河北 has it in its queue.
    case = carrier.post(f"/v1/{case['name']}/vehicleChanges",
                        {"oldPlateNumber": TWIN_TRACTORS[0], "newVehicle": twin, "powerOfAttorney": poa})
    change = case["vehicleChanges"][-1]
    assert (change["state"], change["oldPlateNumber"], change["newPlateNumber"]) == (
        "CHANGE_REQUEST_STATE_PENDING", TWIN_TRACTORS[0], TWIN_TRACTORS[1])
    f.refused(request_change(carrier, case, TWIN_TRACTORS[0], twin, poa), 400, "VEHICLE_CHANGE_PENDING")
    assert app["name"] in f.queue(hebei)
    decide_change = f"/v1/{change['name']}:decide"
    f.refused(jiangsu.http.post(decide_change, json={"decision": "DECISION_APPROVE"}), 403, "NOT_OFFICER")

    # A denial needs a reason, and leaves the case as it was.
    f.refused(hebei.http.post(decide_change, json={"decision": "DECISION_DENY"}), 400, "REASON_REQUIRED")
    case = hebei.post(decide_change, {"decision": "DECISION_DENY", "reason": "委托书未盖公章"})
    assert case["vehicleChanges"][-1]["state"] == "CHANGE_REQUEST_STATE_DENIED"
    assert case["vehicleChanges"][-1]["reason"] == "委托书未盖公章"
    assert case["plateNumbers"] == [TWIN_TRACTORS[0], TWIN_TRAILER]

    # Asked again with a corrected power of attorney, and approved.
    poa = f.upload(carrier, "POWER_OF_ATTORNEY")
    case = carrier.post(f"/v1/{case['name']}/vehicleChanges",
                        {"oldPlateNumber": TWIN_TRACTORS[0], "newVehicle": twin, "powerOfAttorney": poa})
    case = hebei.post(f"/v1/{case['vehicleChanges'][-1]['name']}:decide", {"decision": "DECISION_APPROVE"})
    assert case["plateNumbers"] == [TWIN_TRACTORS[1], TWIN_TRAILER]
    changed = j.wait_for(lambda: (a := current(carrier, app))["vehicles"][0]["plateNumber"] == TWIN_TRACTORS[1]
                         and a, "the new tractor in the application")
    assert changed["stateLabel"] == "处理中" and changed["agent"]["powerOfAttorneyDocument"] == poa
    # The route provinces may read the new power of attorney; the permit carries the new tractor.
    j.wait_for(lambda: download_status(jiangsu, poa) == 200, "the new power of attorney granted to 江苏")
    permit = j.issue(hebei, approved_by_all(api_as, case))
    assert permit["plateNumbers"] == [TWIN_TRACTORS[1], TWIN_TRAILER]


def test_vehicle_change_refuses_vehicles_not_kept_on_the_pc_side_PQ_10(api_as, twin_carrier):
    carrier = api_as("carrier")
    app, case = started(api_as, 518)
    tractor_plate = next(p for p in case["plateNumbers"] if not p.endswith("挂"))
    poa = f.upload(carrier, "POWER_OF_ATTORNEY")
    # The trailer's curb mass, axles, wheelbase and tyres differ from the tractor's.
    trailer = f.fleet(carrier)[1]
    e = f.refused(request_change(carrier, case, tractor_plate, trailer["fleetVehicle"], poa), 400,
                  "VEHICLE_NOT_EQUIVALENT")
    assert set(e["metadata"]["mismatched"].split(",")) == {"curb_mass_kg", "wheelbase_mm", "tyre_count"}
    # A vehicle typed in on the phone for an earlier application is not a PC-side vehicle.
    earlier = submitted(carrier, hand_filled(carrier))
    typed = carrier.get("/v1/vehicles:suggest", params={"platePrefix": plate_of(earlier)})["vehicles"]
    assert [v["source"] for v in typed] == ["HISTORY"]
    f.refused(request_change(carrier, case, tractor_plate, typed[0]["fleetVehicle"], poa), 400,
              "VEHICLE_NOT_IN_FLEET")
    # Another carrier's fleet vehicle does not exist for this one.
    foreign = twin_fleet(twin_carrier)[TWIN_TRACTORS[1]]["fleetVehicle"]
    f.refused(request_change(carrier, case, tractor_plate, foreign, poa), 404, "VEHICLE_NOT_FOUND")
    assert api_as("hebei-accept").get(f"/v1/{case['name']}")["plateNumbers"] == [TRACTOR, TRAILER]


# ---- 3(2) 延期 (PQ-11, RV-5) -----------------------------------------------------------------

def test_extension_with_new_end_date_provinces_and_reason_is_approved_by_those_provinces_PQ_11_RV_5(
        api_as, anonymous):
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    shandong, jiangsu, beijing = api_as("shandong-review"), api_as("jiangsu-review"), api_as("beijing-review")
    app = hand_filled(carrier, start_in=60)
    permit = issued(api_as, app)
    v = anonymous.post("/v1/permits:verify", {"verificationCode": permit["verificationCode"]})
    assert v["result"] == "VERIFICATION_RESULT_NOT_YET_VALID" and v["permitNumber"] == permit["number"]
    end = permit["endDate"]
    extensions = f"/v1/{permit['name']}/extensions"

    def ask(**body):
        return carrier.http.post(extensions, json={"newEndDate": later(end, 5), "provinces": [j.VIA, j.DESTINATION],
                                                   "reason": "设备延迟到货", **body})

    f.refused(ask(newEndDate=end), 400, "NEW_END_DATE_INVALID")
    f.refused(ask(provinces=[]), 400, "PROVINCES_REQUIRED")
    f.refused(ask(provinces=[BEIJING]), 400, "PROVINCE_NOT_ON_ROUTE")
    f.refused(ask(reason=""), 400, "REASON_REQUIRED")
    r = ask()
    assert r.status_code == 200, r.text
    ext = r.json()["extensions"][-1]
    assert (ext["state"], ext["newEndDate"], ext["provinces"], ext["reason"]) == (
        "CHANGE_REQUEST_STATE_PENDING", later(end, 5), [j.VIA, j.DESTINATION], "设备延迟到货")
    f.refused(ask(), 400, "EXTENSION_PENDING")

    # The chosen provinces have it in their queue; others may not decide it.
    waiting = shandong.get("/v1/workQueue", params={"pageSize": 1}).get("extensionPermits", [])
    assert permit["name"] in {p["name"] for p in waiting}
    assert permit["name"] not in {p["name"] for p in beijing.get("/v1/workQueue").get("extensionPermits", [])}
    f.refused(hebei.http.post(f"/v1/{ext['name']}:decide", json={"decision": "DECISION_APPROVE"}), 403,
              "OTHER_PROVINCE")
    one = shandong.post(f"/v1/{ext['name']}:decide", {"decision": "DECISION_APPROVE"})
    assert one["extensions"][-1]["state"] == "CHANGE_REQUEST_STATE_PENDING" and one["endDate"] == end
    f.refused(shandong.http.post(f"/v1/{ext['name']}:decide", json={"decision": "DECISION_APPROVE"}), 400,
              "PROVINCE_ALREADY_DECIDED")
    done = jiangsu.post(f"/v1/{ext['name']}:decide", {"decision": "DECISION_APPROVE"})
    assert done["state"] == "PERMIT_STATE_EXTENDED" and done["endDate"] == later(end, 5)
    assert done["extensions"][-1]["state"] == "CHANGE_REQUEST_STATE_APPROVED"
    shown = j.wait_for(lambda: (a := current(carrier, app)).get("permitEndDate") == later(end, 5) and a,
                       "extension shown to the applicant")
    assert (shown["stateLabel"], shown["permitStateLabel"]) == ("已发证", "已延期")
    assert anonymous.post("/v1/permits:verify", {"verificationCode": permit["verificationCode"]})["endDate"] == \
        later(end, 5)

    # A second extension denied by one of its provinces leaves the validity as it is.
    r = carrier.http.post(extensions, json={"newEndDate": later(end, 9), "provinces": [j.DESTINATION],
                                            "reason": "卸货场地未就绪"})
    assert r.status_code == 200, r.text
    second = r.json()["extensions"][-1]["name"]
    f.refused(jiangsu.http.post(f"/v1/{second}:decide", json={"decision": "DECISION_DENY"}), 400, "REASON_REQUIRED")
    denied = jiangsu.post(f"/v1/{second}:decide", {"decision": "DECISION_DENY", "reason": "该时段道路施工"})
    assert denied["extensions"][-1]["state"] == "CHANGE_REQUEST_STATE_DENIED" and denied["endDate"] == later(end, 5)


# ---- the officers' side: decisions, issue, deadlines, the permit (RV-1..RV-5) -------------------

def test_route_province_officers_get_a_download_link_other_provinces_do_not_RV_1(api_as) -> None:
    """After submission the approval service grants the application's documents to the
    origin and every route province (DocumentService.GrantAccess through its outbox)."""
    carrier = api_as("carrier")
    shandong, beijing = api_as("shandong-review"), api_as("beijing-review")
    app = j.fill_draft(carrier, start_in_days=105, days=3)
    # A document of its own (the same bytes uploaded again would be the same document).
    doc = f.upload(carrier, "TRANSPORT_PLAN")
    app = f.attach(carrier, app, [("OTHER", doc)])
    # A draft's material is the applicant's alone.
    assert download_status(shandong, doc) == 404
    j.submit(carrier, app)
    j.wait_for(lambda: download_status(shandong, doc) == 200, "grant to a route province")
    link = shandong.get(f"/v1/{doc}:downloadUrl")
    assert link["url"] and link["expireTime"]
    for persona in ("hebei-accept", "jiangsu-review"):
        assert download_status(api_as(persona), doc) == 200, persona
    # Beijing is not on the route: the document stays invisible to its officers.
    r = beijing.http.get(f"/v1/{doc}:downloadUrl")
    assert r.status_code == 404 and "DOCUMENT_NOT_FOUND" in r.text, r.text
    assert beijing.http.get(f"/v1/{doc}").status_code == 404


def test_origin_refusing_to_accept_is_shown_as_not_permitted_RV_1_PQ_1(api_as):
    """不予受理 (e.g. a divisible load) has no status of its own among the seven: 不予许可."""
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    app = submitted(carrier, hand_filled(carrier))
    case = j.case_of(hebei, app["name"])
    f.refused(hebei.http.post(f"/v1/{case['name']}:refuse", json={}), 400, "REASON_REQUIRED")
    refused = hebei.post(f"/v1/{case['name']}:refuse", {"reason": "货物可分段运输，不予受理"})
    assert refused["state"] == "CASE_STATE_REFUSED"
    shown = reached(carrier, app, "STATE_DENIED")
    assert (shown["stateLabel"], shown["returnReason"]) == ("不予许可", "货物可分段运输，不予受理")
    f.refused(hebei.http.post(f"/v1/{case['name']}:accept", json={}), 400, "CASE_NOT_AWAITING_ACCEPTANCE")


def test_one_province_denial_denies_the_application_RV_2_RV_3(api_as):
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    shandong, jiangsu = api_as("shandong-review"), api_as("jiangsu-review")
    app = submitted(carrier, hand_filled(carrier))
    case = accepted(api_as, app)
    f.refused(decide(shandong, case, j.VIA, "UNSPECIFIED"), 400, "DECISION_REQUIRED")
    f.refused(decide(shandong, case, j.VIA, "DENY"), 400, "REASON_REQUIRED")
    # An officer decides for its own province only.
    f.refused(decide(shandong, case, j.DESTINATION, "APPROVE"), 403, "OTHER_PROVINCE")
    j.approve(hebei, case, j.ORIGIN)
    r = decide(shandong, case, j.VIA, "DENY", reason="货物可解体，不予许可")
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["state"] == "CASE_STATE_DENIED" and case["reason"] == "货物可解体，不予许可"
    assert {r["province"]: r["state"] for r in case["reviews"]} == {
        j.ORIGIN: "REVIEW_STATE_APPROVED", j.VIA: "REVIEW_STATE_DENIED", j.DESTINATION: "REVIEW_STATE_CANCELLED"}
    f.refused(decide(jiangsu, case, j.DESTINATION, "APPROVE"), 400, "CASE_NOT_UNDER_REVIEW")
    f.refused(hebei.http.post(f"/v1/{case['name']}:issuePermit", json={}), 400, "CASE_NOT_READY_TO_ISSUE")
    denied = reached(carrier, app, "STATE_DENIED")
    assert denied["returnReason"] == "货物可解体，不予许可"
    assert progress(carrier, app)[j.VIA] == "REVIEW_DECISION_DENIED"
    assert app["name"] not in f.queue(jiangsu)


class WorkingDays:
    """The test's own count of working days: the ``chinesecalendar`` library (the State
    Council's holidays and make-up workdays) for the years it knows; for a later year what the
    approval service was given, or weekdays only, flagged provisional, when it was given nothing."""

    def __init__(self, officer) -> None:
        self.officer = officer
        self.entered: dict[int, dict] = {}

    def is_workday(self, d: dt.date) -> tuple[bool, bool]:
        """``(working, known)``."""
        try:
            return chinese_calendar.is_workday(d), True
        except NotImplementedError:  # a year the library has no data for
            if d.year not in self.entered:
                self.entered[d.year] = self.officer.get(f"/v1/workingCalendars/{d.year}")
            year = self.entered[d.year]
            holidays = {as_date(x) for x in year.get("holidays", [])}
            workdays = {as_date(x) for x in year.get("workdays", [])}
            return d in workdays or (d.weekday() < 5 and d not in holidays), year.get("known", False)

    def after(self, start: dt.date, days: int) -> tuple[dt.date, bool]:
        """The ``days``-th working day after ``start``, and whether it is provisional."""
        d, counted, provisional = start, 0, False
        while counted < days:
            d += dt.timedelta(days=1)
            working, known = self.is_workday(d)
            counted += working
            provisional |= not known
        return d, provisional

    def between(self, start: dt.date, end: dt.date) -> int:
        """The working days after ``start`` up to and including ``end``."""
        return sum(self.is_workday(start + dt.timedelta(days=n))[0] for n in range(1, (end - start).days + 1))


def test_the_working_calendar_is_the_state_councils_RV_4(api_as):
    """The officers read the calendar deadlines are counted on; 2026 as the library has it,
    with the facts of its National Day: 10-01 a weekday holiday, Saturday 10-10 a make-up workday."""
    cal = api_as("shandong-review").get("/v1/workingCalendars/2026")
    assert cal["known"] is True and cal["source"] == "library"
    year = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    holidays, workdays = {as_date(d) for d in cal["holidays"]}, {as_date(d) for d in cal["workdays"]}
    assert holidays == {d for d in chinese_calendar.get_holidays(*year) if d.weekday() < 5}
    assert workdays == {d for d in chinese_calendar.get_workdays(*year) if d.weekday() >= 5}
    assert dt.date(2026, 10, 1) in holidays and dt.date(2026, 10, 10) in workdays
    assert dt.date(2026, 10, 8) not in holidays | workdays  # an ordinary Thursday
    f.refused(api_as("carrier").http.get("/v1/workingCalendars/2026"), 403, "NOT_OFFICER")


def test_deadlines_by_class_in_working_days_are_shown_to_applicant_and_officers_RV_4(api_as):
    """Art. 16: acceptance within 2 working days; Art. 15: cross-province decisions within
    5, 10 and 20 working days for classes I, II and III, counted on the Chinese calendar."""
    carrier, hebei, shandong = api_as("carrier"), api_as("hebei-accept"), api_as("shandong-review")
    calendar = WorkingDays(shandong)
    by_class = {}
    for cls, extra in ((1, {"width": 3000}), (2, {"width": 3500}), (3, {"height": 4600})):
        app = hand_filled(carrier, cargo=HAND_CARGO, **extra)  # 22 t gross: within Art. 3's mass
        assert app["permitClass"] == cls
        if cls == 3:
            drawings = [("OUTLINE_DRAWING", f.upload(carrier, "OUTLINE_DRAWING")) for _ in range(3)]
            app = f.attach(carrier, app, [*drawings, ("ESCORT_PLAN", f.upload(carrier, "ESCORT_PLAN"))])
        app = submitted(carrier, app)
        # Awaiting acceptance: due 2 working days after submission, for applicant and officer alike.
        case = j.case_of(hebei, app["name"])
        due = calendar.after(event_day(case, "CASE_SUBMITTED"), 2)
        for seen in (case, carrier.get(f"/v1/{app['name']}/case")):
            assert (as_date(seen["acceptanceDueDate"]), seen.get("acceptanceDueDateProvisional", False)) == due
        by_class[cls] = (app, j.accept(hebei, case))

    for cls, days in ((1, 5), (2, 10), (3, 20)):
        app, case = by_class[cls]
        due, provisional = calendar.after(event_day(case, "CASE_ACCEPTED"), days)
        for seen in (case, carrier.get(f"/v1/{app['name']}/case")):
            assert {(r["province"], as_date(r["dueDate"]), r.get("dueDateProvisional", False))
                    for r in seen["reviews"]} == {(p, due, provisional) for p in OFFICER_OF}, cls
            assert not any(r.get("overdue") for r in seen["reviews"])
    # The reviewer's queue answers the earliest due first.
    order = queue_order(shandong)
    places = [order.index(by_class[c][0]["name"]) for c in (1, 2, 3)]
    assert places == sorted(places)

    # Strengthening a bridge stops the clock; resumed, the working days left count again.
    app, case = by_class[3]
    review = f"/v1/{case['name']}/reviews/{j.VIA}"
    f.refused(shandong.http.post(f"{review}:suspend", json={}), 400, "REASON_REQUIRED")
    case = shandong.post(f"{review}:suspend", {"reason": "G2黄河大桥加固"})
    stopped = next(r for r in case["reviews"] if r["province"] == j.VIA)
    left = calendar.between(event_day(case, "REVIEW_SUSPENDED"), as_date(stopped["dueDate"]))
    assert stopped["suspended"] is True and stopped["suspendReason"] == "G2黄河大桥加固"
    assert stopped["remainingDays"] == left
    case = shandong.post(f"{review}:resume", {})
    resumed = next(r for r in case["reviews"] if r["province"] == j.VIA)
    assert not resumed.get("suspended")
    assert as_date(resumed["dueDate"]) == calendar.after(event_day(case, "REVIEW_RESUMED"), left)[0]


def test_permit_has_a_number_validity_conditions_and_a_verifiable_code_RV_5_RV_3(api_as, anonymous):
    carrier, hebei, shandong = api_as("carrier"), api_as("hebei-accept"), api_as("shandong-review")
    app = submitted(carrier, hand_filled(carrier, start_in=45, days=5))
    case = accepted(api_as, app)
    j.approve(hebei, case, j.ORIGIN)
    r = decide(shandong, case, j.VIA, "APPROVE", conditions=["夜间22时至次日6时通行", "限速60公里/小时"])
    assert r.status_code == 200, r.text
    case = j.approve(api_as("jiangsu-review"), case, j.DESTINATION)
    permit = j.issue(hebei, case)
    year = event_day(hebei.get(f"/v1/{case['name']}"), "PERMIT_ISSUED").year
    assert re.fullmatch(rf"13{year}\d{{6}}", permit["number"]), permit["number"]
    assert (permit["startDate"], permit["endDate"]) == (app["passage"]["startDate"], app["passage"]["endDate"])
    assert permit["state"] == "PERMIT_STATE_VALID" and permit["issuingProvince"] == j.ORIGIN
    assert permit["plateNumbers"] == [plate_of(app)]
    assert [(c["province"], c["text"]) for c in permit["conditions"]] == [
        (j.VIA, "夜间22时至次日6时通行"), (j.VIA, "限速60公里/小时")]
    shown = reached(carrier, app, "STATE_ISSUED")
    assert (shown["permitNumber"], shown["permitStartDate"], shown["permitEndDate"], shown["permitStateLabel"]) == (
        permit["number"], permit["startDate"], permit["endDate"], "有效")
    # The holder and the route provinces read the permit; nobody else.
    assert carrier.get(f"/v1/{permit['name']}")["number"] == permit["number"]
    assert shandong.get(f"/v1/{permit['name']}")["number"] == permit["number"]
    f.refused(api_as("beijing-review").http.get(f"/v1/{permit['name']}"), 403, "OTHER_PROVINCE")
    f.refused(api_as("person").http.get(f"/v1/{permit['name']}"), 404, "PERMIT_NOT_FOUND")

    # The QR code is checked against the server without sign-in, and shows only what a roadside check needs.
    code = permit["verificationCode"]
    v = anonymous.post("/v1/permits:verify", {"verificationCode": code})
    base = ("result", "permitNumber", "plateNumbers", "startDate", "endDate")
    assert {k: v[k] for k in base} == {
        "result": "VERIFICATION_RESULT_NOT_YET_VALID", "permitNumber": permit["number"],
        "plateNumbers": [plate_of(app)], "startDate": permit["startDate"], "endDate": permit["endDate"]}
    # CT-3: besides, only what a roadside check needs (route, vehicles, overall figures).
    assert set(v) - set(base) <= {"route", "overall", "vehicles", "multiTrip", "issuingProvince",
                                  "certificateVersion", "currentCertificateVersion"}
    assert v["route"] == permit["route"]
    scanned = anonymous.post("/v1/permits:verify", {"verificationCode": f"https://example.cn/verify?c={code}"})
    assert scanned["permitNumber"] == permit["number"]
    forged = code[:-2] + ("AA" if not code.endswith("AA") else "BB")
    assert anonymous.post("/v1/permits:verify", {"verificationCode": forged}) == {
        "result": "VERIFICATION_RESULT_UNKNOWN"}
    f.refused(anonymous.http.post("/v1/permits:verify", json={"verificationCode": ""}), 400,
              "VERIFICATION_CODE_REQUIRED")
