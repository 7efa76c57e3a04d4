"""Tokens and sessions: GetMe, expiry, rotating refresh tokens, revocation,
sign-out and signing-key rotation, over gRPC (tokens, ID-5, ID-6)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import jwt
import pytest
from google.protobuf import duration_pb2
from google.type import date_pb2
from sqlalchemy import event as sa_event

from permit.identity.v1 import identity_pb2 as pb
from permit.identity.v1 import identity_service_pb2 as spb
from permit_identity import tokens
from tests.identity.conftest import NEW_USCC, Harness, error_of

pytestmark = pytest.mark.integration


def refused(call) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as e:
        call()
    return error_of(e.value)


class TestGetMe:
    def test_get_me_returns_the_caller_from_the_forwarded_principal(self, harness: Harness) -> None:
        s = harness.sign_in_legal()
        me = harness.stub.GetMe(spb.GetMeRequest(), metadata=harness.md(s))
        assert me == s.me

    def test_get_me_reads_the_user_party_and_latest_licence_in_one_statement_ID_5(
            self, harness: Harness) -> None:
        s = harness.sign_in_legal(uid="sd-one", uscc=NEW_USCC, name="山东新运输有限公司")
        first = harness.stub.SubmitLicence(spb.SubmitLicenceRequest(
            licence_number="鲁交运管许可济字370100000001号", issuing_authority="济南市交通运输局",
            valid_from=date_pb2.Date(year=2024, month=1, day=1), valid_until=date_pb2.Date(year=2028, month=1, day=1),
            document="documents/d-one"), metadata=harness.md(s))
        statements: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "signing_key" not in statement:
                statements.append(statement)  # the key ring is refreshed on its own thread
        sa_event.listen(harness.app.engine, "before_cursor_execute", count)
        try:
            me = harness.stub.GetMe(spb.GetMeRequest(), metadata=harness.md(s))
        finally:
            sa_event.remove(harness.app.engine, "before_cursor_execute", count)
        assert me.licence == first.name and me.onboarding == pb.ONBOARDING_STATE_LICENCE_PENDING
        assert me.party == s.me.party and me.display_name == "山东新运输有限公司"
        assert len(statements) == 1, statements

    def test_get_me_of_an_officer_ID_6(self, harness: Harness) -> None:
        s = harness.sign_in_officer("hebei-accept")
        me = harness.stub.GetMe(spb.GetMeRequest(), metadata=harness.md(s))
        assert me.user == "officers/hebei-accept" and me.province == "130000"

    def test_get_me_without_a_caller_is_unauthenticated(self, harness: Harness) -> None:
        assert refused(lambda: harness.stub.GetMe(spb.GetMeRequest())) == (
            grpc.StatusCode.UNAUTHENTICATED, "NOT_SIGNED_IN")


class TestRefresh:
    def test_refresh_rotates_the_refresh_token_and_issues_a_new_access_token(self, harness: Harness) -> None:
        s = harness.sign_in_person(uid="r")
        harness.clock.advance(minutes=14)
        r = harness.stub.RefreshSession(spb.RefreshSessionRequest(refresh_token=s.refresh_token))
        assert r.refresh_token != s.refresh_token and r.access_token != s.access_token
        assert r.name == s.name and r.me.user == s.me.user
        assert r.expire_time.ToDatetime(dt.UTC) == harness.clock.now + dt.timedelta(minutes=15)

    def test_reusing_a_spent_refresh_token_revokes_the_session(self, harness: Harness) -> None:
        s = harness.sign_in_person(uid="thief")
        r = harness.stub.RefreshSession(spb.RefreshSessionRequest(refresh_token=s.refresh_token))
        assert refused(lambda: harness.stub.RefreshSession(
            spb.RefreshSessionRequest(refresh_token=s.refresh_token))) == (
            grpc.StatusCode.UNAUTHENTICATED, "REFRESH_TOKEN_REUSED")
        # The legitimate holder's newer token died with the session.
        assert refused(lambda: harness.stub.RefreshSession(
            spb.RefreshSessionRequest(refresh_token=r.refresh_token)))[1] == "SESSION_REVOKED"

    def test_refresh_token_expires(self, harness: Harness) -> None:
        s = harness.sign_in_person(uid="old")
        harness.clock.advance(days=7, seconds=1)
        assert refused(lambda: harness.stub.RefreshSession(
            spb.RefreshSessionRequest(refresh_token=s.refresh_token)))[1] == "REFRESH_TOKEN_EXPIRED"

    def test_unknown_refresh_token_is_refused(self, harness: Harness) -> None:
        assert refused(lambda: harness.stub.RefreshSession(
            spb.RefreshSessionRequest(refresh_token="x.y")))[1] == "REFRESH_TOKEN_INVALID"
        assert refused(lambda: harness.stub.RefreshSession(
            spb.RefreshSessionRequest()))[1] == "REFRESH_TOKEN_REQUIRED"

    def test_officer_disabled_cannot_refresh_ID_6(self, harness: Harness) -> None:
        s = harness.sign_in_officer("jiangsu-review")
        admin = harness.sign_in_officer("ministry-admin")
        harness.stub.UpdateOfficer(spb.UpdateOfficerRequest(
            officer=pb.Officer(name="officers/jiangsu-review", active=False),
            update_mask={"paths": ["active"]}), metadata=harness.md(admin))
        assert refused(lambda: harness.stub.RefreshSession(
            spb.RefreshSessionRequest(refresh_token=s.refresh_token)))[0] == grpc.StatusCode.UNAUTHENTICATED


class TestSignOutAndIntrospection:
    def test_access_token_expires_after_fifteen_minutes(self, harness: Harness) -> None:
        s = harness.sign_in_person(uid="exp")
        md = harness.service_md()
        ok = harness.internal.IntrospectToken(spb.IntrospectTokenRequest(access_token=s.access_token), metadata=md)
        assert ok.active and ok.subject == s.me.user and ok.session == s.name
        assert ok.onboarding == pb.ONBOARDING_STATE_LICENCE_REQUIRED
        harness.clock.advance(minutes=15)
        gone = harness.internal.IntrospectToken(spb.IntrospectTokenRequest(access_token=s.access_token), metadata=md)
        assert not gone.active and gone.reason == "TOKEN_EXPIRED"

    def test_sign_out_revokes_the_session_and_its_refresh_token(self, harness: Harness) -> None:
        s = harness.sign_in_person(uid="bye")
        out = harness.stub.SignOut(spb.SignOutRequest(refresh_token=s.refresh_token), metadata=harness.md(s))
        assert out.revoked_count == 1
        assert refused(lambda: harness.stub.RefreshSession(
            spb.RefreshSessionRequest(refresh_token=s.refresh_token)))[1] == "SESSION_REVOKED"
        r = harness.internal.IntrospectToken(spb.IntrospectTokenRequest(access_token=s.access_token),
                                         metadata=harness.service_md())
        assert not r.active and r.reason == "SESSION_REVOKED"

    def test_sign_out_without_a_token_ends_every_session_of_the_caller(self, harness: Harness) -> None:
        a = harness.sign_in_person(uid="multi")
        b = harness.sign_in_person(uid="multi")
        other = harness.sign_in_person(uid="someone-else")
        assert harness.stub.SignOut(spb.SignOutRequest(), metadata=harness.md(a)).revoked_count == 2
        assert refused(lambda: harness.stub.RefreshSession(
            spb.RefreshSessionRequest(refresh_token=b.refresh_token)))[1] == "SESSION_REVOKED"
        harness.stub.RefreshSession(spb.RefreshSessionRequest(refresh_token=other.refresh_token))

    def test_cannot_sign_out_someone_elses_session(self, harness: Harness) -> None:
        a = harness.sign_in_person(uid="a1")
        b = harness.sign_in_person(uid="b1")
        assert refused(lambda: harness.stub.SignOut(spb.SignOutRequest(refresh_token=b.refresh_token),
                                                    metadata=harness.md(a)))[1] == "SESSION_NOT_OWNED"

    def test_introspection_is_for_services_only(self, harness: Harness) -> None:
        s = harness.sign_in_person(uid="nosy")
        assert refused(lambda: harness.internal.IntrospectToken(
            spb.IntrospectTokenRequest(access_token=s.access_token), metadata=harness.md(s)))[1] == "NOT_SERVICE"


class TestKeyRotation:
    def test_rotation_publishes_first_then_signs_and_old_tokens_stay_valid(self, harness: Harness) -> None:
        before = harness.sign_in_person(uid="rot")
        old_kid = jwt.get_unverified_header(before.access_token)["kid"]
        new = harness.internal.RotateSigningKey(
            spb.RotateSigningKeyRequest(activate_after=duration_pb2.Duration(seconds=300)),
            metadata=harness.service_md())
        assert set(harness.public_keys()) == {old_kid, new.key_id}
        # Until activation the old key still signs.
        harness.clock.advance(seconds=299)
        mid = harness.sign_in_person(uid="rot")
        assert jwt.get_unverified_header(mid.access_token)["kid"] == old_kid
        harness.clock.advance(seconds=1)
        after = harness.sign_in_person(uid="rot2")
        assert jwt.get_unverified_header(after.access_token)["kid"] == new.key_id
        # The old key is published until the last token it signed expires ...
        harness.clock.advance(minutes=14, seconds=58)
        keys = harness.public_keys()
        assert old_kid in keys
        tokens.verify_access_token(mid.access_token, keys, now=harness.clock.now)
        # ... and then withdrawn.
        harness.clock.advance(seconds=2)
        assert set(harness.public_keys()) == {new.key_id}

    def test_keys_older_than_the_max_age_rotate_by_themselves(self, make_harness) -> None:  # type: ignore[no-untyped-def]
        h: Harness = make_harness(PERMIT_IDENTITY_KEY_MAX_AGE_DAYS="1")
        first = set(h.public_keys())
        h.clock.advance(days=1)
        h.sign_in_person(uid="k")
        keys = h.stub.ListPublicKeys(spb.ListPublicKeysRequest()).keys
        assert len(keys) == 2 and first < {k.key_id for k in keys}
        nxt = next(k for k in keys if k.key_id not in first)
        assert nxt.activate_time.ToDatetime(dt.UTC) == h.clock.now + dt.timedelta(minutes=10)

    def test_rotation_needs_service_or_admin(self, harness: Harness) -> None:
        s = harness.sign_in_person(uid="x")
        assert refused(lambda: harness.internal.RotateSigningKey(
            spb.RotateSigningKeyRequest(), metadata=harness.md(s)))[1] == "NOT_SERVICE"
        assert refused(lambda: harness.internal.RotateSigningKey(spb.RotateSigningKeyRequest()))[1] == "NOT_SIGNED_IN"

    def test_public_keys_are_eddsa_pem(self, harness: Harness) -> None:
        keys = harness.stub.ListPublicKeys(spb.ListPublicKeysRequest()).keys
        assert keys and all(k.algorithm == "EdDSA" and "BEGIN PUBLIC KEY" in k.public_key_pem for k in keys)
