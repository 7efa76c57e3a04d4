"""Persistence of cases, permits, permit numbers and calendar years."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from sqlalchemy import (
    BindParameter,
    Boolean,
    Select,
    String,
    bindparam,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from permit_approval.models import (
    SEARCH_NUMBER,
    SEARCH_PLATES,
    CalendarYear,
    Case,
    CaseState,
    CaseSubmission,
    ChangeState,
    Extension,
    Permit,
    PermitSequence,
    QueueKind,
    Review,
    ReviewState,
    VehicleChange,
    WorkQueueCount,
)
from permitkit.db import RepositoryBase


def queue_steps(*, province: str | None, acceptance: bool, review: bool, state: str = "",
                cases: Collection[str] | BindParameter[Any] | None = None,
                in_order: bool = False) -> list[Select[Any]]:
    """Every step of an open case that waits for ``province`` (for any province when None),
    one select per kind of step, each of (case_id, due, province, state, queue, live): the
    step's case, its due date, the province it waits for, the case's state, whose queue holds
    it (``QueueKind.ACCEPT``: the origin's acceptance officers; ``REVIEW``: the province's
    reviewers) and whether it counts. Only cases in ``state`` and among ``cases`` when given.

    For acceptance officers: the origin's cases to accept, to issue, or with a vehicle
    change to decide; for reviewers: the province's pending reviews of cases under review.
    Steps without a statutory deadline are due on their acceptance date. The work queue
    pages and the queue counts (``permit_approval.queue_counts``) both read these.

    A review's case state is looked up by the case's key (a join would read every case
    under review in the country). ``in_order``: for a reader of the first steps in due
    order, it is not a condition but the ``live`` column, so that the server reads the
    province's pending reviews in index order and looks up only the cases of the rows it
    returns; the reader skips the steps that are not live. Otherwise every step returned
    is live.
    """
    def wanted(*states: CaseState) -> list[str]:
        return [s.value for s in states if not state or s == state]

    def const(value: str) -> Any:
        """A state written into the statement, not bound: the partial indexes then match
        whatever plan the server keeps for it."""
        return literal(value, String(32), literal_execute=True)

    def step(case_id: Any, due: Any, where: Any, case_state: Any, queue: QueueKind, live: Any = None) -> Any:
        return select(case_id.label("case_id"), due.label("due"), where.label("province"),
                      case_state.label("state"), literal(queue.value, String(16)).label("queue"),
                      (live if live is not None else literal(True, Boolean)).label("live"))

    parts: list[Select[Any]] = []
    if acceptance:
        for st, due in ((CaseState.AWAITING_ACCEPTANCE, Case.acceptance_due_date),
                        (CaseState.READY_TO_ISSUE, Case.accepted_on)):
            if not wanted(st):
                continue
            part = step(Case.id, due, Case.origin_province, literal(st.value, String(32)), QueueKind.ACCEPT
                        ).where(Case.state == const(st))
            if province is not None:
                part = part.where(Case.origin_province == province)
            if cases is not None:
                part = part.where(Case.id.in_(cases))
            parts.append(part)
        changing = wanted(CaseState.UNDER_REVIEW, CaseState.READY_TO_ISSUE)
        if changing:
            part = (step(VehicleChange.case_id, Case.accepted_on, Case.origin_province, Case.state, QueueKind.ACCEPT)
                    .join(Case, Case.id == VehicleChange.case_id)
                    .where(VehicleChange.state == const(ChangeState.PENDING),
                           Case.state.in_([const(st) for st in changing])))
            if province is not None:
                part = part.where(Case.origin_province == province)
            if cases is not None:
                part = part.where(VehicleChange.case_id.in_(cases))
            parts.append(part)
    if review and wanted(CaseState.UNDER_REVIEW):
        case_state = (select(Case.state).where(Case.id == Review.case_id)
                      .correlate(Review).scalar_subquery())
        under_review = case_state == const(CaseState.UNDER_REVIEW)
        part = step(Review.case_id, Review.due_date, Review.province,
                    literal(CaseState.UNDER_REVIEW.value, String(32)), QueueKind.REVIEW,
                    live=under_review if in_order else None).where(Review.state == const(ReviewState.PENDING))
        if not in_order:
            part = part.where(under_review)
        if province is not None:
            part = part.where(Review.province == province)
        if cases is not None:
            part = part.where(Review.case_id.in_(cases))
        parts.append(part)
    return parts


# The case of an application (built once: every event of the application reads it).
_BY_APPLICATION = select(Case).where(Case.application == bindparam("application"))
_BY_APPLICATION_FOR_UPDATE = _BY_APPLICATION.with_for_update()
_BY_ID = select(Case).where(Case.id == bindparam("ident"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()


def _narrowing(*, province: str, permit_class: int, text: str, claimed_by: str) -> list[Any]:
    """Conditions on a case that every case the work-queue filters keep satisfies."""
    conds: list[Any] = []
    if permit_class:
        conds.append(Case.permit_class == permit_class)
    if text:
        # The plates are a JSON list, compared upper-cased: its text holds each plate either
        # as written or with its Chinese characters escaped (\uXXXX, as json.dumps writes
        # them), so the search text is looked for in both forms. On PostgreSQL both
        # expressions are trigram-indexed (SEARCH_NUMBER, SEARCH_PLATES).
        forms = dict.fromkeys((text, json.dumps(text)[1:-1].upper()))
        conds.append(or_(SEARCH_NUMBER.contains(text, autoescape=True),
                         *(SEARCH_PLATES.contains(form, autoescape=True) for form in forms)))
    if claimed_by:
        conds.append(exists().where(Review.case_id == Case.id, Review.province == province,
                                    Review.claimed_by == claimed_by))
    return conds


class CaseRepository(RepositoryBase[Case]):
    """Review cases; loads for update lock the row so concurrent deciders serialise."""

    model = Case

    def get(self, ident: Any, *, for_update: bool = False) -> Case | None:
        stmt = _BY_ID_FOR_UPDATE if for_update else _BY_ID
        return self.session.scalars(stmt, {"ident": ident}).first()

    def by_application(self, application: str, *, for_update: bool = False) -> Case | None:
        stmt = _BY_APPLICATION_FOR_UPDATE if for_update else _BY_APPLICATION
        return self.session.scalars(stmt, {"application": application}).first()

    def applicant_in_province(self, applicant: str, province: str) -> bool:
        """Whether the applicant has a case with this province as origin or on its route (PC-2)."""
        rows = self.session.execute(select(Case.origin_province, Case.route_provinces)
                                    .where(Case.applicant == applicant)).all()
        return any(origin == province or province in (route or []) for origin, route in rows)

    def work_queue(self, *, province: str, acceptance: bool, review: bool, offset: int = 0,
                   limit: int | None = None, permit_class: int = 0, text: str = "",
                   claimed_by: str = "") -> list[Case]:
        """Cases waiting for ``province``, earliest due first (RV-1, RV-4).

        For acceptance officers: the origin's cases to accept, to issue, or with a
        vehicle change to decide; for reviewers: the province's pending reviews.
        Steps without a statutory deadline sort by their acceptance date.

        Narrowed in the database, when asked, to the cases of ``permit_class``, those whose
        number or a plate may contain ``text`` (upper case, no spaces) and those with a
        review of the province claimed by ``claimed_by``: a superset of what the filters
        of the work queue (RV-2) keep, which the caller applies exactly (a claim may have
        lapsed; a plate is matched on the stored list's text).
        """
        parts = queue_steps(province=province, acceptance=acceptance, review=review)
        if not parts:
            return []
        q = union_all(*parts).subquery()
        due = func.min(q.c.due).label("due")
        stmt = select(q.c.case_id, due).group_by(q.c.case_id).order_by(due, q.c.case_id).offset(offset)
        narrow = _narrowing(province=province, permit_class=permit_class, text=text, claimed_by=claimed_by)
        if narrow:
            stmt = stmt.where(q.c.case_id.in_(select(Case.id).where(*narrow)))
        if limit is not None:
            stmt = stmt.limit(limit)
        return self._cases([r.case_id for r in self.session.execute(stmt).all()])

    def work_queue_page(self, *, province: str, acceptance: bool, review: bool, state: str, offset: int,
                        limit: int) -> tuple[list[Case], dict[str, int]]:
        """One page of ``work_queue`` (only cases in ``state`` when given) and the count of the
        whole queue per state, however long the province's queue is.

        The steps are read in due order from their indexes, merged, and only as far as the
        page: a case with several steps comes first at its earliest (the order of
        ``work_queue``). The counts are kept rows (``WorkQueueCount``), not a count.
        """
        kind = QueueKind.of(acceptance=acceptance, review=review)
        if kind is None:
            return [], {}
        counts = {st: n for st, n in self.session.execute(
            select(WorkQueueCount.state, WorkQueueCount.cases).where(
                WorkQueueCount.province == province, WorkQueueCount.queue == kind, WorkQueueCount.cases > 0))}
        parts = queue_steps(province=province, acceptance=acceptance, review=review, state=state, in_order=True)
        if not parts:
            return [], counts

        def first(n: int) -> Select[Any]:
            """The first ``n`` steps: the first ``n`` of each kind, each read in order from its
            index (the server would not carry the order into the members of a union)."""
            heads = []
            for part in parts:
                head = part.order_by(part.selected_columns.due, part.selected_columns.case_id).limit(n).subquery()
                heads.append(select(head.c.case_id, head.c.due, head.c.live))
            q = union_all(*heads).subquery()
            return select(q.c.case_id, q.c.live).order_by(q.c.due, q.c.case_id).limit(n)

        wanted = offset + limit
        fetch = wanted
        while True:
            rows = self.session.execute(first(fetch)).all()
            # Each case at its earliest step; steps that do not count are skipped.
            ids = list(dict.fromkeys(r.case_id for r in rows if r.live))
            if len(ids) >= wanted or len(rows) < fetch:
                break
            fetch += 2 * (wanted - len(ids))  # steps skipped: read on
        return self._cases(ids[offset:wanted]), counts

    def _cases(self, ids: list[str]) -> list[Case]:
        if not ids:
            return []
        by_id = {c.id: c for c in self.session.scalars(select(Case).where(Case.id.in_(ids)))}
        return [by_id[i] for i in ids]

    def open_cases(self) -> list[Case]:
        """Cases whose deadlines still run (awaiting acceptance or under review)."""
        stmt = select(Case).where(
            Case.state.in_([CaseState.AWAITING_ACCEPTANCE, CaseState.UNDER_REVIEW]))
        return list(self.session.scalars(stmt))


class SubmissionRepository:
    """The application as submitted, one row per submission of a case (RV-2)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: CaseSubmission) -> None:
        self.session.add(row)

    def get(self, case_id: str, submission: int) -> CaseSubmission | None:
        return self.session.get(CaseSubmission, (case_id, submission))

    def latest_two(self, case_id: str, submission: int) -> list[CaseSubmission]:
        """The case's ``submission`` and the one before it (newest first), those stored."""
        return list(self.session.scalars(
            select(CaseSubmission).where(CaseSubmission.case_id == case_id,
                                         CaseSubmission.submission <= submission)
            .order_by(CaseSubmission.submission.desc()).limit(2)))


_PERMIT = select(Permit).where(Permit.id == bindparam("ident"))
_PERMIT_FOR_UPDATE = _PERMIT.with_for_update()


class PermitRepository(RepositoryBase[Permit]):
    """Issued permits."""

    model = Permit

    def get(self, ident: Any, *, for_update: bool = False) -> Permit | None:
        stmt = _PERMIT_FOR_UPDATE if for_update else _PERMIT
        return self.session.scalars(stmt, {"ident": ident}).first()

    def awaiting_extension_decision(self, province: str, *, limit: int = 200) -> list[Permit]:
        """Permits with a pending extension that ``province`` was asked to decide (PQ-11)."""
        exts = self.session.scalars(
            select(Extension).where(Extension.state == ChangeState.PENDING)
            .order_by(Extension.create_time)).all()
        ids = [e.permit_id for e in exts
               if (e.decisions or {}).get(province, {}).get("state") == ReviewState.PENDING.value]
        if not ids:
            return []
        by_id = {p.id: p for p in self.session.scalars(select(Permit).where(Permit.id.in_(ids)))}
        return [by_id[i] for i in dict.fromkeys(ids)][:limit]

    def next_number(self, province: str, year: int) -> str:
        """The next permit number of ``province`` in ``year`` ("13" + "2026" + serial)."""
        key = f"{province}-{year}"
        stmt = select(PermitSequence).where(PermitSequence.key == key).with_for_update()
        seq = self.session.scalars(stmt).first()
        if seq is None:
            try:
                # The first permit of the year: two issuers may create the row at once.
                with self.session.begin_nested():
                    self.session.add(PermitSequence(key=key, last=0))
            except IntegrityError:
                pass
            seq = self.session.scalars(stmt).one()
        seq.last += 1
        self.session.flush()
        return f"{province[:2]}{year}{seq.last:06d}"


_CALENDAR_YEARS = select(CalendarYear).order_by(CalendarYear.year)


class CalendarRepository:
    """Administrator calendar years (RV-4)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self) -> list[CalendarYear]:
        return list(self.session.scalars(_CALENDAR_YEARS))

    def get(self, year: int) -> CalendarYear | None:
        return self.session.get(CalendarYear, year)

    def add(self, row: CalendarYear) -> None:
        self.session.add(row)

