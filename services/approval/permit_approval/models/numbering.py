"""Permit numbering and the working calendar's administrator years (RV-4, RV-5).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from permit_approval.models.base import Base
from permitkit.db import utcnow


class PermitSequence(Base):
    """The last permit serial per issuing province and year."""

    __tablename__ = "permit_sequence"

    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class CalendarYear(Base):
    """An administrator's working-day data for one year (RV-4); replaces the library's."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)
    workdays: Mapped[list[str]] = mapped_column(JSON, default=list)
    update_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100), default="")
