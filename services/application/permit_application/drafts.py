"""二 新建申请: a new draft and its six steps, each saved with its checks (AP-1..AP-9);
classification and required materials; deleting a draft (PQ-4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from permit_application import steps as st
from permit_application import values as vo
from permit_application.access import (
    NOTICE_SECONDS,
    NUMBER_PREFIX,
    RouteValidator,
    UnitOfWork,
    own_application,
    own_draft,
    party_of,
    require_applicant,
    today_of,
)
from permit_application.errors import (
    ApplicationNotDraft,
    InvalidField,
    InvalidUpdateMask,
    NoticeNotRead,
    OverallMissing,
)
from permit_application.identifiers import normalize_plate
from permit_application.models import (
    Application,
    FleetAgent,
    State,
)
from permit_application.rules import (
    MaterialInputs,
    Requirement,
    RuleSet,
    Verdict,
    classify,
    required_materials,
    rule_set_for,
)
from permit_application.schedule import raise_conflicts
from permitkit.context import Principal
from permitkit.db import is_unique_violation, utcnow
from permitkit.errors import FieldViolation

log = structlog.get_logger()


def materials_of(app: Application, rules: RuleSet) -> list[Requirement]:
    return required_materials(rules, MaterialInputs(
        permit_class=app.permit_class, passage=app.passage_value, vehicles=app.vehicle_values,
        agent=app.agent_value, materials=app.material_values))


def new_number(uow: UnitOfWork, now: dt.datetime, *, probe: bool = True) -> str:
    """The day's next application number; with ``probe``, the next one no application
    holds yet (legacy imports may hold numbers of today), else the next one as counted."""
    day = today_of(now).strftime("%Y%m%d")
    for _ in range(100):
        number = f"{NUMBER_PREFIX}{day}{uow.applications.next_number(day):06d}"
        if not probe or not uow.applications.exists(number):
            return number
    raise RuntimeError("application number space exhausted")


def create_application(uow: UnitOfWork, *, principal: Principal | None,
                       notice_shown_time: dt.datetime | None, request_id: str = "",
                       now: dt.datetime | None = None) -> Application:
    """"我要申请": a new draft, refused until the permit notice was shown for 5 s (AP-1).

    The draft is inserted straight away: its number (the day's next) and its request id
    are unique in the database, so a retried request (its id already used by the party)
    or a number a legacy import holds fails the insert and is handled then, instead of
    being probed for before every creation."""
    p = require_applicant(principal)
    now = now or utcnow()
    if notice_shown_time is None or (now - notice_shown_time).total_seconds() < NOTICE_SECONDS:
        shown = (now - notice_shown_time).total_seconds() if notice_shown_time else 0.0
        raise NoticeNotRead(metadata={"required_seconds": str(NOTICE_SECONDS),
                                      "shown_seconds": f"{max(shown, 0):.1f}"})
    taken = False
    for _ in range(3):
        with uow:
            # The day's next number (on PostgreSQL taken in a transaction of its own: a
            # number left unused below stays a gap); once one was found taken, the numbers
            # are probed before use.
            app = Application.new(id=new_number(uow, now, probe=taken), party=party_of(p), created_by=p.subject,
                                  now=now, notice_shown_time=notice_shown_time,
                                  create_request_id=request_id or None)
            uow.applications.add(app)
            uow.applications.add_change(app.audit(None, State.DRAFT, actor=p.subject, reason="新建申请", now=now))
            try:
                uow.commit()
            except Exception as e:
                if not is_unique_violation(e):
                    raise
                uow.rollback()
                existing = (uow.applications.find_by_create_request(party_of(p), request_id)
                            if request_id else None)
                if existing is not None:
                    return existing  # a retry: the draft its first attempt made
                taken = True  # the number: legacy imports may hold numbers of today
                continue
            log.info("application_created", application=app.name, party=app.party)
            return app
    raise RuntimeError("no application number could be taken")


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


def rules_at(now: dt.datetime) -> RuleSet:
    return rule_set_for(today_of(now))


def reclassify(app: Application, rules: RuleSet) -> Verdict | None:
    vehicles, overall = app.vehicle_values, app.overall_value
    if not vehicles or overall is None:
        app.put_classification(None, 0)
        return None
    verdict = classify(rules, vehicles, overall)
    app.put_classification(verdict.to_json(), verdict.permit_class if verdict.over_limit else 0)
    return verdict


def apply_steps(uow: UnitOfWork, app: Application, steps: StepInput, *, rules: RuleSet,
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
        reclassify(app, rules)
    return violations


def _agent_by_ref(uow: UnitOfWork, party: str, ref: str) -> FleetAgent | None:
    if not ref.startswith("agents/"):
        return None
    row = uow.fleet.get_agent(ref[len("agents/"):])
    return row if row is not None and row.party == party and row.retire_time is None else None


def update_application(uow: UnitOfWork, *, principal: Principal | None, name: str, etag: str,
                       steps: StepInput, now: dt.datetime | None = None,
                       route_validator: RouteValidator | None = None) -> Application:
    """Save one or more steps of a draft with optimistic concurrency (AP-2..AP-9, PQ-4)."""
    p = require_applicant(principal)
    now = now or utcnow()
    if steps.is_empty():
        raise InvalidUpdateMask(field="update_mask")
    with uow:
        app = own_draft(uow, p, name)
        app.ensure_editable()
        app.check_etag(etag)
        violations = apply_steps(uow, app, steps, rules=rules_at(now), today=today_of(now),
                                  route_validator=route_validator)
        if violations:
            raise InvalidField(violations=violations)
        app.touch()  # before the query below flushes the steps: one UPDATE, not two
        if steps.passage is not None or steps.vehicles is not None:
            # AP-6 on choosing dates: warn now; the binding check runs (locked) on submit.
            raise_conflicts(uow, app, today_of(now))
        uow.commit()
        return app



def delete_application(uow: UnitOfWork, *, principal: Principal | None, name: str, etag: str = "",
                       now: dt.datetime | None = None) -> None:
    """Delete a draft for good (PQ-4)."""
    p = require_applicant(principal)
    now = now or utcnow()
    with uow:
        app = own_application(uow, p, name, for_update=True)
        if app.status != State.DRAFT:
            raise ApplicationNotDraft()
        app.check_etag(etag)
        uow.applications.add_change(app.audit(State.DRAFT, "DELETED", actor=p.subject, reason="删除草稿", now=now))
        uow.applications.remove(app)
        uow.commit()


def classify_application(uow: UnitOfWork, *, principal: Principal | None, name: str,
                         now: dt.datetime | None = None) -> Verdict:
    """Classify the stored overall data (AP-5): not over-limit, class I/II/III, refused."""
    p = require_applicant(principal)
    now = now or utcnow()
    with uow:
        app = own_application(uow, p, name)
        vehicles, overall = app.vehicle_values, app.overall_value
        if not vehicles or overall is None:
            raise OverallMissing()
        return classify(rules_at(now), vehicles, overall)


def get_required_materials(uow: UnitOfWork, *, principal: Principal | None, name: str,
                           now: dt.datetime | None = None) -> list[Requirement]:
    """The materials the data requires, with how many are attached (AP-9)."""
    p = require_applicant(principal)
    now = now or utcnow()
    with uow:
        return materials_of(own_application(uow, p, name), rules_at(now))


def materials_for(app: Application, now: dt.datetime | None = None) -> list[Requirement]:
    return materials_of(app, rules_at(now or utcnow()))
