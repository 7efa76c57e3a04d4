"""The work-queue counts (``WorkQueueCount``) kept exact in the transaction that changes a case (RV-2).

Every flush that can change what waits for whom (a case's state or origin, a review's
state or province, a vehicle change's state, a case, review or change added or removed)
locks the cases it touches, reads their queue steps (``repository.queue_steps``) before
and after writing, and adds the difference to the counts, all in its transaction. Two
transactions changing the same case count one after the other; an officer reads counts
that include their own last action.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    bindparam,
    delete,
    distinct,
    event,
    func,
    inspect,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import Session, UOWTransaction

from permit_approval.models import Case, QueueKind, Review, VehicleChange, WorkQueueCount
from permit_approval.repository import queue_steps
from permitkit.db import precompiled, upsert_insert

# (province, queue, state) -> cases
Key = tuple[str, str, str]

# What a step of the queue depends on, per entity.
_WATCHED: dict[type, tuple[str, ...]] = {
    Case: ("state", "origin_province", "reviews", "vehicle_changes"),
    Review: ("state", "province", "case_id"),
    VehicleChange: ("state", "case_id"),
}
_CHUNK = 500  # case ids per statement (SQLite allows a limited number of parameters)


def counted(steps: Iterable[Any]) -> Counter[Key]:
    """What cases add to the counts, from their steps (case_id, province, state, queue): each
    case once in each queue that holds it; the acceptance and review officer of a province
    sees the union of both."""
    cases: dict[str, tuple[str, set[str], set[str]]] = {}
    for case_id, province, state, queue in steps:
        _, accept, review = cases.setdefault(case_id, (state, set(), set()))
        (accept if queue == QueueKind.ACCEPT else review).add(province)
    keys: Counter[Key] = Counter()
    for state, accept, review in cases.values():
        for queue, provinces in ((QueueKind.ACCEPT, accept), (QueueKind.REVIEW, review),
                                 (QueueKind.ACCEPT_REVIEW, accept | review)):
            for p in provinces:
                keys[(p, queue.value, state)] += 1
    return keys


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


@functools.cache
def _steps_of_cases() -> Select[Any]:
    """The queue steps of the cases ``:ids`` (built once)."""
    q = union_all(*queue_steps(province=None, acceptance=True, review=True,
                               cases=bindparam("ids", expanding=True))).subquery()
    return select(q.c.case_id, q.c.province, q.c.state, q.c.queue)


def steps_of(conn: Connection, case_ids: Iterable[str]) -> Counter[Key]:
    """What the cases ``case_ids`` add to the counts, as the database holds them now."""
    keys: Counter[Key] = Counter()
    for ids in _chunks(sorted(set(case_ids))):
        keys.update(counted(conn.execute(_steps_of_cases(), {"ids": ids})))
    return keys


def add(conn: Connection, delta: Mapping[Key, int]) -> None:
    """Add ``delta`` to the counts, one round trip, rows in key order (no deadlock between two)."""
    rows = [{"province": p, "queue": q, "state": s, "cases": n} for (p, q, s), n in sorted(delta.items()) if n]
    if rows:
        conn.execute(_count_upsert(conn.dialect.name), rows)


@functools.cache
def _count_upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT adding to a count, compiled once per dialect."""
    stmt = upsert_insert(dialect)(WorkQueueCount)
    return precompiled(stmt.on_conflict_do_update(
        index_elements=[WorkQueueCount.province, WorkQueueCount.queue, WorkQueueCount.state],
        set_={"cases": WorkQueueCount.cases + stmt.excluded.cases}), dialect, ["province", "queue", "state", "cases"])


def _case_id(obj: Any) -> str | None:
    """The case of a touched case, review or vehicle change (None: a new case without its id yet)."""
    ident = obj.id if isinstance(obj, Case) else obj.case_id or (obj.case.id if obj.case is not None else None)
    return str(ident) if ident else None


def _touches_queue(session: Session, obj: Any) -> bool:
    watched = _WATCHED.get(type(obj))
    if watched is None:
        return False
    if obj in session.new or obj in session.deleted:
        return True
    state = inspect(obj)
    return any(state.attrs[a].history.has_changes() for a in watched)


class QueueCountKeeper:
    """Keeps the counts of one session's flushes (see the module's doc)."""

    def __init__(self, session: Session) -> None:
        self._touched: list[Any] = []
        self._before: Counter[Key] = Counter()
        self._stored: set[str] = set()
        event.listen(session, "before_flush", self._before_flush)
        event.listen(session, "after_flush", self._after_flush)

    def _before_flush(self, session: Session, _ctx: UOWTransaction, _instances: object) -> None:
        self._touched = [o for o in (*session.new, *session.dirty, *session.deleted) if _touches_queue(session, o)]
        self._before, self._stored = Counter(), set()
        if not self._touched:
            return
        # Cases not yet stored have no steps to take back.
        stored = {i for o in self._touched
                  if not (isinstance(o, Case) and o in session.new) and (i := _case_id(o)) is not None}
        if not stored:
            return
        conn = session.connection()
        # Lock the cases first (most use cases hold them already): what is read here stays
        # true until this transaction ends.
        for ids in _chunks(sorted(stored)):
            conn.execute(select(Case.id).where(Case.id.in_(ids)).order_by(Case.id).with_for_update()).all()
        self._before, self._stored = steps_of(conn, stored), stored

    def _after_flush(self, session: Session, _ctx: UOWTransaction) -> None:
        if not self._touched:
            return
        ids = self._stored | {i for o in self._touched if (i := _case_id(o)) is not None}
        conn = session.connection()
        after = steps_of(conn, ids)
        add(conn, {k: after[k] - self._before[k] for k in after.keys() | self._before.keys()})
        self._touched, self._before, self._stored = [], Counter(), set()


def fresh_counts(conn: Connection) -> dict[Key, int]:
    """Every queue counted afresh from the cases (what the kept counts must equal)."""
    steps = union_all(*queue_steps(province=None, acceptance=True, review=True)).subquery()
    out: dict[Key, int] = {}
    for queue, only in ((QueueKind.ACCEPT, QueueKind.ACCEPT), (QueueKind.REVIEW, QueueKind.REVIEW),
                        (QueueKind.ACCEPT_REVIEW, None)):
        stmt = select(steps.c.province, steps.c.state, func.count(distinct(steps.c.case_id)))
        if only is not None:
            stmt = stmt.where(steps.c.queue == literal(only.value))
        for province, state, n in conn.execute(stmt.group_by(steps.c.province, steps.c.state)):
            out[(province, queue.value, state)] = int(n)
    return out


def recount(conn: Connection) -> int:
    """Replace the counts with a fresh count (after a bulk load that went around the use
    cases); the number of rows written."""
    counts = fresh_counts(conn)
    conn.execute(delete(WorkQueueCount))
    add(conn, counts)
    return len(counts)


def kept_counts(conn: Connection) -> dict[Key, int]:
    """The kept counts, without the rows at zero."""
    rows = conn.execute(select(WorkQueueCount.province, WorkQueueCount.queue, WorkQueueCount.state,
                               WorkQueueCount.cases).where(WorkQueueCount.cases != 0))
    return {(p, q, s): int(n) for p, q, s, n in rows}
