"""Ports to other contexts that the use cases depend on (implemented in clients.py
and calendar_client.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class DocumentInfo:
    """What identity checks about a referenced document."""

    name: str
    owner: str
    kind: str  # DocumentKind without prefix: BUSINESS_LICENCE, ...


class DocumentsPort(Protocol):
    """The documents service seen from identity's use cases."""

    def describe(self, name: str) -> DocumentInfo | None: ...

    def grant_access(self, *, resource: str, provinces: list[str], documents: list[str],
                     owner: str = "") -> None: ...


class CalendarPort(Protocol):
    """The working-day calendar (owned by approval) seen from identity's use cases."""

    def add_working_days(self, start: dt.date, days: int) -> tuple[dt.date, bool]:
        """The ``days``-th working day after ``start`` and whether it is provisional."""
        ...
