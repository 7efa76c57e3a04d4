"""Section 一 of the user manual, 国家政务服务平台移动端入口, walked over HTTP as a
carrier's phone and an officer's client do it, against the started processes.

- 1、国家政务服务平台 APP, (2) 注册登录: a legal-person and an individual user sign
  in, each walked to the 掌上办 home page (ID-1, ID-3); only accounts of the
  national platform get in, not those of the ministry portal (ID-2); the
  platform tickets and the session a sign-in opens (refresh, sign-out, keys).
- 2、支付宝小程序 and 3、微信小程序: individual users only, each channel walked to
  the home page; a legal person is refused with the reason (ID-1).
- 1 (3) “掌上办”进入, the same on every channel: legacy users are linked to their
  PC-side account automatically (ID-3, above); a legal person must sign in with
  the legal-person account, a personal sign-in is not linked (ID-4); a new user
  submits the road transport business licence, waits for the review and then
  enters directly (ID-5), reviewed by the licence officer of the user's
  province only (ID-6).
- Officers' accounts, scoped to one province (ID-6).

Every request is the JSON a phone sends; every refusal is checked for its HTTP
status, stable reason code and Chinese message.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping

import httpx
import pytest

from permitkit import dates
from tests.e2e import forms as f
from tests.e2e import journey as j
from tests.e2e.conftest import Api

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

L1001_NAME, L1001_USCC = "河北冀运大件物流有限公司", "91130100MA0DPQ7R8A"
L1001_AGENT_ID = "130102198507151232"  # 李四, agent of the enterprise account L1001
L2001_NAME, L2001_ID = "王五", "130102199003075218"  # the person account L2001
HEBEI, SHANDONG = "130000", "370000"
OTHER_PROVINCE_LICENCE_OFFICER = "e2e-shandong-licence"


# ---- helpers ------------------------------------------------------------------------------

def uid() -> str:
    # A fresh platform uid per sign-in keeps the per-subject rate limit out of the way.
    return f"e2e-{uuid.uuid4().hex[:12]}"


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


def signed_in(stack, persona: Mapping[str, str]) -> dict:
    """A sign-in that must succeed; the session JSON."""
    r = sign_in(stack, persona)
    assert r.status_code == 200, r.text
    return r.json()


def new_person(channel: str = "WECHAT", **extra: str) -> dict[str, str]:
    return {"channel": channel, "user_type": "PERSON", "uid": uid(), "name": "新用户",
            "id_number": f.resident_id(), **extra}


def wang_wu(channel: str) -> dict[str, str]:
    """王五 of the legacy person account L2001, signing in on ``channel`` with his ID number."""
    return {"channel": channel, "user_type": "PERSON", "uid": uid(), "name": L2001_NAME, "id_number": L2001_ID}


def session_api(stack, session: Mapping) -> Api:
    return Api(stack.gateway_url, str(session["accessToken"]))


def refresh(stack, refresh_token: str) -> httpx.Response:
    return httpx.post(f"{stack.gateway_url}/v1/sessions:refresh", json={"refreshToken": refresh_token}, timeout=30)


def create_application(api: Api) -> httpx.Response:
    """我要申请 after the permit notice was read."""
    r = api.http.get("/v1/notice")
    if r.status_code != 200:
        return r  # the caller may not read it (ID-5): nor may it apply
    return api.http.post("/v1/applications", json={"noticeReceipt": j.notice_receipt(api),
                                                   "requestId": str(uuid.uuid4())})


def home(api: Api, party: str) -> dict:
    """What the 掌上办 home page loads for an active user: the progress list, of the
    user's own party only."""
    r = api.http.get("/v1/applications", params={"pageSize": 20})
    assert r.status_code == 200, r.text
    listed = r.json()
    assert all(a["applicant"] == party for a in listed.get("applications", [])), listed
    return listed


@pytest.fixture(scope="module")
def other_province_licence_officer(stack) -> Api:
    """A licence officer of 山东, who must not decide a 河北 party's licence (ID-6)."""
    stack.run("permit_identity", "create-officer", "--login", OTHER_PROVINCE_LICENCE_OFFICER, "--name", "鲁审核员",
              "--province", SHANDONG, "--roles", "officer.licence", "--update")
    session = signed_in(stack, {"channel": "STAFF", "officer": OTHER_PROVINCE_LICENCE_OFFICER})
    me = session["me"]
    assert me["province"] == SHANDONG and me["roles"] == ["officer.licence"]
    return session_api(stack, session)


def upload_licence_image(api: Api, rgb: tuple[int, int, int]) -> dict:
    return api.call("POST", "/v1/documents", data={"kind": "DOCUMENT_KIND_BUSINESS_LICENCE"},
                    files={"file": ("营业执照.png", j.tiny_png(rgb), "image/png")})


def licence_body(document: str, number: str = "冀交运管许可石字130100000001号") -> dict:
    today = dates.today()
    return {"licenceNumber": number, "issuingAuthority": "石家庄市交通运输局",
            "validFrom": {"year": today.year - 1, "month": 1, "day": 1},
            "validUntil": {"year": today.year + 3, "month": 12, "day": 31}, "document": document}


# ---- 1、APP (2) 注册登录: legal-person and individual users -------------------------------

def test_app_legal_person_walks_in_to_the_home_page_of_legacy_account_L1001_ID_1_ID_3(stack):
    """The manual's APP walk for a legal person: “我的” -> “法人用户” -> sign in, search
    “跨省大件运输并联许可” -> 掌上办 home page, with the PC side's enterprise, vehicles
    and agents already there."""
    session = signed_in(stack, {"channel": "APP", "user_type": "LEGAL", "uid": uid(), "name": L1001_NAME,
                                "uscc": L1001_USCC})
    me = session["me"]
    assert me["party"] == "parties/L1001"
    assert me["partyKind"] == "PARTY_KIND_ENTERPRISE" and me["displayName"] == L1001_NAME
    assert me["legacyLinked"] is True and me["legacyAccount"] == "L1001"
    assert me["channel"] == "CHANNEL_APP"
    assert me["onboarding"] == "ONBOARDING_STATE_ACTIVE"
    assert me["roles"] == ["applicant"]
    assert me["maskedIdentifier"] == L1001_USCC  # a credit code is public: shown in full
    assert session["accessToken"].count(".") == 2 and session["refreshToken"]

    # The token works at once; GET /v1/me is what the home page asks first.
    api = session_api(stack, session)
    again = api.get("/v1/me")
    assert again["party"] == "parties/L1001" and again["onboarding"] == "ONBOARDING_STATE_ACTIVE"
    # The home page: the progress list, and the PC side's fleet and agent for the form.
    home(api, "parties/L1001")
    plates = {v["plateNumber"] for v in api.get("/v1/vehicles:suggest", params={"platePrefix": "冀"})["vehicles"]}
    assert {f.TRACTOR, f.TRAILER} <= plates
    agents = api.get("/v1/agents:suggest", params={"namePrefix": "李"})["agents"]
    assert "李四" in {a["name"] for a in agents}
    # Linking again on a later entry keeps the same account.
    assert api.post("/v1/me:linkLegacyAccount", {})["party"] == "parties/L1001"


def test_app_individual_walks_in_linked_by_id_number_to_L2001_and_masked_ID_1_ID_3(stack):
    """The APP walk for an individual: “个人用户” -> sign in -> 掌上办 home page of the
    legacy person account; the ID number is only ever shown masked."""
    r = sign_in(stack, wang_wu("APP"))
    assert r.status_code == 200, r.text
    me = r.json()["me"]
    assert me["party"] == "parties/L2001"
    assert me["partyKind"] == "PARTY_KIND_PERSON"
    assert me["legacyLinked"] is True and me["onboarding"] == "ONBOARDING_STATE_ACTIVE"
    assert me["maskedIdentifier"] == "1301**********5218"
    assert L2001_ID not in r.text  # the ID number never leaves whole
    api = session_api(stack, r.json())
    assert api.get("/v1/me")["party"] == "parties/L2001"
    home(api, "parties/L2001")


def test_ministry_portal_credential_is_refused_with_register_advice_ID_2(stack, anonymous):
    r = anonymous.http.post("/v1/sessions:signIn", json={
        "channel": "CHANNEL_APP", "portalCredential": {"account": "hbjy-admin", "password": "Passw0rd!"}})
    err = f.refused_zh(r, 400, "MINISTRY_PORTAL_ACCOUNT")
    assert "国家政务服务平台" in err["message"] and "注册" in err["message"]
    assert "Passw0rd!" not in r.text


def test_ticket_of_a_ministry_portal_account_is_refused_ID_2(stack):
    _, ticket = mint(stack, new_person("APP"), "--source", "MOT_PORTAL")
    r = httpx.post(f"{stack.gateway_url}/v1/sessions:signIn", json={"channel": "CHANNEL_APP", "ticket": ticket},
                   timeout=30)
    err = f.refused_zh(r, 400, "MINISTRY_PORTAL_ACCOUNT")
    assert "国家政务服务平台" in err["message"]


def test_replayed_ticket_is_refused_ID_1(stack):
    channel, ticket = mint(stack, new_person("APP"))
    body = {"channel": f"CHANNEL_{channel}", "ticket": ticket}
    first = httpx.post(f"{stack.gateway_url}/v1/sessions:signIn", json=body, timeout=30)
    assert first.status_code == 200, first.text
    again = httpx.post(f"{stack.gateway_url}/v1/sessions:signIn", json=body, timeout=30)
    err = f.refused_zh(again, 401, "TICKET_REPLAYED")
    assert err["status"] == "UNAUTHENTICATED"


def test_expired_ticket_and_ticket_of_another_channel_are_refused_ID_1(stack):
    _, expired = mint(stack, new_person("APP"), "--ttl-seconds", "-60")
    r = httpx.post(f"{stack.gateway_url}/v1/sessions:signIn", json={"channel": "CHANNEL_APP", "ticket": expired},
                   timeout=30)
    f.refused_zh(r, 401, "TICKET_EXPIRED")
    # An Alipay ticket presented on the WeChat entry.
    f.refused_zh(sign_in(stack, new_person("ALIPAY"), channel="WECHAT"), 401, "TICKET_CHANNEL_MISMATCH")


def test_refresh_token_rotates_and_a_spent_one_revokes_the_session_ID_1(stack):
    first = signed_in(stack, new_person("APP"))
    r2 = refresh(stack, first["refreshToken"])
    assert r2.status_code == 200, r2.text
    second = r2.json()
    assert second["refreshToken"] != first["refreshToken"]
    assert second["accessToken"] != first["accessToken"]
    assert second["name"] == first["name"]  # the same session
    assert session_api(stack, second).get("/v1/me")["user"] == first["me"]["user"]

    # Presenting the spent token again is refused and ends the session: the new one dies too.
    f.refused_zh(refresh(stack, first["refreshToken"]), 401, "REFRESH_TOKEN_REUSED")
    f.refused_zh(refresh(stack, second["refreshToken"]), 401, "SESSION_REVOKED")
    f.refused_zh(refresh(stack, "not-a-token"), 401, "REFRESH_TOKEN_INVALID")


def test_sign_out_revokes_the_session_of_its_refresh_token_ID_1(stack):
    session = signed_in(stack, new_person("WECHAT"))
    api = session_api(stack, session)
    assert api.get("/v1/me")["user"]
    assert api.post("/v1/sessions:signOut", {"refreshToken": session["refreshToken"]})["revokedCount"] == 1
    f.refused_zh(refresh(stack, session["refreshToken"]), 401, "SESSION_REVOKED")
    # The access token, though its signature still verifies, no longer gets in.
    f.refused_zh(api.http.get("/v1/me"), 401, "SESSION_REVOKED")


def test_sign_out_without_a_token_revokes_every_session_of_the_caller_ID_1(stack, anonymous):
    p = new_person("APP")
    a = signed_in(stack, p)
    b = signed_in(stack, p)  # the same user on a second phone: a fresh ticket, same uid
    assert a["me"]["user"] == b["me"]["user"] and a["name"] != b["name"]
    assert session_api(stack, a).post("/v1/sessions:signOut", {})["revokedCount"] == 2
    f.refused_zh(refresh(stack, a["refreshToken"]), 401, "SESSION_REVOKED")
    f.refused_zh(refresh(stack, b["refreshToken"]), 401, "SESSION_REVOKED")
    f.refused_zh(anonymous.http.post("/v1/sessions:signOut", json={}), 401, "UNAUTHENTICATED")


def test_public_keys_verify_the_access_token_ID_1(stack, anonymous):
    import jwt

    session = signed_in(stack, new_person("APP"))
    token = session["accessToken"]
    keys = {k["keyId"]: k for k in anonymous.get("/v1/publicKeys")["keys"]}
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"] in keys
    claims = jwt.decode(token, keys[header["kid"]]["publicKeyPem"], algorithms=["EdDSA"], audience="permit",
                        issuer="permit-identity")
    assert claims["sub"] == session["me"]["user"] and claims["onb"] == "LICENCE_REQUIRED"


# ---- 2、支付宝小程序 and 3、微信小程序: individual users only --------------------------------

@pytest.mark.parametrize("channel", ["ALIPAY", "WECHAT"])
def test_mini_program_individual_walks_in_to_the_home_page_of_the_same_account_ID_1_ID_3(stack, channel):
    """The mini-program walk: the platform already knows the user (Alipay: from the
    Alipay account; WeChat: name, ID number and phone typed once), so “登录” is one
    tap; the search leads to the same 掌上办 home page as on the APP, of the same
    legacy account."""
    on_app = signed_in(stack, wang_wu("APP"))["me"]
    session = signed_in(stack, wang_wu(channel))
    me = session["me"]
    assert me["channel"] == f"CHANNEL_{channel}"
    assert me["party"] == on_app["party"] == "parties/L2001"
    assert me["legacyLinked"] is True and me["onboarding"] == "ONBOARDING_STATE_ACTIVE"
    api = session_api(stack, session)
    assert api.get("/v1/me")["channel"] == f"CHANNEL_{channel}"
    home(api, "parties/L2001")


@pytest.mark.parametrize("channel", ["ALIPAY", "WECHAT"])
def test_mini_program_individual_signs_in_as_a_new_user_ID_1_ID_5(stack, channel):
    session = signed_in(stack, new_person(channel))
    me = session["me"]
    assert me["channel"] == f"CHANNEL_{channel}"
    assert me["partyKind"] == "PARTY_KIND_PERSON"
    assert me.get("legacyLinked", False) is False
    assert re.fullmatch(r"parties/[0-9a-f-]{32,36}", me["party"]), me["party"]
    assert me["onboarding"] == "ONBOARDING_STATE_LICENCE_REQUIRED"


@pytest.mark.parametrize("channel", ["ALIPAY", "WECHAT"])
def test_legal_person_on_a_mini_program_is_refused_with_its_reason_ID_1(stack, channel):
    r = sign_in(stack, {"channel": channel, "user_type": "LEGAL", "uid": uid(), "name": L1001_NAME,
                        "uscc": L1001_USCC})
    err = f.refused_zh(r, 400, "CHANNEL_PERSON_ONLY")
    assert err["status"] == "FAILED_PRECONDITION"
    assert "法人" in err["message"] and "APP" in err["message"]


# ---- 1 (3) “掌上办”进入: a personal sign-in never links the legal-person account -----------

@pytest.mark.parametrize("channel", ["APP", "ALIPAY", "WECHAT"])
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


# ---- 1 (3) “掌上办”进入: a new user's licence, reviewed by the officers (ID-5, ID-6) -------

def test_new_user_onboarding_through_approval_ID_5_ID_6(stack, api_as, other_province_licence_officer):
    """材料补充页面: submit the licence, close the page, wait for the review; on the next
    entry after approval the user goes straight to the home page."""
    person = new_person("WECHAT")
    session = signed_in(stack, person)
    user = session_api(stack, session)
    assert session["me"]["onboarding"] == "ONBOARDING_STATE_LICENCE_REQUIRED"

    # Before anything else the licence is required: application RPCs answer FAILED_PRECONDITION.
    err = f.refused_zh(create_application(user), 400, "LICENCE_REQUIRED")
    assert err["status"] == "FAILED_PRECONDITION"
    f.refused_zh(user.http.get("/v1/applications"), 400, "LICENCE_REQUIRED")

    doc = upload_licence_image(user, (12, 34, 56))
    assert doc["kind"] == "DOCUMENT_KIND_BUSINESS_LICENCE" and doc["owner"] == session["me"]["party"]
    lic = user.post("/v1/licences", licence_body(doc["name"]))
    assert lic["state"] == "STATE_PENDING"
    assert lic["province"] == HEBEI and lic["party"] == session["me"]["party"]
    assert lic["document"] == doc["name"]
    assert lic["dueDate"]  # 5 working days later
    due = dt.date(lic["dueDate"]["year"], lic["dueDate"]["month"], lic["dueDate"]["day"])
    assert due >= dates.today() + dt.timedelta(days=5)
    me = user.get("/v1/me")
    assert me["onboarding"] == "ONBOARDING_STATE_LICENCE_PENDING" and me["licence"] == lic["name"]
    # Submitting again while the review is pending is refused.
    f.refused_zh(user.http.post("/v1/licences", json=licence_body(doc["name"])), 400, "LICENCE_REVIEW_PENDING")

    # A refreshed session carries the pending state; applications are still refused.
    s2 = refresh(stack, session["refreshToken"])
    assert s2.status_code == 200, s2.text
    assert s2.json()["me"]["onboarding"] == "ONBOARDING_STATE_LICENCE_PENDING"
    user = session_api(stack, s2.json())
    f.refused_zh(create_application(user), 400, "LICENCE_REVIEW_PENDING")

    # The licence officer of 河北 sees it in the queue; 山东's licence officer may not decide it.
    hebei = api_as("hebei-accept")
    queue = j.wait_for(lambda: [x for x in hebei.get("/v1/licences").get("licences", []) if x["name"] == lic["name"]],
                       "the licence in 河北's review queue")
    assert queue[0]["state"] == "STATE_PENDING"
    f.refused_zh(other_province_licence_officer.http.post(f"/v1/{lic['name']}:review",
                                                          json={"decision": "DECISION_APPROVE"}), 403, "OTHER_PROVINCE")
    assert all(x["name"] != lic["name"]
               for x in other_province_licence_officer.get("/v1/licences").get("licences", []))
    # A review officer without the licence role may not decide either.
    f.refused_zh(api_as("shandong-review").http.post(f"/v1/{lic['name']}:review",
                                                     json={"decision": "DECISION_APPROVE"}), 403, "NOT_LICENCE_OFFICER")
    # The image was granted to 河北's officers (through the outbox), not to 山东's.
    j.wait_for(lambda: hebei.http.get(f"/v1/{doc['name']}").status_code == 200, "licence image granted to 河北")
    assert other_province_licence_officer.http.get(f"/v1/{doc['name']}").status_code == 404

    approved = hebei.post(f"/v1/{lic['name']}:review", {"decision": "DECISION_APPROVE", "etag": queue[0]["etag"]})
    assert approved["state"] == "STATE_APPROVED" and approved["reviewer"] == "officers/hebei-accept"
    f.refused_zh(hebei.http.post(f"/v1/{lic['name']}:review", json={"decision": "DECISION_APPROVE"}), 400,
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
    assert [a["name"] for a in home(user, session["me"]["party"])["applications"]] == [app["name"]]

    # “再次进入”: a new sign-in of the same user goes straight to the home page.
    later = signed_in(stack, person)
    assert later["me"]["onboarding"] == "ONBOARDING_STATE_ACTIVE" and later["me"]["party"] == session["me"]["party"]
    home(session_api(stack, later), session["me"]["party"])


def test_rejected_licence_shows_the_reason_and_can_be_resubmitted_ID_5_ID_6(stack, api_as):
    session = signed_in(stack, new_person("ALIPAY"))
    user = session_api(stack, session)
    hebei = api_as("hebei-accept")

    first = user.post("/v1/licences", licence_body(upload_licence_image(user, (200, 10, 10))["name"]))
    f.refused_zh(hebei.http.post(f"/v1/{first['name']}:review", json={"decision": "DECISION_REJECT"}), 400,
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
    f.refused_zh(create_application(user), 400, "LICENCE_REJECTED")

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
    user = session_api(stack, signed_in(stack, new_person("APP")))
    doc = upload_licence_image(user, (1, 1, 1))
    body = licence_body(doc["name"])
    f.refused_zh(user.http.post("/v1/licences", json={**body, "licenceNumber": ""}), 400, "LICENCE_NUMBER_REQUIRED")
    f.refused_zh(user.http.post("/v1/licences", json={**body, "document": ""}), 400, "DOCUMENT_REQUIRED")
    f.refused_zh(user.http.post("/v1/licences", json={**body, "validFrom": body["validUntil"],
                                                      "validUntil": body["validFrom"]}), 400, "VALIDITY_INVERTED")
    assert user.get("/v1/me")["onboarding"] == "ONBOARDING_STATE_LICENCE_REQUIRED"


# ---- officers (ID-6) ----------------------------------------------------------------------

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
    f.refused_zh(create_application(hebei), 403, "NOT_APPLICANT")
    f.refused_zh(hebei.http.get("/v1/officers"), 403, "NOT_ADMIN")
