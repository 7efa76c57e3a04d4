"""Typed ORM entities of the application context with their rules as methods.

An application's form steps are JSON value objects (``values.py``); its
status machine, etag, submission counter and audit trail live here. Entities
do no I/O.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from permit_application import values as vo
from permit_application.errors import (
    ApplicationNotDraft,
    ApplicationNotSubmittable,
    ApplicationNotWithdrawable,
    CorrectionSubmitOnly,
    EtagMismatch,
    InvalidEvent,
    InvalidTransition,
)
from permitkit.db import NAMING_CONVENTION, TimestampMixin, UTCDateTime, utcnow
from permitkit.legacy_sync import add_legacy_sync_table
from permitkit.outbox import add_outbox_tables


class Base(DeclarativeBase):
    """Declarative base of this service (permitkit's naming convention; a class so mypy sees it)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


OUTBOX, INBOX = add_outbox_tables(Base.metadata)
# What the legacy sync imported, record by record (PC-3).
LEGACY_SYNC = add_legacy_sync_table(Base.metadata)


class State(enum.StrEnum):
    """The seven user-facing statuses (PQ-1)."""

    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    PROCESSING = "PROCESSING"
    ISSUED = "ISSUED"
    DENIED = "DENIED"
    WITHDRAWN = "WITHDRAWN"
    RETURNED = "RETURNED"


STATE_LABELS = {
    State.DRAFT: "未提交", State.SUBMITTED: "未受理", State.PROCESSING: "处理中",
    State.ISSUED: "已发证", State.DENIED: "不予许可", State.WITHDRAWN: "已撤销",
    State.RETURNED: "退回补正",
}

# Who may move an application where. Review outcomes come only as events
# from the approval context; the applicant moves DRAFT/RETURNED -> SUBMITTED
# and withdraws (PQ-5, PQ-8).
TRANSITIONS: dict[State, frozenset[State]] = {
    State.DRAFT: frozenset({State.SUBMITTED}),
    State.SUBMITTED: frozenset({State.PROCESSING, State.RETURNED, State.DENIED, State.WITHDRAWN}),
    State.PROCESSING: frozenset({State.ISSUED, State.RETURNED, State.DENIED, State.WITHDRAWN}),
    State.RETURNED: frozenset({State.SUBMITTED, State.WITHDRAWN}),
    State.ISSUED: frozenset(),
    State.DENIED: frozenset(),
    State.WITHDRAWN: frozenset(),
}

# AP-6: applications that occupy a vehicle in their passage period.
OCCUPYING_STATES = (State.SUBMITTED, State.PROCESSING, State.RETURNED, State.ISSUED)
# An issued application occupies its vehicle only while its permit is valid.
VALID_PERMIT_STATES = ("VALID", "EXTENDED")

PERMIT_STATE_LABELS = {"VALID": "有效", "EXTENDED": "已延期", "ABOLISHED": "已废止", "EXPIRED": "已过期"}

DECISION_LABELS = {"PENDING": "待审批", "APPROVED": "同意", "DENIED": "不同意", "RETURNED": "退回",
                   "ROUTE_ADJUSTMENT": "建议调整路线", "ACCEPTED": "已受理"}


class ReviewKind(enum.StrEnum):
    """What the approval context reported (one of its events, told apart where one
    event has several outcomes)."""

    CASE_ACCEPTED = "CASE_ACCEPTED"
    CASE_RETURNED = "CASE_RETURNED"
    PROVINCE_APPROVED = "PROVINCE_APPROVED"
    PROVINCE_DENIED = "PROVINCE_DENIED"
    PROVINCE_RETURNED = "PROVINCE_RETURNED"
    ROUTE_ADJUSTMENT_PROPOSED = "ROUTE_ADJUSTMENT_PROPOSED"
    ROUTE_ADJUSTMENT_ACCEPTED = "ROUTE_ADJUSTMENT_ACCEPTED"
    CASE_DENIED = "CASE_DENIED"
    PERMIT_ISSUED = "PERMIT_ISSUED"
    PERMIT_EXTENDED = "PERMIT_EXTENDED"
    PERMIT_ABOLISHED = "PERMIT_ABOLISHED"
    VEHICLE_CHANGED = "VEHICLE_CHANGED"


REVIEW_LABELS = {
    ReviewKind.CASE_ACCEPTED: "起运地省份受理", ReviewKind.CASE_RETURNED: "起运地省份退回补正",
    ReviewKind.PROVINCE_APPROVED: "省份同意", ReviewKind.PROVINCE_DENIED: "省份不予许可",
    ReviewKind.PROVINCE_RETURNED: "省份退回补正", ReviewKind.ROUTE_ADJUSTMENT_PROPOSED: "省份建议调整路线",
    ReviewKind.CASE_DENIED: "不予许可", ReviewKind.PERMIT_ISSUED: "发证", ReviewKind.PERMIT_EXTENDED: "许可延期",
    ReviewKind.PERMIT_ABOLISHED: "许可废止", ReviewKind.VEHICLE_CHANGED: "车辆变更",
    ReviewKind.ROUTE_ADJUSTMENT_ACCEPTED: "采纳建议路线",
}

# The states in which each review event applies.
REVIEW_STATES: dict[ReviewKind, tuple[State, ...]] = {
    ReviewKind.CASE_ACCEPTED: (State.SUBMITTED,),
    ReviewKind.CASE_RETURNED: (State.SUBMITTED, State.PROCESSING),
    ReviewKind.PROVINCE_APPROVED: (State.PROCESSING,),
    ReviewKind.PROVINCE_DENIED: (State.PROCESSING, State.DENIED),
    ReviewKind.PROVINCE_RETURNED: (State.PROCESSING, State.RETURNED),
    ReviewKind.ROUTE_ADJUSTMENT_PROPOSED: (State.PROCESSING,),
    ReviewKind.ROUTE_ADJUSTMENT_ACCEPTED: (State.PROCESSING,),
    ReviewKind.CASE_DENIED: (State.SUBMITTED, State.PROCESSING, State.DENIED),
    ReviewKind.PERMIT_ISSUED: (State.PROCESSING,),
    ReviewKind.PERMIT_EXTENDED: (State.ISSUED,),
    ReviewKind.PERMIT_ABOLISHED: (State.ISSUED,),
    ReviewKind.VEHICLE_CHANGED: (State.PROCESSING,),
}
# A province's decision that arrives after the outcome is still shown on its progress.
PROGRESS_ONLY = {ReviewKind.PROVINCE_APPROVED: "APPROVED", ReviewKind.PROVINCE_DENIED: "DENIED",
                 ReviewKind.PROVINCE_RETURNED: "RETURNED", ReviewKind.ROUTE_ADJUSTMENT_PROPOSED: "ROUTE_ADJUSTMENT"}


@dataclass(frozen=True)
class ReviewEvent:
    """One fact of the approval context as the application applies it."""

    event_id: str
    kind: ReviewKind
    province: str = ""
    reason: str = ""
    officer: str = ""
    occur_time: dt.datetime | None = None
    submission: int = 0
    permit: str = ""
    permit_number: str = ""
    permit_start_date: dt.date | None = None
    permit_end_date: dt.date | None = None
    old_plate_number: str = ""
    new_plate_number: str = ""
    route: list[vo.RouteRow] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    # The decided vehicle change or extension's AP-6 hold ("cases/{c}/vehicleChanges/{id}",
    # "permits/{p}/extensions/{id}"): replaced by the application's own data once decided.
    hold: str = ""

    @property
    def label(self) -> str:
        return self.reason or REVIEW_LABELS[self.kind]


@dataclass
class ReviewResult:
    """What a review event did: applied or kept in the trail only, and the audit rows."""

    applied: bool
    changes: list[StateChange]


class Application(TimestampMixin, Base):
    """A permit application of one applicant party; id == display number."""

    __tablename__ = "application"
    __table_args__ = (
        UniqueConstraint("party", "create_request_id"),
        # The applicant's list, newest first (PQ-2): read backwards, no sort.
        Index("ix_application_party_create_time", "party", "create_time", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    party: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    cargo: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    vehicles: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    overall: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    passage: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    agent: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    materials: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    classification: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    permit_class: Mapped[int] = mapped_column(Integer, default=0)
    route_provinces: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # AP-6 scheduling period (passage dates; the permit end after an extension).
    period_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    period_end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    permit: Mapped[str] = mapped_column(String(100), default="")
    permit_number: Mapped[str] = mapped_column(String(100), default="")
    permit_start_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    permit_end_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    permit_state: Mapped[str] = mapped_column(String(20), default="")
    return_reason: Mapped[str] = mapped_column(Text, default="")
    submission: Mapped[int] = mapped_column(Integer, default=0)
    submit_request_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    create_request_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    source_application: Mapped[str] = mapped_column(String(100), default="")
    notice_shown_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    submit_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    legacy_id: Mapped[str | None] = mapped_column(String(100), nullable=True)

    # The plate rows index the vehicles step for search (PQ-2) and AP-6. They are read
    # only by ``put_vehicles``, which rewrites them: loaded then, not with the application
    # (its plates are ``plate_numbers``, from the step).
    plates: Mapped[list[ApplicationVehicle]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ApplicationVehicle.position",
        lazy="select")
    progress: Mapped[list[ProvinceProgress]] = relationship(
        back_populates="application", cascade="all, delete-orphan", order_by="ProvinceProgress.position",
        lazy="selectin")

    @classmethod
    def new(cls, *, id: str, party: str, created_by: str, now: dt.datetime,
            notice_shown_time: dt.datetime | None = None, create_request_id: str | None = None,
            source_application: str = "") -> Application:
        """A fresh draft (every column set, so it behaves the same before a flush)."""
        return cls(id=id, party=party, state=State.DRAFT.value, version=1, created_by=created_by,
                   cargo=None, vehicles=None, overall=None, passage=None, agent=None, materials=None,
                   classification=None, permit_class=0, route_provinces=None, period_start=None,
                   period_end=None, permit="", permit_number="", permit_start_date=None,
                   permit_end_date=None, permit_state="", return_reason="", submission=0,
                   submit_request_id=None, create_request_id=create_request_id,
                   source_application=source_application, notice_shown_time=notice_shown_time,
                   submit_time=None, legacy_id=None, create_time=now, update_time=now,
                   plates=[], progress=[])

    # ---- identity and concurrency -------------------------------------------------
    @property
    def name(self) -> str:
        return f"applications/{self.id}"

    @property
    def number(self) -> str:
        return self.id

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    @property
    def status(self) -> State:
        return State(self.state)

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.status]

    def check_etag(self, etag: str) -> None:
        """Optimistic concurrency: an empty etag skips the check."""
        if etag and etag.strip('"') != str(self.version) and etag != self.etag:
            raise EtagMismatch(metadata={"etag": self.etag})

    def touch(self) -> None:
        self.version = (self.version or 0) + 1
        self.update_time = utcnow()

    # ---- the form steps -----------------------------------------------------------
    def ensure_editable(self) -> None:
        """A draft can be saved step by step; a correction can only be submitted (PQ-6)."""
        if self.status == State.RETURNED:
            raise CorrectionSubmitOnly()
        if self.status != State.DRAFT:
            raise ApplicationNotDraft()

    def ensure_correctable(self) -> None:
        """Steps may be applied as part of a submit for a draft or a returned application."""
        if self.status not in (State.DRAFT, State.RETURNED):
            raise ApplicationNotSubmittable(metadata={"state": self.state})

    @property
    def cargo_value(self) -> vo.Cargo | None:
        return vo.cargo_from_json(self.cargo)

    @property
    def vehicle_values(self) -> list[vo.Vehicle]:
        return vo.vehicles_from_json(self.vehicles)

    @property
    def overall_value(self) -> vo.Overall | None:
        return vo.overall_from_json(self.overall)

    @property
    def passage_value(self) -> vo.Passage | None:
        return vo.passage_from_json(self.passage)

    @property
    def agent_value(self) -> vo.Agent | None:
        return vo.agent_from_json(self.agent)

    @property
    def material_values(self) -> list[vo.Material]:
        return vo.materials_from_json(self.materials)

    def put_cargo(self, cargo: vo.Cargo) -> None:
        self.cargo = vo.to_json(cargo)

    @property
    def plate_numbers(self) -> list[str]:
        """The plates of the vehicles step in order: what the ``plates`` rows hold (they are
        written only by ``put_vehicles``), read without loading them."""
        return [v["plate_number"] for v in self.vehicles or ()]

    def put_vehicles(self, vehicles: list[vo.Vehicle]) -> None:
        wanted = [v.plate_number for v in vehicles]
        if wanted != self.plate_numbers:
            self.plates.clear()
            for i, plate in enumerate(wanted):
                self.plates.append(ApplicationVehicle(position=i, plate_number=plate))
        self.vehicles = vo.to_json(vehicles)

    def put_overall(self, overall: vo.Overall) -> None:
        self.overall = vo.to_json(overall)

    def put_passage(self, passage: vo.Passage) -> None:
        self.passage = vo.to_json(passage)
        self.period_start = passage.start_date
        self.period_end = passage.end_date
        self.route_provinces = passage.route_provinces()

    def put_agent(self, agent: vo.Agent) -> None:
        self.agent = vo.to_json(agent)

    def put_materials(self, materials: list[vo.Material]) -> None:
        self.materials = vo.to_json(materials)

    def put_classification(self, verdict: dict[str, Any] | None, permit_class: int) -> None:
        self.classification = verdict
        self.permit_class = permit_class

    def missing_steps(self) -> list[str]:
        """Steps still empty (materials may legitimately be empty)."""
        missing = []
        if self.cargo is None:
            missing.append("cargo")
        if not self.vehicles:
            missing.append("vehicles")
        if self.overall is None:
            missing.append("overall")
        if self.passage is None:
            missing.append("passage")
        if self.agent is None:
            missing.append("agent")
        return missing

    # ---- the status machine -------------------------------------------------------
    def transition(self, to: State, *, actor: str, reason: str = "", event_id: str = "",
                   now: dt.datetime | None = None) -> StateChange:
        """Move to ``to`` if allowed, and return the audit record (who, when, from, to, why)."""
        frm = self.status
        if to not in TRANSITIONS[frm]:
            raise InvalidTransition(metadata={"from": frm.value, "to": to.value})
        self.state = to.value
        self.touch()
        return self.audit(frm, to, actor=actor, reason=reason, event_id=event_id, now=now)

    def audit(self, frm: State | None, to: State | str, *, actor: str, reason: str = "",
              event_id: str = "", now: dt.datetime | None = None) -> StateChange:
        return StateChange(application_id=self.id, from_state=frm.value if frm else "",
                           to_state=str(to.value if isinstance(to, State) else to), actor=actor,
                           reason=reason[:2000], event_id=event_id or None,
                           change_time=now or utcnow())

    def submit(self, *, actor: str, request_id: str, now: dt.datetime) -> StateChange:
        """DRAFT or RETURNED -> SUBMITTED; counts the submission (1, then +1 per resubmission)."""
        if self.status not in (State.DRAFT, State.RETURNED):
            raise ApplicationNotSubmittable(metadata={"state": self.state})
        resubmit = self.status == State.RETURNED
        change = self.transition(State.SUBMITTED, actor=actor, reason="补正后重新提交" if resubmit else "提交申请",
                                 now=now)
        self.submission = (self.submission or 0) + 1
        self.submit_request_id = request_id or None
        self.submit_time = now
        self.return_reason = ""
        # A resubmission starts a fresh review round.
        self.progress.clear()
        return change

    def withdraw(self, *, actor: str, reason: str, now: dt.datetime) -> StateChange:
        """SUBMITTED or PROCESSING -> WITHDRAWN, void for good (PQ-5, PQ-8)."""
        if self.status not in (State.SUBMITTED, State.PROCESSING):
            raise ApplicationNotWithdrawable(metadata={"state": self.state})
        return self.transition(State.WITHDRAWN, actor=actor, reason=reason or "申请人撤销", now=now)

    def occupies_vehicle(self, today: dt.date) -> bool:
        """AP-6: does this application count against its vehicles' limit?"""
        if self.status not in OCCUPYING_STATES:
            return False
        if self.status == State.ISSUED:
            return self.permit_state in VALID_PERMIT_STATES
        return True

    def permit_state_on(self, today: dt.date) -> str:
        """The permit's state as shown on ``today``: a valid one past its end date has expired."""
        if self.permit_state in VALID_PERMIT_STATES and self.permit_end_date and self.permit_end_date < today:
            return "EXPIRED"
        return self.permit_state

    def progress_for(self, province: str) -> ProvinceProgress:
        for p in self.progress:
            if p.province == province:
                return p
        row = ProvinceProgress(province=province, position=len(self.progress), decision="PENDING",
                               reason="", officer="", origin=False)
        self.progress.append(row)
        return row

    def start_review(self, *, origin: str, provinces: list[str], now: dt.datetime) -> None:
        """Progress rows on acceptance: origin accepted, every route province pending."""
        self.progress.clear()
        order = ([origin] if origin else []) + [p for p in provinces if p and p != origin]
        for i, p in enumerate(order):
            self.progress.append(ProvinceProgress(province=p, position=i,
                                                  decision="ACCEPTED" if p == origin else "PENDING",
                                                  reason="", officer="",
                                                  origin=p == origin, decide_time=now if p == origin else None))


    # ---- review events from the approval context (the only source of review outcomes) ----
    def on_review_event(self, e: ReviewEvent, *, actor: str, now: dt.datetime,
                        replacement: vo.Vehicle | None = None) -> ReviewResult:
        """Apply a review event; an event about an older submission, or one that does
        not fit the state, is kept in the trail only (never an error: the sender's
        ordered queue must not block on it). ``replacement`` is the fleet vehicle a
        VEHICLE_CHANGED event puts in place of the old plate."""
        when = e.occur_time or now
        why = e.label
        if e.submission and self.submission and e.submission < self.submission:
            return ReviewResult(False, [self.audit(self.status, self.status, actor=actor,
                                                   reason=f"忽略旧提交的事件：{why}", event_id=e.event_id,
                                                   now=when)])
        if self.status not in REVIEW_STATES[e.kind]:
            if e.kind in PROGRESS_ONLY and self.status in (State.DENIED, State.RETURNED, State.ISSUED):
                # A province still decides after the outcome: show its decision, keep the state.
                self._decide(e, PROGRESS_ONLY[e.kind], when)
                self.touch()
                return ReviewResult(True, [self.audit(self.status, self.status, actor=actor,
                                                      reason=f"{e.province} {why}", event_id=e.event_id,
                                                      now=when)])
            return ReviewResult(False, [self.audit(self.status, self.status, actor=actor,
                                                   reason=f"与当前状态（{self.state_label}）不符，忽略：{why}",
                                                   event_id=e.event_id, now=when)])
        changes = self._apply_review(e, actor=actor, when=when, why=why, replacement=replacement)
        self.touch()
        return ReviewResult(True, changes)

    def _move(self, to: State, *, actor: str, why: str, event_id: str, when: dt.datetime) -> StateChange:
        if self.status == to:
            return self.audit(to, to, actor=actor, reason=why, event_id=event_id, now=when)
        return self.transition(to, actor=actor, reason=why, event_id=event_id, now=when)

    def _decide(self, e: ReviewEvent, decision: str, when: dt.datetime) -> ProvinceProgress:
        row = self.progress_for(e.province)
        row.decision, row.reason, row.officer, row.decide_time = decision, e.reason, e.officer, when
        return row

    def _apply_review(self, e: ReviewEvent, *, actor: str, when: dt.datetime, why: str,
                      replacement: vo.Vehicle | None) -> list[StateChange]:
        kind, eid = e.kind, e.event_id
        passage = self.passage_value or vo.Passage()

        def note(reason: str = why) -> list[StateChange]:
            return [self.audit(self.status, self.status, actor=actor, reason=reason, event_id=eid, now=when)]

        def move(to: State) -> list[StateChange]:
            return [self._move(to, actor=actor, why=why, event_id=eid, when=when)]

        if kind == ReviewKind.CASE_ACCEPTED:
            changes = move(State.PROCESSING)
            self.start_review(origin=e.province or passage.origin_province,
                              provinces=list(self.route_provinces or passage.route_provinces()), now=when)
            return changes
        if kind in (ReviewKind.CASE_RETURNED, ReviewKind.PROVINCE_RETURNED):
            if kind == ReviewKind.PROVINCE_RETURNED:
                self._decide(e, "RETURNED", when)
            self.return_reason = e.reason
            return move(State.RETURNED)
        if kind == ReviewKind.PROVINCE_APPROVED:
            self._decide(e, "APPROVED", when)
            return note(f"{e.province} {why}")
        if kind == ReviewKind.ROUTE_ADJUSTMENT_PROPOSED:
            row = self._decide(e, "ROUTE_ADJUSTMENT", when)
            row.suggested_route = [{"province": r.province, "roads": list(r.roads)} for r in e.route]
            return note(f"{e.province} {why}")
        if kind == ReviewKind.ROUTE_ADJUSTMENT_ACCEPTED:
            if e.route:
                self.put_passage(replace(passage, route=list(e.route)))
            if e.documents:
                # PQ-7: a class III application re-uploads its escort plan with the new route.
                kept = [m for m in self.material_values if m.kind != "ESCORT_PLAN"]
                self.put_materials(kept + [vo.Material("ESCORT_PLAN", d) for d in e.documents])
            if e.province:
                row = self.progress_for(e.province)
                row.decision, row.reason, row.decide_time = "PENDING", "", when
            return note()
        if kind in (ReviewKind.PROVINCE_DENIED, ReviewKind.CASE_DENIED):
            if kind == ReviewKind.PROVINCE_DENIED:
                self._decide(e, "DENIED", when)
            self.return_reason = e.reason
            return move(State.DENIED)
        if kind == ReviewKind.PERMIT_ISSUED:
            self.permit, self.permit_number = e.permit, e.permit_number
            self.permit_start_date, self.permit_end_date = e.permit_start_date, e.permit_end_date
            self.permit_state = "VALID"
            self.period_start = min(filter(None, [self.period_start, e.permit_start_date]))
            self.period_end = max(filter(None, [self.period_end, e.permit_end_date]))
            return move(State.ISSUED)
        if kind == ReviewKind.PERMIT_EXTENDED:
            if e.permit_end_date:
                self.permit_end_date = e.permit_end_date
                self.period_end = max(filter(None, [self.period_end, e.permit_end_date]))
            self.permit_state = "EXTENDED"
            return note()
        if kind == ReviewKind.PERMIT_ABOLISHED:
            self.permit_state = "ABOLISHED"  # AP-6: an abolished permit no longer occupies the vehicle
            return note()
        if kind == ReviewKind.VEHICLE_CHANGED:
            self.change_vehicle(e.old_plate_number, replacement, documents=e.documents)
            return note(f"{why}：{e.old_plate_number} → {e.new_plate_number}")
        raise AssertionError(kind)  # pragma: no cover - every kind is handled above

    def change_vehicle(self, old_plate: str, replacement: vo.Vehicle | None, *, documents: list[str]) -> None:
        """PQ-10: replace a plate by a fleet vehicle of the applicant (approval checked
        equivalence); the agent's new power of attorney comes with it."""
        vehicles = self.vehicle_values
        idx = next((i for i, v in enumerate(vehicles) if v.plate_number == old_plate), None)
        if idx is None:
            raise InvalidEvent("该车辆不在申请中。", field="old_plate_number")
        if replacement is None:
            raise InvalidEvent("变更后的车辆不在申请人的车辆库中。", field="new_plate_number")
        vehicles[idx] = replacement
        self.put_vehicles(vehicles)
        agent = self.agent_value
        if agent is not None and documents:
            self.put_agent(replace(agent, power_of_attorney_document=documents[0]))


class ApplicationVehicle(Base):
    """The plates of an application, for search (PQ-2) and the duplicate check (AP-6)."""

    __tablename__ = "application_vehicle"

    application_id: Mapped[str] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate_number: Mapped[str] = mapped_column(String(20), index=True)
    application: Mapped[Application] = relationship(back_populates="plates")


class ProvinceProgress(Base):
    """One province's review progress as the applicant sees it (PQ-2)."""

    __tablename__ = "province_progress"

    application_id: Mapped[str] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"),
                                                primary_key=True)
    province: Mapped[str] = mapped_column(String(6), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    decision: Mapped[str] = mapped_column(String(20), default="PENDING")
    reason: Mapped[str] = mapped_column(Text, default="")
    officer: Mapped[str] = mapped_column(String(100), default="")
    origin: Mapped[bool] = mapped_column(Boolean, default=False)
    decide_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    suggested_route: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    application: Mapped[Application] = relationship(back_populates="progress")

    @property
    def decision_label(self) -> str:
        return DECISION_LABELS.get(self.decision, self.decision)


class StateChange(Base):
    """Audit trail: every state change of an application (kept after a draft is deleted)."""

    __tablename__ = "state_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(String(40), index=True)
    from_state: Mapped[str] = mapped_column(String(20), default="")
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    event_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    change_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class FleetVehicle(TimestampMixin, Base):
    """A vehicle of an applicant's fleet: PC side (legacy import) or an earlier application (AP-4)."""

    __tablename__ = "fleet_vehicle"
    __table_args__ = (UniqueConstraint("party", "plate_number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    party: Mapped[str] = mapped_column(String(100), index=True)
    plate_number: Mapped[str] = mapped_column(String(20))
    vehicle_type: Mapped[str] = mapped_column(String(50), default="")
    make_model: Mapped[str] = mapped_column(String(100), default="")
    curb_mass_kg: Mapped[int] = mapped_column(Integer, default=0)
    axle_count: Mapped[int] = mapped_column(Integer, default=0)
    wheelbase_mm: Mapped[int] = mapped_column(Integer, default=0)
    tyre_count: Mapped[int] = mapped_column(Integer, default=0)
    length_mm: Mapped[int] = mapped_column(Integer, default=0)
    width_mm: Mapped[int] = mapped_column(Integer, default=0)
    height_mm: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(30), default="")
    licence_documents: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    source: Mapped[str] = mapped_column(String(10), default="FLEET")
    # PC-1: a retired vehicle is no longer suggested nor offered for a change.
    retire_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def name(self) -> str:
        return f"vehicles/{self.id}"

    def to_value(self) -> vo.Vehicle:
        return vo.Vehicle(
            plate_number=self.plate_number, vehicle_type=self.vehicle_type, make_model=self.make_model,
            curb_mass_kg=self.curb_mass_kg, axle_count=self.axle_count, wheelbase_mm=self.wheelbase_mm,
            tyre_count=self.tyre_count, length_mm=self.length_mm, width_mm=self.width_mm,
            height_mm=self.height_mm, licence_documents=list(self.licence_documents or []),
            source=self.source, kind=self.kind, fleet_vehicle=self.name)

    def fill_from(self, v: vo.Vehicle) -> None:
        for f in vo.Vehicle.SPEC_FIELDS:
            setattr(self, f, getattr(v, f))
        self.kind = v.kind
        if v.licence_documents:
            self.licence_documents = list(v.licence_documents)


class FleetAgent(TimestampMixin, Base):
    """An agent of an applicant: PC side (legacy import) or an earlier application (AP-8)."""

    __tablename__ = "fleet_agent"
    __table_args__ = (UniqueConstraint("party", "id_number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    party: Mapped[str] = mapped_column(String(100), index=True)
    agent_name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(20), default="")
    id_card_documents: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    power_of_attorney_document: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(10), default="FLEET")
    # PC-1: a retired agent is no longer suggested.
    retire_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def name(self) -> str:
        return f"agents/{self.id}"

    def to_value(self) -> vo.Agent:
        return vo.Agent(name=self.agent_name, id_number=self.id_number, phone=self.phone,
                        id_card_documents=list(self.id_card_documents or []),
                        power_of_attorney_document=self.power_of_attorney_document,
                        source=self.source, agent_ref=self.name)


class NumberCounter(Base):
    """Per-day sequence of application numbers ("DJ13" + yyyymmdd + 6 digits)."""

    __tablename__ = "number_counter"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class VehicleLock(Base):
    """One row per plate, locked (SELECT ... FOR UPDATE) while the AP-6 check runs."""

    __tablename__ = "vehicle_lock"

    plate_number: Mapped[str] = mapped_column(String(20), primary_key=True)


class VehicleHold(Base):
    """A vehicle's time taken by a pending vehicle change or extension (AP-6, PQ-10, PQ-11):
    counted like an application of ``application_id`` until the change is decided."""

    __tablename__ = "vehicle_hold"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # the approval side's request
    plate_number: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
