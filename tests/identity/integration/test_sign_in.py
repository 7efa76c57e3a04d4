"""Sign-in through each channel, refused combinations, replay, expiry and legacy
linking, over gRPC on PostgreSQL and on the embedded SQLite (ID-1 .. ID-4, ID-6)."""

from __future__ import annotations

import grpc
import pytest

from permit.identity.v1 import identity_pb2 as pb
from permit.identity.v1 import identity_service_pb2 as spb
from tests.identity.conftest import (
    ENTERPRISE_AGENT_IDN,
    ENTERPRISE_USCC,
    LEGACY_PERSON_IDN,
    NEW_PERSON_IDN,
    NEW_USCC,
    Harness,
    error_of,
)

pytestmark = pytest.mark.integration


def refused(call) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as e:
        call()
    return error_of(e.value)


class TestChannels:
    def test_legal_person_signs_in_on_app_and_is_linked_by_uscc_ID_1_ID_3(self, harness: Harness) -> None:
        s = harness.sign_in_legal()
        assert s.me.party == "parties/L1001"
        assert s.me.party_kind == pb.PARTY_KIND_ENTERPRISE
        assert s.me.onboarding == pb.ONBOARDING_STATE_ACTIVE
        assert s.me.legacy_linked and s.me.legacy_account == "L1001"
        assert s.me.channel == pb.CHANNEL_APP and list(s.me.roles) == ["applicant"]
        c = harness.claims(s)
        assert c["sub"] == s.me.user and c["party"] == "parties/L1001" and c["onb"] == "ACTIVE"
        assert c["roles"] == ["applicant"] and "prov" not in c

    @pytest.mark.parametrize("channel", ["APP", "ALIPAY", "WECHAT"])
    def test_individual_signs_in_on_every_channel_ID_1(self, harness: Harness, channel: str) -> None:
        s = harness.sign_in_person(channel, uid=f"{channel}-p1")
        assert s.me.party_kind == pb.PARTY_KIND_PERSON
        assert s.me.channel == pb.Channel.Value(f"CHANNEL_{channel}")
        assert s.me.masked_identifier == "3701**********302X"

    @pytest.mark.parametrize("channel", ["ALIPAY", "WECHAT"])
    def test_legal_person_on_a_mini_program_is_refused_ID_1(self, harness: Harness, channel: str) -> None:
        code, reason = refused(lambda: harness.sign_in(channel, user_type="LEGAL", uid="l1",
                                                       uscc=ENTERPRISE_USCC, name="某公司"))
        assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CHANNEL_PERSON_ONLY")

    def test_replayed_ticket_is_refused_ID_1(self, harness: Harness) -> None:
        ticket = harness.ticket("APP", user_type="PERSON", uid="r1", id_number=NEW_PERSON_IDN)
        req = spb.SignInRequest(channel=pb.CHANNEL_APP, ticket=ticket)
        harness.stub.SignIn(req)
        assert refused(lambda: harness.stub.SignIn(req)) == (grpc.StatusCode.UNAUTHENTICATED,
                                                            "TICKET_REPLAYED")

    def test_expired_ticket_is_refused_ID_1(self, harness: Harness) -> None:
        ticket = harness.ticket("APP", user_type="PERSON", uid="e1", id_number=NEW_PERSON_IDN)
        harness.clock.advance(minutes=11)
        code, reason = refused(lambda: harness.stub.SignIn(
            spb.SignInRequest(channel=pb.CHANNEL_APP, ticket=ticket)))
        assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "TICKET_EXPIRED")

    def test_ticket_for_another_channel_is_refused_ID_1(self, harness: Harness) -> None:
        ticket = harness.ticket("WECHAT", user_type="PERSON", uid="c1", id_number=NEW_PERSON_IDN)
        code, reason = refused(lambda: harness.stub.SignIn(
            spb.SignInRequest(channel=pb.CHANNEL_ALIPAY, ticket=ticket)))
        assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "TICKET_CHANNEL_MISMATCH")

    def test_forged_ticket_and_missing_fields_are_refused_ID_1(self, harness: Harness) -> None:
        assert refused(lambda: harness.stub.SignIn(spb.SignInRequest(
            channel=pb.CHANNEL_APP, ticket="not.a.ticket"))) == (grpc.StatusCode.UNAUTHENTICATED,
                                                                  "TICKET_INVALID")
        assert refused(lambda: harness.stub.SignIn(spb.SignInRequest(ticket="x")))[1] == "CHANNEL_REQUIRED"
        assert refused(lambda: harness.stub.SignIn(spb.SignInRequest(
            channel=pb.CHANNEL_APP)))[1] == "TICKET_REQUIRED"

    def test_identifier_with_a_bad_check_digit_is_refused_ID_3(self, harness: Harness) -> None:
        code, reason = refused(lambda: harness.sign_in_person(idn=NEW_PERSON_IDN[:-1] + "1"))
        assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ID_NUMBER")
        code, reason = refused(lambda: harness.sign_in_legal(uid="bad", uscc=ENTERPRISE_USCC[:-1] + "B"))
        assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_USCC")


class TestMinistryPortal:
    def test_old_portal_credentials_are_refused_with_registration_advice_ID_2(self, harness: Harness) -> None:
        with pytest.raises(grpc.RpcError) as e:
            harness.stub.SignIn(spb.SignInRequest(
                channel=pb.CHANNEL_APP,
                portal_credential=spb.PortalCredential(account="jtb-user", password="pw")))
        assert error_of(e.value) == (grpc.StatusCode.FAILED_PRECONDITION, "MINISTRY_PORTAL_ACCOUNT")
        assert "国家政务服务平台重新注册" in e.value.details()

    def test_ticket_of_a_portal_account_is_refused_ID_2(self, harness: Harness) -> None:
        code, reason = refused(lambda: harness.sign_in(
            "APP", user_type="LEGAL", uid="portal", uscc=ENTERPRISE_USCC, source="MOT_PORTAL"))
        assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "MINISTRY_PORTAL_ACCOUNT")


class TestLegacyLinking:
    def test_individual_is_linked_by_id_number_ID_3(self, harness: Harness) -> None:
        s = harness.sign_in_person("WECHAT", uid="w-2001", idn=LEGACY_PERSON_IDN, name="王五")
        assert s.me.party == "parties/L2001" and s.me.legacy_linked
        assert s.me.onboarding == pb.ONBOARDING_STATE_ACTIVE
        assert s.me.masked_identifier == "1301**********5218"

    def test_personal_sign_in_never_links_the_enterprise_and_says_so_ID_4(self, harness: Harness) -> None:
        # The enterprise's agent signs in with a personal account.
        s = harness.sign_in_person("APP", uid="agent", idn=ENTERPRISE_AGENT_IDN, name="李四")
        assert s.me.party != "parties/L1001" and not s.me.legacy_linked
        assert s.me.link_hint == pb.LINK_HINT_SIGN_IN_AS_LEGAL_PERSON
        assert "法人账号" in s.me.link_hint_message
        assert s.me.onboarding == pb.ONBOARDING_STATE_LICENCE_REQUIRED

    def test_personal_ticket_carrying_the_enterprise_code_does_not_link_ID_4(self, harness: Harness) -> None:
        s = harness.sign_in_person("APP", uid="p-uscc", idn=NEW_PERSON_IDN, uscc=ENTERPRISE_USCC)
        assert s.me.party_kind == pb.PARTY_KIND_PERSON and not s.me.legacy_linked
        assert s.me.link_hint == pb.LINK_HINT_SIGN_IN_AS_LEGAL_PERSON

    def test_linking_is_idempotent_across_sign_ins_and_channels_ID_3(self, harness: Harness) -> None:
        first = harness.sign_in_legal(uid="L-a")
        again = harness.sign_in_legal(uid="L-a")
        other_user = harness.sign_in_legal(uid="L-b")
        assert first.me.user == again.me.user != other_user.me.user
        assert {first.me.party, again.me.party, other_user.me.party} == {"parties/L1001"}
        with harness.app.uow() as uow:
            acc = uow.legacy.get("L1001")
            assert acc is not None and acc.linked_user_id == first.me.user.removeprefix("users/")

    def test_new_user_gets_a_fresh_party_needing_a_licence_ID_5(self, harness: Harness) -> None:
        s = harness.sign_in_legal(uid="new-co", uscc=NEW_USCC, name="山东新运输有限公司")
        assert s.me.party.startswith("parties/") and s.me.party != "parties/L1001"
        assert len(s.me.party.removeprefix("parties/")) == 32
        assert s.me.onboarding == pb.ONBOARDING_STATE_LICENCE_REQUIRED
        assert s.me.province == "370000" and not s.me.legacy_linked
        assert harness.claims(s)["onb"] == "LICENCE_REQUIRED"
        # The same identifier on another channel reaches the same party.
        again = harness.sign_in_legal(uid="new-co-2", uscc=NEW_USCC)
        assert again.me.party == s.me.party

    def test_late_import_links_on_the_next_sign_in_ID_3(self, harness: Harness) -> None:
        from permit_identity import services

        s = harness.sign_in_legal(uid="late", uscc=NEW_USCC)
        assert not s.me.legacy_linked
        services.import_legacy_accounts(harness.app.uow(), principal=services.OPERATOR,
                                        now=harness.clock(), accounts=[services.LegacyAccountInput(
                                            legacy_id="L3001", kind="ENTERPRISE", name="山东老用户",
                                            uscc=NEW_USCC)])
        me = harness.stub.LinkLegacyAccount(spb.LinkLegacyAccountRequest(), metadata=harness.md(s))
        assert me.party == "parties/L3001" and me.legacy_linked
        assert me.onboarding == pb.ONBOARDING_STATE_ACTIVE
        assert harness.sign_in_legal(uid="late", uscc=NEW_USCC).me.party == "parties/L3001"


class TestOfficers:
    def test_officer_token_carries_province_scope_and_roles_ID_6(self, harness: Harness) -> None:
        s = harness.sign_in_officer("hebei-accept")
        assert s.me.user == "officers/hebei-accept" and s.me.party == ""
        assert s.me.province == "130000" and s.me.channel == pb.CHANNEL_STAFF
        c = harness.claims(s)
        assert c["prov"] == "130000" and c["onb"] == "ACTIVE"
        assert c["roles"] == ["officer.accept", "officer.licence", "officer.review"]
        assert "party" not in c

    def test_unknown_officer_is_refused_ID_6(self, harness: Harness) -> None:
        assert refused(lambda: harness.sign_in_officer("nobody")) == (
            grpc.StatusCode.UNAUTHENTICATED, "OFFICER_UNKNOWN")

    def test_disabled_officer_is_refused_ID_6(self, harness: Harness) -> None:
        admin = harness.sign_in_officer("ministry-admin")
        harness.stub.UpdateOfficer(spb.UpdateOfficerRequest(
            officer=pb.Officer(name="officers/jiangsu-review", active=False),
            update_mask={"paths": ["active"]}), metadata=harness.md(admin))
        assert refused(lambda: harness.sign_in_officer("jiangsu-review")) == (
            grpc.StatusCode.PERMISSION_DENIED, "OFFICER_DISABLED")


class TestRateLimit:
    def test_sign_in_attempts_are_limited_per_subject(self, make_harness, make_database) -> None:  # type: ignore[no-untyped-def]
        h: Harness = make_harness(make_database("identity"), PERMIT_IDENTITY_SIGN_IN_LIMIT="3")
        for _ in range(3):
            h.sign_in_person(uid="busy")
        with pytest.raises(grpc.RpcError) as e:
            h.sign_in_person(uid="busy")
        assert error_of(e.value) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "RATE_LIMITED")
        # Another subject is not affected; the window passes.
        h.sign_in_person(uid="calm")
        h.clock.advance(seconds=61)
        h.sign_in_person(uid="busy")

    def test_refused_attempts_count_too(self, make_harness) -> None:  # type: ignore[no-untyped-def]
        h: Harness = make_harness(PERMIT_IDENTITY_SIGN_IN_LIMIT="2")
        for _ in range(2):
            with pytest.raises(grpc.RpcError):
                h.sign_in_person(uid="bad", idn=NEW_PERSON_IDN[:-1] + "1")
        with pytest.raises(grpc.RpcError) as e:
            h.sign_in_person(uid="bad")
        assert error_of(e.value)[1] == "RATE_LIMITED"
