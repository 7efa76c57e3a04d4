"""One JSON error body for every refusal: gRPC status -> HTTP status, AIP-193 shape plus the
reason code, the request id and the offending fields at the top level for simple clients."""

from __future__ import annotations

from typing import Any

import grpc
from fastapi.responses import JSONResponse

from permitkit.context import REQUEST_ID
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
# A call that failed in transport (peer down or too slow) carries no reason of its own.
_TRANSPORT_REASONS = {
    grpc.StatusCode.UNAVAILABLE: "BACKEND_UNAVAILABLE",
    grpc.StatusCode.DEADLINE_EXCEEDED: "BACKEND_TIMEOUT",
}


def error_body(code: grpc.StatusCode, message: str, reason: str, *, request_id: str,
               http_status: int | None = None, domain: str = "permit.gateway",
               metadata: dict[str, str] | None = None,
               violations: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The body of every refusal; ``http_status`` for statuses no gRPC code maps to (405, 413)."""
    violations = violations or []
    details: list[dict[str, Any]] = [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason, "domain": domain, "metadata": metadata or {},
    }]
    if violations:
        details.append({"@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": violations})
    return {"error": {"code": http_status or HTTP_STATUS.get(code, 500), "status": code.name,
                      "message": message, "reason": reason, "requestId": request_id,
                      "fieldViolations": violations, "details": details}}


def error_response(status: int, code: grpc.StatusCode, message: str, reason: str, request_id: str, *,
                   field: str = "", metadata: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """A refusal by the gateway itself, naming the offending field when there is one."""
    violations = [{"field": field, "description": message, "reason": reason}] if field else None
    meta = {**({"field": field} if field else {}), **(metadata or {})}
    body = error_body(code, message, reason, request_id=request_id, http_status=status, metadata=meta,
                      violations=violations)
    return JSONResponse(body, status_code=status, headers={REQUEST_ID: request_id, **(headers or {})})


def from_rpc_error(e: grpc.RpcError, request_id: str, service: str) -> tuple[int, dict[str, Any]]:
    """A failed call to the ``service`` context -> (HTTP status, body)."""
    d = ErrorDetails.from_rpc_error(e)
    message, reason, metadata = d.message, d.reason, d.metadata
    if not reason:
        # Transport-level failures (peer down, deadline) carry grpc's English text: replace it.
        message = DEFAULT_MESSAGES.get(d.code, message or "操作失败，请稍后重试。")
        reason = _TRANSPORT_REASONS.get(d.code, d.code.name)
        if d.code in _TRANSPORT_REASONS:
            metadata = {**metadata, "service": service}
    body = error_body(
        d.code, message, reason, request_id=request_id, domain=d.domain or "permit.gateway",
        metadata=metadata,
        violations=[{"field": v.field, "description": v.description, "reason": v.reason}
                    for v in d.violations],
    )
    return HTTP_STATUS.get(d.code, 500), body


def rpc_error_response(e: grpc.RpcError, request_id: str, service: str) -> JSONResponse:
    status, body = from_rpc_error(e, request_id, service)
    return JSONResponse(body, status_code=status, headers={REQUEST_ID: request_id})
