"""Routing's domain errors: stable reason codes, Chinese messages."""

from __future__ import annotations

from permitkit.errors import Aborted, InvalidArgument, PermissionDenied, Unauthenticated

DOMAIN = "permit.routing"


class RouteTextTooLong(InvalidArgument):
    reason = "ROUTE_TEXT_TOO_LONG"
    message = "路线文字过长，请分段识别。"


class RouteTooLong(InvalidArgument):
    reason = "ROUTE_TOO_LONG"
    message = "途经省份行数过多。"


class UnknownProvince(InvalidArgument):
    reason = "UNKNOWN_PROVINCE"
    message = "省份代码无效。"


class EventIdRequired(InvalidArgument):
    reason = "EVENT_ID_REQUIRED"
    message = "缺少事件标识。"


class EventIdInvalid(InvalidArgument):
    reason = "EVENT_ID_INVALID"
    message = "事件标识无效。"


class ApplicantInvalid(InvalidArgument):
    reason = "APPLICANT_INVALID"
    message = "申请人标识无效，应为 parties/{id}。"


class RouteEmpty(InvalidArgument):
    reason = "ROUTE_EMPTY"
    message = "路线为空。"


class SignInRequired(Unauthenticated):
    reason = "UNAUTHENTICATED"
    message = "请先登录。"


class PartyRequired(PermissionDenied):
    reason = "PARTY_REQUIRED"
    message = "历史路线推荐仅对申请人开放。"


class ServiceRoleRequired(PermissionDenied):
    reason = "SERVICE_ROLE_REQUIRED"
    message = "仅限内部服务调用。"


class ConcurrentUpdate(Aborted):
    reason = "CONCURRENT_UPDATE"
    message = "数据正在被更新，请稍后重试。"
