"""The FastAPI application: one route per public RPC annotation, auth, error mapping."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from google.protobuf import descriptor, json_format
from google.protobuf.message import Message
from starlette.exceptions import HTTPException as StarletteHTTPException

from permit_gateway.auth import AuthError, PublicKey, TokenVerifier
from permit_gateway.config import Settings
from permit_gateway.errors import error_body, from_rpc_error
from permit_gateway.openapi import build_openapi
from permit_gateway.transcoding import Rule, collect_rules
from permitkit.context import REQUEST_ID, Principal, new_request_id

log = structlog.get_logger("permit_gateway")
FD = descriptor.FieldDescriptor
CHUNK = 64 * 1024
# A client's x-request-id is echoed and sent on as gRPC metadata: only ids that
# are safe in both places are kept, anything else is replaced by a fresh one.
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Well-known types whose proto3 JSON form is not an object.
_SCALAR_JSON_TYPES = frozenset({
    "google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask",
    "google.protobuf.Value", "google.protobuf.ListValue", "google.protobuf.DoubleValue",
    "google.protobuf.FloatValue", "google.protobuf.Int64Value", "google.protobuf.UInt64Value",
    "google.protobuf.Int32Value", "google.protobuf.UInt32Value", "google.protobuf.BoolValue",
    "google.protobuf.StringValue", "google.protobuf.BytesValue",
})
# Why each non-error status a route can answer with is refused, for the JSON body.
_HTTP_REASONS = {
    404: (grpc.StatusCode.NOT_FOUND, "请求的地址不存在。", "ROUTE_NOT_FOUND"),
    405: (grpc.StatusCode.UNIMPLEMENTED, "该地址不支持此请求方法。", "METHOD_NOT_ALLOWED"),
}


class BadRequest(Exception):
    """A request the gateway cannot turn into a gRPC message."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _error(status: int, code: grpc.StatusCode, message: str, reason: str, rid: str,
           field: str = "") -> JSONResponse:
    violations = [{"field": field, "description": message, "reason": reason}] if field else None
    body = error_body(code, message, reason, metadata={"field": field} if field else None, violations=violations)
    body["error"]["code"] = status  # e.g. 405, which no gRPC code maps to
    return JSONResponse(body, status_code=status, headers={REQUEST_ID: rid})


def request_id(raw: str | None) -> str:
    """The caller's request id if it is safe to echo and forward, else a new one."""
    return raw if raw and _REQUEST_ID_RE.fullmatch(raw) else new_request_id()


def _coerce(f: FD, raw: str) -> Any:
    if f.type == FD.TYPE_BOOL:
        low = raw.lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        raise BadRequest(f"参数 {f.json_name} 应为 true 或 false。", f.name)
    return raw  # json_format accepts numbers and enum names as strings


def query_to_dict(md: descriptor.Descriptor, items: list[tuple[str, str]]) -> dict[str, Any]:
    """``?pageSize=10&filter.state=STATE_DRAFT&tags=a&tags=b`` -> a ParseDict-ready dict."""
    out: dict[str, Any] = {}
    for key, raw in items:
        cur_md, cur = md, out
        parts = key.split(".")
        for i, part in enumerate(parts):
            f = cur_md.fields_by_name.get(part) or next(
                (x for x in cur_md.fields if x.json_name == part), None)
            if f is None:
                raise BadRequest(f"不支持的查询参数：{key}", key)
            if i < len(parts) - 1:
                if f.type != FD.TYPE_MESSAGE or f.is_repeated:
                    raise BadRequest(f"不支持的查询参数：{key}", key)
                nxt = cur.setdefault(f.name, {})
                if not isinstance(nxt, dict):  # ?cargo=x&cargo.name=y
                    raise BadRequest(f"查询参数重复或冲突：{key}", key)
                cur, cur_md = nxt, f.message_type
                continue
            value = _coerce(f, raw)
            if f.is_repeated:
                values = cur.setdefault(f.name, [])
                if not isinstance(values, list):
                    raise BadRequest(f"查询参数重复或冲突：{key}", key)
                values.append(value)
            elif isinstance(cur.get(f.name), dict):  # ?cargo.name=y&cargo=x
                raise BadRequest(f"查询参数重复或冲突：{key}", key)
            else:
                cur[f.name] = value
    return out


def _set_path(d: dict[str, Any], dotted: str, value: str) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        d = d.setdefault(p, {})
        if not isinstance(d, dict):
            raise BadRequest(f"参数 {p} 应为 JSON 对象。", p)
    d[parts[-1]] = value


def _check_enums(msg: Any, prefix: str = "") -> None:
    """Refuse enum numbers the contract does not define.

    proto3 enums are open, so ParseDict keeps an unknown number; a service would
    store it and answer it back as a bare integer, which the API does not define.
    """
    f: Any
    for f, value in msg.ListFields():
        path = f"{prefix}{f.name}"
        if f.type == FD.TYPE_ENUM:
            for v in (value if f.is_repeated else [value]):
                if f.enum_type.values_by_number.get(v) is None:
                    raise BadRequest(f"参数 {f.json_name} 的取值无效。", path)
        elif f.type == FD.TYPE_MESSAGE:
            if f.message_type.GetOptions().map_entry:
                vf = f.message_type.fields_by_name["value"]
                if vf.type == FD.TYPE_MESSAGE:
                    for k, item in value.items():
                        _check_enums(item, f"{path}.{k}.")
                elif vf.type == FD.TYPE_ENUM:
                    for item in value.values():
                        if vf.enum_type.values_by_number.get(item) is None:
                            raise BadRequest(f"参数 {f.json_name} 的取值无效。", path)
            elif f.is_repeated:
                for i, item in enumerate(value):
                    _check_enums(item, f"{path}[{i}].")
            else:
                _check_enums(value, f"{path}.")


def _needs_object(f: FD) -> bool:
    return (f.type == FD.TYPE_MESSAGE and not f.is_repeated and f.message_type is not None
            and f.message_type.full_name not in _SCALAR_JSON_TYPES)


async def build_message(rule: Rule, request: Request) -> Message:
    params = dict(request.path_params)
    for v in params.values():
        if ":" in v or not v:
            raise LookupError(v)
    data: dict[str, Any] = {}
    if rule.body:
        raw = await request.body()
        if raw.strip():
            try:
                body = json_format.json.loads(raw)  # type: ignore[attr-defined]
            except (ValueError, RecursionError):  # also invalid UTF-8 and absurd nesting
                raise BadRequest("请求内容不是有效的 JSON。") from None
            if not isinstance(body, dict) and (
                    rule.body == "*" or _needs_object(rule.method.input_type.fields_by_name[rule.body])):
                raise BadRequest("请求内容应为 JSON 对象。")
            data = body if rule.body == "*" else {rule.body: body}
    if rule.body != "*":
        # Fields bound to neither the path nor the body come from the query string
        # (google.api.http), e.g. PATCH ...?updateMask=cargo with the resource as body.
        query = query_to_dict(rule.method.input_type, list(request.query_params.multi_items()))
        if rule.body and rule.body in query:
            raise BadRequest(f"参数 {rule.body} 应放在请求体中。", rule.body)
        data.update(query)
    for fname, value in rule.path_fields(params).items():
        _set_path(data, fname, value)
    msg = rule.request_class()()
    try:
        json_format.ParseDict(data, msg)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as e:
        raise BadRequest(f"请求字段有误：{e}") from None
    _check_enums(msg)
    return msg


async def _upload_messages(rule: Rule, request: Request, max_bytes: int) -> AsyncIterator[Message]:
    """multipart/form-data (file + header fields) -> header message, then chunk messages."""
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise BadRequest("请选择要上传的文件。", "file")
    req_cls = rule.request_class()
    header_field = next(f for f in rule.method.input_type.fields if f.type == FD.TYPE_MESSAGE)
    header_data = {k: v for k, v in form.multi_items() if k != "file" and isinstance(v, str)}
    header_data.setdefault("filename", upload.filename or "")
    header_data.setdefault("declared_content_type", upload.content_type or "")
    header = req_cls()
    try:
        json_format.ParseDict({header_field.name: header_data}, header)
    except (json_format.ParseError, ValueError, TypeError) as e:
        raise BadRequest(f"上传参数有误：{e}") from None
    _check_enums(header)

    async def gen() -> AsyncIterator[Message]:
        yield header
        sent = 0
        while chunk := await upload.read(CHUNK):
            sent += len(chunk)
            yield req_cls(chunk=chunk)
            if sent > max_bytes:
                break  # the service refuses it (FILE_TOO_LARGE) without more bytes
    return gen()


def create_app(settings: Settings, *, channels: dict[str, grpc.aio.Channel] | None = None,
               verifier: TokenVerifier | None = None) -> FastAPI:
    """Build the gateway; ``channels``/``verifier`` may be given by tests."""
    rules = collect_rules()
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # grpc.aio channels must be made inside the running loop.
        own = channels is None
        chans = channels or {c: grpc.aio.insecure_channel(a) for c, a in settings.peers.items()}
        state["channels"] = chans
        state["verifier"] = verifier or TokenVerifier(
            _key_fetcher(chans["identity"], settings.call_timeout),
            issuer=settings.token_issuer, audience=settings.token_audience,
            session_check=(_session_check(chans["identity"], settings.call_timeout)
                           if settings.session_recheck_seconds > 0 else None),
            recheck_after=settings.session_recheck_seconds)
        yield
        if own:
            for ch in chans.values():
                await ch.close()

    # No trailing-slash redirects: "/v1/applications/" is an empty resource id
    # (404), not the collection.
    app = FastAPI(title="跨省大件运输并联许可 掌上办 API", version="v1", lifespan=lifespan,
                  docs_url="/docs", openapi_url=None, redirect_slashes=False)
    doc = build_openapi(rules, title=app.title, version=app.version)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown paths, wrong methods and unreadable multipart bodies answer the
        # same JSON error body as every other refusal.
        rid = request_id(request.headers.get(REQUEST_ID))
        code, message, reason = _HTTP_REASONS.get(
            exc.status_code, (grpc.StatusCode.INVALID_ARGUMENT, "请求有误。", "REQUEST_MALFORMED"))
        resp = _error(exc.status_code, code, message, reason, rid)
        if exc.status_code == 405:
            # Starlette names only the first route that matched the path; one RPC
            # per method means several routes share it (GET and POST /v1/applications).
            routes: list[Any] = list(app.router.routes)
            allowed = sorted({m for route in routes
                              if getattr(route, "path_regex", None) and route.path_regex.match(request.url.path)
                              for m in (getattr(route, "methods", None) or ())})
            resp.headers["allow"] = ", ".join(allowed)
        elif exc.headers:
            resp.headers.update(exc.headers)
        return resp

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        rid = request_id(request.headers.get(REQUEST_ID))
        log.exception("http_unhandled", path=request.url.path, request_id=rid)
        return _error(500, grpc.StatusCode.INTERNAL, "系统内部错误，请稍后重试。", "INTERNAL", rid)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(doc)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    for rule in rules:
        if rule.internal:
            continue
        app.add_api_route(rule.route_path, _handler(rule, settings, state), methods=[rule.http_method],
                          include_in_schema=False, name=rule.full_method)
    return app


def _key_fetcher(channel: grpc.aio.Channel, timeout: float) -> Callable[[], Awaitable[list[PublicKey]]]:
    from permit.identity.v1 import identity_service_pb2 as pb

    call = channel.unary_unary("/permit.identity.v1.IdentityService/ListPublicKeys",
                               request_serializer=pb.ListPublicKeysRequest.SerializeToString,
                               response_deserializer=pb.ListPublicKeysResponse.FromString)

    async def fetch() -> list[PublicKey]:
        resp = await call(pb.ListPublicKeysRequest(), timeout=timeout)
        return [PublicKey(k.key_id, k.algorithm or "EdDSA", k.public_key_pem) for k in resp.keys]
    return fetch


def _session_check(channel: grpc.aio.Channel, timeout: float) -> Callable[[str], Awaitable[bool]]:
    """IdentityService.IntrospectToken, called as the gateway service: is the token's session open?"""
    from permit.identity.v1 import identity_service_pb2 as pb
    from permitkit.client import call_metadata, service_principal

    call = channel.unary_unary("/permit.identity.v1.IdentityService/IntrospectToken",
                               request_serializer=pb.IntrospectTokenRequest.SerializeToString,
                               response_deserializer=pb.IntrospectTokenResponse.FromString)
    metadata = call_metadata(service_principal("gateway"))

    async def check(token: str) -> bool:
        resp = await call(pb.IntrospectTokenRequest(access_token=token), timeout=timeout, metadata=metadata)
        return bool(resp.active) or resp.reason != "SESSION_REVOKED"
    return check


SIGN_OUT = "permit.identity.v1.IdentityService/SignOut"


def _handler(rule: Rule, settings: Settings, state: dict[str, Any]) -> Callable[[Request], Awaitable[Response]]:
    req_cls, resp_cls = rule.request_class(), rule.response_class()

    async def handle(request: Request) -> Response:
        rid = request_id(request.headers.get(REQUEST_ID))
        principal: Principal | None = None
        auth = request.headers.get("authorization", "")
        try:
            if auth:
                scheme, _, token = auth.partition(" ")
                if scheme.lower() != "bearer" or not token:
                    raise AuthError("TOKEN_INVALID", "登录凭证格式有误，请重新登录。")
                principal = await state["verifier"].verify(token.strip())
            elif not rule.public:
                raise AuthError("UNAUTHENTICATED", "请先登录。")
        except AuthError as e:
            return _error(401, grpc.StatusCode.UNAUTHENTICATED, e.message, e.reason, rid)
        except grpc.RpcError as e:
            status, body = from_rpc_error(e)
            return JSONResponse(body, status_code=status, headers={REQUEST_ID: rid})
        metadata = [(REQUEST_ID, rid), *(principal.to_metadata() if principal else [])]
        channel = state["channels"][rule.context]
        try:
            if rule.client_streaming:
                messages = await _upload_messages(rule, request, settings.max_upload_bytes)
                call = channel.stream_unary(rule.grpc_path, request_serializer=req_cls.SerializeToString,
                                            response_deserializer=resp_cls.FromString)
                resp = await call(messages, timeout=settings.call_timeout, metadata=metadata)
            else:
                msg = await build_message(rule, request)
                if rule.server_streaming:
                    return await _stream(rule, channel, msg, metadata, settings, rid)
                call = channel.unary_unary(rule.grpc_path, request_serializer=req_cls.SerializeToString,
                                           response_deserializer=resp_cls.FromString)
                resp = await call(msg, timeout=settings.call_timeout, metadata=metadata)
        except LookupError:
            return _error(404, grpc.StatusCode.NOT_FOUND, "请求的地址不存在。", "ROUTE_NOT_FOUND", rid)
        except BadRequest as e:
            return _error(400, grpc.StatusCode.INVALID_ARGUMENT, e.message, "REQUEST_MALFORMED", rid, e.field)
        except grpc.RpcError as e:
            status, body = from_rpc_error(e)
            log.info("http_rpc_failed", method=rule.full_method, status=status, reason=body["error"]["reason"],
                     request_id=rid)
            return JSONResponse(body, status_code=status, headers={REQUEST_ID: rid})
        if rule.full_method == SIGN_OUT and auth:
            state["verifier"].forget_session_of(auth.partition(" ")[2].strip())
        return JSONResponse(json_format.MessageToDict(resp), headers={REQUEST_ID: rid})

    return handle


async def _stream(rule: Rule, channel: grpc.aio.Channel, msg: Message, metadata: list[tuple[str, str]],
                  settings: Settings, rid: str) -> Response:
    """Server-streaming download: first message may carry metadata, the rest are byte chunks.

    The stream is read with ``read()`` only (grpc.aio forbids mixing it with
    ``async for`` on one call). The metadata and the first chunk are read before
    the response starts, so a refusal (not found, token expired, storage down)
    still becomes a proper JSON error; a failure after that can only cut the
    body short, which the client sees as an incomplete transfer.
    """
    resp_cls = rule.response_class()
    call = channel.unary_stream(rule.grpc_path, request_serializer=type(msg).SerializeToString,
                                response_deserializer=resp_cls.FromString)
    stream = call(msg, timeout=settings.call_timeout * 6, metadata=metadata)
    headers = {REQUEST_ID: rid}
    media = "application/octet-stream"
    first: Any = await stream.read()
    if first is grpc.aio.EOF:
        return Response(b"", media_type=media, headers=headers)
    meta_field = next((f for f in first.DESCRIPTOR.fields if f.type == FD.TYPE_MESSAGE), None)
    pending: list[bytes] = []
    if meta_field is not None and first.HasField(meta_field.name):
        meta = getattr(first, meta_field.name)
        media = getattr(meta, "content_type", "") or media
        if getattr(meta, "filename", ""):
            from urllib.parse import quote
            headers["content-disposition"] = f"attachment; filename*=UTF-8''{quote(meta.filename)}"
        nxt: Any = await stream.read()
        if nxt is grpc.aio.EOF:
            return Response(b"", media_type=media, headers=headers)
        pending.append(nxt.chunk)
    else:
        pending.append(first.chunk)

    async def body() -> AsyncIterator[bytes]:
        for p in pending:
            yield p
        while True:
            try:
                m: Any = await stream.read()
            except grpc.RpcError as e:
                log.warning("http_download_cut", method=rule.full_method, code=e.code().name, request_id=rid)
                raise
            if m is grpc.aio.EOF:
                return
            yield m.chunk
    return StreamingResponse(body(), media_type=media, headers=headers)
