"""StartSignIn / CompleteSignIn over gRPC against an in-memory OpenID provider
(SI-1, SI-2, ID-1, ID-2, ID-6); the real provider process is in tests/e2e."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
from sqlalchemy import func, select

from permit.identity.v1 import identity_pb2 as pb
from permit.identity.v1 import identity_service_pb2 as spb
from permit_identity.models import AuthSession, Party, SignInRequest, User
from tests.identity.conftest import ENTERPRISE_USCC, NEW_PERSON_IDN, Harness, error_of
from tests.identity.oidc_fake import FakeProvider, sign_in_of

PERSON = {"sub": "p-100", "user_type": "PERSON", "name": "张某", "id_number": NEW_PERSON_IDN, "real_name_level": 3}
LEGAL = {"sub": "l-100", "user_type": "LEGAL", "name": "河北冀运大件物流有限公司", "uscc": ENTERPRISE_USCC,
         "real_name_level": 3}
HEBEI = {"sub": "s-1", "preferred_username": "hebei-accept", "province": "130000",
         "roles": ["officer.accept", "officer.review"], "name": "张三"}


@pytest.fixture
def oidc(make_harness: Callable[..., Harness]) -> tuple[Harness, FakeProvider]:
    h = make_harness()
    fake = FakeProvider(now=h.clock.now)
    h.app.oidc = sign_in_of(fake)
    return h, fake


def start(h: Harness, channel: int, **kw: str) -> tuple[spb.SignInStart, dict[str, str]]:
    s = h.stub.StartSignIn(spb.StartSignInRequest(channel=channel, **kw))
    q = {k: v[0] for k, v in parse_qs(urlsplit(s.authorization_url).query).items()}
    assert q["state"] == s.state
    return s, q


def code_flow(h: Harness, fake: FakeProvider, channel: int, claims: dict, **kw: str) -> pb.Session:
    s, q = start(h, channel, **kw)
    code = fake.grant(_ch(channel), claims, nonce=q["nonce"], redirect_uri=q["redirect_uri"],
                      challenge=q["code_challenge"])
    return h.stub.CompleteSignIn(spb.CompleteSignInRequest(code=code, state=s.state))


def _ch(channel: int):
    from permit_identity.models import Channel

    return Channel(pb.Channel.Name(channel).removeprefix("CHANNEL_"))


def counts(h: Harness) -> tuple[int, int, int]:
    with h.app.uow() as uow:
        return tuple(uow.session.scalar(select(func.count()).select_from(m))  # type: ignore[return-value]
                     for m in (User, Party, AuthSession))


def test_app_sign_in_with_pkce_links_the_legacy_legal_person_SI_1_ID_3(oidc) -> None:
    h, fake = oidc
    session = code_flow(h, fake, pb.CHANNEL_APP, LEGAL)
    me = session.me
    assert me.legacy_linked and me.legacy_account == "L1001" and me.channel == pb.CHANNEL_APP
    assert h.claims(session)["party"] == me.party


def test_h5_pages_use_their_own_registered_redirect_uri_SI_1(oidc) -> None:
    h, fake = oidc
    session = code_flow(h, fake, pb.CHANNEL_APP, PERSON, redirect_uri="https://h5.test.cn/cb")
    assert session.me.party_kind == pb.PARTY_KIND_PERSON
    with pytest.raises(grpc.RpcError) as e:
        h.stub.StartSignIn(spb.StartSignInRequest(channel=pb.CHANNEL_APP, redirect_uri="https://evil.cn/cb"))
    assert error_of(e.value) == (grpc.StatusCode.INVALID_ARGUMENT, "REDIRECT_URI_INVALID")


def test_state_is_spent_once_SI_1(oidc) -> None:
    h, fake = oidc
    s, q = start(h, pb.CHANNEL_APP)
    code = fake.grant(_ch(pb.CHANNEL_APP), PERSON, nonce=q["nonce"], challenge=q["code_challenge"])
    h.stub.CompleteSignIn(spb.CompleteSignInRequest(code=code, state=s.state))
    code = fake.grant(_ch(pb.CHANNEL_APP), PERSON, nonce=q["nonce"], challenge=q["code_challenge"])
    with pytest.raises(grpc.RpcError) as e:
        h.stub.CompleteSignIn(spb.CompleteSignInRequest(code=code, state=s.state))
    assert error_of(e.value) == (grpc.StatusCode.UNAUTHENTICATED, "SIGN_IN_STATE_INVALID")


def test_mini_program_code_exchanged_server_to_server_and_nonce_used_once_SI_1(oidc) -> None:
    h, fake = oidc
    code = fake.grant(_ch(pb.CHANNEL_WECHAT), PERSON, nonce="mp-nonce-1")
    s = h.stub.CompleteSignIn(spb.CompleteSignInRequest(channel=pb.CHANNEL_WECHAT, code=code,
                                                        nonce="mp-nonce-1"))
    assert s.me.channel == pb.CHANNEL_WECHAT
    # The same nonce again, with a fresh code: a replay.
    code = fake.grant(_ch(pb.CHANNEL_WECHAT), PERSON, nonce="mp-nonce-1")
    with pytest.raises(grpc.RpcError) as e:
        h.stub.CompleteSignIn(spb.CompleteSignInRequest(channel=pb.CHANNEL_WECHAT, code=code,
                                                        nonce="mp-nonce-1"))
    assert error_of(e.value) == (grpc.StatusCode.UNAUTHENTICATED, "TICKET_REPLAYED")
    with pytest.raises(grpc.RpcError) as e:
        h.stub.CompleteSignIn(spb.CompleteSignInRequest(channel=pb.CHANNEL_WECHAT, code="x"))
    assert error_of(e.value) == (grpc.StatusCode.INVALID_ARGUMENT, "NONCE_REQUIRED")


def test_legal_person_on_a_mini_program_refused_and_nothing_written_ID_1(oidc) -> None:
    h, fake = oidc
    before = counts(h)
    code = fake.grant(_ch(pb.CHANNEL_ALIPAY), LEGAL, nonce="mp-2")
    with pytest.raises(grpc.RpcError) as e:
        h.stub.CompleteSignIn(spb.CompleteSignInRequest(channel=pb.CHANNEL_ALIPAY, code=code, nonce="mp-2"))
    assert error_of(e.value) == (grpc.StatusCode.FAILED_PRECONDITION, "CHANNEL_PERSON_ONLY")
    assert counts(h) == before


def test_ministry_portal_account_refused_ID_2(oidc) -> None:
    h, fake = oidc
    with pytest.raises(grpc.RpcError) as e:
        code_flow(h, fake, pb.CHANNEL_APP, {**PERSON, "account_source": "MOT_PORTAL"})
    assert error_of(e.value) == (grpc.StatusCode.FAILED_PRECONDITION, "MINISTRY_PORTAL_ACCOUNT")


def test_provider_down_is_a_clear_503_and_nothing_is_half_written_SI_1(oidc) -> None:
    h, fake = oidc
    s, q = start(h, pb.CHANNEL_APP)
    code = fake.grant(_ch(pb.CHANNEL_APP), PERSON, nonce=q["nonce"], challenge=q["code_challenge"])
    before = counts(h)
    fake.down = True
    with pytest.raises(grpc.RpcError) as e:
        h.stub.CompleteSignIn(spb.CompleteSignInRequest(code=code, state=s.state))
    assert error_of(e.value) == (grpc.StatusCode.UNAVAILABLE, "IDENTITY_PROVIDER_UNAVAILABLE")
    assert e.value.details() == "统一身份认证服务暂时无法访问，请稍后重试。"
    assert counts(h) == before
    with h.app.uow() as uow:  # the started sign-in is still there: the user may retry
        assert uow.session.scalar(select(func.count()).select_from(SignInRequest)) == 1
    fake.down = False
    assert h.stub.CompleteSignIn(spb.CompleteSignInRequest(code=code, state=s.state)).me.user


def test_officer_signs_in_through_the_staff_directory_ID_6(oidc) -> None:
    h, fake = oidc
    session = code_flow(h, fake, pb.CHANNEL_STAFF, HEBEI)
    claims = h.claims(session)
    assert claims["prov"] == "130000" and claims["sub"] == "officers/hebei-accept"
    # Only roles both the directory and the records grant (officer.licence is not claimed) ...
    assert sorted(claims["roles"]) == ["officer.accept", "officer.review"]
    # ... and a refresh re-reads the records without widening that.
    refreshed = h.stub.RefreshSession(spb.RefreshSessionRequest(refresh_token=session.refresh_token))
    assert sorted(h.claims(refreshed)["roles"]) == ["officer.accept", "officer.review"]
    # A development ticket (no directory) still gets the record's roles.
    assert "officer.licence" in h.claims(h.sign_in_officer("hebei-accept"))["roles"]


@pytest.mark.parametrize("claims,reason", [
    ({**HEBEI, "province": "370000"}, "OFFICER_PROVINCE_MISMATCH"),
    ({**HEBEI, "roles": ["admin"]}, "OFFICER_ROLES_MISSING"),
])
def test_staff_claims_disagreeing_with_the_officer_records_refused_ID_6(oidc, claims, reason) -> None:
    h, fake = oidc
    with pytest.raises(grpc.RpcError) as e:
        code_flow(h, fake, pb.CHANNEL_STAFF, claims)
    assert error_of(e.value) == (grpc.StatusCode.PERMISSION_DENIED, reason)


def test_unknown_officer_refused_ID_6(oidc) -> None:
    h, fake = oidc
    with pytest.raises(grpc.RpcError) as e:
        code_flow(h, fake, pb.CHANNEL_STAFF, {**HEBEI, "preferred_username": "nobody-here"})
    assert error_of(e.value) == (grpc.StatusCode.UNAUTHENTICATED, "OFFICER_UNKNOWN")


def test_development_tickets_refused_unless_switched_on_SI_2(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(PERMIT_IDENTITY_DEV_SIGN_IN="0")
    with pytest.raises(grpc.RpcError) as e:
        h.sign_in_person()
    assert error_of(e.value) == (grpc.StatusCode.FAILED_PRECONDITION, "DEV_SIGN_IN_DISABLED")


def test_channel_without_a_provider_refused(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    with pytest.raises(grpc.RpcError) as e:
        h.stub.StartSignIn(spb.StartSignInRequest(channel=pb.CHANNEL_APP))
    assert error_of(e.value) == (grpc.StatusCode.FAILED_PRECONDITION, "SIGN_IN_CHANNEL_NOT_CONFIGURED")


def test_signing_keys_are_stored_encrypted(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    h.sign_in_person()
    with h.app.uow() as uow:
        pems = [k.private_key_pem for k in uow.keys.all()]
    assert pems and all(p.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----") for p in pems)
