"""Rules on identity entities, without a database (ID-3, ID-5, ID-6)."""

from __future__ import annotations

import datetime as dt

import pytest

from permit_identity import errors
from permit_identity.models import (
    LegacyAccount,
    Licence,
    Officer,
    Onboarding,
    Party,
    PartyKind,
    SigningKey,
)

NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


def officer(province: str = "130000", roles: tuple[str, ...] = ("officer.licence",)) -> Officer:
    o = Officer(id="o1", display_name="张三", province=province, roles_csv="", active=True)
    o.roles = list(roles)
    return o


def pending_licence(province: str = "130000") -> Licence:
    party = Party.new(kind=PartyKind.ENTERPRISE, display_name="新公司", uscc="X", id_number=None,
                      province=province)
    party.start_licence_review()
    lic = Licence(id="l1", party_id=party.id, state="PENDING", province=province, version=1)
    lic.party = party
    return lic


class TestParty:
    def test_new_party_must_submit_a_licence_first_ID_5(self) -> None:
        p = Party.new(kind=PartyKind.PERSON, display_name="张某", uscc=None, id_number="1", province=None)
        assert p.onboarding == Onboarding.LICENCE_REQUIRED and p.name.startswith("parties/")

    def test_legacy_party_is_named_by_legacy_id_and_active_ID_3(self) -> None:
        p = Party.from_legacy(legacy_id="L1001", kind=PartyKind.ENTERPRISE, display_name="某公司",
                              uscc="U", id_number=None, province="130000")
        assert p.name == "parties/L1001" and p.onboarding == Onboarding.ACTIVE

    def test_active_party_cannot_submit_again_ID_5(self) -> None:
        p = Party.from_legacy(legacy_id="L1", kind=PartyKind.PERSON, display_name="a", uscc=None,
                              id_number="1", province=None)
        with pytest.raises(errors.OnboardingComplete):
            p.start_licence_review()

    def test_pending_party_cannot_submit_twice_ID_5(self) -> None:
        lic = pending_licence()
        with pytest.raises(errors.LicenceReviewPending):
            lic.party.start_licence_review()


class TestLicenceReview:
    def test_officer_of_the_province_approves_and_party_becomes_active_ID_5(self) -> None:
        lic = pending_licence()
        lic.review(officer=officer(), approve=True, reason="", now=NOW)
        assert lic.state == "APPROVED" and lic.party.onboarding == Onboarding.ACTIVE
        assert lic.reviewer_id == "o1" and lic.review_time == NOW and lic.etag == '"2"'

    def test_rejection_needs_a_reason_ID_5(self) -> None:
        with pytest.raises(errors.ReasonRequired):
            pending_licence().review(officer=officer(), approve=False, reason="  ", now=NOW)

    def test_rejected_party_may_resubmit_ID_5(self) -> None:
        lic = pending_licence()
        lic.review(officer=officer(), approve=False, reason="图片不清晰", now=NOW)
        assert lic.party.onboarding == Onboarding.LICENCE_REJECTED
        lic.party.start_licence_review()
        assert lic.party.onboarding == Onboarding.LICENCE_PENDING

    def test_officer_of_another_province_is_refused_ID_6(self) -> None:
        with pytest.raises(errors.OtherProvince):
            pending_licence("130000").review(officer=officer("370000"), approve=True, reason="", now=NOW)

    def test_officer_without_licence_role_is_refused_ID_6(self) -> None:
        with pytest.raises(errors.NotLicenceOfficer):
            pending_licence().review(officer=officer(roles=("officer.review",)), approve=True,
                                     reason="", now=NOW)

    def test_a_decided_licence_cannot_be_decided_again_ID_5(self) -> None:
        lic = pending_licence()
        lic.review(officer=officer(), approve=True, reason="", now=NOW)
        with pytest.raises(errors.LicenceNotPending):
            lic.review(officer=officer(), approve=False, reason="x", now=NOW)


def test_legacy_link_happens_once_ID_3() -> None:
    acc = LegacyAccount(legacy_id="L1", linked_at=None)
    assert acc.link(user_id="u1", now=NOW) is True
    assert acc.link(user_id="u2", now=NOW + dt.timedelta(days=1)) is False
    assert (acc.linked_user_id, acc.linked_at) == ("u1", NOW)


def test_officer_roles_are_a_sorted_set_ID_6() -> None:
    o = officer(roles=("officer.review", "officer.accept", "officer.review"))
    assert o.roles == ["officer.accept", "officer.review"]


def test_retired_key_stays_published_until_its_last_token_expires() -> None:
    k = SigningKey(key_id="k", activate_time=NOW)
    k.retire(at=NOW + dt.timedelta(minutes=10), token_ttl=dt.timedelta(minutes=15))
    assert k.signs_at(NOW + dt.timedelta(minutes=9)) and not k.signs_at(NOW + dt.timedelta(minutes=10))
    assert k.published_at(NOW + dt.timedelta(minutes=24))
    assert not k.published_at(NOW + dt.timedelta(minutes=25))
