"""Identity end to end over HTTP through the gateway, against the started
processes: sign-in through each channel (ID-1), old ministry-portal accounts
refused (ID-2), legacy linking and the personal-account hint (ID-3, ID-4), a
new user's licence onboarding through approval and through rejection and
resubmission (ID-5), officers' scope (ID-6), refresh-token rotation and
sign-out revocation. Every request is the JSON a phone sends; every answer is
checked for its HTTP status, stable reason code and Chinese message."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping

import httpx
import pytest

from tests.e2e import journey as j
from tests.e2e.conftest import Api

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

L1001_USCC = "91130100MA0DPQ7R8A"
L1001_AGENT_ID = "130102198507151232"  # 李四, agent of the enterprise account L1001
L2001_ID = "130102199003075218"  # 王五, the person account L2001
HEBEI, SHANDONG = "130000", "370000"
OTHER_PROVINCE_LICENCE_OFFICER = "e2e-shandong-licence"

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(region: str = "130102", birth: str = "19900101") -> str:
    """A fresh resident ID number with a valid GB 11643 check digit (no legacy account has it)."""
    body = f"{region}{birth}{uuid.uuid4().int % 1000:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]


def uid() -> str:
    # A fresh platform uid per sign-in keeps the per-subject rate limit out of the way.
    return f"e2e-{uuid.uuid4().hex[:12]}"


def chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def mint(stack, persona: Mapping[str, str], *extra: str) -> tuple[str, str]:
    """A development ticket from the identity CLI for exactly these claims; returns (channel, ticket)."""
    p = dict(persona)
    args = ["mint-ticket", "--channel", p["channel"]]
    if p["channel"] == "STAFF":
        args += ["--officer", p["officer"]]
    else:
        args += ["--user-type", p["user_type"], "--uid", p["uid"], "--name", p["name"]]
        if p.get("uscc"):
            args += ["--uscc", p["uscc"]]
        if p.get("id_number"):
            args += ["--id-number", p["id_number"]]
    out = stack.run("permit_identity", *args, *extra)
    return p["channel"], out.stdout.strip().splitlines()[-1]


def sign_in(stack, persona: Mapping[str, str], *, channel: str | None = None) -> httpx.Response:
    """Mint a development ticket and post it to SignIn as the phone does."""
    minted_channel, ticket = mint(stack, persona)
    return httpx.post(f"{stack.gateway_url}/v1/sessions:signIn",
                      json={"channel": f"CHANNEL_{channel or minted_channel}", "ticket": ticket}, timeout=30)


def refused(r: httpx.Response, status: int, reason: str) -> dict:
    """The AIP-193 error body of a refusal, checked for status, reason and a Chinese message."""
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["reason"] == reason, err
    assert chinese(err["message"]), err
    return err


def new_person(channel: str = "WECHAT", **extra: str) -> dict[str, str]:
    return {"channel": channel, "user_type": "PERSON", "uid": uid(), "name": "新用户",
            "id_number": resident_id(), **extra}


def session_api(stack, session: Mapping) -> Api:
    return Api(stack.gateway_url, str(session["accessToken"]))


def refresh(stack, refresh_token: str) -> httpx.Response:
    return httpx.post(f"{stack.gateway_url}/v1/sessions:refresh", json={"refreshToken": refresh_token}, timeout=30)


def notice_shown() -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=6)).isoformat().replace("+00:00", "Z")


def create_application(api: Api) -> httpx.Response:
    return api.http.post("/v1/applications", json={"noticeShownTime": notice_shown(), "requestId": str(uuid.uuid4())})


@pytest.fixture(scope="module")
def other_province_licence_officer(stack) -> Api:
    """A licence officer of 山东, who must not decide a 河北 party's licence (ID-6)."""
    stack.run("permit_identity", "create-officer", "--login", OTHER_PROVINCE_LICENCE_OFFICER, "--name", "鲁审核员",
              "--province", SHANDONG, "--roles", "officer.licence", "--update")
    r = sign_in(stack, {"channel": "STAFF", "officer": OTHER_PROVINCE_LICENCE_OFFICER})
    assert r.status_code == 200, r.text
    me = r.json()["me"]
    assert me["province"] == SHANDONG and me["roles"] == ["officer.licence"]
    return session_api(stack, r.json())


def upload_licence_image(api: Api, rgb: tuple[int, int, int]) -> dict:
    return api.call("POST", "/v1/documents", data={"kind": "DOCUMENT_KIND_BUSINESS_LICENCE"},
                    files={"file": ("营业执照.png", j.tiny_png(rgb), "image/png")})


def licence_body(document: str, number: str = "冀交运管许可石字130100000001号") -> dict:
    today = dt.date.today()
    return {"licenceNumber": number, "issuingAuthority": "石家庄市交通运输局",
            "validFrom": {"year": today.year - 1, "month": 1, "day": 1},
            "validUntil": {"year": today.year + 3, "month": 12, "day": 31}, "document": document}


# --- ID-1: each channel and user type ---------------------------------------------------


def test_app_legal_person_signs_in_linked_to_legacy_account_L1001_ID_1_ID_3(stack):
    r = sign_in(stack, {"channel": "APP", "user_type": "LEGAL", "uid": uid(), "name": "河北冀运大件物流有限公司",
                        "uscc": L1001_USCC})
    assert r.status_code == 200, r.text
    session = r.json()
    me = session["me"]
    assert me["party"] == "parties/L1001"
    assert me["partyKind"] == "PARTY_KIND_ENTERPRISE"
    assert me["legacyLinked"] is True and me["legacyAccount"] == "L1001"
    assert me["channel"] == "CHANNEL_APP"
    assert me["onboarding"] == "ONBOARDING_STATE_ACTIVE"
    assert me["roles"] == ["applicant"]
    assert session["accessToken"].count(".") == 2 and session["refreshToken"]
    # The token works at once: the linked party sees its legacy fleet.
    api = session_api(stack, session)
    assert api.get("/v1/me")["party"] == "parties/L1001"
    plates = {v["plateNumber"] for v in api.get("/v1/vehicles:suggest", params={"platePrefix": "冀"})["vehicles"]}
    assert {"冀A12345", "冀B6789挂"} <= plates


def test_app_individual_signs_in_linked_by_id_number_to_L2001_and_masked_ID_1_ID_3(stack):
    r = sign_in(stack, {"channel": "APP", "user_type": "PERSON", "uid": uid(), "name": "王五",
                        "id_number": L2001_ID})
    assert r.status_code == 200, r.text
    me = r.json()["me"]
    assert me["party"] == "parties/L2001"
    assert me["partyKind"] == "PARTY_KIND_PERSON"
    assert me["legacyLinked"] is True and me["onboarding"] == "ONBOARDING_STATE_ACTIVE"
    assert me["maskedIdentifier"] == "1301**********5218"
    assert L2001_ID not in r.text  # the ID number never leaves whole


@pytest.mark.parametrize("channel", ["ALIPAY", "WECHAT"])
def test_mini_program_individual_signs_in_as_a_new_user_ID_1_ID_5(stack, channel):
    r = sign_in(stack, new_person(channel))
    assert r.status_code == 200, r.text
    me = r.json()["me"]
    assert me["channel"] == f"CHANNEL_{channel}"
    assert me["partyKind"] == "PARTY_KIND_PERSON"
    assert me.get("legacyLinked", False) is False
    assert re.fullmatch(r"parties/[0-9a-f-]{32,36}", me["party"]), me["party"]
    assert me["onboarding"] == "ONBOARDING_STATE_LICENCE_REQUIRED"


@pytest.mark.parametrize("channel", ["ALIPAY", "WECHAT"])
def test_legal_person_on_a_mini_program_is_refused_with_its_reason_ID_1(stack, channel):
    r = sign_in(stack, {"channel": channel, "user_type": "LEGAL", "uid": uid(), "name": "河北冀运大件物流有限公司",
                        "uscc": L1001_USCC})
    err = refused(r, 400, "CHANNEL_PERSON_ONLY")
    assert err["status"] == "FAILED_PRECONDITION"
    assert "法人" in err["message"] and "APP" in err["message"]


def test_replayed_ticket_is_refused_ID_1(stack):
    channel, ticket = mint(stack, new_person("APP"))
    body = {"channel": f"CHANNEL_{channel}", "ticket": ticket}
    first = httpx.post(f"{stack.gateway_url}/v1/sessions:signIn", json=body, timeout=30)
    assert first.status_code == 200, first.text
    again = httpx.post(f"{stack.gateway_url}/v1/sessions:signIn", json=body, timeout=30)
    err = refused(again, 401, "TICKET_REPLAYED")
    assert err["status"] == "UNAUTHENTICATED"


def test_expired_ticket_and_ticket_of_another_channel_are_refused_ID_1(stack):
    _, expired = mint(stack, new_person("APP"), "--ttl-seconds", "-60")
    r = httpx.post(f"{stack.gateway_url}/v1/sessions:signIn", json={"channel": "CHANNEL_APP", "ticket": expired},
                   timeout=30)
    refused(r, 401, "TICKET_EXPIRED")
    # An Alipay ticket presented on the WeChat entry.
    refused(sign_in(stack, new_person("ALIPAY"), channel="WECHAT"), 401, "TICKET_CHANNEL_MISMATCH")


# --- ID-2: old ministry-portal accounts -------------------------------------------------


def test_ministry_portal_credential_is_refused_with_register_advice_ID_2(stack, anonymous):
    r = anonymous.http.post("/v1/sessions:signIn", json={
        "channel": "CHANNEL_APP", "portalCredential": {"account": "hbjy-admin", "password": "Passw0rd!"}})
    err = refused(r, 400, "MINISTRY_PORTAL_ACCOUNT")
    assert "国家政务服务平台" in err["message"] and "注册" in err["message"]
    assert "Passw0rd!" not in r.text


def test_ticket_of_a_ministry_portal_account_is_refused_ID_2(stack):
    _, ticket = mint(stack, new_person("APP"), "--source", "MOT_PORTAL")
    r = httpx.post(f"{stack.gateway_url}/v1/sessions:signIn", json={"channel": "CHANNEL_APP", "ticket": ticket},
                   timeout=30)
    err = refused(r, 400, "MINISTRY_PORTAL_ACCOUNT")
    assert "国家政务服务平台" in err["message"]


# --- ID-4: a personal sign-in never links the legal-person account ----------------------


@pytest.mark.parametrize("channel", ["APP", "ALIPAY"])
def test_agent_signing_in_personally_is_not_linked_to_the_enterprise_and_is_told_ID_4(stack, channel):
    r = sign_in(stack, {"channel": channel, "user_type": "PERSON", "uid": uid(), "name": "李四",
                        "id_number": L1001_AGENT_ID})
    assert r.status_code == 200, r.text
    me = r.json()["me"]
    assert me["party"] != "parties/L1001"
    assert me.get("legacyLinked", False) is False and not me.get("legacyAccount")
    assert me["linkHint"] == "LINK_HINT_SIGN_IN_AS_LEGAL_PERSON"
    assert "法人" in me["linkHintMessage"]
    # The hint stays visible on GetMe, and the enterprise's fleet is not reachable.
    api = session_api(stack, r.json())
    again = api.get("/v1/me")
    assert again["linkHint"] == "LINK_HINT_SIGN_IN_AS_LEGAL_PERSON" and again["party"] == me["party"]
    assert L1001_AGENT_ID not in r.text


# --- ID-5: a new user's onboarding through the licence review ---------------------------


def test_new_user_onboarding_through_approval_ID_5_ID_6(stack, api_as, other_province_licence_officer):
    r = sign_in(stack, new_person("WECHAT"))
    assert r.status_code == 200, r.text
    session = r.json()
    user = session_api(stack, session)
    assert session["me"]["onboarding"] == "ONBOARDING_STATE_LICENCE_REQUIRED"

    # Before anything else the licence is required: application RPCs answer FAILED_PRECONDITION.
    err = refused(create_application(user), 400, "LICENCE_REQUIRED")
    assert err["status"] == "FAILED_PRECONDITION"
    refused(user.http.get("/v1/applications"), 400, "LICENCE_REQUIRED")

    doc = upload_licence_image(user, (12, 34, 56))
    assert doc["kind"] == "DOCUMENT_KIND_BUSINESS_LICENCE" and doc["owner"] == session["me"]["party"]
    lic = user.post("/v1/licences", licence_body(doc["name"]))
    assert lic["state"] == "STATE_PENDING"
    assert lic["province"] == HEBEI and lic["party"] == session["me"]["party"]
    assert lic["document"] == doc["name"]
    assert lic["dueDate"]  # 5 working days later
    due = dt.date(lic["dueDate"]["year"], lic["dueDate"]["month"], lic["dueDate"]["day"])
    assert due >= dt.date.today() + dt.timedelta(days=5)
    me = user.get("/v1/me")
    assert me["onboarding"] == "ONBOARDING_STATE_LICENCE_PENDING" and me["licence"] == lic["name"]
    # Submitting again while the review is pending is refused.
    refused(user.http.post("/v1/licences", json=licence_body(doc["name"])), 400, "LICENCE_REVIEW_PENDING")

    # A refreshed session carries the pending state; applications are still refused.
    s2 = refresh(stack, session["refreshToken"])
    assert s2.status_code == 200, s2.text
    assert s2.json()["me"]["onboarding"] == "ONBOARDING_STATE_LICENCE_PENDING"
    user = session_api(stack, s2.json())
    refused(create_application(user), 400, "LICENCE_REVIEW_PENDING")

    # The licence officer of 河北 sees it in the queue; 山东's licence officer may not decide it.
    hebei = api_as("hebei-accept")
    queue = j.wait_for(lambda: [x for x in hebei.get("/v1/licences").get("licences", []) if x["name"] == lic["name"]],
                       "the licence in 河北's review queue")
    assert queue[0]["state"] == "STATE_PENDING"
    refused(other_province_licence_officer.http.post(f"/v1/{lic['name']}:review",
                                                     json={"decision": "DECISION_APPROVE"}), 403, "OTHER_PROVINCE")
    assert all(x["name"] != lic["name"]
               for x in other_province_licence_officer.get("/v1/licences").get("licences", []))
    # A review officer without the licence role may not decide either.
    refused(api_as("shandong-review").http.post(f"/v1/{lic['name']}:review", json={"decision": "DECISION_APPROVE"}),
            403, "NOT_LICENCE_OFFICER")
    # The image was granted to 河北's officers (through the outbox), not to 山东's.
    j.wait_for(lambda: hebei.http.get(f"/v1/{doc['name']}").status_code == 200, "licence image granted to 河北")
    assert other_province_licence_officer.http.get(f"/v1/{doc['name']}").status_code == 404

    approved = hebei.post(f"/v1/{lic['name']}:review", {"decision": "DECISION_APPROVE", "etag": queue[0]["etag"]})
    assert approved["state"] == "STATE_APPROVED" and approved["reviewer"] == "officers/hebei-accept"
    refused(hebei.http.post(f"/v1/{lic['name']}:review", json={"decision": "DECISION_APPROVE"}), 400,
            "LICENCE_NOT_PENDING")
    assert user.get("/v1/me")["onboarding"] == "ONBOARDING_STATE_ACTIVE"

    # The access token still carries the old state until RefreshSession re-reads the claims.
    s3 = refresh(stack, s2.json()["refreshToken"])
    assert s3.status_code == 200, s3.text
    assert s3.json()["me"]["onboarding"] == "ONBOARDING_STATE_ACTIVE"
    user = session_api(stack, s3.json())
    created = create_application(user)
    assert created.status_code == 200, created.text
    app = created.json()
    assert app["state"] == "STATE_DRAFT" and app["applicant"] == session["me"]["party"]
    assert [a["name"] for a in user.get("/v1/applications")["applications"]] == [app["name"]]


def test_rejected_licence_shows_the_reason_and_can_be_resubmitted_ID_5(stack, api_as):
    r = sign_in(stack, new_person("ALIPAY"))
    assert r.status_code == 200, r.text
    session = r.json()
    user = session_api(stack, session)
    hebei = api_as("hebei-accept")

    first = user.post("/v1/licences", licence_body(upload_licence_image(user, (200, 10, 10))["name"]))
    refused(hebei.http.post(f"/v1/{first['name']}:review", json={"decision": "DECISION_REJECT"}), 400,
            "REASON_REQUIRED")
    rejected = hebei.post(f"/v1/{first['name']}:review", {"decision": "DECISION_REJECT", "reason": "许可证图片不清晰"})
    assert rejected["state"] == "STATE_REJECTED" and rejected["rejectionReason"] == "许可证图片不清晰"

    me = user.get("/v1/me")
    assert me["onboarding"] == "ONBOARDING_STATE_LICENCE_REJECTED"
    assert me["licenceRejectionReason"] == "许可证图片不清晰"
    assert user.get(f"/v1/{first['name']}")["rejectionReason"] == "许可证图片不清晰"
    s2 = refresh(stack, session["refreshToken"])
    assert s2.status_code == 200, s2.text
    user = session_api(stack, s2.json())
    refused(create_application(user), 400, "LICENCE_REJECTED")

    # Resubmission with a clearer image: pending again, then approved.
    second = user.post("/v1/licences", licence_body(upload_licence_image(user, (10, 200, 10))["name"]))
    assert second["name"] != first["name"] and second["state"] == "STATE_PENDING"
    assert user.get("/v1/me")["onboarding"] == "ONBOARDING_STATE_LICENCE_PENDING"
    hebei.post(f"/v1/{second['name']}:review", {"decision": "DECISION_APPROVE"})
    s3 = refresh(stack, s2.json()["refreshToken"])
    assert s3.status_code == 200, s3.text
    assert s3.json()["me"]["onboarding"] == "ONBOARDING_STATE_ACTIVE"
    assert create_application(session_api(stack, s3.json())).status_code == 200


def test_licence_submission_is_validated_ID_5(stack):
    r = sign_in(stack, new_person("APP"))
    assert r.status_code == 200, r.text
    user = session_api(stack, r.json())
    doc = upload_licence_image(user, (1, 1, 1))
    body = licence_body(doc["name"])
    refused(user.http.post("/v1/licences", json={**body, "licenceNumber": ""}), 400, "LICENCE_NUMBER_REQUIRED")
    refused(user.http.post("/v1/licences", json={**body, "document": ""}), 400, "DOCUMENT_REQUIRED")
    refused(user.http.post("/v1/licences", json={**body, "validFrom": body["validUntil"],
                                                 "validUntil": body["validFrom"]}), 400, "VALIDITY_INVERTED")
    assert user.get("/v1/me")["onboarding"] == "ONBOARDING_STATE_LICENCE_REQUIRED"


# --- tokens: rotation and revocation ----------------------------------------------------


def test_refresh_token_rotates_and_a_spent_one_revokes_the_session(stack):
    r = sign_in(stack, new_person("APP"))
    assert r.status_code == 200, r.text
    first = r.json()
    r2 = refresh(stack, first["refreshToken"])
    assert r2.status_code == 200, r2.text
    second = r2.json()
    assert second["refreshToken"] != first["refreshToken"]
    assert second["accessToken"] != first["accessToken"]
    assert second["name"] == first["name"]  # the same session
    assert session_api(stack, second).get("/v1/me")["user"] == first["me"]["user"]

    # Presenting the spent token again is refused and ends the session: the new one dies too.
    refused(refresh(stack, first["refreshToken"]), 401, "REFRESH_TOKEN_REUSED")
    refused(refresh(stack, second["refreshToken"]), 401, "SESSION_REVOKED")
    refused(refresh(stack, "not-a-token"), 401, "REFRESH_TOKEN_INVALID")


def test_sign_out_revokes_the_session_of_its_refresh_token(stack):
    r = sign_in(stack, new_person("WECHAT"))
    assert r.status_code == 200, r.text
    session = r.json()
    api = session_api(stack, session)
    assert api.get("/v1/me")["user"]
    assert api.post("/v1/sessions:signOut", {"refreshToken": session["refreshToken"]})["revokedCount"] == 1
    refused(refresh(stack, session["refreshToken"]), 401, "SESSION_REVOKED")
    # The access token, though its signature still verifies, no longer gets in.
    refused(api.http.get("/v1/me"), 401, "SESSION_REVOKED")


def test_sign_out_without_a_token_revokes_every_session_of_the_caller(stack, anonymous):
    p = new_person("APP")
    a = sign_in(stack, p)
    b = sign_in(stack, p)  # the same user on a second phone: a fresh ticket, same uid
    assert a.status_code == 200 and b.status_code == 200, (a.text, b.text)
    assert a.json()["me"]["user"] == b.json()["me"]["user"] and a.json()["name"] != b.json()["name"]
    assert session_api(stack, a.json()).post("/v1/sessions:signOut", {})["revokedCount"] == 2
    refused(refresh(stack, a.json()["refreshToken"]), 401, "SESSION_REVOKED")
    refused(refresh(stack, b.json()["refreshToken"]), 401, "SESSION_REVOKED")
    refused(anonymous.http.post("/v1/sessions:signOut", json={}), 401, "UNAUTHENTICATED")


def test_public_keys_verify_the_access_token(stack, anonymous):
    import jwt

    r = sign_in(stack, new_person("APP"))
    assert r.status_code == 200, r.text
    token = r.json()["accessToken"]
    keys = {k["keyId"]: k for k in anonymous.get("/v1/publicKeys")["keys"]}
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"] in keys
    claims = jwt.decode(token, keys[header["kid"]]["publicKeyPem"], algorithms=["EdDSA"], audience="permit",
                        issuer="permit-identity")
    assert claims["sub"] == r.json()["me"]["user"] and claims["onb"] == "LICENCE_REQUIRED"


# --- ID-6: officers ---------------------------------------------------------------------


def test_get_me_of_an_officer_shows_roles_and_province_ID_6(api_as):
    me = api_as("hebei-accept").get("/v1/me")
    assert me["user"] == "officers/hebei-accept"
    assert me["province"] == HEBEI
    assert set(me["roles"]) == {"officer.accept", "officer.review", "officer.licence"}
    assert me["channel"] == "CHANNEL_STAFF"
    assert not me.get("party")
    shandong = api_as("shandong-review").get("/v1/me")
    assert shandong["province"] == SHANDONG and shandong["roles"] == ["officer.review"]


def test_officer_cannot_act_as_an_applicant_or_administrator_ID_6(api_as):
    hebei = api_as("hebei-accept")
    r = create_application(hebei)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["reason"] == "NOT_APPLICANT"
    refused(hebei.http.get("/v1/officers"), 403, "NOT_ADMIN")
