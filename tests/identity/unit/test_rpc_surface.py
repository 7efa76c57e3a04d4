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
            "ListLicenceReviews", "ReviewLicence", "ListPublicKeys", "ImportLegacyAccounts",
            "CreateOfficer"} <= rpcs
    fields = {f.name: f.number for f in spb.SignInRequest.DESCRIPTOR.fields}
    assert fields["channel"] == 1 and fields["ticket"] == 2
