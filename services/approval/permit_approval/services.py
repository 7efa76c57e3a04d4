"""Use cases of the approval service: one per RPC, the unit of work first, keyword-only arguments."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from sqlalchemy.exc import IntegrityError

from permit.application.v1.events_pb2 import SubmittedApplication
from permit_approval import access, errors, published
from permit_approval.certificate.content import EXTENDED, ISSUED
from permit_approval.certificate.issuing import CertificateIssuer
from permit_approval.clients import DocumentDirectory, FleetDirectory, RouteValidator
from permit_approval.models import (
    CalendarYear,
    Case,
    CaseSubmission,
    Decision,
    FieldChange,
    Permit,
    PermitState,
    changes_between,
    local_date,
    new_id,
)
from permit_approval.unit_of_work import ApprovalUnitOfWork
from permit_approval.verification import PermitSigner
from permit_approval.workdays import SOURCE_ADMINISTRATOR
from permitkit.context import Principal
from permitkit.db import is_unique_violation
from permitkit.paging import PageRequest, scope_of

# How long an officer's claim on a review holds before another officer may take it.
CLAIM_TTL = dt.timedelta(minutes=30)
# Document kinds (DocumentKind without its prefix) an applicant adds to a case later on.
ESCORT_PLAN = "ESCORT_PLAN"
POWER_OF_ATTORNEY = "POWER_OF_ATTORNEY"


# -- resource names ---------------------------------------------------------------------------

def _parse(name: str, *collections: str, field: str = "name") -> list[str]:
    """``"cases/1/reviews/130000"`` with ("cases", "reviews") -> ["1", "130000"]."""
    parts = name.split("/") if name else []
    if len(parts) != 2 * len(collections) or any(
            parts[2 * i] != c or not parts[2 * i + 1] for i, c in enumerate(collections)):
        raise errors.NameInvalid(field=field, metadata={"expected": "/".join(
            f"{c}/{{id}}" for c in collections)})
    return parts[1::2]


def _load_case(uow: ApprovalUnitOfWork, case_id: str, *, for_update: bool = False) -> Case:
    case = uow.cases.get(case_id, for_update=for_update)
    if case is None:
        raise errors.CaseNotFound()
    return case


def _load_permit(uow: ApprovalUnitOfWork, permit_id: str, *, for_update: bool = False) -> Permit:
    permit = uow.permits.get(permit_id, for_update=for_update)
    if permit is None:
        raise errors.PermitNotFound()
    return permit


def _save(uow: ApprovalUnitOfWork, obj: Case) -> None:
    uow.record(obj.events, obj)
    uow.flush()
    uow.commit()


def _require_own_document(documents: DocumentDirectory, *, name: str, applicant: str, kind: str,
                          label: str, field: str) -> None:
    """A document the applicant adds to a case must be its own upload of the kind asked for:
    once on the case it is granted to every route province (PQ-7, PQ-10).

    The lookup runs as the caller, so the documents service's ownership rule decides;
    the owner is compared again so that no other reading right (an officer's grant)
    can stand in for ownership. Absent and not-yours get the same answer.
    """
    _parse(name, "documents", field=field)
    doc = documents.find(name)
    if doc is None or doc.owner != applicant:
        raise errors.DocumentReferenceInvalid(f"未找到所选的{label}，请重新上传。", field=field)
    if doc.kind != kind:
        raise errors.DocumentKindMismatch(f"所选材料不是{label}，请重新上传。", field=field,
                                          metadata={"expected_kind": kind})


# -- internal: submission and withdrawal ------------------------------------------------------

@dataclass(frozen=True)
class Submission:
    """What the application service sends when an application is submitted."""

    application: str
    application_number: str
    applicant: str
    origin_province: str
    destination_province: str
    route_provinces: Sequence[str]
    permit_class: int
    plate_numbers: Sequence[str] = ()
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    multi_trip: bool = False
    submission: int = 1
    documents: Sequence[str] = ()
    route: Sequence[dict[str, Any]] = ()
    vehicles: Sequence[dict[str, Any]] = ()
    cargo: dict[str, Any] | None = None
    overall: dict[str, Any] | None = None
    # The serialized permit.application.v1.SubmittedApplication, kept per submission (RV-2).
    snapshot: bytes = b""
    submit_time: dt.datetime | None = None


def create_case(uow: ApprovalUnitOfWork, *, principal: Principal | None, event_id: str,
                submission: Submission, now: dt.datetime) -> tuple[Case, bool]:
    """Open a case for a submitted application, or reopen it for a higher submission;
    the case, and whether this delivery opened or reopened it.

    Idempotent by ``event_id`` (inbox) and by submission number: a repeat of
    the same or an older submission returns the case unchanged and False (RV-1, PQ-6).
    """
    access.require_service(principal)
    if not event_id:
        raise errors.required("event_id", "缺少事件标识。")
    s = submission
    with uow:
        try:
            first = uow.first_delivery(event_id, "permit.application.v1.ApplicationSubmitted")
            existing = uow.cases.by_application(s.application, for_update=True)
            if not first and existing is not None:
                uow.commit()
                return existing, False
            calendar = uow.calendar()
            if existing is None:
                case = Case.open(
                    application=s.application, application_number=s.application_number,
                    applicant=s.applicant, origin_province=s.origin_province,
                    destination_province=s.destination_province,
                    route_provinces=list(s.route_provinces), route=list(s.route),
                    permit_class=s.permit_class, plate_numbers=list(s.plate_numbers),
                    vehicles=list(s.vehicles), start_date=s.start_date, end_date=s.end_date,
                    multi_trip=s.multi_trip, submission=s.submission or 1,
                    documents=list(s.documents), now=now, calendar=calendar)
                uow.cases.add(case)
            elif (s.submission or 1) <= existing.submission:
                uow.commit()  # keep the inbox row: this delivery is done
                return existing, False
            else:
                case = existing
                case.reopen(
                    submission=s.submission, route_provinces=list(s.route_provinces),
                    route=list(s.route), permit_class=s.permit_class,
                    plate_numbers=list(s.plate_numbers), vehicles=list(s.vehicles),
                    start_date=s.start_date, end_date=s.end_date, multi_trip=s.multi_trip,
                    documents=list(s.documents), application_number=s.application_number,
                    destination_province=s.destination_province, now=now, calendar=calendar)
            if s.cargo is not None or s.overall is not None:
                case.cargo, case.overall = s.cargo, s.overall  # CT-1: printed on the certificate
            if s.snapshot:
                uow.flush()  # the case's id
                # A new case has no submissions yet; a reopened one may have this one stored.
                if existing is None or uow.submissions.get(case.id, case.submission) is None:
                    uow.submissions.add(CaseSubmission(case_id=case.id, submission=case.submission,
                                                       submit_time=s.submit_time or now,
                                                       snapshot=s.snapshot))
            # Officers of every route province read the submission's documents (documents
            # reads CaseOpened).
            uow.publish(published.case_opened(case, reopened=existing is not None, now=now))
            _save(uow, case)
        except IntegrityError as e:
            if is_unique_violation(e):
                # Two deliveries raced on one application: the retry finds the case.
                raise errors.ConcurrentUpdate() from e
            raise
        return case, True


def cancel_case(uow: ApprovalUnitOfWork, *, principal: Principal | None, event_id: str,
                application: str, reason: str, now: dt.datetime) -> Case:
    """Close the case of a withdrawn application and every open review (PQ-5, PQ-8)."""
    p = access.require_service(principal)
    if not event_id:
        raise errors.required("event_id", "缺少事件标识。")
    with uow:
        first = uow.first_delivery(event_id, "permit.application.v1.ApplicationWithdrawn")
        case = uow.cases.by_application(application, for_update=True)
        if case is None:
            raise errors.CaseNotFound(field="application")
        if not first or case.state == "CANCELLED":
            uow.commit()
            return case
        case.cancel(actor=access.actor(p), reason=reason, now=now)
        _save(uow, case)
        return case


# -- reading ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseDetail:
    """A case with the application as submitted and, for a resubmission, what changed since
    the returned submission (RV-2)."""

    case: Case
    submitted: CaseSubmission | None = None
    changes: list[FieldChange] = dc_field(default_factory=list)
    changes_since: int = 0


def get_case(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str) -> CaseDetail:
    """A case with every province's review, due dates and history (PQ-2), the application as
    submitted and its changes since the returned submission (RV-2)."""
    access.authenticated(principal)
    with uow:
        if name.startswith("applications/"):
            _parse(name, "applications")
            case = uow.cases.by_application(name)
            if case is None:
                raise errors.CaseNotFound()
        else:
            (case_id,) = _parse(name, "cases")
            case = _load_case(uow, case_id)
        access.check_can_view_case(principal, case)
        versions = uow.submissions.latest_two(case.id, case.submission)
        uow.commit()  # end the read transaction without expiring what was loaded
    current = versions[0] if versions and versions[0].submission == case.submission else None
    if current is None or len(versions) < 2:
        return CaseDetail(case, current)
    before, after = SubmittedApplication(), SubmittedApplication()
    before.ParseFromString(versions[1].snapshot)
    after.ParseFromString(current.snapshot)
    return CaseDetail(case, current, changes_between(before, after), versions[1].submission)


@dataclass(frozen=True)
class WorkQueue:
    """What waits for an officer's province: cases (paged) and permits to extend, with the
    number of matching cases per state and in all."""

    cases: list[Case]
    next_page_token: str
    extension_permits: list[Permit]
    state_counts: dict[str, int] = dc_field(default_factory=dict)
    total_size: int = 0


@dataclass(frozen=True)
class QueueFilter:
    """The work-queue filters (RV-2); empty values filter nothing."""

    state: str = ""
    permit_class: int = 0
    overdue_only: bool = False
    claimed_by_me: bool = False
    query: str = ""

    def only_state(self) -> bool:
        """No filter but the state: the queue can be paged and counted by the database."""
        return not (self.permit_class or self.overdue_only or self.claimed_by_me or self.query)

    def scope(self) -> tuple[str, ...]:
        """The filter values a page token is bound to."""
        return (self.state, str(self.permit_class), str(int(self.overdue_only)),
                str(int(self.claimed_by_me)), self.query)


def _normal(text: str) -> str:
    return "".join(text.split()).upper()


def _matches(case: Case, f: QueueFilter, *, province: str, subject: str, today: dt.date,
             now: dt.datetime) -> bool:
    """Every filter but the state (RV-2)."""
    if f.permit_class and case.permit_class != f.permit_class:
        return False
    own = [r for r in case.reviews if r.province == province]
    if f.overdue_only and not (case.acceptance_overdue(today) or any(r.overdue(today) for r in own)):
        return False
    if f.claimed_by_me and not any(r.claimed_by == subject and not r.claim_lapsed(now) for r in own):
        return False
    if f.query:
        q = _normal(f.query)
        if q not in _normal(case.application_number) and not any(
                q in _normal(p) for p in case.plate_numbers or []):
            return False
    return True


def list_work_queue(uow: ApprovalUnitOfWork, *, principal: Principal | None, page_size: int,
                    page_token: str, filters: QueueFilter | None = None,
                    now: dt.datetime | None = None) -> WorkQueue:
    """Cases waiting for the officer's province, earliest due first (RV-1, RV-4), filtered by
    state, class, overdue, claimed by the caller or searched by application or plate number,
    with the count per state (RV-2); on the first page the permits whose extension the
    province has to decide (PQ-11)."""
    p = access.authenticated(principal)
    if not p.province or not p.has_role(access.ACCEPT, access.REVIEW):
        raise errors.NotOfficer()
    f = filters or QueueFilter()
    if f.permit_class not in (0, 1, 2, 3):
        raise errors.PermitClassInvalid(field="permit_class")
    if len(f.query) > 64:
        raise errors.QueryTooLong(field="query")
    now = now or dt.datetime.now(dt.UTC)
    today = local_date(now)
    acceptance, review = p.has_role(access.ACCEPT), p.has_role(access.REVIEW)
    scope = scope_of("work_queue", p.province, "accept" if acceptance else "", "review" if review else "",
                     *f.scope())
    req = PageRequest.of(page_size=page_size, page_token=page_token, scope=scope, default=50, maximum=200)
    with uow:
        permits = uow.permits.awaiting_extension_decision(p.province) if req.offset == 0 and review else []
        if f.only_state():
            # The everyday view (every case, or one state): paged and counted in the database.
            cases, counts = uow.cases.work_queue_page(province=p.province, acceptance=acceptance, review=review,
                                                      state=f.state, offset=req.offset, limit=req.limit)
            total = counts.get(f.state, 0) if f.state else sum(counts.values())
            uow.commit()
            page = req.cut(cases)
            return WorkQueue(page.items, page.next_page_token, permits, counts, total)
        # The database narrows the queue to the cases the filters may keep; they are applied here.
        queue = uow.cases.work_queue(province=p.province, acceptance=acceptance, review=review,
                                     permit_class=f.permit_class, text=_normal(f.query),
                                     claimed_by=p.subject if f.claimed_by_me else "")
        matching = [c for c in queue if _matches(c, f, province=p.province, subject=p.subject,
                                                 today=today, now=now)]
        uow.commit()
    counts = {}
    for c in matching:
        counts[c.state] = counts.get(c.state, 0) + 1
    selected = [c for c in matching if not f.state or c.state == f.state]
    page = req.window(selected)
    return WorkQueue(page.items, page.next_page_token, permits, counts, len(selected))


# -- origin acceptance (RV-1) -----------------------------------------------------------------

def accept_case(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str, etag: str,
                now: dt.datetime) -> Case:
    """The origin accepts; one pending review opens per route province at once (RV-1, RV-4)."""
    p = access.require_officer(principal, access.ACCEPT)
    (case_id,) = _parse(name, "cases")
    with uow:
        case = _load_case(uow, case_id, for_update=True)
        access.require_province(p, case.origin_province)
        case.check_etag(etag)
        case.accept(actor=access.actor(p), now=now, calendar=uow.calendar())
        _save(uow, case)
        return case


def return_case(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str, reason: str,
                etag: str, now: dt.datetime) -> Case:
    """The origin returns the submission for correction before acceptance (RV-1, PQ-6)."""
    p = access.require_officer(principal, access.ACCEPT)
    (case_id,) = _parse(name, "cases")
    with uow:
        case = _load_case(uow, case_id, for_update=True)
        access.require_province(p, case.origin_province)
        case.check_etag(etag)
        case.return_for_correction(actor=access.actor(p), reason=reason, now=now)
        _save(uow, case)
        return case


def refuse_case(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str, reason: str,
                etag: str, now: dt.datetime) -> Case:
    """The origin does not accept the case (不予受理), with a reason."""
    p = access.require_officer(principal, access.ACCEPT)
    (case_id,) = _parse(name, "cases")
    with uow:
        case = _load_case(uow, case_id, for_update=True)
        access.require_province(p, case.origin_province)
        case.check_etag(etag)
        case.refuse(actor=access.actor(p), reason=reason, now=now)
        _save(uow, case)
        return case


# -- parallel review (RV-2, RV-3) -------------------------------------------------------------

def _review_target(principal: Principal | None, name: str) -> tuple[Principal, str, str]:
    p = access.require_officer(principal, access.REVIEW)
    case_id, province = _parse(name, "cases", "reviews")
    access.require_province(p, province)
    return p, case_id, province


def claim_review(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str,
                 now: dt.datetime) -> Case:
    """The officer takes a pending review of the province; the claim lapses after a while."""
    p, case_id, province = _review_target(principal, name)
    with uow:
        case = _load_case(uow, case_id, for_update=True)
        case.claim(province=province, actor=access.actor(p), now=now, ttl=CLAIM_TTL)
        _save(uow, case)
        return case


def release_review(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str,
                   now: dt.datetime) -> Case:
    """The officer gives back a claimed review."""
    p, case_id, province = _review_target(principal, name)
    with uow:
        case = _load_case(uow, case_id, for_update=True)
        case.release(province=province, actor=access.actor(p), now=now)
        _save(uow, case)
        return case


def suspend_review(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str,
                   reason: str, now: dt.datetime) -> Case:
    """Stop a review's deadline while roads or bridges are strengthened (RV-4, Art. 15)."""
    p, case_id, province = _review_target(principal, name)
    with uow:
        case = _load_case(uow, case_id, for_update=True)
        case.suspend_review(province=province, reason=reason, actor=access.actor(p), now=now,
                            calendar=uow.calendar())
        _save(uow, case)
        return case


def resume_review(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str,
                  now: dt.datetime) -> Case:
    """Restart a suspended review's deadline with the working days that were left (RV-4)."""
    p, case_id, province = _review_target(principal, name)
    with uow:
        case = _load_case(uow, case_id, for_update=True)
        case.resume_review(province=province, actor=access.actor(p), now=now,
                           calendar=uow.calendar())
        _save(uow, case)
        return case


# How often a suggested route is validated again when the case's route changed meanwhile.
ROUTE_CHECK_ATTEMPTS = 3


def decide_review(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str,
                  decision: Decision | None, reason: str, suggested_route: list[dict[str, Any]],
                  conditions: list[str], etag: str, now: dt.datetime,
                  routes: RouteValidator | None = None) -> Case:
    """One province decides: approve, deny, return, or require a route adjustment (RV-2, RV-3).

    A suggested route is validated by the routing service as part of the whole
    route (PQ-7). The case row is locked for the decision, so of two officers
    deciding at once the second sees the review already decided (REVIEW_NOT_PENDING).
    """
    p, case_id, province = _review_target(principal, name)
    if decision is None:
        raise errors.required("decision", "请选择审批结论。")
    checked_route: list[dict[str, Any]] | None = None
    check_with = routes if decision == Decision.REQUIRE_ADJUSTMENT and suggested_route else None
    for _ in range(ROUTE_CHECK_ATTEMPTS):
        if check_with is not None:
            checked_route = _check_suggested_route(uow, check_with, case_id, province, suggested_route)
        with uow:
            case = _load_case(uow, case_id, for_update=True)
            case.check_etag(etag)
            if checked_route is None or case.route == checked_route:
                case.decide(province=province, decision=decision, reason=reason, actor=access.actor(p),
                            now=now, suggested_route=suggested_route, conditions=conditions)
                _save(uow, case)
                return case
        # The route moved while it was being validated (another province's adjustment was
        # accepted): nothing written; the suggestion is validated again on the route as it is now.
    raise errors.ConcurrentUpdate()


def _check_suggested_route(uow: ApprovalUnitOfWork, routes: RouteValidator, case_id: str, province: str,
                           suggested_route: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validate the whole route with ``province``'s part replaced by the suggestion (PQ-7);
    the case's route the check was made on."""
    with uow:
        case = _load_case(uow, case_id)
        checked_route = list(case.route)
        proposed = case.route_with(province, suggested_route)
        origin, destination = case.origin_province, case.destination_province
        uow.commit()
    # The peer call happens outside the transaction: no row lock is held while waiting.
    problems = routes.validate(origin=origin, destination=destination, rows=proposed)
    if problems:
        raise errors.SuggestedRouteInvalid(
            f"建议路线无效：{problems[0][1]}", field="suggested_route",
            metadata={"problems": ",".join(r for r, _ in problems)})
    return checked_route


def respond_to_adjustment(uow: ApprovalUnitOfWork, *, documents: DocumentDirectory,
                          principal: Principal | None, name: str, accept: bool, escort_plan: str,
                          etag: str, now: dt.datetime) -> Case:
    """The applicant accepts (fast track) or rejects (denial) a suggested route (PQ-7).

    An updated escort plan must be the applicant's own escort plan upload, checked
    before anything is written.
    """
    access.authenticated(principal)
    case_id, province = _parse(name, "cases", "reviews")
    with uow:
        applicant = _load_case(uow, case_id).applicant
        uow.commit()
    p = access.require_applicant_of(principal, applicant, errors.CaseNotFound)
    if accept and escort_plan:
        # The peer call happens outside the transaction: no row lock is held while waiting.
        _require_own_document(documents, name=escort_plan, applicant=applicant, kind=ESCORT_PLAN,
                              label="护送方案", field="escort_plan")
    with uow:
        case = _load_case(uow, case_id, for_update=True)
        case.check_etag(etag)
        case.respond_to_adjustment(province=province, accept=accept, escort_plan=escort_plan,
                                   actor=access.actor(p), now=now, calendar=uow.calendar())
        _save(uow, case)
        return case


# -- vehicle change (PQ-10) -------------------------------------------------------------------

# The case states in which the applicant may ask to change a vehicle (as Case checks).
VEHICLE_CHANGE_STATES = ("UNDER_REVIEW", "READY_TO_ISSUE")

def request_vehicle_change(uow: ApprovalUnitOfWork, *, fleet: FleetDirectory,
                           documents: DocumentDirectory, principal: Principal | None,
                           case_name: str, old_plate_number: str, new_vehicle: str,
                           power_of_attorney: str, now: dt.datetime) -> Case:
    """Replace a vehicle by another fleet vehicle with identical curb mass, axles, wheelbase,
    tyres, with the applicant's own new power of attorney (PQ-10)."""
    access.authenticated(principal)
    (case_id,) = _parse(case_name, "cases", field="case")
    _parse(new_vehicle, "vehicles", field="new_vehicle")
    with uow:
        case = _load_case(uow, case_id)
        applicant, old_spec = case.applicant, case.vehicle_spec(old_plate_number)
        application, open_for_change = case.application, case.state in VEHICLE_CHANGE_STATES
        uow.commit()
    p = access.require_applicant_of(principal, applicant, errors.CaseNotFound)
    if not open_for_change:  # before any peer call or hold (the case checks again, locked)
        raise errors.CaseNotUnderReview()
    # Peer calls happen outside the transaction: no row lock is held while waiting.
    if power_of_attorney:  # an empty one is refused by the case (POWER_OF_ATTORNEY_REQUIRED)
        _require_own_document(documents, name=power_of_attorney, applicant=applicant,
                              kind=POWER_OF_ATTORNEY, label="授权委托书",
                              field="power_of_attorney")
    spec = fleet.get_vehicle(new_vehicle)
    if spec.get("owner") and spec["owner"] != applicant:
        raise errors.VehicleNotFound(field="new_vehicle")
    if spec.get("source") not in (None, "", "FLEET") or spec.get("retired"):
        # PQ-10: only a vehicle kept on the PC side (and not retired, PC-1), never one typed in on mobile.
        raise errors.VehicleNotInFleet(field="new_vehicle")
    if old_spec is None and old_plate_number:
        # The submission carried no vehicle figures: look the replaced one up in the fleet.
        old_spec = fleet.find_by_plate(old_plate_number)
    # AP-6: the application service checks and holds the new vehicle's time (race-free,
    # under its per-vehicle lock) before the request is recorded here.
    change_id = new_id()
    key = vehicle_change_key(case_id, change_id)
    fleet.reserve_time(application=application, key=key, plates=[str(spec.get("plate_number") or "")])
    with _released_on_failure(fleet, key), uow:
        case = _load_case(uow, case_id, for_update=True)
        case.request_vehicle_change(old_plate=old_plate_number, new_vehicle=new_vehicle,
                                    new_spec=spec, power_of_attorney=power_of_attorney,
                                    actor=access.actor(p), now=now, old_spec=old_spec,
                                    change_id=change_id)
        _save(uow, case)
        return case


def vehicle_change_key(case_id: str, change_id: str) -> str:
    """What a vehicle change holds its new vehicle's time under (AP-6); its
    VehicleChangeDecided names it (``Case.vehicle_change_name``)."""
    return f"cases/{case_id}/vehicleChanges/{change_id}"


def extension_key(permit_id: str, extension_id: str) -> str:
    """What an extension holds its vehicles' extra days under (AP-6); its
    ExtensionDecided names it (``Permit.extension_name``)."""
    return f"permits/{permit_id}/extensions/{extension_id}"


@contextlib.contextmanager
def _released_on_failure(fleet: FleetDirectory, key: str) -> Iterator[None]:
    """A request refused after its time was held gives the time back at once."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # the hold is harmless until the next check
            fleet.release_time(key)
        raise


def decide_vehicle_change(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str,
                          decision: Decision | None, reason: str, now: dt.datetime) -> Case:
    """The origin decides a vehicle change; the provinces are told through the case (PQ-10)."""
    p = access.require_officer(principal, access.ACCEPT)
    case_id, change_id = _parse(name, "cases", "vehicleChanges")
    if decision not in (Decision.APPROVE, Decision.DENY):
        raise errors.required("decision", "请选择同意或不同意。")
    with uow:
        case = _load_case(uow, case_id, for_update=True)
        access.require_province(p, case.origin_province)
        case.decide_vehicle_change(change_id=change_id, approve=decision == Decision.APPROVE,
                                   reason=reason, actor=access.actor(p), now=now)
        _save(uow, case)
        return case


# -- permits (RV-3, RV-5, PQ-9, PQ-11) --------------------------------------------------------

def issue_permit(uow: ApprovalUnitOfWork, *, principal: Principal | None, case_name: str,
                 now: dt.datetime, certificates: CertificateIssuer | None = None) -> Permit:
    """The origin issues the permit once every route province approved (RV-3), with the
    first version of its certificate (CT-1)."""
    p = access.require_officer(principal, access.ACCEPT)
    (case_id,) = _parse(case_name, "cases", field="case")
    with uow:
        case = _load_case(uow, case_id, for_update=True)
        access.require_province(p, case.origin_province)
        if case.state != "READY_TO_ISSUE":
            raise errors.CaseNotReadyToIssue()
        number = uow.permits.next_number(case.origin_province, local_date(now).year)
        permit = Permit.issue(case, number=number, actor=access.actor(p), now=now)
        uow.permits.add(permit)
        if certificates is not None:
            certificates.record(uow.session, permit=permit, case=case, reason=ISSUED, now=now)
        _save(uow, case)
        return permit


def get_permit(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str) -> Permit:
    """A permit, for its holder or an officer of a province on its route."""
    access.authenticated(principal)
    (permit_id,) = _parse(name, "permits")
    with uow:
        permit = _load_permit(uow, permit_id)
        access.check_can_view_permit(principal, permit)
        uow.commit()
        return permit


@dataclass(frozen=True)
class Verification:
    """The public answer about a certificate: nothing beyond number, plates, validity (RV-5)."""

    result: str  # VALID, ABOLISHED, EXPIRED, NOT_YET_VALID, UNKNOWN
    permit: Permit | None = None


def verify_permit(uow: ApprovalUnitOfWork, *, signer: PermitSigner, verification_code: str,
                  now: dt.datetime) -> Verification:
    """Check a certificate's QR payload against the server; no sign-in needed (RV-5)."""
    if not verification_code.strip():
        raise errors.required("verification_code", "请扫描或输入许可证验证码。")
    permit_id = signer.verify(verification_code)
    if permit_id is None:
        return Verification("UNKNOWN")
    with uow:
        permit = uow.permits.get(permit_id)
        uow.commit()
    if permit is None:
        return Verification("UNKNOWN")
    today = local_date(now)
    state = permit.effective_state(today)
    if state in (PermitState.ABOLISHED, PermitState.EXPIRED):
        return Verification(state.value, permit)
    if today < permit.start_date:
        return Verification("NOT_YET_VALID", permit)
    return Verification("VALID", permit)


def _permit_and_case(uow: ApprovalUnitOfWork, permit_id: str) -> tuple[Permit, Case]:
    """The permit and the case it came from, both locked (permit first, always)."""
    permit = _load_permit(uow, permit_id, for_update=True)
    return permit, _load_case(uow, permit.case_id, for_update=True)


def _save_permit(uow: ApprovalUnitOfWork, permit: Permit, case: Case) -> None:
    case.update_time = permit.update_time  # the audit rows hang on the case
    uow.record(permit.events, case)
    uow.flush()
    uow.commit()


def abolish_permit(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str,
                   reason: str, now: dt.datetime) -> Permit:
    """The holder ends the permit when the transport is done (PQ-9)."""
    access.authenticated(principal)
    (permit_id,) = _parse(name, "permits")
    with uow:
        permit, case = _permit_and_case(uow, permit_id)
        p = access.require_applicant_of(principal, permit.holder, errors.PermitNotFound)
        permit.abolish(case=case, reason=reason, actor=access.actor(p), now=now)
        _save_permit(uow, permit, case)
        return permit


def request_extension(uow: ApprovalUnitOfWork, *, principal: Principal | None, permit_name: str,
                      new_end_date: dt.date | None, provinces: list[str], reason: str,
                      now: dt.datetime, fleet: FleetDirectory | None = None) -> Permit:
    """Ask the chosen provinces to move the permit's end date (PQ-11); the extra days must
    pass the duplicate check (AP-6) first."""
    access.authenticated(principal)
    (permit_id,) = _parse(permit_name, "permits", field="permit")
    if new_end_date is None:
        raise errors.required("new_end_date", "请选择延期通行的截止日期。")
    extension_id, key = new_id(), ""
    if fleet is not None:
        with uow:
            permit = _load_permit(uow, permit_id)
            access.require_applicant_of(principal, permit.holder, errors.PermitNotFound)
            # The vehicles as they are now: a vehicle change may have replaced one.
            plates = list(_load_case(uow, permit.case_id).plate_numbers or permit.plate_numbers)
            application, end = permit.application, permit.end_date
            ended = permit.effective_state(local_date(now)) in (PermitState.ABOLISHED, PermitState.EXPIRED)
            uow.commit()
        if ended:  # before any hold (the permit checks again, locked)
            raise errors.PermitNotActive()
        if new_end_date > end:  # else the permit refuses it below (NEW_END_DATE_INVALID)
            key = extension_key(permit_id, extension_id)
            fleet.reserve_time(application=application, key=key, plates=plates,
                               start=end + dt.timedelta(days=1), end=new_end_date)
    with _released_on_failure(fleet, key) if fleet is not None and key else contextlib.nullcontext(), uow:
        permit, case = _permit_and_case(uow, permit_id)
        p = access.require_applicant_of(principal, permit.holder, errors.PermitNotFound)
        permit.request_extension(case=case, new_end_date=new_end_date, provinces=provinces,
                                 reason=reason, actor=access.actor(p), now=now, extension_id=extension_id)
        _save_permit(uow, permit, case)
        return permit


def decide_extension(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str,
                     decision: Decision | None, reason: str, now: dt.datetime,
                     certificates: CertificateIssuer | None = None) -> Permit:
    """One chosen province decides an extension; all approved -> validity extended (PQ-11)
    and a new certificate version with the new end date (CT-1)."""
    p = access.require_officer(principal, access.REVIEW)
    permit_id, extension_id = _parse(name, "permits", "extensions")
    if decision not in (Decision.APPROVE, Decision.DENY):
        raise errors.required("decision", "请选择同意或不同意。")
    with uow:
        permit, case = _permit_and_case(uow, permit_id)
        assert p.province is not None
        # A denial's ExtensionDecided names the extension: the application service gives
        # back the vehicles' extra days it held (AP-6) when it reads the event.
        ext = permit.decide_extension(case=case, extension_id=extension_id, province=p.province,
                                      approve=decision == Decision.APPROVE, reason=reason,
                                      actor=access.actor(p), now=now)
        if certificates is not None and ext.state == "APPROVED":
            certificates.record(uow.session, permit=permit, case=case, reason=EXTENDED, now=now)
        _save_permit(uow, permit, case)
        return permit


# -- working calendar (RV-4) ------------------------------------------------------------------

@dataclass(frozen=True)
class CalendarView:
    year: int
    holidays: list[dt.date]
    workdays: list[dt.date]
    source: str


def _year(name: str) -> int:
    (year_s,) = _parse(name, "workingCalendars")
    if not year_s.isdigit() or not 2000 <= int(year_s) <= 2100:
        raise errors.YearInvalid(field="name")
    return int(year_s)


def get_working_calendar(uow: ApprovalUnitOfWork, *, principal: Principal | None,
                         name: str) -> CalendarView | None:
    """One year's holidays and make-up workdays and their source; None when unknown (RV-4)."""
    p = access.authenticated(principal)
    if not (access.is_officer(p) or p.has_role("admin") or p.is_service):
        raise errors.NotOfficer()
    year = _year(name)
    with uow:
        calendar = uow.calendar()
        uow.commit()
    data = calendar.years.get(year)
    if data is None:
        return None
    return CalendarView(year, sorted(data.holidays), sorted(data.workdays), data.source)


def update_working_calendar(uow: ApprovalUnitOfWork, *, principal: Principal | None, name: str,
                            holidays: list[dt.date], workdays: list[dt.date],
                            now: dt.datetime) -> CalendarView:
    """An administrator loads a year's holidays and make-up workdays (RV-4); the open
    deadlines counted over that year, and every provisional one, are recounted."""
    p = access.require_admin(principal)
    year = _year(name)
    if any(d.year != year for d in [*holidays, *workdays]):
        raise errors.DateOutsideYear(field="holidays")
    with uow:
        row = uow.calendars.get(year)
        if row is None:
            row = CalendarYear(year=year)
            uow.calendars.add(row)
        row.holidays = sorted({d.isoformat() for d in holidays})
        row.workdays = sorted({d.isoformat() for d in workdays})
        row.update_time = now
        row.updated_by = p.subject
        uow.flush()
        calendar = uow.calendar()
        for case in uow.cases.open_cases():
            if case.recompute_due_dates(calendar, year):
                case.update_time = now
        uow.flush()
        uow.commit()
    return CalendarView(year, sorted(holidays), sorted(workdays), SOURCE_ADMINISTRATOR)

