"""Caller checks every service makes the same way, with one reason per kind of
refusal: no caller (NOT_SIGNED_IN), not a peer service (NOT_SERVICE), not an
administrator (NOT_ADMIN), another province (OTHER_PROVINCE). Domain checks
(whose application, which officer role) stay in the services."""

from __future__ import annotations

from permitkit.context import Principal
from permitkit.errors import PermissionDenied, Unauthenticated

SERVICE = "service"
ADMIN = "admin"


class NotSignedIn(Unauthenticated):
    reason = "NOT_SIGNED_IN"
    message = "请先登录。"


class NotService(PermissionDenied):
    reason = "NOT_SERVICE"
    message = "仅限内部服务调用。"


class NotAdmin(PermissionDenied):
    reason = "NOT_ADMIN"
    message = "仅限系统管理员操作。"


class OtherProvince(PermissionDenied):
    reason = "OTHER_PROVINCE"
    message = "该事项不属于您所在省份，无权操作。"


def signed_in(principal: Principal | None) -> Principal:
    """The caller, or NOT_SIGNED_IN."""
    if principal is None:
        raise NotSignedIn()
    return principal


def require_service(principal: Principal | None, *, or_admin: bool = False) -> Principal:
    """Internal RPCs: a peer service (or, with ``or_admin``, an administrator)."""
    p = signed_in(principal)
    if not (p.is_service or (or_admin and p.has_role(ADMIN))):
        raise NotService()
    return p


def require_admin(principal: Principal | None, *, or_service: bool = False) -> Principal:
    """An administrator (or, with ``or_service``, a peer service acting for one)."""
    p = signed_in(principal)
    if not (p.has_role(ADMIN) or (or_service and p.is_service)):
        raise NotAdmin()
    return p


def require_province(principal: Principal, province: str) -> None:
    """An officer acts only for the province ``province`` concerns."""
    if principal.province != province:
        raise OtherProvince(metadata={"province": province})
