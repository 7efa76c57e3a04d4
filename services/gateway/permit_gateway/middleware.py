"""ASGI middleware at the very edge: one request id per request, CORS for the web pages."""

from __future__ import annotations

import re

import grpc
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from permit_gateway.errors import error_response
from permitkit.context import REQUEST_ID, new_request_id

# Request headers a page may send, and response headers its scripts may read.
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", REQUEST_ID)
CORS_EXPOSE_HEADERS = (REQUEST_ID, "Retry-After", "Content-Disposition")
CORS_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# A client's x-request-id is echoed and sent on as gRPC metadata: only ids that
# are safe in both places are kept, anything else is replaced by a fresh one.
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(raw: str | None) -> str:
    """The caller's request id if it is safe to echo and forward, else a new one."""
    return raw if raw and _REQUEST_ID_RE.fullmatch(raw) else new_request_id()


def request_id_of(conn: HTTPConnection) -> str:
    """The id the edge middleware chose for this request (a fresh one if it did not run)."""
    rid = conn.scope.get("state", {}).get("request_id")
    return rid if isinstance(rid, str) else request_id(conn.headers.get(REQUEST_ID))


class RequestIdMiddleware:
    """Chooses the request id once: every handler, log line, error body and header uses it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(Headers(scope=scope).get(REQUEST_ID))
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if REQUEST_ID not in headers:
                    headers[REQUEST_ID] = rid
            await send(message)

        await self.app(scope, receive, send_with_id)


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, but a refused preflight answers the gateway's JSON error body."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        super().__init__(app, allow_origins=list(origins), allow_methods=list(CORS_METHODS),
                         allow_headers=list(CORS_ALLOW_HEADERS), expose_headers=list(CORS_EXPOSE_HEADERS),
                         max_age=600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else Headers()
        preflight = (scope["type"] == "http" and scope["method"] == "OPTIONS" and "origin" in headers
                     and "access-control-request-method" in headers)
        if not preflight:
            await super().__call__(scope, receive, send)
            return
        response = self.preflight_response(request_headers=headers)
        if response.status_code == 400:
            # Starlette's text names what was refused: "Disallowed CORS origin, headers".
            refused = bytes(response.body).decode().removeprefix("Disallowed CORS ")
            response = error_response(400, grpc.StatusCode.INVALID_ARGUMENT, "不允许该网页发起此跨域请求。",
                                      "CORS_NOT_ALLOWED", request_id_of(HTTPConnection(scope)),
                                      metadata={"refused": refused})
        await response(scope, receive, send)
