"""The walking slice end to end over HTTP against the started processes:
sign in -> draft -> fill -> upload -> submit -> origin accepts -> every route
province approves -> permit issued -> the applicant sees 已发证 and every
province's decision. State crosses services only through the outbox."""

from __future__ import annotations

import pytest

from tests.e2e import journey as j

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_legal_person_on_app_is_linked_to_legacy_account_ID_1_ID_3(api_as):
    me = api_as("carrier").get("/v1/me")
    assert me["party"] == "parties/L1001"
    assert me["legacyLinked"] is True
    assert "applicant" in me["roles"]


def test_walking_slice_from_draft_to_issued_permit_AP_2_AP_10_RV_1_RV_3_PQ_1_PQ_2(api_as, stack):
    carrier = api_as("carrier")
    app = j.fill_draft(carrier)
    assert app["state"] == "STATE_DRAFT"
    submitted = j.submit(carrier, app)
    assert submitted["state"] == "STATE_SUBMITTED" and submitted["stateLabel"] == "未受理"

    hebei, shandong, jiangsu = api_as("hebei-accept"), api_as("shandong-review"), api_as("jiangsu-review")
    case = j.case_of(hebei, app["name"])
    assert case["routeProvinces"] == [j.ORIGIN, j.VIA, j.DESTINATION]
    case = j.accept(hebei, case)
    j.wait_for(lambda: carrier.get(f"/v1/{app['name']}")["state"] == "STATE_PROCESSING", "处理中")

    # Officers only decide for their own province.
    r = shandong.http.post(f"/v1/{case['name']}/reviews/{j.DESTINATION}:decide",
                           json={"decision": "DECISION_APPROVE"})
    assert r.status_code == 403, r.text

    j.approve(hebei, case, j.ORIGIN)
    j.approve(shandong, case, j.VIA)
    j.approve(jiangsu, case, j.DESTINATION)
    permit = j.issue(hebei, case)
    assert permit["number"]

    issued = j.wait_for(lambda: next((a for a in carrier.get("/v1/applications")["applications"]
                                      if a["name"] == app["name"] and a["state"] == "STATE_ISSUED"), None),
                        "已发证 in the applicant's list")
    assert issued["stateLabel"] == "已发证"
    assert issued["permitNumber"] == permit["number"]
    decisions = {p["province"]: p["decision"] for p in issued["progress"]}
    assert decisions == {j.ORIGIN: "REVIEW_DECISION_APPROVED", j.VIA: "REVIEW_DECISION_APPROVED",
                         j.DESTINATION: "REVIEW_DECISION_APPROVED"}


def test_document_is_stored_in_the_s3_server_AP_9(api_as, stack, s3_endpoint):
    from minio import Minio

    carrier = api_as("carrier")
    client = Minio(s3_endpoint.endpoint, access_key=s3_endpoint.access_key, secret_key=s3_endpoint.secret_key,
                   secure=False)

    def count() -> int:
        return len(list(client.list_objects("e2e-documents", recursive=True))) if client.bucket_exists(
            "e2e-documents") else 0

    before = count()
    doc = carrier.call("POST", "/v1/documents", data={"kind": "DOCUMENT_KIND_TRANSPORT_PLAN"},
                       files={"file": ("plan.png", j.tiny_png((1, 2, 3)), "image/png")})
    assert doc["name"].startswith("documents/")
    assert count() == before + 1


def test_another_applicant_cannot_see_the_application_PQ_2(api_as):
    carrier = api_as("carrier")
    app = j.fill_draft(carrier)
    other = api_as("person")
    r = other.http.get(f"/v1/{app['name']}")
    assert r.status_code == 404
    assert all(a["name"] != app["name"] for a in other.get("/v1/applications").get("applications", []))
