"""二 提交: submitting a draft or a corrected returned application (AP-10, PQ-4, PQ-6);
every check again, then ApplicationSubmitted / ApplicationCorrected in the outbox.
"""

from __future__ import annotations

import datetime as dt

import structlog

from permit_application import published
from permit_application import steps as st
from permit_application import values as vo
from permit_application.access import (
    DocumentChecker,
    RouteValidator,
    UnitOfWork,
    document_refs,
    local_route_check,
    own_application,
    require_applicant,
    today_of,
)
from permit_application.drafts import StepInput, apply_steps, materials_of, reclassify, rules_at
from permit_application.errors import (
    ApplicationIncomplete,
    InvalidField,
    MaterialsMissing,
    NotOverLimit,
    OverLimitRefused,
)
from permit_application.models import (
    Application,
    State,
)
from permit_application.schedule import submission_overlaps
from permitkit.context import Principal
from permitkit.db import utcnow
from permitkit.errors import FieldViolation

log = structlog.get_logger()


_STEP_LABELS = {"cargo": "货物信息", "vehicles": "车辆信息", "overall": "车货总体信息",
                "passage": "通行信息", "agent": "经办人信息"}


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
    rules = rules_at(now)
    with uow:
        app = own_application(uow, p, name, for_update=True)
        if request_id and app.submit_request_id == request_id and app.status not in (State.DRAFT, State.RETURNED):
            return app  # a client retry of a submit that already succeeded
        app.ensure_correctable()
        app.check_etag(etag)
        if steps is not None and not steps.is_empty():
            violations = apply_steps(uow, app, steps, rules=rules, today=today, route_validator=route_validator)
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
        verdict = reclassify(app, rules)
        assert verdict is not None
        if not verdict.over_limit:
            raise NotOverLimit(verdict.message, metadata={"rule": verdict.rules[0].rule,
                                                          "rule_set": verdict.rule_set})
        if verdict.refused:
            raise OverLimitRefused(verdict.message, metadata={"rule": verdict.rules[0].rule,
                                                              "rule_set": verdict.rule_set})
        lacking = [r for r in materials_of(app, rules) if r.missing]
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
        plates = app.plate_numbers
        uow.applications.lock_vehicles(plates)
        overlaps = submission_overlaps(uow, app, today)
        returned = app.return_reason
        change = app.submit(actor=p.subject, request_id=request_id, now=now)
        uow.applications.add_change(change)
        _remember_fleet(uow, app)
        uow.record_event(published.application_submitted(
            app, actor=p.subject, return_reason=returned, verdict=verdict, overlaps=overlaps, now=now))
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
