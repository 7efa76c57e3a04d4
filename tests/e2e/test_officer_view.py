"""What an officer decides on (RV-2), over HTTP against the started processes: the case
carries the application as submitted, figure by figure, with every document it names
readable by the officers of the route provinces and by no other province; a corrected
resubmission lists what changed since the returned version; the work queue filters,
searches and counts by state.

Applications here use trucks entered by hand under fresh plates (free of the demo fleet's
travel windows), 40..45 days out.
"""

from __future__ import annotations

import pytest

from tests.e2e import forms as f
from tests.e2e import journey as j
from tests.e2e.forms import HAND_CARGO, OFFICER_OF

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

BEIJING_OFFICER = "beijing-review"  # 北京: not on journey.ROUTE


def hand_submitted(carrier, *, start_in: int = 40) -> dict:
    """A class I application with a hand-entered truck, an agent entered by hand (ID card and
    power of attorney) and one material, submitted."""
    app = f.fill(carrier, start_in=start_in, days=3, cargo=HAND_CARGO, width=3000,
                 vehicles=[f.hand_truck(carrier)])
    app = f.save(carrier, app, "agent", {"agent": f.hand_agent(carrier)})
    app = f.attach(carrier, app, [("OTHER", f.upload(carrier, "TRANSPORT_PLAN"))])
    r = f.submit_raw(carrier, app)
    assert r.status_code == 200, r.text
    return r.json()


def case_seen_by(officer, app: dict) -> dict:
    return j.case_of(officer, app["name"])


def download_status(officer, document: str) -> int:
    return officer.http.get(f"/v1/{document}:downloadUrl").status_code


def test_a_route_officer_sees_every_figure_as_submitted_and_opens_every_document_RV_2(api_as):
    carrier = api_as("carrier")
    app = hand_submitted(carrier)
    shandong = api_as(OFFICER_OF[j.VIA])
    case = case_seen_by(shandong, app)
    submitted = case["submitted"]
    assert submitted["submission"] == 1 and submitted["submitTime"]
    s = submitted["application"]

    # Every figure the carrier entered, as the application holds it.
    assert s["cargo"] == app["cargo"]
    assert s["vehicles"] == app["vehicles"]
    truck = s["vehicles"][0]
    for key in ("plateNumber", "curbMassKg", "axleCount", "wheelbaseMm", "tyreCount", "lengthMm", "widthMm",
                "heightMm"):
        assert truck[key], key
    assert len(truck["licenceDocuments"]) == 2
    assert s["overall"] == app["overall"]
    assert s["overall"]["totalMassKg"] and s["overall"]["axleSpacingsMm"] and s["overall"]["axleLoadsKg"]
    assert s["route"] == app["passage"]["route"]
    assert s["passageDates"] == {"startDate": app["passage"]["startDate"], "endDate": app["passage"]["endDate"]}
    assert s.get("multiTrip", False) is False
    assert s["materials"] == app["materials"]
    assert s["routeProvinces"] == [j.ORIGIN, j.VIA, j.DESTINATION]

    # The agent with the ID number partly masked.
    agent = s["agent"]
    assert agent["name"] == "王小明"
    assert agent["maskedIdNumber"] == app["agent"]["idNumber"][:6] + "********" + app["agent"]["idNumber"][-4:]
    assert agent["maskedPhone"] == "139****5678"

    # The class and the rules that set it; the duplicate check at submission.
    assert s["permitClass"] == case["permitClass"] == 1
    cls = s["classification"]
    assert cls["overLimit"] and cls["permitClass"] == 1 and cls["ruleSet"] and cls["rules"]
    assert cls["rules"] == app["classification"]["rules"] and all(r["rule"] for r in cls["rules"])
    check = s["duplicateCheck"]
    assert check["ok"] and [v["plateNumber"] for v in check["vehicles"]] == [truck["plateNumber"]]
    assert check["vehicles"][0].get("overlappingApplications", 0) == 0

    # Every document of the case: licences, agent's ID card and power of attorney, material.
    documents = set(s["documents"])
    assert set(truck["licenceDocuments"]) <= documents
    assert set(agent["idCardDocuments"]) <= documents and len(agent["idCardDocuments"]) == 2
    assert agent["powerOfAttorneyDocument"] in documents
    assert {m["document"] for m in s["materials"]} <= documents
    for province in (j.ORIGIN, j.VIA, j.DESTINATION):
        officer = api_as(OFFICER_OF[province])
        for doc in documents:
            j.wait_for(lambda o=officer, d=doc: download_status(o, d) == 200,
                       f"{doc} readable by the officer of {province}")

    # An officer of a province off the route sees neither the case nor its documents.
    beijing = api_as(BEIJING_OFFICER)
    r = beijing.http.get(f"/v1/{case['name']}")
    assert r.status_code == 403 and f.err(r)["reason"] == "OTHER_PROVINCE"
    for doc in documents:
        assert download_status(beijing, doc) == 404, doc


def test_a_resubmission_shows_what_changed_since_the_returned_version_RV_2_PQ_6(api_as):
    carrier, hebei = api_as("carrier"), api_as(OFFICER_OF[j.ORIGIN])
    app = hand_submitted(carrier, start_in=42)
    case = case_seen_by(hebei, app)
    assert case.get("changes", []) == []
    hebei.post(f"/v1/{case['name']}:return", {"reason": "货物长度有误，请核实", "etag": case.get("etag", "")})
    app = j.wait_for(lambda: (a := carrier.get(f"/v1/{app['name']}"))["state"] == "STATE_RETURNED" and a,
                     "the application returned")
    corrected = {**HAND_CARGO, "lengthMm": "9500"}
    r = f.submit_raw(carrier, app, application={"cargo": corrected}, updateMask="cargo")
    assert r.status_code == 200, r.text

    case = j.wait_for(lambda: (c := hebei.get(f"/v1/{case['name']}"))["submission"] == 2 and c,
                      "the resubmission on the case")
    assert case["submitted"]["submission"] == 2 and case["changesSinceSubmission"] == 1
    changes = {c["field"]: (c.get("before", ""), c.get("after", "")) for c in case["changes"]}
    assert changes["cargo.length_mm"] == ("9000", "9500")
    assert all(k.startswith("cargo.") for k in changes), changes
    assert case["submitted"]["application"]["cargo"]["lengthMm"] == "9500"
    # The route provinces' officers see the same.
    shandong = api_as(OFFICER_OF[j.VIA])
    assert shandong.get(f"/v1/{case['name']}")["changes"] == case["changes"]


def test_the_work_queue_filters_searches_and_counts_by_state_RV_2(api_as):
    carrier, hebei = api_as("carrier"), api_as(OFFICER_OF[j.ORIGIN])
    waiting, taken = hand_submitted(carrier, start_in=44), hand_submitted(carrier, start_in=45)
    plate = waiting["vehicles"][0]["plateNumber"]
    case = j.accept(hebei, case_seen_by(hebei, taken))
    case_seen_by(hebei, waiting)

    found = hebei.get("/v1/workQueue", params={"query": plate})
    assert [c["application"] for c in found["cases"]] == [waiting["name"]] and found["totalSize"] == 1
    spaced = plate[:2] + " " + plate[2:].lower()
    assert [c["application"] for c in hebei.get("/v1/workQueue", params={"query": spaced})["cases"]] == [
        waiting["name"]]
    by_number = hebei.get("/v1/workQueue", params={"query": taken["number"]})
    assert [c["application"] for c in by_number["cases"]] == [taken["name"]]

    everything = hebei.get("/v1/workQueue", params={"pageSize": 1})
    counts = {c["state"]: c["count"] for c in everything["stateCounts"]}
    assert sum(counts.values()) == everything["totalSize"] >= 2
    assert counts["CASE_STATE_AWAITING_ACCEPTANCE"] >= 1 and counts["CASE_STATE_UNDER_REVIEW"] >= 1
    awaiting = hebei.get("/v1/workQueue", params={
        "state": "CASE_STATE_AWAITING_ACCEPTANCE", "pageSize": 200})
    assert {c["state"] for c in awaiting["cases"]} == {"CASE_STATE_AWAITING_ACCEPTANCE"}
    assert awaiting["totalSize"] == counts["CASE_STATE_AWAITING_ACCEPTANCE"]
    assert waiting["name"] in {c["application"] for c in awaiting["cases"]}

    assert hebei.get("/v1/workQueue", params={"query": plate, "permitClass": 3}).get("cases", []) == []
    assert [c["application"] for c in hebei.get("/v1/workQueue", params={
        "query": plate, "permitClass": 1})["cases"]] == [waiting["name"]]

    hebei.post(f"/v1/{case['name']}/reviews/{j.ORIGIN}:claim", {})
    mine = hebei.get("/v1/workQueue", params={"claimedByMe": True, "pageSize": 200})
    assert taken["name"] in {c["application"] for c in mine["cases"]}
    assert waiting["name"] not in {c["application"] for c in mine["cases"]}

    r = hebei.http.get("/v1/workQueue", params={"permitClass": 4})
    assert r.status_code == 400 and f.err(r)["reason"] == "PERMIT_CLASS_INVALID"
    # Another province's officer finds nothing of 河北's queue.
    assert api_as(BEIJING_OFFICER).get("/v1/workQueue", params={"query": plate}).get("cases", []) == []
