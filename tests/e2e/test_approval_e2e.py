"""Approval journeys end to end over HTTP against the started processes: a province's
return and the resubmission that keeps unchanged approvals (PQ-6), a route adjustment
accepted by the applicant (PQ-7), withdrawal while processing (PQ-8), and after issue an
extension (PQ-11), abolition (PQ-9) and the public verification (RV-5); officers of the
route provinces, and only they, get a download link of the application's documents (issue 6).

Moved from tests/approval/e2e so that the whole run shares the one started stack of
tests/e2e/conftest.py."""

from __future__ import annotations

import pytest

from tests.e2e import journey as j

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def progress(carrier, app: dict) -> dict[str, str]:
    a = carrier.get(f"/v1/{app['name']}")
    return {p["province"]: p["decision"] for p in a.get("progress", [])}


def state_of(carrier, app: dict) -> str:
    return carrier.get(f"/v1/{app['name']}")["state"]


def started(api_as, start_in_days: int) -> tuple[dict, dict]:
    # Each journey has its own passage window: the fleet's vehicles are shared by every
    # e2e test and AP-6 allows two overlapping applications per vehicle.
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    app = j.fill_draft(carrier, start_in_days=start_in_days, days=3)
    j.submit(carrier, app)
    case = j.accept(hebei, j.case_of(hebei, app["name"]))
    j.wait_for(lambda: state_of(carrier, app) == "STATE_PROCESSING", "处理中")
    return app, case


def download_status(officer, document: str) -> int:
    return officer.http.get(f"/v1/{document}:downloadUrl").status_code


def test_route_province_officers_get_a_download_link_other_provinces_do_not_RV_1(api_as) -> None:
    """After submission the approval service grants the application's documents to the
    origin and every route province (DocumentService.GrantAccess through its outbox)."""
    carrier = api_as("carrier")
    shandong, beijing = api_as("shandong-review"), api_as("beijing-review")
    app = j.fill_draft(carrier, start_in_days=105, days=3)
    doc = app["_document"]["name"]
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


def test_province_return_then_resubmission_keeps_unchanged_approvals_PQ_6(api_as) -> None:
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    shandong, jiangsu = api_as("shandong-review"), api_as("jiangsu-review")
    app, case = started(api_as, 120)
    j.approve(hebei, case, j.ORIGIN)
    j.approve(shandong, case, j.VIA)
    jiangsu.post(f"/v1/{case['name']}/reviews/{j.DESTINATION}:decide",
                 {"decision": "DECISION_RETURN", "reason": "请补充江苏段通行时间"})
    j.wait_for(lambda: state_of(carrier, app) == "STATE_RETURNED", "退回补正")
    current = carrier.get(f"/v1/{app['name']}")
    j.submit(carrier, current)
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
    j.wait_for(lambda: state_of(carrier, app) == "STATE_ISSUED", "已发证")


def test_route_adjustment_accepted_by_the_applicant_PQ_7(api_as) -> None:
    carrier, shandong = api_as("carrier"), api_as("shandong-review")
    app, case = started(api_as, 135)
    shandong.post(f"/v1/{case['name']}/reviews/{j.VIA}:proposeAdjustment",
                  {"suggestedRoute": [{"province": j.VIA, "roads": ["G20", "G15"]}], "reason": "G2施工"})
    j.wait_for(lambda: progress(carrier, app).get(j.VIA) == "REVIEW_DECISION_ROUTE_ADJUSTMENT",
               "adjustment shown to the applicant")
    case = carrier.post(f"/v1/{case['name']}/reviews/{j.VIA}:respond", {"accept": True})
    assert [r["roads"] for r in case["route"] if r["province"] == j.VIA] == [["G20", "G15"]]
    j.wait_for(lambda: any(r["province"] == j.VIA and r["roads"] == ["G20", "G15"]
                           for r in carrier.get(f"/v1/{app['name']}")["passage"]["route"]),
               "route replaced in the application")
    j.approve(shandong, case, j.VIA)


def test_withdrawal_while_processing_closes_the_case_PQ_8(api_as) -> None:
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    app, case = started(api_as, 150)
    current = carrier.get(f"/v1/{app['name']}")
    carrier.post(f"/v1/{app['name']}:withdraw", {"etag": current["etag"]})
    j.wait_for(lambda: hebei.get(f"/v1/{case['name']}")["state"] == "CASE_STATE_CANCELLED", "case cancelled")
    r = hebei.http.post(f"/v1/{case['name']}/reviews/{j.ORIGIN}:decide", json={"decision": "DECISION_APPROVE"})
    assert r.status_code == 400 and "CASE_NOT_UNDER_REVIEW" in r.text
    assert state_of(carrier, app) == "STATE_WITHDRAWN"


def test_extension_abolition_and_public_verification_PQ_9_PQ_11_RV_5(api_as, anonymous) -> None:
    carrier, hebei = api_as("carrier"), api_as("hebei-accept")
    shandong, jiangsu = api_as("shandong-review"), api_as("jiangsu-review")
    app, case = started(api_as, 165)
    for officer, p in ((hebei, j.ORIGIN), (shandong, j.VIA), (jiangsu, j.DESTINATION)):
        j.approve(officer, case, p)
    permit = j.issue(hebei, case)
    v = anonymous.post("/v1/permits:verify", {"verificationCode": permit["verificationCode"]})
    assert v["result"] == "VERIFICATION_RESULT_NOT_YET_VALID" and v["permitNumber"] == permit["number"]
    end = permit["endDate"]
    new_end = {**end, "day": end["day"] + 1} if end["day"] < 28 else {**end, "month": end["month"] % 12 + 1, "day": 1}
    permit = carrier.post(f"/v1/{permit['name']}/extensions",
                          {"newEndDate": new_end, "provinces": [j.VIA], "reason": "设备延迟到货"})
    ext = permit["extensions"][0]
    permit = shandong.post(f"/v1/{ext['name']}:decide", {"decision": "DECISION_APPROVE"})
    assert permit["state"] == "PERMIT_STATE_EXTENDED" and permit["endDate"] == new_end
    j.wait_for(lambda: carrier.get(f"/v1/{app['name']}").get("permitEndDate") == new_end,
               "extension shown to the applicant")
    carrier.post(f"/v1/{permit['name']}:abolish", {"reason": "运输完成"})
    v = anonymous.post("/v1/permits:verify", {"verificationCode": permit["verificationCode"]})
    assert v["result"] == "VERIFICATION_RESULT_ABOLISHED"


def test_vehicle_change_checks_the_fleet_figures_over_the_wire_PQ_10(api_as) -> None:
    carrier = api_as("carrier")
    app, case = started(api_as, 180)
    fleet = carrier.get("/v1/vehicles:suggest", params={"platePrefix": "冀"})["vehicles"]
    trailer = next(v for v in fleet if v["plateNumber"].endswith("挂"))
    tractor_plate = next(p for p in case["plateNumbers"] if not p.endswith("挂"))
    poa = carrier.call("POST", "/v1/documents", data={"kind": "DOCUMENT_KIND_POWER_OF_ATTORNEY"},
                       files={"file": ("委托书.png", j.tiny_png((9, 9, 9)), "image/png")})
    # The trailer's curb mass, axles, wheelbase and tyres differ from the tractor's.
    r = carrier.http.post(f"/v1/{case['name']}/vehicleChanges",
                          json={"oldPlateNumber": tractor_plate, "newVehicle": trailer["fleetVehicle"],
                                "powerOfAttorney": poa["name"]})
    assert r.status_code == 400 and "VEHICLE_NOT_EQUIVALENT" in r.text, r.text
