"""Which IdentityService RPCs are implemented (progress is visible here)."""

from __future__ import annotations

from permit.identity.v1 import identity_service_pb2 as spb
from permit.identity.v1 import identity_service_pb2_grpc as sgrpc
from permit_identity.grpc_api import IdentityServicer

# RPCs that still answer UNIMPLEMENTED (from the generated base class).
STILL_UNIMPLEMENTED: set[str] = set()


def test_every_rpc_but_the_listed_ones_is_implemented() -> None:
    rpcs = {m.name for m in spb.DESCRIPTOR.services_by_name["IdentityService"].methods}
    base = sgrpc.IdentityServiceServicer
    implemented = {r for r in rpcs if getattr(IdentityServicer, r) is not getattr(base, r)}
    assert rpcs - implemented == STILL_UNIMPLEMENTED


def test_the_pinned_contract_is_present() -> None:
    rpcs = {m.name for m in spb.DESCRIPTOR.services_by_name["IdentityService"].methods}
    assert {"SignIn", "RefreshSession", "SignOut", "GetMe", "SubmitLicence", "GetLicence",
            "ListLicenceReviews", "ReviewLicence", "ListPublicKeys", "CreateOfficer"} <= rpcs
    fields = {f.name: f.number for f in spb.SignInRequest.DESCRIPTOR.fields}
    assert fields["channel"] == 1 and fields["ticket"] == 2


def test_the_internal_rpcs_live_on_the_internal_service_without_http_rules() -> None:
    from google.api import annotations_pb2

    from permit.identity.v1 import identity_internal_pb2 as ipb
    from permit.identity.v1 import identity_internal_pb2_grpc as igrpc
    from permit_identity.grpc_api import IdentityInternalServicer

    internal = ipb.DESCRIPTOR.services_by_name["IdentityInternalService"]
    names = {m.name for m in internal.methods}
    assert names == {"GetParty", "ImportLegacyAccounts", "IntrospectToken", "RotateSigningKey", "SyncLegacyAccounts"}
    assert not names & {m.name for m in spb.DESCRIPTOR.services_by_name["IdentityService"].methods}
    assert not any(m.GetOptions().HasExtension(annotations_pb2.http) for m in internal.methods)
    base = igrpc.IdentityInternalServiceServicer
    assert all(getattr(IdentityInternalServicer, n) is not getattr(base, n) for n in names)
