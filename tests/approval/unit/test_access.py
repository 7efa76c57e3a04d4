"""Scope rules: officers act only for their province; applicants see their own (RV-1 to RV-3)."""

from __future__ import annotations

import datetime as dt

import pytest

from permit_approval import access
from permit_approval.models import Case
from permit_approval.workdays import WorkingCalendar
from permitkit.context import Principal
from permitkit.errors import NotFound, PermissionDenied, Unauthenticated

HEBEI, SHANDONG = "130000", "370000"


def case() -> Case:
    return Case.open(application="applications/A1", application_number="DJ1",
                     applicant="parties/p1", origin_province=HEBEI, destination_province=SHANDONG,
                     route_provinces=[HEBEI, SHANDONG], route=[], permit_class=1, plate_numbers=[],
                     vehicles=[], start_date=None, end_date=None, multi_trip=False, submission=1,
                     documents=[], now=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
                     calendar=WorkingCalendar.from_library())


def officer(province: str, *roles: str) -> Principal:
    return Principal(subject="officers/x", roles=frozenset(roles or ("officer.review",)),
                     province=province)


def test_officer_of_a_route_province_may_view_RV_2() -> None:
    assert access.check_can_view_case(officer(SHANDONG), case()).province == SHANDONG


def test_officer_of_another_province_may_not_view_RV_2() -> None:
    with pytest.raises(PermissionDenied) as e:
        access.check_can_view_case(officer("440000"), case())
    assert e.value.reason == "OTHER_PROVINCE"


def test_applicant_views_only_own_party_PQ_2() -> None:
    own = Principal(subject="users/1", party="parties/p1", roles=frozenset({"applicant"}))
    other = Principal(subject="users/2", party="parties/p2", roles=frozenset({"applicant"}))
    assert access.check_can_view_case(own, case()) is own
    with pytest.raises(NotFound) as e:  # as if absent: the case's existence is not revealed
        access.check_can_view_case(other, case())
    assert e.value.reason == "CASE_NOT_FOUND"
    # Someone who is no applicant at all (an officer without the scope) is told why.
    nobody = Principal(subject="users/3", roles=frozenset({"applicant"}))
    with pytest.raises(PermissionDenied) as e:
        access.check_can_view_case(nobody, case())
    assert e.value.reason == "NOT_APPLICANT"


def test_anonymous_callers_are_unauthenticated() -> None:
    with pytest.raises(Unauthenticated):
        access.check_can_view_case(None, case())


def test_accepting_needs_the_accept_role_and_a_province_RV_1() -> None:
    with pytest.raises(PermissionDenied) as e:
        access.require_officer(officer(HEBEI, "officer.review"), access.ACCEPT)
    assert e.value.reason == "NOT_OFFICER"
    with pytest.raises(PermissionDenied):
        access.require_officer(Principal(subject="officers/x", roles=frozenset({"officer.accept"})),
                               access.ACCEPT)
    p = access.require_officer(officer(HEBEI, "officer.accept"), access.ACCEPT)
    with pytest.raises(PermissionDenied) as e:
        access.require_province(p, SHANDONG)
    assert e.value.reason == "OTHER_PROVINCE"


def test_internal_calls_need_the_service_role() -> None:
    with pytest.raises(PermissionDenied) as e:
        access.require_service(officer(HEBEI))
    assert e.value.reason == "NOT_SERVICE"
    assert access.require_service(Principal(subject="services/application",
                                            roles=frozenset({"service"}))).is_service
