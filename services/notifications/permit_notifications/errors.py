"""Notifications' domain errors: stable reason codes, Chinese messages."""

from __future__ import annotations

from permitkit.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

DOMAIN = "permit.notifications"


class InboxRequired(PermissionDenied):
    reason = "INBOX_REQUIRED"
    message = "只有申请人和审批人员有消息。"


class PartyRequired(PermissionDenied):
    reason = "PARTY_REQUIRED"
    message = "只有申请人可以管理消息推送地址。"


class MessageNotFound(NotFound):
    reason = "MESSAGE_NOT_FOUND"
    message = "消息不存在。"


class WebhookNotFound(NotFound):
    reason = "WEBHOOK_NOT_FOUND"
    message = "推送地址不存在。"


class WebhookUrlInvalid(InvalidArgument):
    reason = "WEBHOOK_URL_INVALID"
    message = "推送地址格式不正确，应为 https:// 开头的完整网址。"


class WebhookUrlNotHttps(InvalidArgument):
    reason = "WEBHOOK_URL_NOT_HTTPS"
    message = "推送地址必须使用 HTTPS。"


class TooManyWebhooks(FailedPrecondition):
    reason = "TOO_MANY_WEBHOOKS"
    message = "每个企业最多登记 5 个推送地址，请先删除不用的地址。"
