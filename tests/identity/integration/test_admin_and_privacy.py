"""Admin and internal RPCs (officers ID-6, legacy import ID-3, parties) and
privacy: ID numbers and tokens never reach logs, responses mask ID numbers."""

from __future__ import annotations

import grpc
import pytest
import structlog

from permit.identity.v1 import identity_pb2 as pb
from permit.identity.v1 import identity_service_pb2 as spb
from tests.identity.conftest import LEGACY_PERSON_IDN, NEW_PERSON_IDN, Harness, error_of

pytestmark = pytest.mark.integration


def refused(call) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as e:
        call()
    return error_of(e.value)


class TestOfficerAdministration:
    def test_admin_creates_lists_and_updates_officers_ID_6(self, harness: Harness) -> None:
        admin = harness.md(harness.sign_in_officer("ministry-admin"))
        made = harness.stub.CreateOfficer(spb.CreateOfficerRequest(officer=pb.Officer(
            login="henan-review", display_name="豫审核", province="410000", roles=["officer.review"])),
            metadata=admin)
        assert made.name == "officers/henan-review" and made.active
        listed = harness.stub.ListOfficers(spb.ListOfficersRequest(province="410000"), metadata=admin)
        assert [o.name for o in listed.officers] == ["officers/henan-review"]
        changed = harness.stub.UpdateOfficer(spb.UpdateOfficerRequest(
            officer=pb.Officer(name="officers/henan-review", roles=["officer.review", "officer.licence"]),
            update_mask={"paths": ["roles"]}), metadata=admin)
        assert list(changed.roles) == ["officer.licence", "officer.review"]
        assert harness.claims(harness.sign_in_officer("henan-review"))["prov"] == "410000"

    def test_changing_an_officers_scope_ends_their_sessions_ID_6(self, harness: Harness) -> None:
        s = harness.sign_in_officer("jiangsu-review")
        admin = harness.md(harness.sign_in_officer("ministry-admin"))
        harness.stub.UpdateOfficer(spb.UpdateOfficerRequest(
            officer=pb.Officer(name="officers/jiangsu-review", province="340000"),
            update_mask={"paths": ["province"]}), metadata=admin)
        assert refused(lambda: harness.stub.RefreshSession(
            spb.RefreshSessionRequest(refresh_token=s.refresh_token)))[1] == "SESSION_REVOKED"

    def test_only_admins_provision_officers_ID_6(self, harness: Harness) -> None:
        hebei = harness.md(harness.sign_in_officer("hebei-accept"))
        req = spb.CreateOfficerRequest(officer=pb.Officer(login="rogue", display_name="x",
                                                          province="130000", roles=["admin"]))
        assert refused(lambda: harness.stub.CreateOfficer(req, metadata=hebei)) == (
            grpc.StatusCode.PERMISSION_DENIED, "NOT_ADMIN")
        assert refused(lambda: harness.stub.ListOfficers(spb.ListOfficersRequest(), metadata=hebei))[1] == "NOT_ADMIN"

    @pytest.mark.parametrize("officer,reason", [
        (pb.Officer(login="A", display_name="x", province="130000", roles=["officer.review"]), "LOGIN_INVALID"),
        (pb.Officer(login="abc", display_name="x", province="130100", roles=["officer.review"]), "PROVINCE_INVALID"),
        (pb.Officer(login="abc", display_name="x", province="130000", roles=["applicant"]), "ROLE_INVALID"),
        (pb.Officer(login="abc", display_name="x", province="130000"), "ROLES_REQUIRED"),
        (pb.Officer(login="hebei-accept", display_name="x", province="130000", roles=["admin"]), "OFFICER_EXISTS"),
    ])
    def test_bad_officer_is_refused_ID_6(self, harness: Harness, officer: pb.Officer, reason: str) -> None:
        admin = harness.md(harness.sign_in_officer("ministry-admin"))
        assert refused(lambda: harness.stub.CreateOfficer(spb.CreateOfficerRequest(officer=officer),
                                                          metadata=admin))[1] == reason


class TestInternal:
    def test_import_over_rpc_is_idempotent_and_names_parties_ID_3(self, harness: Harness) -> None:
        req = spb.ImportLegacyAccountsRequest(accounts=[pb.LegacyAccount(
            legacy_id="L5001", kind=pb.PARTY_KIND_PERSON, name="孙七", id_number="11010519491231002X")])
        first = harness.internal.ImportLegacyAccounts(req, metadata=harness.service_md())
        again = harness.internal.ImportLegacyAccounts(req, metadata=harness.service_md())
        assert (first.created_count, first.updated_count, list(first.parties)) == (1, 0, ["parties/L5001"])
        assert (again.created_count, again.updated_count) == (0, 1)
        s = harness.sign_in_person("ALIPAY", uid="sun", idn="11010519491231002X")
        assert s.me.party == "parties/L5001" and s.me.province == "110000"

    def test_import_refuses_a_bad_uscc_with_its_path_ID_3(self, harness: Harness) -> None:
        req = spb.ImportLegacyAccountsRequest(accounts=[pb.LegacyAccount(
            legacy_id="L6", kind=pb.PARTY_KIND_ENTERPRISE, name="x", uscc="91130100MA0DPQ7R8B")])
        with pytest.raises(grpc.RpcError) as e:
            harness.internal.ImportLegacyAccounts(req, metadata=harness.service_md())
        from permitkit.errors import ErrorDetails

        d = ErrorDetails.from_rpc_error(e.value)
        assert d.reason == "INVALID_USCC" and d.violations[0].field == "accounts[0].uscc"

    def test_internal_rpcs_need_the_service_role(self, harness: Harness) -> None:
        user = harness.md(harness.sign_in_person(uid="u"))
        assert refused(lambda: harness.internal.ImportLegacyAccounts(spb.ImportLegacyAccountsRequest(),
                                                                 metadata=user))[1] == "NOT_SERVICE"
        assert refused(lambda: harness.internal.GetParty(spb.GetPartyRequest(name="parties/L1001"),
                                                     metadata=user))[1] == "NOT_SERVICE"

    def test_get_party_for_peers_masks_the_id_number(self, harness: Harness) -> None:
        p = harness.internal.GetParty(spb.GetPartyRequest(name="parties/L2001"), metadata=harness.service_md())
        assert p.kind == pb.PARTY_KIND_PERSON and p.legacy_account == "L2001"
        assert p.masked_identifier == "1301**********5218" and LEGACY_PERSON_IDN not in str(p)
        assert refused(lambda: harness.internal.GetParty(spb.GetPartyRequest(name="parties/none"),
                                                     metadata=harness.service_md()))[1] == "PARTY_NOT_FOUND"


def test_id_numbers_and_tokens_never_reach_the_logs(harness: Harness) -> None:
    with structlog.testing.capture_logs() as logs:
        ticket = harness.ticket("WECHAT", user_type="PERSON", uid="quiet", id_number=NEW_PERSON_IDN)
        s = harness.stub.SignIn(spb.SignInRequest(channel=pb.CHANNEL_WECHAT, ticket=ticket))
        r = harness.stub.RefreshSession(spb.RefreshSessionRequest(refresh_token=s.refresh_token))
        harness.stub.GetMe(spb.GetMeRequest(), metadata=harness.md(r))
        with pytest.raises(grpc.RpcError):
            harness.stub.SignIn(spb.SignInRequest(channel=pb.CHANNEL_WECHAT, ticket=ticket))
    text = repr(logs)
    assert logs, "the service logged nothing at all"
    for secret in (NEW_PERSON_IDN, ticket, s.access_token, s.refresh_token, r.refresh_token, r.access_token):
        assert secret not in text
    assert NEW_PERSON_IDN not in str(s.me) and NEW_PERSON_IDN not in str(r.me)
