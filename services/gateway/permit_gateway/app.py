"""The FastAPI application: one route per public RPC annotation, auth, limits, error mapping."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote

import grpc
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from google.protobuf import descriptor
from google.protobuf.message import Message
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from permit_gateway import docs_page, docs_zh, uploads, verify_page
from permit_gateway.auth import AuthError, PublicKey, SessionCheckUnavailable, TokenVerifier
from permit_gateway.bodies import BodyTooLarge, ClientTooSlow, LimitedBody, check_declared_length, human_size
from permit_gateway.config import Settings
from permit_gateway.errors import error_response, rpc_error_response
from permit_gateway.jsonout import message_to_dict
from permit_gateway.messages import BadRequest, NotRouted, build_message, upload_header
from permit_gateway.middleware import JsonCORSMiddleware, RequestIdMiddleware, request_id_of
from permit_gateway.openapi import audience_document, build_openapi
from permit_gateway.ratelimit import RateLimiter, retry_after_seconds
from permit_gateway.shared import RedisStore
from permit_gateway.transcoding import Rule, collect_rules
from permit_gateway.web import mount_web
from permitkit.client import make_aio_channel
from permitkit.context import REQUEST_ID, Principal

log = structlog.get_logger("permit_gateway")
FD = descriptor.FieldDescriptor
# Calls that hand out tokens: an expired or invalid token sent along is ignored.
TOKEN_ISSUING = frozenset({"permit.identity.v1.IdentityService/SignIn",
                           "permit.identity.v1.IdentityService/StartSignIn",
                           "permit.identity.v1.IdentityService/CompleteSignIn",
                           "permit.identity.v1.IdentityService/RefreshSession"})
SIGN_OUT = "permit.identity.v1.IdentityService/SignOut"
# Why each non-error status a route can answer with is refused, for the JSON body.
_HTTP_REASONS = {
    404: (grpc.StatusCode.NOT_FOUND, "请求的地址不存在。", "ROUTE_NOT_FOUND"),
    405: (grpc.StatusCode.UNIMPLEMENTED, "该地址不支持此请求方法。", "METHOD_NOT_ALLOWED"),
}
# After identity failed in transport, token checks fail at once for this long
# instead of each request waiting out its own deadline; short, so that identity
# back is identity used again within a second.
IDENTITY_COOL_DOWN = 0.25


def create_app(settings: Settings, *, channels: dict[str, grpc.aio.Channel] | None = None,
               verifier: TokenVerifier | None = None, examples_day: dt.date | None = None) -> FastAPI:
    """Build the gateway; ``channels``/``verifier`` may be given by tests. ``examples_day``
    anchors the travel dates of the OpenAPI document's examples (default: today in
    Asia/Shanghai; the committed snapshot of the document uses a fixed day)."""
    rules = collect_rules()
    # Shared by the replicas (rate limits, sign-outs) when Redis is configured.
    store = RedisStore(settings.redis_url, prefix=settings.redis_prefix) if settings.redis_url else None
    state: dict[str, Any] = {"limiter": RateLimiter(settings, store)}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # grpc.aio channels must be made inside the running loop.
        own = channels is None
        chans = channels or {c: make_aio_channel(a) for c, a in settings.peers.items()}
        state["channels"] = chans
        identity = chans["identity"]
        state["verifier"] = verifier or TokenVerifier(
            _FailFast(_key_fetcher(identity, settings.call_timeout), IDENTITY_COOL_DOWN),
            issuer=settings.token_issuer, audience=settings.token_audience,
            session_check=_FailFast(_session_check(identity, settings.call_timeout), IDENTITY_COOL_DOWN),
            recheck_after=settings.session_recheck_seconds, revocations=store)
        yield
        if own:
            for ch in chans.values():
                await ch.close()
        if store is not None:
            await store.close()

    # No trailing-slash redirects: "/v1/applications/" is an empty resource id
    # (404), not the collection.
    app = FastAPI(title="跨省大件运输并联许可 掌上办 API", version="v1", lifespan=lifespan,
                  docs_url=None, openapi_url=None, redirect_slashes=False)
    if settings.cors_origins:
        app.add_middleware(JsonCORSMiddleware, origins=settings.cors_origins)
    app.add_middleware(RequestIdMiddleware)  # added last: outermost, so CORS refusals carry the id too
    doc = build_openapi(rules, title=app.title, version=app.version, today=examples_day)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown paths and wrong methods answer the same JSON error body as every other refusal.
        code, message, reason = _HTTP_REASONS.get(
            exc.status_code, (grpc.StatusCode.INVALID_ARGUMENT, "请求有误。", "REQUEST_MALFORMED"))
        resp = error_response(exc.status_code, code, message, reason, request_id_of(request))
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
        rid = request_id_of(request)
        log.exception("http_unhandled", path=request.url.path, request_id=rid)
        return error_response(500, grpc.StatusCode.INTERNAL, "系统内部错误，请稍后重试。", "INTERNAL", rid)

    # The whole API, and the mobile (申请人) and officer (审批人员) APIs on their own,
    # each with the public operations.
    documents = {"mobile": audience_document(doc, docs_zh.APPLICANT),
                 "officer": audience_document(doc, docs_zh.OFFICER)}

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(doc)

    @app.get("/openapi/{audience}.json", include_in_schema=False)
    async def openapi_of(audience: str) -> JSONResponse:
        if audience not in documents:
            raise StarletteHTTPException(404)
        return JSONResponse(documents[audience])

    reference = docs_page.render(doc, {"全部接口 /openapi.json": "/openapi.json",
                                       "掌上办 API（申请人） /openapi/mobile.json": "/openapi/mobile.json",
                                       "审批端 API（审批人员） /openapi/officer.json": "/openapi/officer.json"})

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(reference)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    verify_page.install(app, settings, state)  # CT-2, CT-3: the page a certificate's QR code opens

    for rule in rules:
        if rule.internal:
            continue
        app.add_api_route(rule.route_path, _handler(rule, settings, state), methods=[rule.http_method],
                          include_in_schema=False, name=rule.full_method)
    mount_web(app)  # the 掌上办 pages at /, and the development persona picker when configured
    return app


class _FailFast:
    """A call to identity that, once it failed in transport (down or too slow), fails again
    at once for ``cool_down`` seconds: while identity is away every request gets its 503
    or 504 without waiting out a deadline of its own (key fetches also queue on one lock)."""

    _TRANSPORT = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

    def __init__(self, call: Callable[..., Awaitable[Any]], cool_down: float) -> None:
        self._call = call
        self._cool_down = cool_down
        self._failure: tuple[grpc.RpcError, float] | None = None

    async def __call__(self, *args: Any) -> Any:
        if self._failure is not None and time.monotonic() - self._failure[1] < self._cool_down:
            raise self._failure[0].with_traceback(None)  # a fresh traceback each time, not a growing one
        try:
            result = await self._call(*args)
        except grpc.RpcError as e:
            if getattr(e, "code", lambda: None)() in self._TRANSPORT:
                self._failure = (e, time.monotonic())
            raise
        self._failure = None
        return result


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
    """IdentityInternalService.IntrospectToken, called as the gateway service: is the token's session open?"""
    from permit.identity.v1 import identity_service_pb2 as pb
    from permitkit.client import call_metadata, service_principal

    call = channel.unary_unary("/permit.identity.v1.IdentityInternalService/IntrospectToken",
                               request_serializer=pb.IntrospectTokenRequest.SerializeToString,
                               response_deserializer=pb.IntrospectTokenResponse.FromString)
    metadata = call_metadata(service_principal("gateway"))

    async def check(token: str) -> bool:
        resp = await call(pb.IntrospectTokenRequest(access_token=token), timeout=timeout, metadata=metadata)
        return bool(resp.active) or resp.reason != "SESSION_REVOKED"
    return check


async def _authenticate(rule: Rule, authorization: str, verifier: TokenVerifier) -> Principal | None:
    if rule.full_method in TOKEN_ISSUING:
        # A phone that always sends its token must still be able to sign in again
        # or refresh once that token has expired: these calls ignore it.
        return None
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("TOKEN_INVALID", "登录凭证格式有误，请重新登录。")
        return await verifier.verify(token.strip())
    if not rule.public:
        raise AuthError("UNAUTHENTICATED", "请先登录。")
    return None


def _rate_limited(wait: float, limit: str, rid: str) -> JSONResponse:
    seconds = retry_after_seconds(wait)
    log.info("http_rate_limited", limit=limit, retry_after=seconds, request_id=rid)
    return error_response(429, grpc.StatusCode.RESOURCE_EXHAUSTED, f"操作过于频繁，请 {seconds} 秒后再试。",
                          "RATE_LIMITED", rid, metadata={"limit": limit, "retry_after_seconds": str(seconds)},
                          headers={"retry-after": str(seconds)})


def _refusal(e: Exception, rule: Rule, rid: str) -> Response | None:
    """The answer to a request that failed on its way to or from the backend (None: a bug)."""
    if isinstance(e, NotRouted):
        return error_response(404, grpc.StatusCode.NOT_FOUND, "请求的地址不存在。", "ROUTE_NOT_FOUND", rid)
    if isinstance(e, BadRequest | uploads.UploadRefused):
        return error_response(400, grpc.StatusCode.INVALID_ARGUMENT, e.message, "REQUEST_MALFORMED", rid,
                              field=e.field)
    if isinstance(e, BodyTooLarge):
        return _too_large(e, rid)
    if isinstance(e, ClientTooSlow):
        return error_response(408, grpc.StatusCode.DEADLINE_EXCEEDED, "请求发送超时，请检查网络后重试。",
                              "REQUEST_TIMEOUT", rid)
    if isinstance(e, TimeoutError):  # a transfer's own deadline passed while the backend had the turn
        return error_response(504, grpc.StatusCode.DEADLINE_EXCEEDED, "服务响应超时，请稍后重试。",
                              "BACKEND_TIMEOUT", rid, metadata={"service": rule.context})
    if isinstance(e, grpc.RpcError):
        resp = rpc_error_response(e, rid, rule.context)
        log.info("http_rpc_failed", method=rule.full_method, status=resp.status_code, request_id=rid)
        return resp
    if isinstance(e, ClientDisconnect):  # nobody reads this answer
        return error_response(499, grpc.StatusCode.CANCELLED, "请求已取消。", "CLIENT_CLOSED_REQUEST", rid)
    return None


def _too_large(e: BodyTooLarge, rid: str) -> JSONResponse:
    if e.field:
        # The carrier chose a file: name the file limit, not the relay's (which adds framing).
        limit = uploads.FILE_LIMIT_BYTES
        message = f"文件大小不能超过 {human_size(limit)}（{limit:,} 字节），请压缩后重新上传。"
    else:
        message = f"请求内容过大，不能超过 {human_size(e.limit)}。"
    return error_response(413, grpc.StatusCode.INVALID_ARGUMENT, message,
                          "BODY_TOO_LARGE", rid, field=e.field, metadata={"limit_bytes": str(e.limit)})


def _handler(rule: Rule, settings: Settings, state: dict[str, Any]) -> Callable[[Request], Awaitable[Response]]:
    body_limit, body_field = ((settings.max_upload_bytes, uploads.FILE_FIELD) if rule.client_streaming
                              else (settings.max_body_bytes, ""))

    async def handle(request: Request) -> Response:
        rid = request_id_of(request)
        limiter: RateLimiter = state["limiter"]
        peer = request.client.host if request.client else None
        if wait := await limiter.address_wait(peer, request.headers.getlist("x-forwarded-for")):
            return _rate_limited(wait, "address", rid)
        auth = request.headers.get("authorization", "")
        try:
            check_declared_length(request, body_limit, body_field)
            principal = await _authenticate(rule, auth, state["verifier"])
        except BodyTooLarge as e:
            return _too_large(e, rid)
        except SessionCheckUnavailable as e:
            return error_response(503, grpc.StatusCode.UNAVAILABLE, e.message, e.reason, rid,
                                  metadata={"service": "identity"})
        except AuthError as e:
            return error_response(401, grpc.StatusCode.UNAUTHENTICATED, e.message, e.reason, rid)
        except grpc.RpcError as e:
            return rpc_error_response(e, rid, "identity")
        if principal is not None and (wait := await limiter.user_wait(principal.subject)):
            return _rate_limited(wait, "user", rid)
        metadata = [(REQUEST_ID, rid), *(principal.to_metadata() if principal else [])]
        try:
            response = await _call(rule, request, state["channels"][rule.context], metadata, settings, rid)
        except Exception as e:
            refusal = _refusal(e, rule, rid)
            if refusal is None:
                raise
            return refusal
        if rule.full_method == SIGN_OUT and auth:
            await state["verifier"].signed_out(auth.partition(" ")[2].strip())
        return response  # the edge middleware adds the request id header

    return handle


async def _call(rule: Rule, request: Request, channel: grpc.aio.Channel, metadata: list[tuple[str, str]],
                settings: Settings, rid: str) -> Response:
    req_cls, resp_cls = rule.request_class(), rule.response_class()
    if rule.client_streaming:
        resp = await _upload(rule, request, channel, metadata, settings)
        return JSONResponse(message_to_dict(resp))
    raw = await _read_body(request, settings) if rule.body else b""
    msg = build_message(rule, dict(request.path_params), list(request.query_params.multi_items()), raw)
    if rule.server_streaming:
        return await _stream(rule, channel, msg, metadata, settings, rid)
    call = channel.unary_unary(rule.grpc_path, request_serializer=req_cls.SerializeToString,
                               response_deserializer=resp_cls.FromString)
    resp = await call(msg, timeout=settings.call_timeout, metadata=metadata)
    return JSONResponse(message_to_dict(resp))


async def _read_body(request: Request, settings: Settings) -> bytes:
    """The JSON body, refused past the size limit before it is all in memory."""
    try:
        async with asyncio.timeout(settings.transfer_timeout):
            return await LimitedBody(request, settings.max_body_bytes).read()
    except TimeoutError:
        raise ClientTooSlow from None


async def _upload(rule: Rule, request: Request, channel: grpc.aio.Channel, metadata: list[tuple[str, str]],
                  settings: Settings) -> Message:
    """multipart/form-data streamed into the client-streaming RPC, the whole transfer under one deadline."""
    req_cls = rule.request_class()
    stub = channel.stream_unary(rule.grpc_path, request_serializer=req_cls.SerializeToString,
                                response_deserializer=rule.response_class().FromString)
    body = LimitedBody(request, settings.max_upload_bytes, uploads.FILE_FIELD)
    try:
        async with asyncio.timeout(settings.transfer_timeout):
            return await uploads.relay(
                request, body, lambda: stub(timeout=settings.transfer_timeout, metadata=metadata),
                lambda fields, file: upload_header(rule, fields, file.filename, file.content_type),
                lambda data: req_cls(chunk=data))
    except TimeoutError:
        if body.waiting:
            raise ClientTooSlow from None
        raise


async def _stream(rule: Rule, channel: grpc.aio.Channel, msg: Message, metadata: list[tuple[str, str]],
                  settings: Settings, rid: str) -> Response:
    """Server-streaming download: first message may carry metadata, the rest are byte chunks.

    The stream is read with ``read()`` only (grpc.aio forbids mixing it with
    ``async for`` on one call). The metadata and the first chunk are read before
    the response starts, so a refusal (not found, token expired, storage down)
    still becomes a proper JSON error; a failure after that can only cut the
    body short, which the client sees as an incomplete transfer. The whole
    download is under the transfer deadline.
    """
    resp_cls = rule.response_class()
    call = channel.unary_stream(rule.grpc_path, request_serializer=type(msg).SerializeToString,
                                response_deserializer=resp_cls.FromString)
    stream = call(msg, timeout=settings.transfer_timeout, metadata=metadata)
    headers: dict[str, str] = {}
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
