"""Ports and caller checks every use case of the application context shares: the
unit of work, the routing and documents ports, who may act (ID-5) and on what.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from google.protobuf.message import Message

from permit_application import values as vo
from permit_application.errors import (
    ApplicationNotFound,
    LicenceRejected,
    LicenceRequired,
    LicenceReviewPending,
    NotApplicant,
)
from permit_application.models import (
    Application,
)
from permit_application.repository import ApplicationRepository, FleetRepository
from permitkit import access as kit
from permitkit.context import Principal
from permitkit.dates import SHANGHAI, local_date  # noqa: F401 - SHANGHAI re-exported
from permitkit.errors import FieldViolation, Unauthenticated

log = structlog.get_logger()

NOTICE_SECONDS = 5  # AP-1: the permit notice is read for at least 5 seconds
NUMBER_PREFIX = "DJ13"
MAX_OVERLAPPING = 2  # AP-6: at most two applications per vehicle in an overlapping period



class UnitOfWork(Protocol):
    """What the use cases need from a unit of work (SQL or fake)."""

    applications: ApplicationRepository
    fleet: FleetRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def flush(self) -> None: ...
    def record_event(self, event: Message) -> str: ...
    def first_delivery(self, event_id: str, topic: str) -> bool: ...


@dataclass(frozen=True)
class RouteCheck:
    """The routing context's view of a route: approving provinces and problems."""

    provinces: list[str]
    errors: list[FieldViolation] = field(default_factory=list)
    warnings: list[FieldViolation] = field(default_factory=list)


class RouteValidator(Protocol):
    """Port to the routing context (RoutingService.ValidateRoute)."""

    def validate(self, passage: vo.Passage) -> RouteCheck: ...


@dataclass(frozen=True)
class DocumentRef:
    """A document an application refers to, where, and the kinds it may be."""

    field: str
    document: str
    kinds: tuple[str, ...]  # DocumentKind names without the prefix; empty = any kind


class DocumentChecker(Protocol):
    """Port to the documents context: do the references exist, belong to the caller
    and hold the right kind of material? Returns field errors."""

    def check(self, refs: list[DocumentRef]) -> list[FieldViolation]: ...


# Which uploaded kinds a material slot accepts (documents.v1.DocumentKind names).
MATERIAL_DOCUMENT_KINDS = {
    "OUTLINE_DRAWING": ("OUTLINE_DRAWING",), "ESCORT_PLAN": ("ESCORT_PLAN",),
    "TRANSPORT_PLAN": ("TRANSPORT_PLAN",), "OTHER": (),
}


def document_refs(app: Application) -> list[DocumentRef]:
    """Every document the application refers to (materials, licences, agent images)."""
    refs = [DocumentRef(f"materials[{i}].document", m.document, MATERIAL_DOCUMENT_KINDS.get(m.kind, ()))
            for i, m in enumerate(app.material_values)]
    for i, v in enumerate(app.vehicle_values):
        refs += [DocumentRef(f"vehicles[{i}].licence_documents", d, ("VEHICLE_LICENCE", "TEMPORARY_PLATE"))
                 for d in v.licence_documents]
    a = app.agent_value
    if a is not None:
        refs += [DocumentRef("agent.id_card_documents", d, ("ID_CARD_FRONT", "ID_CARD_BACK"))
                 for d in a.id_card_documents]
        if a.power_of_attorney_document:
            refs.append(DocumentRef("agent.power_of_attorney_document", a.power_of_attorney_document,
                                    ("POWER_OF_ATTORNEY",)))
    return refs


def local_route_check(passage: vo.Passage) -> RouteCheck:
    """Fallback when routing is not reachable: the ordered distinct provinces of the rows."""
    return RouteCheck(passage.route_provinces())


def today_of(now: dt.datetime) -> dt.date:
    return local_date(now)


# ---- caller checks -----------------------------------------------------------------

_ONBOARDING_ERRORS = {"LICENCE_REQUIRED": LicenceRequired, "LICENCE_PENDING": LicenceReviewPending,
                      "LICENCE_REVIEW_PENDING": LicenceReviewPending, "LICENCE_REJECTED": LicenceRejected}


def require_applicant(principal: Principal | None) -> Principal:
    """An applicant acting for a party whose onboarding is ACTIVE (ID-5)."""
    if principal is None:
        raise Unauthenticated()
    if not principal.has_role("applicant") or not principal.party:
        raise NotApplicant()
    onboarding = (principal.onboarding or "LICENCE_REQUIRED").upper()
    if onboarding != "ACTIVE":
        raise _ONBOARDING_ERRORS.get(onboarding, LicenceRequired)(metadata={"onboarding": onboarding})
    return principal


def party_of(p: Principal) -> str:
    """The party of a principal that passed ``require_applicant``."""
    if not p.party:
        raise NotApplicant()
    return p.party


def require_service(principal: Principal | None) -> Principal:
    """Internal RPCs are for peer services only (permitkit's one check)."""
    return kit.require_service(principal)


def app_id_of(name: str) -> str:
    prefix = "applications/"
    if not name.startswith(prefix) or len(name) <= len(prefix) or "/" in name[len(prefix):]:
        raise ApplicationNotFound(metadata={"name": name})
    return name[len(prefix):]


def own_application(uow: UnitOfWork, principal: Principal, name: str, *, for_update: bool = False) -> Application:
    """The caller's own application; another party's is reported as not found."""
    return _own(principal, name, uow.applications.get(app_id_of(name), for_update=for_update))


def own_draft(uow: UnitOfWork, principal: Principal, name: str) -> Application:
    """The caller's own application, locked for saving steps (``ApplicationRepository.get_draft``)."""
    return _own(principal, name, uow.applications.get_draft(app_id_of(name)))


def _own(principal: Principal, name: str, app: Application | None) -> Application:
    if app is None or (not principal.is_service and app.party != principal.party):
        raise ApplicationNotFound(metadata={"name": name})
    return app


def require_reader(principal: Principal | None) -> Principal:
    if principal is not None and principal.is_service:
        return principal
    return require_applicant(principal)
