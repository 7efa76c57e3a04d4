"""Ports to other contexts that the use cases depend on (implemented in clients.py)."""

from __future__ import annotations

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

