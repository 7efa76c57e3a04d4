"""Enterprise information (ID-3, PC-2): the PC system's data is shown to the
carrier's users and to officers reviewing its cases; changes are audited."""

from __future__ import annotations

import grpc
import pytest

from permit.identity.v1 import identity_pb2 as pb
from permit.identity.v1 import identity_service_pb2 as spb
from tests.identity.conftest import Harness, error_of

pytestmark = pytest.mark.integration


class FakeCases:
    """Approval's answer: which (applicant, province) pairs have a case."""

    def __init__(self, pairs: set[tuple[str, str]]) -> None:
        self.pairs = pairs
        self.asked: list[tuple[str, str]] = []

    def applicant_in_province(self, applicant: str, province: str) -> bool:
        self.asked.append((applicant, province))
        return (applicant, province) in self.pairs


def refused(call) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as e:
        call()
    return error_of(e.value)


def test_the_imported_enterprise_information_is_shown_to_its_users_ID_3(sqlite_harness: Harness) -> None:
    h = sqlite_harness
    me = h.md(h.sign_in_legal())
    e = h.stub.GetEnterprise(spb.GetEnterpriseRequest(), metadata=me)
    assert (e.party, e.display_name, e.credit_code) == ("parties/L1001", "河北冀运大件物流有限公司", "91130100MA0DPQ7R8A")
    assert e.address == "河北省石家庄市长安区中山东路100号"
    assert [(c.name, c.phone) for c in e.contacts] == [("赵建国", "0311-86001234")]
    # Another party's user sees its own, never L1001's.
    other = h.md(h.sign_in_person(channel="APP", uid="p-9"))
    assert h.stub.GetEnterprise(spb.GetEnterpriseRequest(party="parties/L1001"), metadata=other).party != "parties/L1001"


def test_changes_are_audited_and_guarded_by_the_etag_ID_3(sqlite_harness: Harness) -> None:
    h = sqlite_harness
    me = h.md(h.sign_in_legal())
    e = h.stub.GetEnterprise(spb.GetEnterpriseRequest(), metadata=me)
    changed = h.stub.UpdateEnterprise(spb.UpdateEnterpriseRequest(
        enterprise=pb.Enterprise(address="河北省石家庄市桥西区自强路8号", business_scope="道路货物运输（含大型物件运输）",
                                 licence_valid_from={"year": 2020, "month": 1, "day": 1}, etag=e.etag),
        update_mask={"paths": ["address", "business_scope", "licence_valid_from"]}), metadata=me)
    assert changed.address == "河北省石家庄市桥西区自强路8号" and changed.etag != e.etag
    assert changed.updated_by.startswith("users/") and changed.licence_valid_from.year == 2020
    (c,) = h.stub.ListEnterpriseChanges(spb.ListEnterpriseChangesRequest(), metadata=me).changes
    assert c.actor == changed.updated_by
    assert [(f.field, f.before, f.after) for f in c.fields] == [
        ("address", "河北省石家庄市长安区中山东路100号", "河北省石家庄市桥西区自强路8号"),
        ("business_scope", "", "道路货物运输（含大型物件运输）"),
        ("licence_valid_from", "", "2020-01-01")]
    # A stale etag is refused; the same values again change nothing and leave no record.
    assert refused(lambda: h.stub.UpdateEnterprise(spb.UpdateEnterpriseRequest(
        enterprise=pb.Enterprise(address="x", etag=e.etag), update_mask={"paths": ["address"]}), metadata=me)) == (
        grpc.StatusCode.ABORTED, "ETAG_MISMATCH")
    h.stub.UpdateEnterprise(spb.UpdateEnterpriseRequest(
        enterprise=pb.Enterprise(address="河北省石家庄市桥西区自强路8号"), update_mask={"paths": ["address"]}), metadata=me)
    assert len(h.stub.ListEnterpriseChanges(spb.ListEnterpriseChangesRequest(), metadata=me).changes) == 1
    # The credit code is not the carrier's to change; inverted validity is refused with its field.
    assert refused(lambda: h.stub.UpdateEnterprise(spb.UpdateEnterpriseRequest(
        enterprise=pb.Enterprise(credit_code="x"), update_mask={"paths": ["credit_code"]}), metadata=me))[1] == (
        "UPDATE_MASK_INVALID")
    with pytest.raises(grpc.RpcError) as err:
        h.stub.UpdateEnterprise(spb.UpdateEnterpriseRequest(
            enterprise=pb.Enterprise(licence_valid_to={"year": 2019, "month": 1, "day": 1}),
            update_mask={"paths": ["licence_valid_to"]}), metadata=me)
    assert error_of(err.value)[1] == "INVALID_FIELD"


def test_officers_see_it_only_for_a_case_in_their_province_ID_3(sqlite_harness: Harness) -> None:
    h = sqlite_harness
    cases = FakeCases({("parties/L1001", "130000")})
    object.__setattr__(h.app, "cases", cases)
    hebei = h.md(h.sign_in_officer("hebei-accept"))
    jiangsu = h.md(h.sign_in_officer("jiangsu-review"))
    e = h.stub.GetEnterprise(spb.GetEnterpriseRequest(party="parties/L1001"), metadata=hebei)
    assert e.display_name == "河北冀运大件物流有限公司"
    assert refused(lambda: h.stub.GetEnterprise(spb.GetEnterpriseRequest(party="parties/L1001"),
                                                metadata=jiangsu)) == (grpc.StatusCode.PERMISSION_DENIED,
                                                                       "OTHER_PROVINCE")
    assert cases.asked == [("parties/L1001", "130000"), ("parties/L1001", "320000")]
    assert refused(lambda: h.stub.GetEnterprise(spb.GetEnterpriseRequest(), metadata=hebei))[1] == (
        "ENTERPRISE_PARTY_REQUIRED")
    assert refused(lambda: h.stub.UpdateEnterprise(spb.UpdateEnterpriseRequest(
        enterprise=pb.Enterprise(address="x"), update_mask={"paths": ["address"]}), metadata=hebei))[1] == (
        "NOT_APPLICANT")
