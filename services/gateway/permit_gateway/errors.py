"""gRPC status -> HTTP status and an AIP-193 JSON error body with the reason code."""

from __future__ import annotations

from typing import Any

import grpc

from permitkit.errors import ErrorDetails

HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}

# What a carrier sees when a peer gave no message of its own.
DEFAULT_MESSAGES = {
    grpc.StatusCode.UNAVAILABLE: "服务暂时不可用，请稍后重试。",
    grpc.StatusCode.DEADLINE_EXCEEDED: "服务响应超时，请稍后重试。",
    grpc.StatusCode.INTERNAL: "系统内部错误，请稍后重试。",
    grpc.StatusCode.UNIMPLEMENTED: "该功能暂未开放。",
}


def error_body(code: grpc.StatusCode, message: str, reason: str, *, domain: str = "permit.gateway",
               metadata: dict[str, str] | None = None,
               violations: list[dict[str, str]] | None = None) -> dict[str, Any]:
    details: list[dict[str, Any]] = [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason, "domain": domain, "metadata": metadata or {},
    }]
    if violations:
        details.append({"@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": violations})
    return {"error": {"code": HTTP_STATUS.get(code, 500), "status": code.name, "message": message,
                      "reason": reason, "details": details}}


def from_rpc_error(e: grpc.RpcError) -> tuple[int, dict[str, Any]]:
    d = ErrorDetails.from_rpc_error(e)
    message = d.message
    if not d.reason:
        # Transport-level failures (peer down, deadline) carry grpc's English text: replace it.
        message = DEFAULT_MESSAGES.get(d.code, message or "操作失败，请稍后重试。")
    body = error_body(
        d.code, message, d.reason or d.code.name, domain=d.domain or "permit.gateway",
        metadata=d.metadata,
        violations=[{"field": v.field, "description": v.description, "reason": v.reason}
                    for v in d.violations],
    )
    return HTTP_STATUS.get(d.code, 500), body
