"""Who is calling and under which request id: contextvars fed from gRPC metadata."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

from permitkit.errors import PermissionDenied, Unauthenticated

REQUEST_ID = "x-request-id"
SUBJECT = "x-permit-subject"
PARTY = "x-permit-party"
ROLES = "x-permit-roles"
PROVINCE = "x-permit-province"
ONBOARDING = "x-permit-onboarding"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller as the gateway (or a peer service) vouches for it."""

    subject: str
    party: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    province: str | None = None
    onboarding: str | None = None

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_service(self) -> bool:
        return "service" in self.roles

    def to_metadata(self) -> list[tuple[str, str]]:
        md = [(SUBJECT, self.subject)]
        if self.party:
            md.append((PARTY, self.party))
        if self.roles:
            md.append((ROLES, ",".join(sorted(self.roles))))
        if self.province:
            md.append((PROVINCE, self.province))
        if self.onboarding:
            md.append((ONBOARDING, self.onboarding))
        return md

    @classmethod
    def from_metadata(cls, metadata: Iterable[tuple[str, str | bytes]] | None) -> Principal | None:
        md = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in (metadata or ())}
        subject = md.get(SUBJECT)
        if not subject:
            return None
        roles = frozenset(r.strip() for r in md.get(ROLES, "").split(",") if r.strip())
        return cls(
            subject=subject,
            party=md.get(PARTY) or None,
            roles=roles,
            province=md.get(PROVINCE) or None,
            onboarding=md.get(ONBOARDING) or None,
        )


_principal: ContextVar[Principal | None] = ContextVar("permit_principal", default=None)
_request_id: ContextVar[str | None] = ContextVar("permit_request_id", default=None)


def current_principal() -> Principal | None:
    """The caller of the RPC being served, or None when anonymous."""
    return _principal.get()


def current_request_id() -> str | None:
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def require_principal(*any_roles: str) -> Principal:
    """The caller, or Unauthenticated; PermissionDenied unless it holds one of ``any_roles``."""
    p = _principal.get()
    if p is None:
        raise Unauthenticated(reason="UNAUTHENTICATED")
    if any_roles and not p.has_role(*any_roles):
        raise PermissionDenied(reason="ROLE_REQUIRED", metadata={"roles": ",".join(any_roles)})
    return p


def require_service() -> Principal:
    """Internal RPCs: only peer services may call them."""
    return require_principal("service")


@contextlib.contextmanager
def bind(*, principal: Principal | None = None, request_id: str | None = None) -> Iterator[None]:
    """Run a block as ``principal`` under ``request_id`` (tests, relays, CLIs)."""
    t1 = _principal.set(principal)
    t2 = _request_id.set(request_id or _request_id.get() or new_request_id())
    try:
        yield
    finally:
        _principal.reset(t1)
        _request_id.reset(t2)


def set_current(principal: Principal | None, request_id: str) -> tuple[object, object]:
    return _principal.set(principal), _request_id.set(request_id)


def reset_current(tokens: Sequence[object]) -> None:
    _principal.reset(tokens[0])  # type: ignore[arg-type]
    _request_id.reset(tokens[1])  # type: ignore[arg-type]
