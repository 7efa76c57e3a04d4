"""IdentityServicer: protobuf <-> use-case arguments only (transport)."""

from __future__ import annotations

import datetime as dt
import json

import grpc

from permit.identity.v1 import identity_internal_pb2 as ipb
from permit.identity.v1 import identity_internal_pb2_grpc as igrpc
from permit.identity.v1 import identity_pb2 as pb
from permit.identity.v1 import identity_service_pb2 as spb
from permit.identity.v1 import identity_service_pb2_grpc as sgrpc
from permit.type.v1 import types_pb2
from permit_identity import convert, enterprise, legacy, oidc_sign_in, services
from permit_identity.bootstrap import App
from permitkit import legacy_sync
from permitkit.context import current_principal
from permitkit.errors import InvalidArgument

SERVICE_NAME = "permit.identity.v1.IdentityService"
INTERNAL_SERVICE_NAME = "permit.identity.v1.IdentityInternalService"


class IdentityServicer(sgrpc.IdentityServiceServicer):
    """The v1 IdentityService on top of the use cases."""

    def __init__(self, app: App) -> None:
        self.app = app

    def _now(self) -> dt.datetime:
        return self.app.clock()

    def SignIn(self, request: spb.SignInRequest, context: grpc.ServicerContext) -> pb.Session:
        portal = ""
        if request.HasField("portal_credential"):
            portal = request.portal_credential.account or "(portal)"
        view = services.sign_in(
            self.app.uow(), providers=self.app.providers, policy=self.app.policy, now=self._now(),
            channel=convert.channel_name(request.channel), ticket=request.ticket,
            portal_account=portal)
        return convert.session_pb(view)

    def StartSignIn(self, request: spb.StartSignInRequest,
                    context: grpc.ServicerContext) -> spb.SignInStart:
        start = oidc_sign_in.start_sign_in(
            self.app.uow(), oidc=self.app.oidc, now=self._now(),
            channel=convert.channel_name(request.channel), redirect_uri=request.redirect_uri)
        return spb.SignInStart(authorization_url=start.authorization_url, state=start.state,
                               expire_time=convert.ts(start.expire_time))

    def CompleteSignIn(self, request: spb.CompleteSignInRequest,
                       context: grpc.ServicerContext) -> pb.Session:
        channel = convert.channel_name(request.channel) if request.channel else ""
        view = oidc_sign_in.complete_sign_in(
            self.app.uow(), oidc=self.app.oidc, policy=self.app.policy, now=self._now(),
            channel=channel, code=request.code, state=request.state, nonce=request.nonce,
            redirect_uri=request.redirect_uri)
        return convert.session_pb(view)

    def RefreshSession(self, request: spb.RefreshSessionRequest,
                       context: grpc.ServicerContext) -> pb.Session:
        view = services.refresh_session(self.app.uow(), policy=self.app.policy, now=self._now(),
                                        refresh_token=request.refresh_token)
        return convert.session_pb(view)

    def SignOut(self, request: spb.SignOutRequest,
                context: grpc.ServicerContext) -> spb.SignOutResponse:
        count = services.sign_out(self.app.uow(), principal=current_principal(), now=self._now(),
                                  refresh_token=request.refresh_token)
        return spb.SignOutResponse(revoked_count=count)

    def GetMe(self, request: spb.GetMeRequest, context: grpc.ServicerContext) -> pb.Me:
        return convert.me_pb(services.get_me(self.app.uow(), principal=current_principal()))

    def LinkLegacyAccount(self, request: spb.LinkLegacyAccountRequest,
                          context: grpc.ServicerContext) -> pb.Me:
        return convert.me_pb(services.link_legacy_account(
            self.app.uow(), principal=current_principal(), now=self._now()))

    def SubmitLicence(self, request: spb.SubmitLicenceRequest,
                      context: grpc.ServicerContext) -> pb.Licence:
        licence = services.submit_licence(
            self.app.uow(), principal=current_principal(), now=self._now(),
            licence_number=request.licence_number, issuing_authority=request.issuing_authority,
            valid_from=convert.from_date(request.valid_from, request.HasField("valid_from")),
            valid_until=convert.from_date(request.valid_until, request.HasField("valid_until")),
            document=request.document, province=request.province,
            documents=self.app.document_check, calendar=self.app.calendar)
        self.app.relay.after_commit()
        return convert.licence_pb(licence)

    def GetLicence(self, request: spb.GetLicenceRequest,
                   context: grpc.ServicerContext) -> pb.Licence:
        return convert.licence_pb(services.get_licence(
            self.app.uow(), principal=current_principal(), name=request.name))

    def ListLicenceReviews(self, request: spb.ListLicenceReviewsRequest,
                           context: grpc.ServicerContext) -> spb.ListLicenceReviewsResponse:
        rows, token = services.list_licence_reviews(
            self.app.uow(), principal=current_principal(),
            state=convert.licence_state_name(request.state), province=request.province,
            page_size=request.page_size, page_token=request.page_token)
        return spb.ListLicenceReviewsResponse(licences=[convert.licence_pb(r) for r in rows],
                                              next_page_token=token)

    def ReviewLicence(self, request: spb.ReviewLicenceRequest,
                      context: grpc.ServicerContext) -> pb.Licence:
        decision = {spb.ReviewLicenceRequest.DECISION_APPROVE: True,
                    spb.ReviewLicenceRequest.DECISION_REJECT: False}.get(request.decision)
        return convert.licence_pb(services.review_licence(
            self.app.uow(), principal=current_principal(), now=self._now(), name=request.name,
            approve=decision, reason=request.reason, etag=request.etag))

    def ListPublicKeys(self, request: spb.ListPublicKeysRequest,
                       context: grpc.ServicerContext) -> spb.ListPublicKeysResponse:
        keys, token = services.list_public_keys(self.app.uow(), now=self._now(), policy=self.app.policy,
                                                page_size=request.page_size, page_token=request.page_token)
        return spb.ListPublicKeysResponse(keys=[
            pb.PublicKey(key_id=k.key_id, algorithm=k.algorithm, public_key_pem=k.public_key_pem,
                         expire_time=convert.ts(k.expire_time),
                         activate_time=convert.ts(k.activate_time))
            for k in keys], next_page_token=token)

    def CreateOfficer(self, request: spb.CreateOfficerRequest,
                      context: grpc.ServicerContext) -> pb.Officer:
        o = request.officer
        return convert.officer_pb(services.create_officer(
            self.app.uow(), principal=current_principal(), login=o.login,
            display_name=o.display_name, province=o.province, roles=list(o.roles)))

    def ListOfficers(self, request: spb.ListOfficersRequest,
                     context: grpc.ServicerContext) -> spb.ListOfficersResponse:
        rows, token = services.list_officers(
            self.app.uow(), principal=current_principal(), province=request.province,
            page_size=request.page_size, page_token=request.page_token)
        return spb.ListOfficersResponse(officers=[convert.officer_pb(r) for r in rows],
                                        next_page_token=token)

    def UpdateOfficer(self, request: spb.UpdateOfficerRequest,
                      context: grpc.ServicerContext) -> pb.Officer:
        o = request.officer
        return convert.officer_pb(services.update_officer(
            self.app.uow(), principal=current_principal(), name=o.name,
            paths=list(request.update_mask.paths), now=self._now(), display_name=o.display_name,
            province=o.province, roles=list(o.roles), active=o.active))

    # ---- enterprise information (PC-2) -------------------------------------------------

    def GetEnterprise(self, request: spb.GetEnterpriseRequest, context: grpc.ServicerContext) -> pb.Enterprise:
        party, profile = enterprise.get_enterprise(self.app.uow(), principal=current_principal(),
                                                   party=request.party, cases=self.app.cases)
        return convert.enterprise_pb(party, profile)

    def UpdateEnterprise(self, request: spb.UpdateEnterpriseRequest, context: grpc.ServicerContext) -> pb.Enterprise:
        party, profile = enterprise.update_enterprise(
            self.app.uow(), principal=current_principal(), paths=list(request.update_mask.paths),
            values=convert.enterprise_values(request.enterprise), etag=request.enterprise.etag, now=self._now())
        return convert.enterprise_pb(party, profile)

    def ListEnterpriseChanges(self, request: spb.ListEnterpriseChangesRequest,
                              context: grpc.ServicerContext) -> spb.ListEnterpriseChangesResponse:
        page = enterprise.list_enterprise_changes(self.app.uow(), principal=current_principal(),
                                                  page_size=request.page_size, page_token=request.page_token)
        return spb.ListEnterpriseChangesResponse(changes=[convert.enterprise_change_pb(c) for c in page.items],
                                                 next_page_token=page.next_page_token)


class IdentityInternalServicer(igrpc.IdentityInternalServiceServicer):
    """IdentityInternalService: parties, legacy imports, token introspection and signing keys
    for peer services and operators (no HTTP route)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def _now(self) -> dt.datetime:
        return self.app.clock()

    def GetParty(self, request: spb.GetPartyRequest, context: grpc.ServicerContext) -> pb.Party:
        return convert.party_pb(services.get_party(
            self.app.uow(), principal=current_principal(), name=request.name))

    def ImportLegacyAccounts(self, request: spb.ImportLegacyAccountsRequest,
                             context: grpc.ServicerContext) -> spb.ImportLegacyAccountsResponse:
        accounts = [
            services.LegacyAccountInput(
                legacy_id=a.legacy_id, kind=convert.party_kind_name(a.kind), name=a.name,
                uscc=a.uscc, id_number=a.id_number, province=a.province,
                associated_id_numbers=[(n, "associated") for n in a.associated_id_numbers])
            for a in request.accounts]
        result = services.import_legacy_accounts(
            self.app.uow(), principal=current_principal(), now=self._now(), accounts=accounts)
        return spb.ImportLegacyAccountsResponse(created_count=result.created,
                                                updated_count=result.updated,
                                                parties=result.parties)

    def SyncLegacyAccounts(self, request: ipb.SyncLegacyAccountsRequest,
                           context: grpc.ServicerContext) -> ipb.SyncLegacyAccountsResponse:
        principal = current_principal()
        services.require_service_or_admin(principal)
        try:
            export = json.loads(request.export_json.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InvalidArgument("导入文件不是有效的 JSON。", reason="EXPORT_FORMAT_INVALID",
                                  field="export_json") from None
        outcomes = services.sync_legacy_accounts(self.app.uow(), principal=principal, now=self._now(),
                                                 records=legacy.parse_sync_records(export),
                                                 scope=legacy_sync.partial_scope(export))
        return ipb.SyncLegacyAccountsResponse(outcomes=[
            legacy_sync.outcome_pb(o, types_pb2.LegacySyncOutcome, types_pb2.LegacySyncResult)
            for o in outcomes])

    def IntrospectToken(self, request: spb.IntrospectTokenRequest,
                        context: grpc.ServicerContext) -> spb.IntrospectTokenResponse:
        r = services.introspect_token(self.app.uow(), principal=current_principal(),
                                      now=self._now(), access_token=request.access_token)
        c = r.claims
        out = spb.IntrospectTokenResponse(
            active=r.active, reason=r.reason, subject=str(c.get("sub", "")),
            party=str(c.get("party", "")), roles=[str(x) for x in c.get("roles", [])],
            province=str(c.get("prov", "")), session=f"sessions/{c['sid']}" if c.get("sid") else "")
        if c.get("onb"):
            out.onboarding = convert.onboarding_value(str(c["onb"]))
        if c.get("exp"):
            out.expire_time.FromSeconds(int(c["exp"]))
        return out

    def RotateSigningKey(self, request: spb.RotateSigningKeyRequest,
                         context: grpc.ServicerContext) -> pb.PublicKey:
        after = request.activate_after.ToTimedelta() if request.HasField("activate_after") else None
        k = services.rotate_signing_key(self.app.uow(), principal=current_principal(), now=self._now(),
                                        policy=self.app.policy, activate_after=after)
        return pb.PublicKey(key_id=k.key_id, algorithm=k.algorithm, public_key_pem=k.public_key_pem,
                            expire_time=convert.ts(k.expire_time),
                            activate_time=convert.ts(k.activate_time))
