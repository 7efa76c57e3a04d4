"""The case aggregate: a submitted application under review with its province reviews,
audit trail and vehicle changes (RV-1 to RV-4, PQ-6, PQ-7, PQ-10).

Entities do no I/O. Every transition appends an audit row (who, when, from, to, why)
and the facts it produces to ``.events``; the use case queues their event messages
in the outbox in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from permit_approval import errors
from permit_approval.models.base import (
    OPEN_CASE_STATES,
    Actor,
    Base,
    CaseState,
    ChangeState,
    Decision,
    EmitsEvents,
    EventKind,
    OutgoingEvent,
    ReviewState,
    local_date,
    new_id,
    normalise_route,
    route_part,
)
from permit_approval.workdays import (
    ACCEPTANCE_DAYS,
    FAST_TRACK_DAYS,
    DueDate,
    WorkingCalendar,
    review_days,
)
from permitkit.db import TimestampMixin
from permitkit.etags import etag_matches


def _partial_index(name: str, *columns: str, where: str) -> Index:
    """An index of the rows matching ``where`` only (PostgreSQL and SQLite alike)."""
    return Index(name, *columns, postgresql_where=text(where), sqlite_where=text(where))


class Case(EmitsEvents, TimestampMixin, Base):
    """A submitted application under review (RV-1 to RV-3)."""

    __tablename__ = "review_case"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application: Mapped[str] = mapped_column(String(100), unique=True)
    application_number: Mapped[str] = mapped_column(String(64), default="")
    applicant: Mapped[str] = mapped_column(String(100), index=True)
    origin_province: Mapped[str] = mapped_column(String(6), index=True)
    destination_province: Mapped[str] = mapped_column(String(6))
    route_provinces: Mapped[list[str]] = mapped_column(JSON, default=list)
    route: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    permit_class: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32), index=True)
    submission: Mapped[int] = mapped_column(Integer, default=1)
    plate_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    vehicles: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    start_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    multi_trip: Mapped[bool] = mapped_column(Boolean, default=False)
    documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    acceptance_due_date: Mapped[dt.date] = mapped_column(Date)
    acceptance_due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    permit_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The declared cargo and the vehicle-cargo overall figures, printed on the certificate (CT-1).
    cargo: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    overall: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    reviews: Mapped[list[Review]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Review.position",
        lazy="selectin")
    history: Mapped[list[CaseAudit]] = relationship(
        cascade="all, delete-orphan", order_by="CaseAudit.seq", lazy="selectin")
    vehicle_changes: Mapped[list[VehicleChange]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="VehicleChange.create_time",
        lazy="selectin")

    __mapper_args__ = {"version_id_col": version}
    # The work queue (RV-1, RV-4): the origin's cases to accept and to issue, by due date,
    # read in that order and only as far as the page.
    __table_args__ = (
        _partial_index("ix_review_case_awaiting_queue", "origin_province", "acceptance_due_date", "id",
                       where="state = 'AWAITING_ACCEPTANCE'"),
        _partial_index("ix_review_case_ready_queue", "origin_province", "accepted_on", "id",
                       where="state = 'READY_TO_ISSUE'"),
    )

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def open(cls, *, application: str, application_number: str, applicant: str,
             origin_province: str, destination_province: str, route_provinces: list[str],
             route: list[dict[str, Any]], permit_class: int, plate_numbers: list[str],
             vehicles: list[dict[str, Any]], start_date: dt.date | None,
             end_date: dt.date | None, multi_trip: bool, submission: int, documents: list[str],
             now: dt.datetime, calendar: WorkingCalendar) -> Case:
        """A new case awaiting the origin's acceptance (RV-1)."""
        validate_submission(origin_province=origin_province, route_provinces=route_provinces,
                            permit_class=permit_class, application=application)
        today = local_date(now)
        due = calendar.add_working_days(today, ACCEPTANCE_DAYS)
        case = cls(
            id=new_id(), application=application, application_number=application_number,
            applicant=applicant, origin_province=origin_province,
            destination_province=destination_province, route_provinces=dedupe(route_provinces),
            route=normalise_route(route), permit_class=permit_class,
            state=CaseState.AWAITING_ACCEPTANCE, submission=submission or 1,
            plate_numbers=list(plate_numbers), vehicles=list(vehicles), start_date=start_date,
            end_date=end_date, multi_trip=multi_trip, documents=list(documents), reason="",
            submitted_on=today, acceptance_due_date=due.date,
            acceptance_due_provisional=due.provisional, version=1,
            create_time=now, update_time=now,
        )
        case.reviews = []
        case.history = []
        case.vehicle_changes = []
        case.audit("CASE_SUBMITTED", Actor("services/application"), None,
                   CaseState.AWAITING_ACCEPTANCE, "", now)
        return case

    # -- helpers --------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return f"cases/{self.id}"

    def review_for(self, province: str) -> Review:
        for r in self.reviews:
            if r.province == province:
                return r
        raise errors.ReviewNotFound(field="name")

    def audit(self, kind: str, actor: Actor, from_state: str | None, to_state: str | None,
              reason: str, now: dt.datetime, province: str | None = None) -> None:
        """Append one audited transition (who, when, from, to, why)."""
        self.history.append(CaseAudit(
            kind=kind, actor=actor.subject, province=province or "",
            from_state=str(from_state or ""), to_state=str(to_state or ""), reason=reason or "",
            occur_time=now))

    def _emit(self, kind: EventKind, actor: Actor, now: dt.datetime, **fields: Any) -> None:
        self.events.append(OutgoingEvent(kind, {
            "application": self.application, "officer": actor.subject if
            actor.subject.startswith("officers/") else "", "occur_time": now.isoformat(),
            "submission": self.submission, **fields}))

    def _move(self, to: CaseState, kind: str, actor: Actor, reason: str, now: dt.datetime,
              province: str | None = None) -> None:
        before = self.state
        self.state = to
        self.update_time = now
        self.audit(kind, actor, before, to, reason, now, province)

    def check_etag(self, etag: str | None) -> None:
        if not etag_matches(etag or "", self.version):
            raise errors.EtagMismatch(field="etag")

    def _close_open_reviews(self, actor: Actor, now: dt.datetime, *, keep: Review | None = None,
                            reason: str = "") -> None:
        for r in self.reviews:
            if r is keep:
                continue
            if r.state in (ReviewState.PENDING, ReviewState.ADJUSTMENT_PROPOSED):
                self.audit("REVIEW_CANCELLED", actor, r.state, ReviewState.CANCELLED, reason, now,
                           r.province)
                r.state = ReviewState.CANCELLED
                r.release_claim()

    # -- origin acceptance (RV-1) ---------------------------------------------------------

    def accept(self, *, actor: Actor, now: dt.datetime, calendar: WorkingCalendar) -> None:
        """The origin accepts: one pending review per route province, all at once (RV-1, RV-4).

        On re-acceptance after a corrected resubmission, provinces whose part of
        the route did not change keep their approval (kept by ``reopen``) and it is
        announced again, so the applicant's progress shows it.
        """
        if self.state != CaseState.AWAITING_ACCEPTANCE:
            raise errors.CaseNotAwaitingAcceptance()
        today = local_date(now)
        days = review_days(self.permit_class, len(self.route_provinces))
        due = calendar.add_working_days(today, days)
        by_province = {r.province: r for r in self.reviews}
        reviews: list[Review] = []
        for i, p in enumerate(self.route_provinces):
            r = by_province.get(p) or Review(id=new_id(), province=p, suggested_route=[],
                                             conditions=[], claimed_by="", reason="", officer="")
            r.position = i
            if r.state != ReviewState.APPROVED:
                r.reopen(opened_on=today, days=days, due=due)
            reviews.append(r)
        self.reviews = reviews
        self.accepted_on = today
        self.reason = ""
        self._move(CaseState.UNDER_REVIEW, "CASE_ACCEPTED", actor, "", now, actor.province)
        self._emit(EventKind.CASE_ACCEPTED, actor, now, province=self.origin_province)
        for r in reviews:
            if r.state == ReviewState.APPROVED:
                self._emit(EventKind.PROVINCE_APPROVED, Actor(r.officer, r.province), now,
                           province=r.province, reason=r.reason or "路段未变更，保留原审批意见", kept=True)
        if reviews and all(r.state == ReviewState.APPROVED for r in reviews):
            self._move(CaseState.READY_TO_ISSUE, "CASE_READY_TO_ISSUE", actor, "", now)

    def return_for_correction(self, *, actor: Actor, reason: str, now: dt.datetime) -> None:
        """The origin returns the submission before acceptance (RV-1, PQ-6)."""
        if self.state != CaseState.AWAITING_ACCEPTANCE:
            raise errors.CaseNotAwaitingAcceptance()
        if not reason.strip():
            raise errors.required("reason", "请填写退回补正的原因。")
        self.reason = reason
        self._move(CaseState.RETURNED, "CASE_RETURNED", actor, reason, now, actor.province)
        self._emit(EventKind.CASE_RETURNED, actor, now, province=self.origin_province,
                   reason=reason)

    def refuse(self, *, actor: Actor, reason: str, now: dt.datetime) -> None:
        """The origin does not accept the case (不予受理)."""
        if self.state != CaseState.AWAITING_ACCEPTANCE:
            raise errors.CaseNotAwaitingAcceptance()
        if not reason.strip():
            raise errors.required("reason", "请填写不予受理的原因。")
        self.reason = reason
        self._move(CaseState.REFUSED, "CASE_REFUSED", actor, reason, now, actor.province)
        # The applicant sees 不予许可: the seven statuses have no separate "not accepted".
        self._emit(EventKind.CASE_DENIED, actor, now, province=self.origin_province,
                   reason=reason, stage="ACCEPTANCE")

    # -- parallel review (RV-2, RV-3) -----------------------------------------------------

    def decide(self, *, province: str, decision: Decision, reason: str, actor: Actor,
               now: dt.datetime, suggested_route: list[dict[str, Any]] | None = None,
               conditions: list[str] | None = None) -> Review:
        """One province decides its review; all approved -> READY_TO_ISSUE, one denial -> DENIED."""
        review = self.review_for(province)
        if self.state != CaseState.UNDER_REVIEW:
            raise errors.CaseNotUnderReview()
        if review.state != ReviewState.PENDING:
            raise errors.ReviewNotPending()
        if review.claimed_by and review.claimed_by != actor.subject and not review.claim_lapsed(now):
            raise errors.ReviewClaimedByOther()
        if decision != Decision.APPROVE and not reason.strip():
            raise errors.required("reason", "请填写审批意见（原因）。")
        before = review.state
        review.reason = reason
        review.officer = actor.subject
        review.decide_time = now
        review.release_claim()
        review.clear_suspension()
        self.update_time = now
        if decision == Decision.APPROVE:
            review.state = ReviewState.APPROVED
            review.conditions = [c for c in (conditions or []) if c.strip()]
            self.audit("PROVINCE_APPROVED", actor, before, review.state, reason, now, province)
            self._emit(EventKind.PROVINCE_APPROVED, actor, now, province=province, reason=reason)
            if all(r.state == ReviewState.APPROVED for r in self.reviews):
                self._move(CaseState.READY_TO_ISSUE, "CASE_READY_TO_ISSUE", actor, "", now)
        elif decision == Decision.DENY:
            review.state = ReviewState.DENIED
            self.audit("PROVINCE_DENIED", actor, before, review.state, reason, now, province)
            self.reason = reason
            self._close_open_reviews(actor, now, keep=review, reason="其他省份不予许可")
            self._move(CaseState.DENIED, "CASE_DENIED", actor, reason, now, province)
            self._emit(EventKind.PROVINCE_DENIED, actor, now, province=province, reason=reason)
        elif decision == Decision.RETURN:
            review.state = ReviewState.RETURNED
            self.audit("PROVINCE_RETURNED", actor, before, review.state, reason, now, province)
            self.reason = reason
            self._close_open_reviews(actor, now, keep=review, reason="其他省份退回补正")
            self._move(CaseState.RETURNED, "CASE_RETURNED", actor, reason, now, province)
            self._emit(EventKind.PROVINCE_RETURNED, actor, now, province=province, reason=reason)
        elif decision == Decision.REQUIRE_ADJUSTMENT:
            rows = normalise_route(suggested_route)
            if not rows:
                raise errors.required("suggested_route", "请填写建议行驶路线。")
            if any(r["province"] != province or not r["roads"] for r in rows):
                raise errors.SuggestedRouteInvalid(field="suggested_route")
            review.state = ReviewState.ADJUSTMENT_PROPOSED
            review.suggested_route = rows
            self.audit("ROUTE_ADJUSTMENT_PROPOSED", actor, before, review.state, reason, now,
                       province)
            self._emit(EventKind.ROUTE_ADJUSTMENT_PROPOSED, actor, now, province=province,
                       reason=reason, route=rows)
        else:  # pragma: no cover - the transport rejects UNSPECIFIED
            raise errors.required("decision", "请选择审批结论。")
        return review

    def respond_to_adjustment(self, *, province: str, accept: bool, escort_plan: str,
                              actor: Actor, now: dt.datetime, calendar: WorkingCalendar) -> Review:
        """The applicant accepts (route replaced, fast track) or rejects (denial) a suggestion (PQ-7)."""
        review = self.review_for(province)
        if self.state != CaseState.UNDER_REVIEW or review.state != ReviewState.ADJUSTMENT_PROPOSED:
            raise errors.NoAdjustmentProposed()
        self.update_time = now
        if not accept:
            reason = "申请人不采纳建议路线"
            self.audit("ROUTE_ADJUSTMENT_REJECTED", actor, review.state, ReviewState.DENIED,
                       reason, now, province)
            review.state = ReviewState.DENIED
            self.reason = reason
            self._close_open_reviews(actor, now, keep=review, reason=reason)
            self._move(CaseState.DENIED, "CASE_DENIED", actor, reason, now, province)
            self._emit(EventKind.ROUTE_ADJUSTMENT_REJECTED, actor, now, province=province, reason=reason)
            self._emit(EventKind.CASE_DENIED, actor, now, province=province, reason=reason,
                       stage="ADJUSTMENT_REJECTED")
            return review
        if self.permit_class == 3 and not escort_plan:
            # PQ-7: a class III route change needs an updated escort plan.
            raise errors.EscortPlanRequired(field="escort_plan")
        new_route = self.route_with(province, review.suggested_route)
        self.route = new_route
        if escort_plan:
            self.documents = [*self.documents, escort_plan]
        due = calendar.add_working_days(local_date(now), FAST_TRACK_DAYS)
        self.audit("ROUTE_ADJUSTMENT_ACCEPTED", actor, review.state, ReviewState.PENDING, "",
                   now, province)
        review.state = ReviewState.PENDING
        review.fast_track = True
        review.opened_on = local_date(now)
        review.deadline_days = FAST_TRACK_DAYS
        review.due_date = due.date
        review.due_provisional = due.provisional
        review.decide_time = None
        review.officer = ""
        # PQ-7: the application shows the new route and, for class III, the updated escort plan.
        self._emit(EventKind.ROUTE_ADJUSTMENT_ACCEPTED, actor, now, province=province,
                   route=new_route, documents=[escort_plan] if escort_plan else [],
                   due_date=review.due_date, provisional=review.due_provisional, stage="FAST_TRACK")
        return review

    def route_with(self, province: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The route with ``province``'s rows replaced by ``rows`` (at its first position)."""
        new_route: list[dict[str, Any]] = []
        replaced = False
        for row in self.route:
            if row["province"] == province:
                if not replaced:
                    new_route.extend(normalise_route(rows))
                    replaced = True
                continue
            new_route.append(row)
        if not replaced:
            new_route.extend(normalise_route(rows))
        return new_route

    # -- suspended deadlines (RV-4, Art. 15) -----------------------------------------------

    def suspend_review(self, *, province: str, reason: str, actor: Actor, now: dt.datetime,
                       calendar: WorkingCalendar) -> Review:
        """Stop the province's clock while its roads or bridges are strengthened."""
        review = self.review_for(province)
        if self.state != CaseState.UNDER_REVIEW or review.state != ReviewState.PENDING:
            raise errors.ReviewNotPending()
        if review.suspended:
            raise errors.ReviewAlreadySuspended()
        if not reason.strip():
            raise errors.required("reason", "请填写中止计时的原因（加固改造的路段或桥梁）。")
        today = local_date(now)
        remaining = 0
        if review.due_date is not None:
            d = today
            while d < review.due_date:
                d += dt.timedelta(days=1)
                remaining += calendar.is_workday(d)[0]
        review.suspended_on, review.suspend_reason, review.remaining_days = today, reason, remaining
        self.update_time = now
        self.audit("REVIEW_SUSPENDED", actor, review.state, review.state, reason, now, province)
        return review

    def resume_review(self, *, province: str, actor: Actor, now: dt.datetime,
                      calendar: WorkingCalendar) -> Review:
        """Restart the clock: the working days that were left count again from today."""
        review = self.review_for(province)
        if not review.suspended:
            raise errors.ReviewNotSuspended()
        today = local_date(now)
        days = review.remaining_days or 0
        due = calendar.add_working_days(today, days)
        review.due_date, review.due_provisional = due.date, due.provisional
        review.opened_on, review.deadline_days = today, days
        review.clear_suspension()
        self.update_time = now
        self.audit("REVIEW_RESUMED", actor, review.state, review.state, due.date.isoformat(), now,
                   province)
        return review

    # -- claims ---------------------------------------------------------------------------

    def claim(self, *, province: str, actor: Actor, now: dt.datetime,
              ttl: dt.timedelta) -> Review:
        review = self.review_for(province)
        if self.state != CaseState.UNDER_REVIEW or review.state != ReviewState.PENDING:
            raise errors.ReviewNotPending()
        if review.claimed_by and review.claimed_by != actor.subject and not review.claim_lapsed(now):
            raise errors.ReviewClaimedByOther()
        review.claimed_by = actor.subject
        review.claim_expire_time = now + ttl
        self.update_time = now
        return review

    def release(self, *, province: str, actor: Actor, now: dt.datetime) -> Review:
        review = self.review_for(province)
        if review.claimed_by != actor.subject:
            raise errors.ReviewNotClaimedByCaller()
        review.release_claim()
        self.update_time = now
        return review

    # -- ends -----------------------------------------------------------------------------

    def cancel(self, *, actor: Actor, reason: str, now: dt.datetime) -> None:
        """Withdrawn by the applicant: void for good, every open review closed (PQ-5, PQ-8)."""
        if self.state not in (*OPEN_CASE_STATES, CaseState.RETURNED):
            raise errors.CaseNotCancellable()
        self._close_open_reviews(actor, now, reason="申请人撤销申请")
        self.reason = reason
        for vc in self.vehicle_changes:
            if vc.state == ChangeState.PENDING:
                vc.state = ChangeState.CANCELLED
        self._move(CaseState.CANCELLED, "CASE_WITHDRAWN", actor, reason, now)
        # No event back: the withdrawal came from the application service, which already
        # shows 已撤销; an echo would only add a spurious state change to its trail.

    def mark_issued(self, *, permit_id: str, actor: Actor, now: dt.datetime) -> None:
        if self.state != CaseState.READY_TO_ISSUE:
            raise errors.CaseNotReadyToIssue()
        self.permit_id = permit_id
        self._move(CaseState.ISSUED, "PERMIT_ISSUED", actor, "", now, actor.province)

    # -- resubmission ---------------------------------------------------------------------

    def reopen(self, *, submission: int, route_provinces: list[str], route: list[dict[str, Any]],
               permit_class: int, plate_numbers: list[str], vehicles: list[dict[str, Any]],
               start_date: dt.date | None, end_date: dt.date | None, multi_trip: bool,
               documents: list[str], application_number: str, destination_province: str,
               now: dt.datetime, calendar: WorkingCalendar) -> None:
        """A corrected resubmission goes back to the origin's acceptance; provinces whose part
        of the route did not change keep their approval (PQ-6)."""
        if self.state != CaseState.RETURNED:
            raise errors.CaseNotReopenable()
        validate_submission(origin_province=self.origin_province, route_provinces=route_provinces,
                            permit_class=permit_class, application=self.application)
        old_route = self.route
        new_route = normalise_route(route)
        actor = Actor("services/application")
        self.submission = submission
        self.route_provinces = dedupe(route_provinces)
        self.route = new_route
        self.permit_class = permit_class
        self.plate_numbers = list(plate_numbers)
        self.vehicles = list(vehicles)
        self.start_date, self.end_date, self.multi_trip = start_date, end_date, multi_trip
        self.documents = list(documents)
        self.application_number = application_number or self.application_number
        self.destination_province = destination_province or self.destination_province
        self.reason = ""
        today = local_date(now)
        due = calendar.add_working_days(today, ACCEPTANCE_DAYS)
        self.submitted_on = today
        self.acceptance_due_date = due.date
        self.acceptance_due_provisional = due.provisional
        # The origin accepts the corrected submission again; until then the approvals of
        # provinces whose part of the route did not change are kept, every other review
        # reopens at acceptance, and provinces no longer on the route drop out.
        by_province = {r.province: r for r in self.reviews}
        kept: list[Review] = []
        for p in self.route_provinces:
            r = by_province.get(p)
            if r is None:
                continue
            if r.state == ReviewState.APPROVED and route_part(old_route, p) != route_part(new_route, p):
                # The province's part changed: its approval no longer holds; it reviews
                # again once the origin accepts.
                self.audit("REVIEW_CANCELLED", actor, r.state, ReviewState.CANCELLED,
                           "路段已变更，重新审批", now, p)
                r.state = ReviewState.CANCELLED
            kept.append(r)
        self.reviews = kept
        self._move(CaseState.AWAITING_ACCEPTANCE, "CASE_RESUBMITTED", actor, "", now)

    # -- vehicle change (PQ-10) -----------------------------------------------------------

    def vehicle_spec(self, plate: str) -> dict[str, Any] | None:
        for v in self.vehicles:
            if v.get("plate_number") == plate:
                return v
        return None

    def request_vehicle_change(self, *, old_plate: str, new_vehicle: str,
                               new_spec: dict[str, Any], power_of_attorney: str, actor: Actor,
                               now: dt.datetime,
                               old_spec: dict[str, Any] | None = None,
                               change_id: str | None = None) -> VehicleChange:
        """Only another fleet vehicle with identical curb mass, axle count, wheelbase and tyre
        count (PQ-10)."""
        if self.state not in (CaseState.UNDER_REVIEW, CaseState.READY_TO_ISSUE):
            raise errors.CaseNotUnderReview()
        if not power_of_attorney:
            raise errors.required("power_of_attorney", "请上传新的经办人授权委托书。")
        if old_plate not in self.plate_numbers:
            raise errors.PlateNotOnCase(field="old_plate_number")
        if new_spec.get("plate_number") == old_plate:
            raise errors.SameVehicle(field="new_vehicle")
        if any(vc.state == ChangeState.PENDING for vc in self.vehicle_changes):
            raise errors.VehicleChangePending()
        old_spec = self.vehicle_spec(old_plate) or old_spec
        if old_spec is None:
            raise errors.VehicleSpecUnknown(field="old_plate_number")
        mismatched = [k for k in VEHICLE_SPEC_KEYS if int(old_spec.get(k) or 0) != int(new_spec.get(k) or 0)]
        if mismatched:
            raise errors.VehicleNotEquivalent(field="new_vehicle",
                                              metadata={"mismatched": ",".join(mismatched)})
        if new_spec.get("plate_number") in self.plate_numbers:
            # Another vehicle of the same combination cannot stand in for this one.
            raise errors.VehicleAlreadyOnCase(field="new_vehicle")
        figures = {k: new_spec.get(k) for k in ("plate_number", *VEHICLE_SPEC_KEYS)}
        vc = VehicleChange(id=change_id or new_id(), old_plate_number=old_plate, new_vehicle=new_vehicle,
                           new_plate_number=new_spec["plate_number"], new_spec=figures,
                           power_of_attorney=power_of_attorney, state=ChangeState.PENDING,
                           reason="", officer="", create_time=now)
        self.vehicle_changes.append(vc)
        self.update_time = now
        self.audit("VEHICLE_CHANGE_REQUESTED", actor, None, ChangeState.PENDING,
                   f"{old_plate} -> {vc.new_plate_number}", now)
        return vc

    def vehicle_change_name(self, change_id: str) -> str:
        """"cases/{case}/vehicleChanges/{id}": what the change holds its new vehicle's time
        under at the application service (AP-6)."""
        return f"{self.name}/vehicleChanges/{change_id}"

    def decide_vehicle_change(self, *, change_id: str, approve: bool, reason: str, actor: Actor,
                              now: dt.datetime) -> VehicleChange:
        vc = next((v for v in self.vehicle_changes if v.id == change_id), None)
        if vc is None:
            raise errors.VehicleChangeNotFound(field="name")
        if vc.state != ChangeState.PENDING:
            raise errors.VehicleChangeNotPending()
        if not approve and not reason.strip():
            raise errors.required("reason", "请填写不同意车辆变更的原因。")
        vc.reason, vc.officer, vc.decide_time = reason, actor.subject, now
        self.update_time = now
        if not approve:
            vc.state = ChangeState.DENIED
            self.audit("VEHICLE_CHANGE_DENIED", actor, ChangeState.PENDING, vc.state, reason, now,
                       actor.province)
            self._emit(EventKind.VEHICLE_CHANGE_DENIED, actor, now, province=actor.province or "",
                       reason=reason, old_plate_number=vc.old_plate_number,
                       new_plate_number=vc.new_plate_number, new_vehicle=vc.new_vehicle,
                       vehicle_change=self.vehicle_change_name(vc.id))
            return vc
        vc.state = ChangeState.APPROVED
        self.plate_numbers = [vc.new_plate_number if p == vc.old_plate_number else p
                              for p in self.plate_numbers]
        self.vehicles = [
            {**vc.new_spec, "fleet_vehicle": vc.new_vehicle}
            if v.get("plate_number") == vc.old_plate_number else v for v in self.vehicles]
        self.documents = [*self.documents, vc.power_of_attorney]
        self.audit("VEHICLE_CHANGED", actor, ChangeState.PENDING, vc.state,
                   f"{vc.old_plate_number} -> {vc.new_plate_number}", now, actor.province)
        # PQ-10: the application carries the new vehicle and the agent's new power of attorney.
        self._emit(EventKind.VEHICLE_CHANGED, actor, now, province=actor.province or "",
                   old_plate_number=vc.old_plate_number, new_plate_number=vc.new_plate_number,
                   new_vehicle=vc.new_vehicle, documents=[vc.power_of_attorney],
                   vehicle_change=self.vehicle_change_name(vc.id))
        return vc

    # -- deadlines (RV-4) -----------------------------------------------------------------

    def acceptance_overdue(self, today: dt.date) -> bool:
        return self.state == CaseState.AWAITING_ACCEPTANCE and today > self.acceptance_due_date

    def recompute_due_dates(self, calendar: WorkingCalendar, year: int) -> bool:
        """Recount the open deadlines whose count crosses ``year`` (its calendar data changed),
        and every provisional one; True if any changed (RV-4)."""
        def touches(start: dt.date, due: dt.date | None, provisional: bool) -> bool:
            return provisional or (due is not None and start.year <= year <= due.year)

        changed = False
        if self.state == CaseState.AWAITING_ACCEPTANCE and touches(
                self.submitted_on, self.acceptance_due_date, self.acceptance_due_provisional):
            due = calendar.add_working_days(self.submitted_on, ACCEPTANCE_DAYS)
            changed |= (due.date, due.provisional) != (self.acceptance_due_date,
                                                       self.acceptance_due_provisional)
            self.acceptance_due_date, self.acceptance_due_provisional = due.date, due.provisional
        for r in self.reviews:
            if (r.state == ReviewState.PENDING and r.opened_on is not None and not r.suspended
                    and touches(r.opened_on, r.due_date, r.due_provisional)):
                due = calendar.add_working_days(r.opened_on, r.deadline_days)
                changed |= (due.date, due.provisional) != (r.due_date, r.due_provisional)
                r.due_date, r.due_provisional = due.date, due.provisional
        return changed


# The work queue's search (RV-2) looks for a text in the case's number and in its plates,
# upper-cased: these two expressions, which PostgreSQL keeps in trigram indexes (pg_trgm),
# so a search costs the cases it finds, not every case of the country. The plates are the
# text of their JSON list. SQLite (the embedded default) searches without them.
SEARCH_NUMBER = func.upper(Case.application_number)
SEARCH_PLATES = func.upper(Case.plate_numbers.cast(String))


def _trigram_index(name: str, expression: Any) -> Index:
    """A GIN trigram index of ``expression`` on its table, created on PostgreSQL only."""
    return Index(name, expression.label("search"), postgresql_using="gin",
                 postgresql_ops={"search": "gin_trgm_ops"}).ddl_if(dialect="postgresql")


_trigram_index("ix_review_case_number_search", SEARCH_NUMBER)
_trigram_index("ix_review_case_plates_search", SEARCH_PLATES)


VEHICLE_SPEC_KEYS = ("curb_mass_kg", "axle_count", "wheelbase_mm", "tyre_count")


def dedupe(provinces: list[str]) -> list[str]:
    seen: list[str] = []
    for p in provinces:
        if p not in seen:
            seen.append(p)
    return seen


def validate_submission(*, origin_province: str, route_provinces: list[str], permit_class: int,
                        application: str) -> None:
    if not application.startswith("applications/") or len(application) <= len("applications/"):
        raise errors.required("application", "缺少申请单。")
    if not route_provinces:
        raise errors.required("route_provinces", "缺少途经省份。")
    if permit_class not in (1, 2, 3):
        raise errors.PermitClassInvalid(field="permit_class")
    if route_provinces[0] != origin_province:
        raise errors.OriginNotOnRoute(field="route_provinces")


class Review(Base):
    """One province's review of a case (RV-2), with its deadline (RV-4)."""

    __tablename__ = "review"
    __table_args__ = (
        UniqueConstraint("case_id", "province", name="uq_review_case_province"),
        # The work queue (RV-2, RV-4): the province's pending reviews by due date.
        _partial_index("ix_review_pending_queue", "province", "due_date", "case_id", where="state = 'PENDING'"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("review_case.id", ondelete="CASCADE"),
                                         index=True)
    province: Mapped[str] = mapped_column(String(6), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    officer: Mapped[str] = mapped_column(String(100), default="")
    decide_time: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    opened_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    deadline_days: Mapped[int] = mapped_column(Integer, default=0)
    due_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    fast_track: Mapped[bool] = mapped_column(Boolean, default=False)
    suggested_route: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    claimed_by: Mapped[str] = mapped_column(String(100), default="")
    claim_expire_time: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    # Regulation Art. 15: time spent strengthening roads or bridges does not count.
    suspended_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    suspend_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    remaining_days: Mapped[int | None] = mapped_column(Integer, nullable=True)

    case: Mapped[Case] = relationship(back_populates="reviews")

    @property
    def suspended(self) -> bool:
        return self.suspended_on is not None

    def name_in(self, case: Case) -> str:
        return f"cases/{case.id}/reviews/{self.province}"

    def overdue(self, today: dt.date) -> bool:
        return (self.state == ReviewState.PENDING and not self.suspended
                and self.due_date is not None and today > self.due_date)

    def clear_suspension(self) -> None:
        self.suspended_on, self.suspend_reason, self.remaining_days = None, "", None

    def reopen(self, *, opened_on: dt.date, days: int, due: DueDate) -> None:
        """Open (again) for a decision due ``days`` working days after ``opened_on``."""
        self.state = ReviewState.PENDING
        self.reason, self.officer, self.decide_time = "", "", None
        self.opened_on, self.deadline_days = opened_on, days
        self.due_date, self.due_provisional = due.date, due.provisional
        self.fast_track = False
        self.suggested_route = []
        self.conditions = []
        self.release_claim()
        self.clear_suspension()

    def claim_lapsed(self, now: dt.datetime) -> bool:
        return self.claim_expire_time is None or self.claim_expire_time <= now

    def release_claim(self) -> None:
        self.claimed_by = ""
        self.claim_expire_time = None


class CaseAudit(Base):
    """One audited transition of a case: who, when, from, to, why."""

    __tablename__ = "case_audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("review_case.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    province: Mapped[str] = mapped_column(String(6), default="")
    from_state: Mapped[str] = mapped_column(String(32), default="")
    to_state: Mapped[str] = mapped_column(String(32), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    occur_time: Mapped[dt.datetime] = mapped_column()


class VehicleChange(Base):
    """A request to replace a vehicle of a case under review (PQ-10)."""

    __tablename__ = "vehicle_change"
    # The origin's work queue (PQ-10): the changes still to decide.
    __table_args__ = (_partial_index("ix_vehicle_change_pending", "case_id", where="state = 'PENDING'"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("review_case.id", ondelete="CASCADE"),
                                         index=True)
    old_plate_number: Mapped[str] = mapped_column(String(20))
    new_vehicle: Mapped[str] = mapped_column(String(100))
    new_plate_number: Mapped[str] = mapped_column(String(20))
    new_spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    power_of_attorney: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    officer: Mapped[str] = mapped_column(String(100), default="")
    create_time: Mapped[dt.datetime] = mapped_column()
    decide_time: Mapped[dt.datetime | None] = mapped_column(nullable=True)

    case: Mapped[Case] = relationship(back_populates="vehicle_changes")


# A multi-trip permit is valid at most 6 months (regulation, 多次通行).
