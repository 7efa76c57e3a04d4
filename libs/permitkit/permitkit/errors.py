"""Domain errors with stable reason codes, mapped to gRPC status and back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request: its path, a message for the user, a reason code."""

    field: str
    description: str
    reason: str = ""


class PermitError(Exception):
    """Base of every domain error: a reason code, a user message and the offending field.

    Subclasses set ``code`` (the canonical gRPC code) and may set default
    ``reason`` and ``message``; services subclass those per error noun.
    """

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN
    reason: str = "UNKNOWN"
    message: str = "操作失败，请稍后重试。"

    def __init__(
        self,
        message: str | None = None,
        *,
        reason: str | None = None,
        field: str | None = None,
        violations: Sequence[FieldViolation] = (),
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or type(self).message
        self.reason = reason or type(self).reason
        self.field = field
        vs = list(violations)
        if field and not any(v.field == field for v in vs) and self.code == grpc.StatusCode.INVALID_ARGUMENT:
            vs.insert(0, FieldViolation(field, self.message, self.reason))
        self.violations: list[FieldViolation] = vs
        self.metadata: dict[str, str] = {k: str(v) for k, v in (metadata or {}).items()}
        if field:
            self.metadata.setdefault("field", field)
        super().__init__(f"{self.reason}: {self.message}")


class InvalidArgument(PermitError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = "INVALID_ARGUMENT"
    message = "请求内容有误，请检查后重试。"


class NotFound(PermitError):
    code = grpc.StatusCode.NOT_FOUND
    reason = "NOT_FOUND"
    message = "未找到相关记录。"


class AlreadyExists(PermitError):
    code = grpc.StatusCode.ALREADY_EXISTS
    reason = "ALREADY_EXISTS"
    message = "记录已存在。"


class FailedPrecondition(PermitError):
    code = grpc.StatusCode.FAILED_PRECONDITION
    reason = "FAILED_PRECONDITION"
    message = "当前状态不允许此操作。"


class Aborted(PermitError):
    code = grpc.StatusCode.ABORTED
    reason = "ABORTED"
    message = "数据已被修改，请刷新后重试。"


class Unauthenticated(PermitError):
    code = grpc.StatusCode.UNAUTHENTICATED
    reason = "UNAUTHENTICATED"
    message = "请先登录。"


class PermissionDenied(PermitError):
    code = grpc.StatusCode.PERMISSION_DENIED
    reason = "PERMISSION_DENIED"
    message = "无权进行此操作。"


class ResourceExhausted(PermitError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "RATE_LIMITED"
    message = "操作过于频繁，请稍后再试。"


class Unavailable(PermitError):
    code = grpc.StatusCode.UNAVAILABLE
    reason = "UNAVAILABLE"
    message = "服务暂时不可用，请稍后重试。"


class DeadlineExceeded(PermitError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED
    reason = "DEADLINE_EXCEEDED"
    message = "服务响应超时，请稍后重试。"


_BY_CODE: dict[grpc.StatusCode, type[PermitError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument, NotFound, AlreadyExists, FailedPrecondition, Aborted,
        Unauthenticated, PermissionDenied, ResourceExhausted, Unavailable, DeadlineExceeded,
    )
}


# gRPC refuses trailers over 8 KB (RESOURCE_EXHAUSTED on the receiving side), and the
# status travels in one (binary) plus its message (percent-encoded, 9 bytes a Chinese
# character): the details are kept under this many bytes, the message and each ErrorInfo
# value under these many characters; what does not fit is counted, not sent.
MAX_STATUS_DETAIL_BYTES = 4000
MAX_MESSAGE_CHARS = 300
MAX_METADATA_VALUE_CHARS = 500


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status(err: PermitError, domain: str, message: str, metadata: Mapping[str, str],
            violations: Sequence[FieldViolation]) -> status_pb2.Status:
    info = error_details_pb2.ErrorInfo(reason=err.reason, domain=domain, metadata=dict(metadata))
    details: list[Message] = [info]
    if violations:
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field, description=v.description, reason=v.reason or err.reason
                    )
                    for v in violations
                ]
            )
        )
    packed = []
    for d in details:
        a = any_pb2.Any()
        a.Pack(d)
        packed.append(a)
    return status_pb2.Status(code=err.code.value[0], message=message, details=packed)


def to_status(err: PermitError, domain: str) -> status_pb2.Status:
    """Build the ``google.rpc.Status`` (ErrorInfo, and BadRequest for field errors).

    However many fields are wrong, the status fits gRPC's metadata limit: the first
    violations that fit are sent, the message says how many more there are, and
    ErrorInfo carries ``violation_count`` and ``omitted_violations``.
    """
    message = _clip(err.message, MAX_MESSAGE_CHARS)
    metadata = {k: _clip(v, MAX_METADATA_VALUE_CHARS) for k, v in err.metadata.items()}
    violations = list(err.violations)
    status = _status(err, domain, message, metadata, violations)
    if status.ByteSize() <= MAX_STATUS_DETAIL_BYTES:
        return status
    metadata["violation_count"] = str(len(violations))

    def capped(n: int) -> status_pb2.Status:
        omitted = len(violations) - n
        note = f"（另有 {omitted} 处错误未列出，请先修改以上各项。）" if omitted else ""
        return _status(err, domain, message + note, {**metadata, "omitted_violations": str(omitted)},
                       violations[:n])

    lo, hi = 0, len(violations)  # the largest n whose status fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if capped(mid).ByteSize() <= MAX_STATUS_DETAIL_BYTES:
            lo = mid
        else:
            hi = mid - 1
    return capped(lo)


def to_rpc_status(err: PermitError, domain: str) -> grpc.Status:
    """The status object a servicer context can abort with."""
    status: grpc.Status = rpc_status.to_status(to_status(err, domain))
    return status


@dataclass
class ErrorDetails:
    """A failed call as a client sees it: code, reason, message, metadata, field violations."""

    code: grpc.StatusCode
    message: str
    reason: str = ""
    domain: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    violations: list[FieldViolation] = field(default_factory=list)

    @classmethod
    def from_rpc_error(cls, e: grpc.RpcError) -> ErrorDetails:
        code = e.code() if hasattr(e, "code") else grpc.StatusCode.UNKNOWN
        message = e.details() if hasattr(e, "details") else str(e)
        out = cls(code=code, message=message or "")
        try:
            st = rpc_status.from_call(e)
        except Exception:  # noqa: BLE001 - malformed trailers: keep the plain status
            st = None
        if st is None:
            return out
        for any_detail in st.details:
            if any_detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                any_detail.Unpack(info)
                out.reason, out.domain, out.metadata = info.reason, info.domain, dict(info.metadata)
            elif any_detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                br = error_details_pb2.BadRequest()
                any_detail.Unpack(br)
                out.violations = [
                    FieldViolation(v.field, v.description, v.reason) for v in br.field_violations
                ]
        return out

    def to_error(self) -> PermitError:
        """Re-raise a peer's failure as the matching local PermitError."""
        cls = _BY_CODE.get(self.code, PermitError)
        err = cls(self.message or None, reason=self.reason or None, violations=self.violations,
                  metadata=self.metadata)
        return err

