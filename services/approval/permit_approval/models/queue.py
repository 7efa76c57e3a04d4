"""The number of cases in each work queue (RV-2): per province, kind of officer and case state.

The officer's view shows the count per state of the whole queue with every page. Counting
the queue each time would read every open step that waits for the province; these rows
are kept instead, in the transaction that changes a case (``permit_approval.queue_counts``).
"""

from __future__ import annotations

import enum

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from permit_approval.models.base import Base


class QueueKind(enum.StrEnum):
    """Whose queue: what an officer with these roles sees (``ACCEPT_REVIEW``: both at once)."""

    ACCEPT = "ACCEPT"
    REVIEW = "REVIEW"
    ACCEPT_REVIEW = "ACCEPT_REVIEW"

    @classmethod
    def of(cls, *, acceptance: bool, review: bool) -> QueueKind | None:
        if acceptance and review:
            return cls.ACCEPT_REVIEW
        if acceptance:
            return cls.ACCEPT
        if review:
            return cls.REVIEW
        return None


class WorkQueueCount(Base):
    """How many cases in ``state`` wait in ``province``'s queue of ``queue`` officers."""

    __tablename__ = "work_queue_count"

    province: Mapped[str] = mapped_column(String(6), primary_key=True)
    queue: Mapped[str] = mapped_column(String(16), primary_key=True)
    state: Mapped[str] = mapped_column(String(32), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)
