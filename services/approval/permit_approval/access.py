"""Who may do what to a case or permit: officers act for their own province only (RV-1 to RV-3)."""

from __future__ import annotations

from permit_approval import errors
from permit_approval.models import Actor, Case, Permit
from permitkit import access as kit
from permitkit.context import Principal
from permitkit.errors import NotFound

ACCEPT = "officer.accept"
REVIEW = "officer.review"
OFFICER_ROLES = (ACCEPT, REVIEW, "officer.licence")


def authenticated(principal: Principal | None) -> Principal:
    return kit.signed_in(principal)


def require_service(principal: Principal | None) -> Principal:
    """Internal RPCs are for peer services only."""
    return kit.require_service(principal)


def require_admin(principal: Principal | None) -> Principal:
    return kit.require_admin(principal)


def require_officer(principal: Principal | None, role: str) -> Principal:
    """An officer holding ``role`` with a province scope (ID-6)."""
    p = authenticated(principal)
    if not p.has_role(role) or not p.province:
        raise errors.NotOfficer(metadata={"role": role})
    return p


def require_province(principal: Principal, province: str) -> None:
    """The officer's province must be the one the action belongs to."""
    kit.require_province(principal, province)


def is_officer(principal: Principal) -> bool:
    return principal.has_role(*OFFICER_ROLES)


def require_applicant_of(principal: Principal | None, party: str,
                         hidden: type[NotFound] | None = None) -> Principal:
    """The caller acts for the applicant party ``party``.

    Another applicant is told ``hidden`` (the resource's not-found) when given, so
    that the answer does not reveal that a case or permit of that number exists.
    """
    p = authenticated(principal)
    if p.party and p.party != party and hidden is not None:
        raise hidden()
    if not p.party or p.party != party:
        raise errors.NotApplicant()
    return p


def check_can_view_case(principal: Principal | None, case: Case) -> Principal:
    """Services and admins see all; officers cases on their route; applicants their own (PQ-2)."""
    p = authenticated(principal)
    if p.is_service or p.has_role("admin"):
        return p
    if is_officer(p):
        if not p.province or p.province not in case.route_provinces:
            raise errors.OtherProvince()
        return p
    return require_applicant_of(p, case.applicant, errors.CaseNotFound)


def check_can_view_permit(principal: Principal | None, permit: Permit) -> Principal:
    p = authenticated(principal)
    if p.is_service or p.has_role("admin"):
        return p
    if is_officer(p):
        if not p.province or p.province not in permit.route_provinces:
            raise errors.OtherProvince()
        return p
    return require_applicant_of(p, permit.holder, errors.PermitNotFound)


def actor(principal: Principal) -> Actor:
    return Actor(principal.subject, principal.province)
