"""The OpenID Connect relying party (SI-1) against an in-memory provider: what it
accepts, what it refuses, and that it reads the claims the channel rules need."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from permit_identity import errors
from permit_identity.models import Channel
from permit_identity.oidc import code_challenge, identity_of
from tests.identity.oidc_fake import CLIENTS, ISSUER, FakeProvider, sign_in_of

NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
PERSON = {"sub": "u-1", "user_type": "PERSON", "name": "张某", "id_number": "37010219880611302X",
          "real_name_level": 3, "account_source": "NATIONAL_PLATFORM"}
LEGAL = {"sub": "u-2", "user_type": "LEGAL", "name": "冀运公司", "uscc": "91130100MA0DPQ7R8A",
         "real_name_level": 3}


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider(now=NOW)


def authenticate(fake: FakeProvider, channel: Channel, claims: dict[str, Any], *, nonce: str = "n-1",
                 given_nonce: str | None = None, now: dt.datetime = NOW, **kw: Any):
    oidc = kw.pop("oidc", None) or sign_in_of(fake)
    uri = CLIENTS[channel].redirect_uris[0]
    code = fake.grant(channel, claims, nonce=nonce)
    return oidc.authenticate(channel, code=code, nonce=given_nonce or nonce, now=now, redirect_uri=uri)


def test_authorization_request_carries_pkce_state_and_nonce_SI_1(fake: FakeProvider) -> None:
    p = sign_in_of(fake).provider(Channel.APP)
    req = p.authorization_request(Channel.APP, redirect_uri="https://h5.test.cn/cb")
    url = urlsplit(req.url)
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/auth"
    assert q["client_id"] == "app-client" and q["response_type"] == "code"
    assert q["state"] == req.state and q["nonce"] == req.nonce and req.state != req.nonce
    assert q["code_challenge_method"] == "S256" and q["code_challenge"] == code_challenge(req.code_verifier)
    assert q["redirect_uri"] == "https://h5.test.cn/cb"
    with pytest.raises(errors.RedirectUriInvalid):
        p.authorization_request(Channel.APP, redirect_uri="https://evil.example/cb")


def test_person_claims_from_the_id_token_SI_1(fake: FakeProvider) -> None:
    ident = authenticate(fake, Channel.WECHAT, PERSON)
    assert (ident.channel, ident.user_type, ident.uid, ident.name) == (Channel.WECHAT, "PERSON", "u-1", "张某")
    assert ident.id_number == "37010219880611302X" and ident.ticket_id == "oidc:n-1"
    assert "/me" not in fake.calls  # everything was in the ID token


def test_claims_completed_from_userinfo_when_the_id_token_has_only_sub_SI_1(fake: FakeProvider) -> None:
    fake.claims_in_id_token = False
    ident = authenticate(fake, Channel.APP, LEGAL)
    assert ident.user_type == "LEGAL" and ident.uscc == "91130100MA0DPQ7R8A"
    assert "/me" in fake.calls


def test_wrong_audience_refused_SI_1(fake: FakeProvider) -> None:
    fake.id_token_overrides = {"aud": "another-client"}
    with pytest.raises(errors.IdTokenInvalid) as e:
        authenticate(fake, Channel.APP, PERSON)
    assert e.value.metadata == {"check": "audience"}


def test_wrong_issuer_refused_SI_1(fake: FakeProvider) -> None:
    fake.id_token_overrides = {"iss": "https://elsewhere.example"}
    with pytest.raises(errors.IdTokenInvalid) as e:
        authenticate(fake, Channel.APP, PERSON)
    assert e.value.metadata == {"check": "issuer"}


def test_expired_id_token_refused_SI_1(fake: FakeProvider) -> None:
    with pytest.raises(errors.IdTokenExpired):
        authenticate(fake, Channel.APP, PERSON, now=NOW + dt.timedelta(hours=2))


def test_nonce_other_than_the_requests_refused_SI_1(fake: FakeProvider) -> None:
    with pytest.raises(errors.IdTokenInvalid) as e:
        authenticate(fake, Channel.APP, PERSON, nonce="n-1", given_nonce="n-2")
    assert e.value.metadata == {"check": "nonce"}


def test_tampered_id_token_refused_SI_1(fake: FakeProvider) -> None:
    p = sign_in_of(fake).provider(Channel.APP)
    token = fake.sign({"iss": ISSUER, "aud": "app-client", "sub": "u-1", "iat": int(NOW.timestamp()),
                       "exp": int(NOW.timestamp()) + 600, "nonce": "n"})
    head, body, sig = token.split(".")
    forged = fake.sign({"iss": ISSUER, "aud": "app-client", "sub": "u-9", "iat": int(NOW.timestamp()),
                        "exp": int(NOW.timestamp()) + 600, "nonce": "n"}).split(".")[1]
    with pytest.raises(errors.IdTokenInvalid) as e:
        p.verify_id_token(Channel.APP, f"{head}.{forged}.{sig}", nonce="n", now=NOW)
    assert e.value.metadata == {"check": "signature"}
    assert p.verify_id_token(Channel.APP, token, nonce="n", now=NOW)["sub"] == "u-1"


def test_token_signed_by_a_key_not_the_providers_refused_SI_1(fake: FakeProvider) -> None:
    from joserfc.jwk import RSAKey

    p = sign_in_of(fake).provider(Channel.APP)
    stranger = RSAKey.generate_key(2048, parameters={"kid": fake.keys[0].kid})
    token = fake.sign({"iss": ISSUER, "aud": "app-client", "sub": "u-1", "iat": int(NOW.timestamp()),
                       "exp": int(NOW.timestamp()) + 600, "nonce": "n"}, key=stranger)
    with pytest.raises(errors.IdTokenInvalid):
        p.verify_id_token(Channel.APP, token, nonce="n", now=NOW)


def test_provider_key_rotation_refetches_the_jwks_on_an_unknown_kid_SI_1(fake: FakeProvider) -> None:
    oidc = sign_in_of(fake, min_refresh=0)
    authenticate(fake, Channel.APP, PERSON, oidc=oidc)
    assert fake.calls.count("/jwks") == 1
    authenticate(fake, Channel.APP, PERSON, nonce="n-2", oidc=oidc)
    assert fake.calls.count("/jwks") == 1  # cached
    fake.rotate()
    assert authenticate(fake, Channel.APP, PERSON, nonce="n-3", oidc=oidc).uid == "u-1"
    assert fake.calls.count("/jwks") == 2


def test_unknown_kids_do_not_make_it_hammer_the_provider(fake: FakeProvider) -> None:
    oidc = sign_in_of(fake, min_refresh=3600)
    authenticate(fake, Channel.APP, PERSON, oidc=oidc)
    fake.rotate()
    with pytest.raises(errors.IdTokenInvalid):
        authenticate(fake, Channel.APP, PERSON, nonce="n-2", oidc=oidc)
    assert fake.calls.count("/jwks") == 1


def test_provider_down_is_unavailable_SI_1(fake: FakeProvider) -> None:
    fake.down = True
    with pytest.raises(errors.IdentityProviderUnavailable) as e:
        authenticate(fake, Channel.APP, PERSON)
    assert e.value.message == "统一身份认证服务暂时无法访问，请稍后重试。"


def test_spent_or_foreign_code_refused_SI_1(fake: FakeProvider) -> None:
    oidc = sign_in_of(fake)
    code = fake.grant(Channel.ALIPAY, PERSON, nonce="n")
    uri = CLIENTS[Channel.ALIPAY].redirect_uris[0]
    with pytest.raises(errors.AuthorizationCodeInvalid):  # another client's code
        oidc.authenticate(Channel.WECHAT, code=code, nonce="n", now=NOW,
                          redirect_uri=CLIENTS[Channel.WECHAT].redirect_uris[0])
    code = fake.grant(Channel.ALIPAY, PERSON, nonce="n")
    oidc.authenticate(Channel.ALIPAY, code=code, nonce="n", now=NOW, redirect_uri=uri)
    with pytest.raises(errors.AuthorizationCodeInvalid):  # spent
        oidc.authenticate(Channel.ALIPAY, code=code, nonce="n", now=NOW, redirect_uri=uri)


def test_channel_not_configured_refused(fake: FakeProvider) -> None:
    oidc = sign_in_of(fake)
    del oidc.providers[Channel.STAFF]
    with pytest.raises(errors.ChannelNotConfigured):
        oidc.provider(Channel.STAFF)


EXP = NOW + dt.timedelta(minutes=5)


def test_ministry_portal_account_refused_from_the_claims_ID_2() -> None:
    with pytest.raises(errors.MinistryPortalAccount):
        identity_of(Channel.APP, {**PERSON, "account_source": "MOT_PORTAL"}, nonce="n", expires_at=EXP)


def test_channel_claim_must_match_the_channel_ID_1() -> None:
    with pytest.raises(errors.TicketChannelMismatch):
        identity_of(Channel.ALIPAY, {**PERSON, "channel": "WECHAT"}, nonce="n", expires_at=EXP)
    assert identity_of(Channel.WECHAT, {**PERSON, "channel": "wechat"}, nonce="n", expires_at=EXP).uid == "u-1"


def test_real_name_level_below_the_minimum_refused() -> None:
    with pytest.raises(errors.RealNameLevelTooLow):
        identity_of(Channel.APP, {**PERSON, "real_name_level": 1}, nonce="n", expires_at=EXP,
                    min_real_name_level=2)
    assert identity_of(Channel.APP, PERSON, nonce="n", expires_at=EXP, min_real_name_level=3).uid == "u-1"


def test_unknown_user_type_refused() -> None:
    with pytest.raises(errors.IdTokenInvalid):
        identity_of(Channel.APP, {**PERSON, "user_type": "ROBOT"}, nonce="n", expires_at=EXP)


def test_staff_claims_give_login_province_and_roles_ID_6() -> None:
    ident = identity_of(Channel.STAFF, {"sub": "x-1", "preferred_username": "Hebei-Accept", "province": "130000",
                                        "roles": ["officer.accept", "officer.review"], "name": "张三"},
                        nonce="n", expires_at=EXP)
    assert (ident.officer_login, ident.province, ident.roles) == (
        "hebei-accept", "130000", ("officer.accept", "officer.review"))
