"""Routing's persistent model: the per-applicant projection of approved routes (AP-7c)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint
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


class ApprovedRoute(TimestampMixin, Base):
    """One distinct route an applicant had approved between an origin and a destination.

    Identical routes (after normalisation) are one row whose counter and last
    approval time grow with every issued permit that used it.
    """

    __tablename__ = "approved_route"
    __table_args__ = (
        UniqueConstraint("applicant", "origin_province", "destination_province", "route_key",
                         name="uq_approved_route_applicant_route"),
        # AP-7c: own routes for one origin/destination, most often then most recently approved.
        Index("ix_approved_route_ranking", "applicant", "origin_province", "destination_province",
              "times_approved", "last_approve_time"),
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
    first_approve_time: Mapped[dt.datetime]
    last_approve_time: Mapped[dt.datetime]
    last_application: Mapped[str] = mapped_column(String(100), default="")

    @classmethod
    def first(cls, *, applicant: str, origin_province: str, destination_province: str,
              rows: Sequence[Row], application: str, approve_time: dt.datetime) -> ApprovedRoute:
        """The projection row for a route approved for the first time."""
        return cls(applicant=applicant, origin_province=origin_province,
                   destination_province=destination_province, route_key=route_key(rows),
                   rows_json=rows_to_json(rows), times_approved=1, first_approve_time=approve_time,
                   last_approve_time=approve_time, last_application=application)

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
        if approve_time >= self.last_approve_time:
            self.last_approve_time = approve_time
            self.last_application = application
        if approve_time < self.first_approve_time:
            self.first_approve_time = approve_time
