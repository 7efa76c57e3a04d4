"""Use cases of the application context: one RPC, one unit of work.

Each takes the unit of work first, then keyword-only primitives and the
caller's principal; it returns models or raises domain errors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import structlog

from permit_application import steps as st
from permit_application import values as vo
from permit_application.errors import (
    ApplicationIncomplete,
    ApplicationNotDraft,
    ApplicationNotFound,
    InvalidEvent,
    InvalidField,
    InvalidUpdateMask,
    LicenceRejected,
    LicenceRequired,
    LicenceReviewPending,
    MaterialsMissing,
    NotApplicant,
    NoticeNotRead,
    NotOverLimit,
    OverallMissing,
    OverLimitRefused,
    QueryRequired,
    ServiceOnly,
    VehicleNotFound,
    VehicleTimeConflict,
)
from permit_application.identifiers import PlateCheck, check_plate, normalize_plate
from permit_application.models import Application, FleetAgent, FleetVehicle, State, StateChange
from permit_application.repository import ApplicationRepository, FleetRepository
from permit_application.rules import (
    MaterialInputs,
    Requirement,
    RuleSet,
    Verdict,
    classify,
    required_materials,
    rule_set_for,
)
from permitkit.context import Principal
from permitkit.db import is_unique_violation, utcnow
from permitkit.errors import FieldViolation, Unauthenticated
from permitkit.paging import Page, PageRequest, scope_of

log = structlog.get_logger()

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOTICE_SECONDS = 5  # AP-1: the permit notice is read for at least 5 seconds
NUMBER_PREFIX = "DJ13"
MAX_OVERLAPPING = 2  # AP-6: at most two applications per vehicle in an overlapping period

TOPIC_CREATE_CASE = "approval.CreateCase"
TOPIC_CANCEL_CASE = "approval.CancelCase"
TOPIC_APPROVED_ROUTE = "routing.RecordApprovedRoute"


class UnitOfWork(Protocol):
    """What the use cases need from a unit of work (SQL or fake)."""

    applications: ApplicationRepository
    fleet: FleetRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def flush(self) -> None: ...
    def record_event(self, topic: str, payload: Mapping[str, Any]) -> str: ...
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
    return now.astimezone(SHANGHAI).date()


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
    if principal is None:
        raise Unauthenticated()
    if not principal.is_service:
        raise ServiceOnly()
    return principal


def _app_id(name: str) -> str:
    prefix = "applications/"
    if not name.startswith(prefix) or len(name) <= len(prefix) or "/" in name[len(prefix):]:
        raise ApplicationNotFound(metadata={"name": name})
    return name[len(prefix):]


def _own(uow: UnitOfWork, principal: Principal, name: str, *, for_update: bool = False) -> Application:
    """The caller's own application; another party's is reported as not found."""
    app = uow.applications.get(_app_id(name), for_update=for_update)
    if app is None or (not principal.is_service and app.party != principal.party):
        raise ApplicationNotFound(metadata={"name": name})
    return app


def _reader(principal: Principal | None) -> Principal:
    if principal is not None and principal.is_service:
        return principal
    return require_applicant(principal)


# ---- draft lifecycle ---------------------------------------------------------------

def _new_number(uow: UnitOfWork, now: dt.datetime) -> str:
    day = today_of(now).strftime("%Y%m%d")
    for _ in range(100):
        seq = uow.applications.next_number(day)
        number = f"{NUMBER_PREFIX}{day}{seq:06d}"
        if not uow.applications.exists(number):  # legacy imports may hold numbers of today
            return number
    raise RuntimeError("application number space exhausted")


def create_application(uow: UnitOfWork, *, principal: Principal | None,
                       notice_shown_time: dt.datetime | None, request_id: str = "",
                       now: dt.datetime | None = None) -> Application:
    """"我要申请": a new draft, refused until the permit notice was shown for 5 s (AP-1)."""
    p = require_applicant(principal)
    now = now or utcnow()
    with uow:
        if request_id:
            existing = uow.applications.find_by_create_request(party_of(p), request_id)
            if existing is not None:
                return existing
        if notice_shown_time is None or (now - notice_shown_time).total_seconds() < NOTICE_SECONDS:
            shown = (now - notice_shown_time).total_seconds() if notice_shown_time else 0.0
            raise NoticeNotRead(metadata={"required_seconds": str(NOTICE_SECONDS),
                                          "shown_seconds": f"{max(shown, 0):.1f}"})
        app = Application.new(id=_new_number(uow, now), party=party_of(p), created_by=p.subject, now=now,
                              notice_shown_time=notice_shown_time, create_request_id=request_id or None)
        uow.applications.add(app)
        uow.applications.add_change(app.audit(None, State.DRAFT, actor=p.subject, reason="新建申请", now=now))
        try:
            uow.commit()
        except Exception as e:
            if request_id and is_unique_violation(e):
                uow.rollback()
                existing = uow.applications.find_by_create_request(party_of(p), request_id)
                if existing is not None:
                    return existing
            raise
        log.info("application_created", application=app.name, party=app.party)
        return app


def get_application(uow: UnitOfWork, *, principal: Principal | None, name: str) -> Application:
    """One application of the caller (PQ-2); a peer service may read any."""
    p = _reader(principal)
    with uow:
        return _own(uow, p, name)


def list_applications(uow: UnitOfWork, *, principal: Principal | None, page_size: int = 0,
                      page_token: str = "", query: str = "", state: State | None = None) -> Page[Application]:
    """The caller's applications, newest first; filter by status, search by number or plate (PQ-2)."""
    p = require_applicant(principal)
    q = normalize_plate(query) if query else ""
    party = party_of(p)
    req = PageRequest.of(page_size=page_size, page_token=page_token,
                         scope=scope_of("applications", party, state.value if state else "", q),
                         default=20, maximum=100)
    with uow:
        items, total = uow.applications.list_for_party(party, state=state, query=q, offset=req.offset,
                                                       limit=req.size)
        return req.counted(items, total)


def search_applications(uow: UnitOfWork, *, principal: Principal | None, query: str, page_size: int = 0,
                        page_token: str = "") -> Page[Application]:
    """Search by application number or plate number (PQ-2)."""
    require_applicant(principal)
    if not query.strip():
        raise QueryRequired(field="query")
    return list_applications(uow, principal=principal, page_size=page_size, page_token=page_token,
                             query=query)


@dataclass
class StepInput:
    """The steps to save (only those named by the update mask are not None)."""

    cargo: vo.Cargo | None = None
    vehicles: list[vo.Vehicle] | None = None
    overall: vo.Overall | None = None
    passage: vo.Passage | None = None
    agent: vo.Agent | None = None
    materials: list[vo.Material] | None = None

    @classmethod
    def from_mask(cls, paths: list[str], values: Mapping[str, Any]) -> StepInput:
        steps = set()
        for path in paths:
            path = path.removeprefix("application.")
            head = path.split(".", 1)[0].split("[", 1)[0]
            if head not in st.STEPS:
                raise InvalidUpdateMask(field="update_mask", metadata={"path": path})
            steps.add(head)
        if not steps:
            raise InvalidUpdateMask(field="update_mask")
        return cls(**{s: values.get(s) if values.get(s) is not None else _empty(s) for s in steps})

    def is_empty(self) -> bool:
        return all(getattr(self, s) is None for s in st.STEPS)


def _empty(step: str) -> Any:
    return {"cargo": vo.Cargo, "overall": vo.Overall, "passage": vo.Passage, "agent": vo.Agent}.get(
        step, list)()


def _rules(now: dt.datetime) -> RuleSet:
    return rule_set_for(today_of(now))


def _reclassify(app: Application, rules: RuleSet) -> Verdict | None:
    vehicles, overall = app.vehicle_values, app.overall_value
    if not vehicles or overall is None:
        app.put_classification(None, 0)
        return None
    verdict = classify(rules, vehicles, overall)
    app.put_classification(verdict.to_json(), verdict.permit_class if verdict.over_limit else 0)
    return verdict


def _apply_steps(uow: UnitOfWork, app: Application, steps: StepInput, *, rules: RuleSet,
                 today: dt.date, route_validator: RouteValidator | None) -> list[FieldViolation]:
    """Check and store each named step in form order; collect every field error."""
    violations: list[FieldViolation] = []
    if steps.cargo is not None:
        cargo, v = st.check_cargo(steps.cargo, rules)
        violations += v
        if not v:
            app.put_cargo(cargo)
    if steps.vehicles is not None:
        plates = [normalize_plate(x.plate_number) for x in steps.vehicles]
        known = uow.fleet.vehicles_by_plates(app.party, plates)
        vehicles, v = st.check_vehicles(steps.vehicles, known, rules)
        violations += v
        if not v:
            app.put_vehicles(vehicles)
    if steps.overall is not None:
        overall, v = st.check_overall(steps.overall, app.vehicle_values, app.cargo_value, rules)
        violations += v
        if not v:
            app.put_overall(overall)
    if steps.passage is not None:
        passage, v = st.check_passage(steps.passage, today, rules)
        if not v and route_validator is not None:
            check = route_validator.validate(passage)
            v += check.errors
            if not passage.route_confirmed:
                v += check.warnings
        violations += v
        if not v:
            app.put_passage(passage)
    if steps.agent is not None:
        resolved = None
        if steps.agent.agent_ref:
            row = _agent_by_ref(uow, app.party, steps.agent.agent_ref)
            resolved = row.to_value() if row else None
        agent, v = st.check_agent(steps.agent, resolved, app.agent_value)
        violations += v
        if not v:
            app.put_agent(agent)
    if steps.materials is not None:
        materials, v = st.check_materials(steps.materials)
        violations += v
        if not v:
            app.put_materials(materials)
    if steps.vehicles is not None or steps.overall is not None:
        _reclassify(app, rules)
    return violations


def _agent_by_ref(uow: UnitOfWork, party: str, ref: str) -> FleetAgent | None:
    if not ref.startswith("agents/"):
        return None
    row = uow.fleet.get_agent(ref[len("agents/"):])
    return row if row is not None and row.party == party else None


def update_application(uow: UnitOfWork, *, principal: Principal | None, name: str, etag: str,
                       steps: StepInput, now: dt.datetime | None = None,
                       route_validator: RouteValidator | None = None) -> Application:
    """Save one or more steps of a draft with optimistic concurrency (AP-2..AP-9, PQ-4)."""
    p = require_applicant(principal)
    now = now or utcnow()
    if steps.is_empty():
        raise InvalidUpdateMask(field="update_mask")
    with uow:
        app = _own(uow, p, name, for_update=True)
        app.ensure_editable()
        app.check_etag(etag)
        violations = _apply_steps(uow, app, steps, rules=_rules(now), today=today_of(now),
                                  route_validator=route_validator)
        if violations:
            raise InvalidField(violations=violations)
        if steps.passage is not None or steps.vehicles is not None:
            # AP-6 on choosing dates: warn now; the binding check runs (locked) on submit.
            _raise_conflicts(uow, app, today_of(now))
        app.touch()
        uow.commit()
        return app


# ---- AP-6: duplicate check ---------------------------------------------------------

@dataclass(frozen=True)
class Conflict:
    """A vehicle whose two places are taken on some day of the chosen period, as the
    caller may see it (AP-6): the rule counts every party's applications, but only the
    caller's own are named, so it can withdraw or abolish one; another party's
    applications are a bare count, naming neither them nor their dates."""

    plate_number: str
    applications: list[Application]  # the caller's own
    other_party_count: int = 0  # other parties' applications, counted only


def find_conflicts(uow: UnitOfWork, *, party: str, app_id: str, plates: list[str], start: dt.date,
                   end: dt.date, today: dt.date) -> list[Conflict]:
    """For each plate, the other applications that already fill its two places on
    some day of [start, end] (AP-6: at most two overlapping applications per vehicle),
    as seen by ``party``."""
    by_plate: dict[str, list[tuple[Application, dt.date, dt.date]]] = {}
    for plate, other in uow.applications.occupying(plates, start, end, exclude=app_id):
        if other.occupies_vehicle(today) and other.period_start and other.period_end:
            by_plate.setdefault(plate, []).append((other, other.period_start, other.period_end))
    # Pending vehicle changes and extensions take their time too (PQ-10, PQ-11).
    for plate, other, s, e in uow.applications.holding(plates, start, end, exclude=app_id):
        if other.occupies_vehicle(today):
            by_plate.setdefault(plate, []).append((other, s, e))
    out = []
    for plate in plates:
        worst = _busiest_day(by_plate.get(plate, []), start, end)
        if len(worst) >= MAX_OVERLAPPING:
            own = [a for a in worst if a.party == party]
            out.append(Conflict(plate, own, other_party_count=len(worst) - len(own)))
    return out


def _busiest_day(taken: list[tuple[Application, dt.date, dt.date]], start: dt.date,
                 end: dt.date) -> list[Application]:
    """The applications covering the busiest day of [start, end]; that day is the start
    of the window or of one of the periods (an application's own period or a hold)."""
    worst: list[Application] = []
    if len({a.id for a, _, _ in taken}) < MAX_OVERLAPPING:
        return worst
    for t in {start, *(max(start, s) for _, s, _ in taken)}:
        if t > end:
            continue
        covering = list({a.id: a for a, s, e in taken if s <= t <= e}.values())
        if len(covering) > len(worst):
            worst = covering
    return worst


def _conflict_detail(c: Conflict) -> str:
    """What a plate's places are taken by: the caller's applications with their periods,
    and how many of other parties' (never which)."""
    if not c.applications:
        return "均为其他申请人的申请"
    own = "、".join(f"{a.number}（{a.period_start:%Y-%m-%d}至{a.period_end:%Y-%m-%d}）" for a in c.applications)
    if not c.other_party_count:
        return f"您的申请 {own}"
    return f"您的申请 {own}，以及 {c.other_party_count} 件其他申请人的申请"


def conflict_message(conflicts: list[Conflict]) -> str:
    """The Chinese time-conflict notice; plates held by the same applications share a sentence."""
    groups: dict[tuple[tuple[str, ...], int], list[Conflict]] = {}
    for c in conflicts:
        groups.setdefault((tuple(a.id for a in c.applications), c.other_party_count), []).append(c)
    held = "；".join(
        f"车辆{'、'.join(c.plate_number for c in cs)}在所选通行期内已有 "
        f"{len(cs[0].applications) + cs[0].other_party_count} 件申请：{_conflict_detail(cs[0])}"
        for cs in groups.values())
    if any(c.applications for c in conflicts):
        advice = "请更换车辆或调整通行日期，或撤回/废止您的相关申请后重新申请。"
    else:
        advice = "请更换车辆或调整通行日期后重新申请。"
    return f"{held}。时间发生冲突，{advice}"


def conflict_error(conflicts: list[Conflict]) -> VehicleTimeConflict:
    """VEHICLE_TIME_CONFLICT naming only the caller's own applications; ``other_party_counts``
    gives, plate by plate in the order of ``plate_numbers``, how many of other parties' hold it."""
    names = list(dict.fromkeys(a.name for c in conflicts for a in c.applications))
    numbers = list(dict.fromkeys(a.number for c in conflicts for a in c.applications))
    return VehicleTimeConflict(conflict_message(conflicts), field="passage.start_date", metadata={
        "plate_numbers": ",".join(c.plate_number for c in conflicts), "applications": ",".join(names),
        "application_numbers": ",".join(numbers),
        "other_party_counts": ",".join(str(c.other_party_count) for c in conflicts)})


def _raise_conflicts(uow: UnitOfWork, app: Application, today: dt.date) -> None:
    if not app.plates or app.period_start is None or app.period_end is None:
        return
    conflicts = find_conflicts(uow, party=app.party, app_id=app.id, plates=[x.plate_number for x in app.plates],
                               start=app.period_start, end=app.period_end, today=today)
    if conflicts:
        raise conflict_error(conflicts)


def check_vehicle_schedule(uow: UnitOfWork, *, principal: Principal | None, name: str,
                           start: dt.date | None = None, end: dt.date | None = None,
                           plates: list[str] | None = None, now: dt.datetime | None = None) -> list[Conflict]:
    """The duplicate check run on choosing dates (AP-6), without saving."""
    p = require_applicant(principal)
    now = now or utcnow()
    with uow:
        app = _own(uow, p, name)
        s, e = start or app.period_start, end or app.period_end
        if s is None or e is None:
            raise InvalidField(violations=[FieldViolation("start_date", "请选择通行日期。", "REQUIRED")])
        if e < s:
            raise InvalidField(violations=[FieldViolation("end_date", "通行截止日期不能早于起始日期。",
                                                          "END_BEFORE_START")])
        ps = [normalize_plate(x) for x in plates] if plates else [x.plate_number for x in app.plates]
        return find_conflicts(uow, party=app.party, app_id=app.id, plates=ps, start=s, end=e,
                              today=today_of(now))


# ---- submit ------------------------------------------------------------------------

_STEP_LABELS = {"cargo": "货物信息", "vehicles": "车辆信息", "overall": "车货总体信息",
                "passage": "通行信息", "agent": "经办人信息"}


def _materials_of(app: Application, rules: RuleSet) -> list[Requirement]:
    return required_materials(rules, MaterialInputs(
        permit_class=app.permit_class, passage=app.passage_value, vehicles=app.vehicle_values,
        agent=app.agent_value, materials=app.material_values))


def submit_application(uow: UnitOfWork, *, principal: Principal | None, name: str, etag: str = "",
                       request_id: str = "", steps: StepInput | None = None,
                       now: dt.datetime | None = None,
                       route_validator: RouteValidator | None = None,
                       document_checker: DocumentChecker | None = None) -> Application:
    """Submit a draft, or a corrected returned application with its changes (AP-10, PQ-4, PQ-6).

    Idempotent by ``request_id``; runs every check (steps, classification,
    materials, AP-6 under a per-vehicle lock) and queues ApprovalService.CreateCase.
    """
    p = require_applicant(principal)
    now = now or utcnow()
    today = today_of(now)
    rules = _rules(now)
    with uow:
        app = _own(uow, p, name, for_update=True)
        if request_id and app.submit_request_id == request_id and app.status not in (State.DRAFT, State.RETURNED):
            return app  # a client retry of a submit that already succeeded
        app.ensure_correctable()
        app.check_etag(etag)
        if steps is not None and not steps.is_empty():
            violations = _apply_steps(uow, app, steps, rules=rules, today=today, route_validator=route_validator)
            if violations:
                raise InvalidField(violations=violations)
        missing = app.missing_steps()
        if missing:
            raise ApplicationIncomplete(
                "申请信息尚未填写完整：" + "、".join(_STEP_LABELS[m] for m in missing) + "。",
                violations=[FieldViolation(m, f"请填写{_STEP_LABELS[m]}。", "STEP_MISSING") for m in missing],
                metadata={"missing_steps": ",".join(missing)})
        # Re-check what time or other steps may have invalidated since the step was saved.
        violations = []
        cargo = app.cargo_value
        _, v = st.check_overall(app.overall_value or vo.Overall(), app.vehicle_values, cargo, rules)
        violations += v
        passage = app.passage_value
        assert passage is not None
        _, v = st.check_passage(passage, today, rules)
        violations += v
        if violations:
            raise InvalidField(violations=violations)
        verdict = _reclassify(app, rules)
        assert verdict is not None
        if not verdict.over_limit:
            raise NotOverLimit(verdict.message, metadata={"rule": verdict.rules[0].rule,
                                                          "rule_set": verdict.rule_set})
        if verdict.refused:
            raise OverLimitRefused(verdict.message, metadata={"rule": verdict.rules[0].rule,
                                                              "rule_set": verdict.rule_set})
        lacking = [r for r in _materials_of(app, rules) if r.missing]
        if lacking:
            raise MaterialsMissing(
                "还缺少以下材料：" + "、".join(f"{r.label}（需 {r.required} 份，已上传 {r.provided} 份）"
                                       for r in lacking) + "。",
                violations=[FieldViolation(r.field, f"请上传{r.label}：需 {r.required} 份，已上传 {r.provided} 份。",
                                           "MATERIAL_MISSING") for r in lacking],
                metadata={"missing": ",".join(r.kind for r in lacking)})
        route = (route_validator.validate(passage) if route_validator else local_route_check(passage))
        if route.errors:
            raise InvalidField(violations=route.errors)
        if document_checker is not None:
            bad = document_checker.check(document_refs(app))
            if bad:
                raise InvalidField("所附材料有误，请重新上传。", violations=bad)
        provinces = route.provinces or passage.route_provinces()
        app.route_provinces = provinces
        # AP-6, binding: lock the vehicles, then count (holds under concurrent submits).
        plates = [x.plate_number for x in app.plates]
        uow.applications.lock_vehicles(plates)
        _raise_conflicts(uow, app, today)
        change = app.submit(actor=p.subject, request_id=request_id, now=now)
        uow.applications.add_change(change)
        _remember_fleet(uow, app)
        uow.record_event(TOPIC_CREATE_CASE, create_case_payload(app))
        uow.commit()
        log.info("application_submitted", application=app.name, submission=app.submission,
                 permit_class=app.permit_class)
        return app


def _remember_fleet(uow: UnitOfWork, app: Application) -> None:
    """AP-4/AP-8: vehicles and agents of this application are suggested next time."""
    for v in app.vehicle_values:
        if v.source == "MANUAL":
            uow.fleet.upsert_vehicle(app.party, v, source="HISTORY")
    a = app.agent_value
    if a is not None and a.source == "MANUAL" and a.id_number:
        uow.fleet.upsert_agent(app.party, a, source="HISTORY")


def create_case_payload(app: Application) -> dict[str, Any]:
    """The CreateCase request the relay delivers (documents: every referenced document;
    vehicles: each vehicle's plate, fleet vehicle and PQ-10 figures)."""
    passage = app.passage_value or vo.Passage()
    vehicles = app.vehicle_values
    agent = app.agent_value
    docs: list[str] = [m.document for m in app.material_values]
    for v in vehicles:
        docs += v.licence_documents
    if agent:
        docs += agent.id_card_documents + ([agent.power_of_attorney_document] if agent.power_of_attorney_document else [])
    return {
        "application": app.name, "application_number": app.number, "applicant": app.party,
        "origin_province": passage.origin_province, "destination_province": passage.destination_province,
        "route_provinces": list(app.route_provinces or passage.route_provinces()),
        "permit_class": app.permit_class, "plate_numbers": [v.plate_number for v in vehicles],
        "start_date": passage.start_date.isoformat() if passage.start_date else "",
        "end_date": passage.end_date.isoformat() if passage.end_date else "",
        "multi_trip": passage.multi_trip, "submission": app.submission,
        "documents": list(dict.fromkeys(d for d in docs if d)),
        "route": [{"province": r.province, "roads": list(r.roads)} for r in passage.route],
        # The figures PQ-10 compares when a vehicle is changed after submission.
        "vehicles": [{"plate_number": v.plate_number, "fleet_vehicle": v.fleet_vehicle,
                      "curb_mass_kg": v.curb_mass_kg, "axle_count": v.axle_count,
                      "wheelbase_mm": v.wheelbase_mm, "tyre_count": v.tyre_count}
                     for v in vehicles],
    }


# ---- management --------------------------------------------------------------------

def delete_application(uow: UnitOfWork, *, principal: Principal | None, name: str, etag: str = "",
                       now: dt.datetime | None = None) -> None:
    """Delete a draft for good (PQ-4)."""
    p = require_applicant(principal)
    now = now or utcnow()
    with uow:
        app = _own(uow, p, name, for_update=True)
        if app.status != State.DRAFT:
            raise ApplicationNotDraft()
        app.check_etag(etag)
        uow.applications.add_change(app.audit(State.DRAFT, "DELETED", actor=p.subject, reason="删除草稿", now=now))
        uow.applications.remove(app)
        uow.commit()


def clone_application(uow: UnitOfWork, *, principal: Principal | None, name: str, request_id: str = "",
                      now: dt.datetime | None = None) -> Application:
    """"再来一件": a new draft prefilled from any own application, travel dates cleared (PQ-3)."""
    p = require_applicant(principal)
    now = now or utcnow()
    with uow:
        if request_id:
            existing = uow.applications.find_by_create_request(party_of(p), request_id)
            if existing is not None:
                return existing
        src = _own(uow, p, name)
        app = Application.new(id=_new_number(uow, now), party=src.party, created_by=p.subject, now=now,
                              create_request_id=request_id or None, source_application=src.name)
        app.cargo = src.cargo
        app.overall = src.overall
        app.agent = src.agent
        app.materials = src.materials
        app.put_vehicles(src.vehicle_values)
        passage = src.passage_value
        if passage is not None:
            app.put_passage(replace(passage, start_date=None, end_date=None))
        app.put_classification(src.classification, src.permit_class)
        uow.applications.add(app)
        uow.applications.add_change(app.audit(None, State.DRAFT, actor=p.subject,
                                              reason=f"再来一件（来自 {src.number}）", now=now))
        uow.commit()
        return app


def withdraw_application(uow: UnitOfWork, *, principal: Principal | None, name: str, etag: str = "",
                         reason: str = "", now: dt.datetime | None = None) -> Application:
    """Withdraw a submitted or processing application, void for good (PQ-5, PQ-8);
    the approval context is told through the outbox (CancelCase)."""
    p = require_applicant(principal)
    now = now or utcnow()
    with uow:
        app = _own(uow, p, name, for_update=True)
        if app.status == State.WITHDRAWN:
            return app  # a retry of a withdrawal that succeeded
        app.check_etag(etag)
        uow.applications.add_change(app.withdraw(actor=p.subject, reason=reason.strip(), now=now))
        uow.record_event(TOPIC_CANCEL_CASE, {"application": app.name, "reason": reason.strip() or "申请人撤销"})
        uow.commit()
        return app


def list_state_changes(uow: UnitOfWork, *, principal: Principal | None, name: str, page_size: int = 0,
                       page_token: str = "") -> Page[StateChange]:
    """The audit trail of one application, oldest first: who, when, from, to, why.
    The default page holds a whole trail of an ordinary application."""
    p = _reader(principal)
    req = PageRequest.of(page_size=page_size, page_token=page_token, scope=scope_of("state_changes", name),
                         default=100, maximum=500)
    with uow:
        app = _own(uow, p, name)
        return req.cut(uow.applications.changes(app.id, offset=req.offset, limit=req.limit))


def classify_application(uow: UnitOfWork, *, principal: Principal | None, name: str,
                         now: dt.datetime | None = None) -> Verdict:
    """Classify the stored overall data (AP-5): not over-limit, class I/II/III, refused."""
    p = require_applicant(principal)
    now = now or utcnow()
    with uow:
        app = _own(uow, p, name)
        vehicles, overall = app.vehicle_values, app.overall_value
        if not vehicles or overall is None:
            raise OverallMissing()
        return classify(_rules(now), vehicles, overall)


def get_required_materials(uow: UnitOfWork, *, principal: Principal | None, name: str,
                           now: dt.datetime | None = None) -> list[Requirement]:
    """The materials the data requires, with how many are attached (AP-9)."""
    p = require_applicant(principal)
    now = now or utcnow()
    with uow:
        return _materials_of(_own(uow, p, name), _rules(now))


def materials_for(app: Application, now: dt.datetime | None = None) -> list[Requirement]:
    return _materials_of(app, _rules(now or utcnow()))


# ---- fleet and agents --------------------------------------------------------------

def suggest_vehicles(uow: UnitOfWork, *, principal: Principal | None, plate_prefix: str = "",
                     page_size: int = 0, page_token: str = "") -> Page[FleetVehicle]:
    """Vehicles of the PC side, then of earlier applications, matching the typed plate (AP-4)."""
    p = require_applicant(principal)
    party, prefix = party_of(p), normalize_plate(plate_prefix)
    req = PageRequest.of(page_size=page_size, page_token=page_token, scope=scope_of("vehicles", party, prefix),
                         default=10, maximum=50)
    with uow:
        return req.cut(uow.fleet.suggest_vehicles(party, prefix, offset=req.offset, limit=req.limit))


def suggest_agents(uow: UnitOfWork, *, principal: Principal | None, name_prefix: str = "",
                   page_size: int = 0, page_token: str = "") -> Page[FleetAgent]:
    """Agents of the PC side, then of earlier applications, matching the typed name (AP-8)."""
    p = require_applicant(principal)
    party, prefix = party_of(p), name_prefix.strip()
    req = PageRequest.of(page_size=page_size, page_token=page_token, scope=scope_of("agents", party, prefix),
                         default=10, maximum=50)
    with uow:
        return req.cut(uow.fleet.suggest_agents(party, prefix, offset=req.offset, limit=req.limit))


def get_vehicle(uow: UnitOfWork, *, principal: Principal | None, name: str) -> FleetVehicle:
    """One fleet vehicle: the caller's own, or any for a peer service (PQ-10)."""
    p = _reader(principal)
    if not name.startswith("vehicles/"):
        raise VehicleNotFound(metadata={"name": name})
    with uow:
        row = uow.fleet.get_vehicle(name[len("vehicles/"):])
        if row is None or (not p.is_service and row.party != p.party):
            raise VehicleNotFound(metadata={"name": name})
        return row


def validate_plate_number(plate_number: str) -> PlateCheck:
    """Ordinary, new-energy or trailer plate (AP-4)."""
    return check_plate(plate_number)


# ---- review events (from the approval context) -------------------------------------

@dataclass(frozen=True)
class ReviewEvent:
    """One event of RecordReviewEvent; ``kind`` without the REVIEW_EVENT_KIND_ prefix."""

    event_id: str
    application: str
    kind: str
    province: str = ""
    reason: str = ""
    officer: str = ""
    occur_time: dt.datetime | None = None
    permit: str = ""
    permit_number: str = ""
    permit_start_date: dt.date | None = None
    permit_end_date: dt.date | None = None
    submission: int = 0
    old_plate_number: str = ""
    new_plate_number: str = ""
    route: list[vo.RouteRow] = field(default_factory=list)
    provinces: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)


EVENT_KINDS = ("CASE_ACCEPTED", "CASE_RETURNED", "PROVINCE_APPROVED", "PROVINCE_DENIED", "PROVINCE_RETURNED",
               "ROUTE_ADJUSTMENT_PROPOSED", "CASE_DENIED", "PERMIT_ISSUED", "PERMIT_EXTENDED",
               "PERMIT_ABOLISHED", "VEHICLE_CHANGED", "CASE_WITHDRAWN", "ROUTE_ADJUSTMENT_ACCEPTED")

_EVENT_LABELS = {
    "CASE_ACCEPTED": "起运地省份受理", "CASE_RETURNED": "起运地省份退回补正", "PROVINCE_APPROVED": "省份同意",
    "PROVINCE_DENIED": "省份不予许可", "PROVINCE_RETURNED": "省份退回补正",
    "ROUTE_ADJUSTMENT_PROPOSED": "省份建议调整路线", "CASE_DENIED": "不予许可", "PERMIT_ISSUED": "发证",
    "PERMIT_EXTENDED": "许可延期", "PERMIT_ABOLISHED": "许可废止", "VEHICLE_CHANGED": "车辆变更",
    "CASE_WITHDRAWN": "撤销", "ROUTE_ADJUSTMENT_ACCEPTED": "采纳建议路线",
}


def record_review_event(uow: UnitOfWork, *, principal: Principal | None, event: ReviewEvent,
                        now: dt.datetime | None = None) -> bool:
    """Apply a review event from the approval context (idempotent by event id).

    Returns False for a repeat delivery, an event about an older submission or
    one that does not fit the state (kept in the trail, never an error that
    would block the sender's ordered queue). The application service never
    decides a review outcome itself.
    """
    p = require_service(principal)
    now = now or utcnow()
    if not event.event_id:
        raise InvalidEvent("缺少事件编号。", field="event_id")
    if event.kind not in EVENT_KINDS:
        raise InvalidEvent("未知的审批事件类型。", field="kind")
    if event.kind.startswith("PROVINCE_") or event.kind == "ROUTE_ADJUSTMENT_PROPOSED":
        if not event.province:
            raise InvalidEvent("缺少省份。", field="province")
    if event.kind == "PERMIT_ISSUED" and not (event.permit_number and event.permit_start_date
                                              and event.permit_end_date):
        raise InvalidEvent("发证事件缺少许可证编号或有效期。", field="permit_number")
    with uow:
        app = _own(uow, p, event.application, for_update=True)
        if not uow.first_delivery(event.event_id, f"review.{event.kind}"):
            return False
        actor = event.officer or p.subject
        when = event.occur_time or now
        why = event.reason or _EVENT_LABELS[event.kind]
        if event.submission and app.submission and event.submission < app.submission:
            # An event about an earlier submission (before a resubmission): keep it in the trail only.
            uow.applications.add_change(app.audit(app.status, app.status, actor=actor,
                                                  reason=f"忽略旧提交的事件：{why}", event_id=event.event_id, now=when))
            uow.commit()
            return False
        if not _fits(app.status, event.kind):
            if event.kind in _PROGRESS_ONLY and app.status in (State.DENIED, State.RETURNED, State.ISSUED):
                # A province still decides after the outcome: show its decision, keep the state.
                _decide(app, event, _PROGRESS_ONLY[event.kind], when)
                uow.applications.add_change(app.audit(app.status, app.status, actor=actor,
                                                      reason=f"{event.province} {why}", event_id=event.event_id,
                                                      now=when))
                app.touch()
                uow.commit()
                return True
            # Never block the sender's ordered queue with an error it cannot fix:
            # keep the event in the trail and ignore it (e.g. a withdrawal raced an acceptance).
            uow.applications.add_change(app.audit(app.status, app.status, actor=actor,
                                                  reason=f"与当前状态（{app.state_label}）不符，忽略：{why}",
                                                  event_id=event.event_id, now=when))
            uow.commit()
            log.warning("review_event_ignored", application=app.name, kind=event.kind, state=app.state)
            return False
        _apply_event(uow, app, event, actor=actor, when=when, why=why)
        uow.applications.release_covered_holds(app)  # a vehicle change or extension took effect
        app.touch()
        uow.commit()
        log.info("review_event_recorded", application=app.name, kind=event.kind, state=app.state)
        return True


def _move(uow: UnitOfWork, app: Application, to: State, *, actor: str, why: str, event: ReviewEvent,
          when: dt.datetime) -> None:
    if app.status == to:
        uow.applications.add_change(app.audit(to, to, actor=actor, reason=why, event_id=event.event_id, now=when))
        return
    uow.applications.add_change(app.transition(to, actor=actor, reason=why, event_id=event.event_id, now=when))


def _apply_event(uow: UnitOfWork, app: Application, e: ReviewEvent, *, actor: str, when: dt.datetime,
                 why: str) -> None:
    kind = e.kind
    passage = app.passage_value or vo.Passage()
    if kind == "CASE_ACCEPTED":
        _move(uow, app, State.PROCESSING, actor=actor, why=why, event=e, when=when)
        app.start_review(origin=e.province or passage.origin_province,
                         provinces=list(app.route_provinces or passage.route_provinces()), now=when)
    elif kind in ("CASE_RETURNED", "PROVINCE_RETURNED"):
        if kind == "PROVINCE_RETURNED":
            _decide(app, e, "RETURNED", when)
        app.return_reason = e.reason
        _move(uow, app, State.RETURNED, actor=actor, why=why, event=e, when=when)
    elif kind == "PROVINCE_APPROVED":
        _decide(app, e, "APPROVED", when)
        uow.applications.add_change(app.audit(app.status, app.status, actor=actor,
                                              reason=f"{e.province} {why}", event_id=e.event_id, now=when))
    elif kind == "ROUTE_ADJUSTMENT_PROPOSED":
        row = _decide(app, e, "ROUTE_ADJUSTMENT", when)
        row.suggested_route = [{"province": r.province, "roads": list(r.roads)} for r in e.route]
        uow.applications.add_change(app.audit(app.status, app.status, actor=actor,
                                              reason=f"{e.province} {why}", event_id=e.event_id, now=when))
    elif kind == "ROUTE_ADJUSTMENT_ACCEPTED":
        if e.route:
            app.put_passage(replace(passage, route=list(e.route)))
        if e.documents:
            # PQ-7: a class III application re-uploads its escort plan with the new route.
            kept = [m for m in app.material_values if m.kind != "ESCORT_PLAN"]
            app.put_materials(kept + [vo.Material("ESCORT_PLAN", d) for d in e.documents])
        if e.province:
            row = app.progress_for(e.province)
            row.decision, row.reason, row.decide_time = "PENDING", "", when
        uow.applications.add_change(app.audit(app.status, app.status, actor=actor, reason=why,
                                              event_id=e.event_id, now=when))
    elif kind in ("PROVINCE_DENIED", "CASE_DENIED"):
        if kind == "PROVINCE_DENIED":
            _decide(app, e, "DENIED", when)
        app.return_reason = e.reason
        _move(uow, app, State.DENIED, actor=actor, why=why, event=e, when=when)
    elif kind == "PERMIT_ISSUED":
        app.permit, app.permit_number = e.permit, e.permit_number
        app.permit_start_date, app.permit_end_date = e.permit_start_date, e.permit_end_date
        app.permit_state = "VALID"
        app.period_start = min(filter(None, [app.period_start, e.permit_start_date]))
        app.period_end = max(filter(None, [app.period_end, e.permit_end_date]))
        _move(uow, app, State.ISSUED, actor=actor, why=why, event=e, when=when)
        uow.record_event(TOPIC_APPROVED_ROUTE, {
            "applicant": app.party, "application": app.name,
            "origin_province": passage.origin_province, "destination_province": passage.destination_province,
            "rows": [{"province": r.province, "roads": list(r.roads)} for r in passage.route],
            "approve_time": when.isoformat(),
        })
    elif kind == "PERMIT_EXTENDED":
        if e.permit_end_date:
            app.permit_end_date = e.permit_end_date
            app.period_end = max(filter(None, [app.period_end, e.permit_end_date]))
        app.permit_state = "EXTENDED"
        uow.applications.add_change(app.audit(app.status, app.status, actor=actor, reason=why,
                                              event_id=e.event_id, now=when))
    elif kind == "PERMIT_ABOLISHED":
        app.permit_state = "ABOLISHED"  # AP-6: an abolished permit no longer occupies the vehicle
        uow.applications.add_change(app.audit(app.status, app.status, actor=actor, reason=why,
                                              event_id=e.event_id, now=when))
    elif kind == "VEHICLE_CHANGED":
        _change_vehicle(uow, app, e)
        uow.applications.add_change(app.audit(app.status, app.status, actor=actor,
                                              reason=f"{why}：{e.old_plate_number} → {e.new_plate_number}",
                                              event_id=e.event_id, now=when))
    elif kind == "CASE_WITHDRAWN":
        _move(uow, app, State.WITHDRAWN, actor=actor, why=why, event=e, when=when)


# The states in which each review event applies.
_EVENT_STATES: dict[str, tuple[State, ...]] = {
    "CASE_ACCEPTED": (State.SUBMITTED,),
    "CASE_RETURNED": (State.SUBMITTED, State.PROCESSING),
    "PROVINCE_APPROVED": (State.PROCESSING,),
    "PROVINCE_DENIED": (State.PROCESSING, State.DENIED),
    "PROVINCE_RETURNED": (State.PROCESSING, State.RETURNED),
    "ROUTE_ADJUSTMENT_PROPOSED": (State.PROCESSING,),
    "ROUTE_ADJUSTMENT_ACCEPTED": (State.PROCESSING,),
    "CASE_DENIED": (State.SUBMITTED, State.PROCESSING, State.DENIED),
    "PERMIT_ISSUED": (State.PROCESSING,),
    "PERMIT_EXTENDED": (State.ISSUED,),
    "PERMIT_ABOLISHED": (State.ISSUED,),
    "VEHICLE_CHANGED": (State.PROCESSING,),
    "CASE_WITHDRAWN": (State.SUBMITTED, State.PROCESSING, State.RETURNED, State.WITHDRAWN),
}
_PROGRESS_ONLY = {"PROVINCE_APPROVED": "APPROVED", "PROVINCE_DENIED": "DENIED", "PROVINCE_RETURNED": "RETURNED",
                  "ROUTE_ADJUSTMENT_PROPOSED": "ROUTE_ADJUSTMENT"}


def _fits(state: State, kind: str) -> bool:
    return state in _EVENT_STATES[kind]


def _decide(app: Application, e: ReviewEvent, decision: str, when: dt.datetime) -> Any:
    row = app.progress_for(e.province)
    row.decision, row.reason, row.officer, row.decide_time = decision, e.reason, e.officer, when
    return row


def _change_vehicle(uow: UnitOfWork, app: Application, e: ReviewEvent) -> None:
    """PQ-10: replace a plate by a fleet vehicle of the applicant (approval checked equivalence)."""
    old, new = normalize_plate(e.old_plate_number), normalize_plate(e.new_plate_number)
    vehicles = app.vehicle_values
    idx = next((i for i, v in enumerate(vehicles) if v.plate_number == old), None)
    if idx is None:
        raise InvalidEvent("该车辆不在申请中。", field="old_plate_number")
    known = uow.fleet.vehicles_by_plates(app.party, [new])
    if new not in known:
        raise InvalidEvent("变更后的车辆不在申请人的车辆库中。", field="new_plate_number")
    vehicles[idx] = known[new]
    app.put_vehicles(vehicles)
    agent = app.agent_value
    if agent is not None and e.documents:
        # PQ-10: a vehicle change comes with a new power of attorney.
        app.put_agent(replace(agent, power_of_attorney_document=e.documents[0]))


# ---- legacy import -----------------------------------------------------------------

@dataclass
class ImportCounts:
    parties: int = 0
    vehicles: int = 0
    agents: int = 0
    applications: int = 0


def import_legacy_records(uow: UnitOfWork, *, export: Mapping[str, Any], principal: Principal | None = None,
                          now: dt.datetime | None = None,
                          check_caller: bool = True) -> ImportCounts:
    """Import the PC system's export: each account's vehicles, agents and past
    applications under "parties/" + legacy_id (ID-3). Idempotent."""
    from permit_application import legacy

    if check_caller:
        if principal is None or not (principal.is_service or principal.has_role("admin")):
            raise ServiceOnly()
    now = now or utcnow()
    accounts = legacy.parse_export(export)
    counts = ImportCounts()
    with uow:
        for acc in accounts:
            counts.parties += 1
            for v in acc.vehicles:
                if uow.fleet.upsert_vehicle(acc.party, v, source="FLEET"):
                    counts.vehicles += 1
            for a in acc.agents:
                if uow.fleet.upsert_agent(acc.party, a, source="FLEET"):
                    counts.agents += 1
            for past in acc.applications:
                if uow.applications.exists(past.id):
                    continue
                app = legacy.build_application(past, party=acc.party, now=now)
                uow.applications.add(app)
                uow.applications.add_change(app.audit(None, app.status, actor="services/application",
                                                      reason="从电脑端系统导入", now=now))
                counts.applications += 1
            uow.flush()
        uow.commit()
    return counts

