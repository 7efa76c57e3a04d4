"""permitkit.access: the caller checks every service shares, one reason per refusal kind."""

from __future__ import annotations

import importlib

import grpc
import pytest

from permitkit import access
from permitkit.context import Principal
from permitkit.errors import PermissionDenied, PermitError

SERVICE = Principal(subject="services/application", roles=frozenset({"service"}))
ADMIN = Principal(subject="officers/admin", roles=frozenset({"admin"}))
OFFICER = Principal(subject="officers/o1", roles=frozenset({"officer.review"}), province="130000")
USER = Principal(subject="users/u1", party="parties/p1", roles=frozenset({"applicant"}))


def reason(fn, *args, **kw) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(PermitError) as e:
        fn(*args, **kw)
    return e.value.code, e.value.reason


def test_no_caller_is_not_signed_in() -> None:
    assert reason(access.signed_in, None) == (grpc.StatusCode.UNAUTHENTICATED, "NOT_SIGNED_IN")
    assert reason(access.require_service, None)[1] == "NOT_SIGNED_IN"


def test_internal_rpcs_are_for_services_and_administrators_only_when_allowed() -> None:
    assert access.require_service(SERVICE) is SERVICE
    assert reason(access.require_service, USER) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_SERVICE")
    assert reason(access.require_service, ADMIN)[1] == "NOT_SERVICE"
    assert access.require_service(ADMIN, or_admin=True) is ADMIN


def test_administration_is_for_administrators() -> None:
    assert access.require_admin(ADMIN) is ADMIN
    assert reason(access.require_admin, OFFICER) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_ADMIN")
    assert reason(access.require_admin, SERVICE)[1] == "NOT_ADMIN"
    assert access.require_admin(SERVICE, or_service=True) is SERVICE


def test_officers_act_for_their_own_province_ID_6() -> None:
    access.require_province(OFFICER, "130000")
    assert reason(access.require_province, OFFICER, "370000") == (grpc.StatusCode.PERMISSION_DENIED,
                                                                  "OTHER_PROVINCE")


@pytest.mark.parametrize("ctx", ["identity", "application", "approval"])
def test_every_service_refuses_a_non_service_caller_with_the_same_reason(ctx: str) -> None:
    errors = importlib.import_module(f"permit_{ctx}.errors")
    refusals = [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, PermissionDenied)
                and v.reason in ("NOT_SERVICE", "SERVICE_ONLY")]
    assert refusals and all(r is access.NotService for r in refusals)
