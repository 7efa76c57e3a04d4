"""The approval context's declarative base, outbox tables, local dates, ids, states and the
facts transitions record (``OutgoingEvent``).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    MetaData,
)
from sqlalchemy.orm import DeclarativeBase

from permitkit.dates import SHANGHAI, local_date  # noqa: F401 - re-exported for the models
from permitkit.db import NAMING_CONVENTION, UTCDateTime
from permitkit.etags import etag_of
from permitkit.legacy_sync import add_legacy_sync_table
from permitkit.outbox import add_outbox_tables


class Base(DeclarativeBase):
    """Declarative base of the approval tables (permitkit's naming convention, UTC instants).

    Spelled out rather than ``permitkit.db.make_base()`` so that mypy sees a class.
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


OUTBOX, INBOX = add_outbox_tables(Base.metadata)
# What the legacy sync imported, record by record (PC-3).
LEGACY_SYNC = add_legacy_sync_table(Base.metadata)

def new_id() -> str:
    return uuid.uuid4().hex[:20]


class CaseState(enum.StrEnum):
    AWAITING_ACCEPTANCE = "AWAITING_ACCEPTANCE"
    UNDER_REVIEW = "UNDER_REVIEW"
    READY_TO_ISSUE = "READY_TO_ISSUE"
    ISSUED = "ISSUED"
    RETURNED = "RETURNED"
    DENIED = "DENIED"
    CANCELLED = "CANCELLED"
    REFUSED = "REFUSED"


OPEN_CASE_STATES = {CaseState.AWAITING_ACCEPTANCE, CaseState.UNDER_REVIEW, CaseState.READY_TO_ISSUE}


class ReviewState(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    DENIED = "DENIED"
    RETURNED = "RETURNED"
    ADJUSTMENT_PROPOSED = "ADJUSTMENT_PROPOSED"
    CANCELLED = "CANCELLED"


class Decision(enum.StrEnum):
    APPROVE = "APPROVE"
    DENY = "DENY"
    RETURN = "RETURN"
    REQUIRE_ADJUSTMENT = "REQUIRE_ADJUSTMENT"


class PermitState(enum.StrEnum):
    VALID = "VALID"
    EXTENDED = "EXTENDED"
    ABOLISHED = "ABOLISHED"
    EXPIRED = "EXPIRED"


class ChangeState(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    DENIED = "DENIED"
    CANCELLED = "CANCELLED"


# What a transition produced; ``published`` turns each into its integration event
# (approval/v1/events.proto).
class EventKind(enum.StrEnum):
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
    ROUTE_ADJUSTMENT_REJECTED = "ROUTE_ADJUSTMENT_REJECTED"
    EXTENSION_DENIED = "EXTENSION_DENIED"
    VEHICLE_CHANGE_DENIED = "VEHICLE_CHANGE_DENIED"


@dataclass
class Actor:
    """Who acts: the subject and, for officers, their province."""

    subject: str
    province: str | None = None


@dataclass
class OutgoingEvent:
    """A fact a transition produced, queued in the outbox (as its event message) by the use case."""

    kind: EventKind
    fields: dict[str, Any] = field(default_factory=dict)


class EmitsEvents:
    """An aggregate (with a ``version``) whose transitions produce ``OutgoingEvent``s for the
    use case to queue."""

    @property
    def events(self) -> list[OutgoingEvent]:
        """Events produced by transitions since load, not yet queued (not persisted)."""
        if "_pending_events" not in self.__dict__:
            self.__dict__["_pending_events"] = []
        return self.__dict__["_pending_events"]  # type: ignore[no-any-return]

    @property
    def etag(self) -> str:
        """The one etag format: the aggregate's version, quoted."""
        return etag_of(self.version)  # type: ignore[attr-defined]


def normalise_route(rows: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{"province": r["province"], "roads": list(r.get("roads") or [])} for r in rows or []]


def route_part(route: list[dict[str, Any]], province: str) -> list[list[str]]:
    """The rows of one province in a route (a province may appear more than once)."""
    return [list(r["roads"]) for r in route if r["province"] == province]
