"""Routing's persistent model: the per-applicant projection of approved routes (AP-7c)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from permit_routing.routes import Recommendation, Row, route_key, rows_from_json, rows_to_json
from permitkit.db import TimestampMixin, make_base
from permitkit.outbox import add_outbox_tables

if TYPE_CHECKING:
    # make_base() builds the class at run time; mypy needs a static one.
    class Base(DeclarativeBase):
        pass
else:
    Base = make_base()
metadata = Base.metadata
# Routing only receives events (route approved); the outbox table is kept so
# every service has the same pair and can start sending without a migration.
outbox_table, inbox_table = add_outbox_tables(metadata)


# AP-7c ranks by how often *and* how recently a route was approved: every
# approval counts 1, halved for every RANK_HALF_LIFE of age. Weighting by
# 2^((t - epoch) / half_life) instead of 2^(-(now - t) / half_life) scales every
# route by the same factor, so the order never changes as time passes and one
# stored, indexed column ranks correctly at any query time. Kept in log2 so
# the numbers stay small for centuries.
RANK_EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
RANK_HALF_LIFE = dt.timedelta(days=180)


def approval_weight(approve_time: dt.datetime) -> float:
    """log2 of one approval's weight."""
    return (approve_time - RANK_EPOCH) / RANK_HALF_LIFE


def log2_add(a: float, b: float) -> float:
    """log2(2^a + 2^b) without overflow."""
    hi, lo = max(a, b), min(a, b)
    return hi + math.log2(1.0 + 2.0 ** (lo - hi))


class ApprovedRoute(TimestampMixin, Base):
    """One distinct route an applicant had approved between an origin and a destination.

    Identical routes (after normalisation) are one row whose counter and last
    approval time grow with every issued permit that used it.
    """

    __tablename__ = "approved_route"
    __table_args__ = (
        UniqueConstraint("applicant", "origin_province", "destination_province", "route_key",
                         name="uq_approved_route_applicant_route"),
        # AP-7c: own routes for one origin/destination, best rank first.
        Index("ix_approved_route_ranking", "applicant", "origin_province", "destination_province",
              "rank_score"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    applicant: Mapped[str] = mapped_column(String(100))
    origin_province: Mapped[str] = mapped_column(String(6))
    destination_province: Mapped[str] = mapped_column(String(6))
    route_key: Mapped[str] = mapped_column(String(64))
    rows_json: Mapped[list[dict[str, Any]]] = mapped_column(
        "rows", JSON().with_variant(JSONB(), "postgresql"))
    times_approved: Mapped[int] = mapped_column(Integer, default=0)
    # log2 of the sum of every approval's weight 2^((t - RANK_EPOCH) / RANK_HALF_LIFE): see rank_score().
    rank_score: Mapped[float] = mapped_column(Float(precision=53), default=0.0)
    first_approve_time: Mapped[dt.datetime]
    last_approve_time: Mapped[dt.datetime]
    last_application: Mapped[str] = mapped_column(String(100), default="")

    @classmethod
    def first_approval(cls, *, applicant: str, origin_province: str, destination_province: str,
              rows: Sequence[Row], application: str, approve_time: dt.datetime) -> ApprovedRoute:
        """The projection row for a route approved for the first time."""
        return cls(applicant=applicant, origin_province=origin_province,
                   destination_province=destination_province, route_key=route_key(rows),
                   rows_json=rows_to_json(rows), times_approved=1, rank_score=approval_weight(approve_time),
                   first_approve_time=approve_time, last_approve_time=approve_time,
                   last_application=application)

    @property
    def rows(self) -> tuple[Row, ...]:
        return rows_from_json(self.rows_json)

    def recommendation(self) -> Recommendation:
        """This route as a recommendation the caller can keep after the session ends."""
        return Recommendation(rows=self.rows, times_approved=self.times_approved,
                              last_approve_time=self.last_approve_time,
                              last_application=self.last_application)

    def record_approval(self, *, application: str, approve_time: dt.datetime) -> None:
        """Count one more issued permit on this route; events may arrive out of order."""
        self.times_approved += 1
        self.rank_score = log2_add(self.rank_score, approval_weight(approve_time))
        if approve_time >= self.last_approve_time:
            self.last_approve_time = approve_time
            self.last_application = application
        if approve_time < self.first_approve_time:
            self.first_approve_time = approve_time
