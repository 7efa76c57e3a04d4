"""Real sign-in through the gateway against a real OpenID Connect provider process
(`oidc-provider` on loopback, tests/oidc_provider): the national platform's unified
identity authentication for the APP, the H5 pages and the Alipay and WeChat
mini-programs, and the provincial staff directory for officers (SI-1, ID-1,
ID-2, ID-6).

A phone calls ``POST /v1/sessions:start``, the user signs in at the provider's
pages (driven here by HTTP), the provider sends the code back and the phone
calls ``POST /v1/sessions:complete``; a mini-program hands over the code and
nonce of its own authorization request.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from devstack import Stack
from permitkit.settings import env_database_url
from tests.e2e import journey as j
from tests.e2e.conftest import Api
from tests.oidc_provider import OidcTestProvider, client_of

pytestmark = pytest.mark.e2e


def start(stack: Stack, channel: str, redirect_uri: str = "") -> dict[str, Any]:
    body = {"channel": f"CHANNEL_{channel}", **({"redirectUri": redirect_uri} if redirect_uri else {})}
    r = httpx.post(f"{stack.gateway_url}/v1/sessions:start", json=body, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def complete(stack: Stack, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{stack.gateway_url}/v1/sessions:complete", json=body, timeout=30)


def code_flow(stack: Stack, provider: OidcTestProvider, channel: str, login: str,
              redirect_uri: str = "") -> httpx.Response:
    """APP, H5 or staff workbench: start, sign in at the provider, complete with code and state."""
    started = start(stack, channel, redirect_uri)
    back = provider.sign_in_at(started["authorizationUrl"], login,
                               redirect_uri or client_of(channel)["redirect_uris"][0])
    assert back["state"] == started["state"]
    return complete(stack, {"code": back["code"], "state": back["state"]})


def mini_program(stack: Stack, provider: OidcTestProvider, channel: str, login: str,
                 nonce: str | None = None) -> httpx.Response:
    code, nonce = provider.mini_program_code(channel, login, nonce=nonce)
    return complete(stack, {"channel": f"CHANNEL_{channel}", "code": code, "nonce": nonce})


def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def refused(r: httpx.Response, status: int, reason: str, message: str) -> None:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert (err["reason"], err["message"]) == (reason, message)


def test_app_legal_person_signs_in_and_finds_its_legacy_fleet_SI_1_ID_1_ID_3(stack, oidc_provider) -> None:
    session = ok(code_flow(stack, oidc_provider, "APP", "uias-legal-01"))
    me = session["me"]
    assert (me["channel"], me["partyKind"], me["legacyAccount"]) == ("CHANNEL_APP", "PARTY_KIND_ENTERPRISE", "L1001")
    carrier = Api(stack.gateway_url, session["accessToken"])
    assert carrier.get("/v1/me")["displayName"] == "河北冀运大件物流有限公司"
    plates = {v["plateNumber"] for v in carrier.get("/v1/vehicles:suggest", params={"platePrefix": "冀"})["vehicles"]}
    assert "冀A12345" in plates


def test_h5_pages_sign_in_through_their_own_redirect_uri_SI_1(stack, oidc_provider) -> None:
    session = ok(code_flow(stack, oidc_provider, "APP", "uias-person-01",
                           redirect_uri="https://h5.permit.test/oidc/callback"))
    assert session["me"]["partyKind"] == "PARTY_KIND_PERSON"
    r = httpx.post(f"{stack.gateway_url}/v1/sessions:start",
                   json={"channel": "CHANNEL_APP", "redirectUri": "https://evil.example/cb"}, timeout=30)
    refused(r, 400, "REDIRECT_URI_INVALID", "登录回调地址未登记。")


def test_alipay_mini_program_hands_over_its_code_SI_1_ID_1(stack, oidc_provider) -> None:
    me = ok(mini_program(stack, oidc_provider, "ALIPAY", "uias-person-02"))["me"]
    assert (me["channel"], me["legacyAccount"], me["displayName"]) == ("CHANNEL_ALIPAY", "L2001", "王五")


def test_wechat_mini_program_hands_over_its_code_SI_1_ID_1(stack, oidc_provider) -> None:
    me = ok(mini_program(stack, oidc_provider, "WECHAT", "uias-person-03"))["me"]
    assert (me["channel"], me["partyKind"], me["displayName"]) == ("CHANNEL_WECHAT", "PARTY_KIND_PERSON", "李小红")


def test_legal_person_on_a_mini_program_refused_ID_1(stack, oidc_provider) -> None:
    for channel in ("WECHAT", "ALIPAY"):
        refused(mini_program(stack, oidc_provider, channel, "uias-legal-01"), 400, "CHANNEL_PERSON_ONLY",
                "支付宝、微信小程序仅支持个人用户登录，法人用户请使用国家政务服务平台APP登录。")


def test_old_ministry_portal_account_refused_ID_2(stack, oidc_provider) -> None:
    refused(code_flow(stack, oidc_provider, "APP", "uias-portal-01"), 400, "MINISTRY_PORTAL_ACCOUNT",
            "交通运输部政务服务平台注册的账号无法登录，请在国家政务服务平台重新注册账号后登录。")


def test_real_name_level_below_the_deployments_minimum_refused_SI_1(stack, oidc_provider) -> None:
    refused(code_flow(stack, oidc_provider, "APP", "uias-low-01"), 400, "REAL_NAME_LEVEL_TOO_LOW",
            "请先在国家政务服务平台完成实名认证后再登录。")


@pytest.mark.parametrize("change,reason,message", [
    ({"aud": "another-relying-party"}, "ID_TOKEN_INVALID", "统一身份认证返回的身份令牌校验未通过，请重新登录。"),
    ({"expired": True}, "ID_TOKEN_EXPIRED", "统一身份认证返回的身份令牌已过期，请重新登录。"),
    ({"tamper": True}, "ID_TOKEN_INVALID", "统一身份认证返回的身份令牌校验未通过，请重新登录。"),
], ids=["wrong-audience", "expired", "tampered"])
def test_bad_id_token_from_the_provider_refused_SI_1(stack, oidc_provider, change, reason, message) -> None:
    oidc_provider.arm_next_id_token(**change)
    refused(mini_program(stack, oidc_provider, "WECHAT", "uias-person-03"), 401, reason, message)
    oidc_provider.arm_next_id_token(**change)
    refused(code_flow(stack, oidc_provider, "APP", "uias-person-01"), 401, reason, message)


def test_replayed_nonce_refused_SI_1(stack, oidc_provider) -> None:
    nonce = secrets.token_urlsafe(16)
    ok(mini_program(stack, oidc_provider, "WECHAT", "uias-person-03", nonce=nonce))
    refused(mini_program(stack, oidc_provider, "WECHAT", "uias-person-03", nonce=nonce), 401, "TICKET_REPLAYED",
            "登录凭据已使用过，请重新登录。")


def test_state_of_a_completed_sign_in_refused_SI_1(stack, oidc_provider) -> None:
    started = start(stack, "APP")
    back = oidc_provider.sign_in_at(started["authorizationUrl"], "uias-person-01",
                                    client_of("APP")["redirect_uris"][0])
    ok(complete(stack, {"code": back["code"], "state": back["state"]}))
    refused(complete(stack, {"code": back["code"], "state": back["state"]}), 401, "SIGN_IN_STATE_INVALID",
            "登录请求已失效或已完成，请重新登录。")


def test_provider_key_rotation_mid_run_SI_1(stack, oidc_provider) -> None:
    ok(code_flow(stack, oidc_provider, "APP", "uias-person-01"))
    for which, channel, login in (("platform", "APP", "uias-person-01"), ("staff", "STAFF", "hebei-accept")):
        kid = oidc_provider.rotate(which)
        assert oidc_provider.jwks_kids(which)[0] == kid and len(oidc_provider.jwks_kids(which)) >= 2
        time.sleep(1.1)  # identity refetches the JWKS on an unknown kid at most once a second here
        ok(code_flow(stack, oidc_provider, channel, login))
    ok(mini_program(stack, oidc_provider, "ALIPAY", "uias-person-02"))


def _counts(stack: Stack) -> dict[str, int]:
    engine = sa.create_engine(env_database_url(stack.process_env(), "identity"))
    try:
        with engine.connect() as conn:
            return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608
                    for t in ("platform_user", "party", "auth_session", "refresh_token", "used_ticket")}
    finally:
        engine.dispose()


def test_provider_down_is_a_clear_chinese_503_and_nothing_half_written_SI_1(stack, oidc_provider) -> None:
    ok(code_flow(stack, oidc_provider, "STAFF", "hebei-accept"))  # discovery and keys are cached
    started = start(stack, "APP")
    back = oidc_provider.sign_in_at(started["authorizationUrl"], "uias-person-03",
                                    client_of("APP")["redirect_uris"][0])
    before = _counts(stack)
    oidc_provider.stop()
    try:
        oidc_provider.wait_until_down()
        r = complete(stack, {"code": back["code"], "state": back["state"]})
        refused(r, 503, "IDENTITY_PROVIDER_UNAVAILABLE", "统一身份认证服务暂时无法访问，请稍后重试。")
        code, nonce = "code-from-a-mini-program", secrets.token_urlsafe(16)
        refused(complete(stack, {"channel": "CHANNEL_WECHAT", "code": code, "nonce": nonce}), 503,
                "IDENTITY_PROVIDER_UNAVAILABLE", "统一身份认证服务暂时无法访问，请稍后重试。")
        assert _counts(stack) == before
    finally:
        oidc_provider.start()
    # Back: signing in works again (same issuer, same keys).
    ok(code_flow(stack, oidc_provider, "APP", "uias-person-03"))


def test_officer_of_hebei_signs_in_through_the_staff_directory_and_decides_only_for_hebei_ID_6(
        stack, oidc_provider, api_as) -> None:
    session = ok(code_flow(stack, oidc_provider, "STAFF", "hebei-accept"))
    assert (session["me"]["user"], session["me"]["province"]) == ("officers/hebei-accept", "130000")
    # The directory grants accept and review; the record's licence role is not claimed, so not held.
    assert sorted(session["me"]["roles"]) == ["officer.accept", "officer.review"]
    hebei = Api(stack.gateway_url, session["accessToken"])
    carrier = api_as("carrier")
    app = j.fill_draft(carrier)
    j.submit(carrier, app)
    case = j.accept(hebei, j.case_of(hebei, app["name"]))
    j.approve(hebei, case, "130000")  # 200, or the call asserts
    r = hebei.http.post(f"/v1/{case['name']}/reviews/370000:decide",
                        json={"decision": "DECISION_APPROVE", "reason": "同意通行"})
    assert r.status_code == 403 and r.json()["error"]["reason"] == "OTHER_PROVINCE", r.text


def test_staff_directory_claiming_another_province_than_the_records_refused_ID_6(stack, oidc_provider) -> None:
    refused(code_flow(stack, oidc_provider, "STAFF", "hebei-claims-shandong"), 403, "OFFICER_PROVINCE_MISMATCH",
            "工作人员目录中的所属省份与本系统登记不一致，请联系管理员。")
