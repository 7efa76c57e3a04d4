"""The application as submitted, one row per submission (RV-2): what the officers decide on
stays on record, and a resubmission is compared field by field with the returned one.

The row holds the ``permit.application.v1.SubmittedApplication`` message of the
ApplicationSubmitted / ApplicationCorrected event, serialized; it is written once and
never changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from sqlalchemy import ForeignKey, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from permit_approval.models.base import Base

# Fields that differ between any two submissions without anything having changed.
_NOT_COMPARED = ("submission", "duplicate_check.check_time")


class CaseSubmission(Base):
    """One submission of a case's application, as the approval context received it."""

    __tablename__ = "case_submission"

    case_id: Mapped[str] = mapped_column(ForeignKey("review_case.id", ondelete="CASCADE"),
                                         primary_key=True)
    submission: Mapped[int] = mapped_column(Integer, primary_key=True)
    submit_time: Mapped[dt.datetime] = mapped_column()
    snapshot: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True)
class FieldChange:
    """A field that differs between two submissions, values as text ("" when unset)."""

    field: str
    before: str
    after: str


def _flatten(value: Any, path: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{path}.{key}" if path else key, out)
    elif isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            out[path] = ", ".join(_text(v) for v in value)
        else:
            for i, item in enumerate(value):
                _flatten(item, f"{path}[{i}]", out)
    else:
        out[path] = _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flatten(message: Message) -> dict[str, str]:
    """Every set field of ``message`` by its proto path ("vehicles[0].curb_mass_kg")."""
    out: dict[str, str] = {}
    _flatten(MessageToDict(message, preserving_proto_field_name=True), "", out)
    return {k: v for k, v in out.items() if k not in _NOT_COMPARED}


def changes_between(before: Message, after: Message) -> list[FieldChange]:
    """What differs from ``before`` to ``after``, field by field, in the order of ``after``
    (fields only in ``before`` last)."""
    old, new = flatten(before), flatten(after)
    keys = list(new) + [k for k in old if k not in new]
    return [FieldChange(k, old.get(k, ""), new.get(k, "")) for k in keys if old.get(k, "") != new.get(k, "")]
