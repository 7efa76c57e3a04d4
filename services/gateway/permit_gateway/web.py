"""The 掌上办 web pages (web/dist, built by ``npm --prefix web run build``) served at ``/``
on the gateway's own origin, and, for development only, the demo persona picker.

Settings (environment):

- ``PERMIT_WEB_DIR``: the built pages; default ``web/dist`` of the source tree when it
  exists. Empty or missing folder: no pages are served (the API is unchanged).
- ``PERMIT_WEB_DEV_PERSONAS``: a JSON list of demo personas (``scripts/devstack.py``
  sets it). When set, ``GET /dev/personas`` lists them and
  ``POST /dev/personas/{id}:ticket`` mints a development platform ticket for one, which
  the sign-in page exchanges at ``POST /v1/sessions:signIn`` like any channel's ticket.
  Never set in production: the identity service refuses development tickets there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from permit_gateway.errors import error_response
from permit_gateway.middleware import request_id_of

SOURCE_DIST = Path(__file__).resolve().parents[3] / "web" / "dist"
# Paths that belong to the API and its documents: never answered with the pages.
RESERVED = ("v1/", "v1", "openapi", "docs", "redoc", "healthz", "dev/", "dev", "verify")
# Hashed build assets never change under one name; index.html always revalidates.
IMMUTABLE = "public, max-age=31536000, immutable"


def web_dir(env: Mapping[str, str]) -> Path:
    value = env.get("PERMIT_WEB_DIR")
    return Path(value) if value else SOURCE_DIST


def mount_web(app: FastAPI, env: Mapping[str, str] = os.environ) -> None:
    """Add the persona picker (when configured) and the pages (when built)."""
    personas = _personas(env)
    if personas:
        _mount_personas(app, personas)
    # A wrapper, not a catch-all route: the API's own 404 and 405 answers stay as they are.
    # The folder is looked at per request, so a build made after start-up is served too.
    app.add_middleware(WebPages, root=web_dir(env))


class WebPages:
    """GET/HEAD of any path outside the API: a built file, else index.html (history routing)."""

    def __init__(self, app: ASGIApp, root: Path) -> None:
        self.app = app
        self.root = root.resolve()
        self.index = self.root / "index.html"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        path = scope["path"].lstrip("/")
        if path.startswith(RESERVED) or not self.index.is_file():
            return await self.app(scope, receive, send)
        target = (self.root / path).resolve() if path else self.index
        if target.is_relative_to(self.root) and target.is_file():
            cache = IMMUTABLE if path.startswith("assets/") else "no-cache"
            return await FileResponse(target, headers={"cache-control": cache})(scope, receive, send)
        if path.startswith("assets/") or "." in path.rsplit("/", 1)[-1]:
            # A missing file (an old build's asset): the API's JSON 404, not a page.
            return await self.app(scope, receive, send)
        return await FileResponse(self.index, headers={"cache-control": "no-cache"})(scope, receive, send)


def _personas(env: Mapping[str, str]) -> list[dict[str, Any]]:
    raw = env.get("PERMIT_WEB_DEV_PERSONAS", "").strip()
    if not raw:
        return []
    personas = json.loads(raw)
    if not isinstance(personas, list):
        raise ValueError("PERMIT_WEB_DEV_PERSONAS must be a JSON list")
    return personas


def _mount_personas(app: FastAPI, personas: list[dict[str, Any]]) -> None:
    by_id = {p["id"]: p for p in personas}

    @app.get("/dev/personas", include_in_schema=False)
    async def list_personas() -> dict[str, Any]:
        return {"personas": [{"id": p["id"], "label": p.get("label", p["id"]), "channel": p["channel"],
                              "description": p.get("description", "")} for p in personas]}

    @app.post("/dev/personas/{persona_id}:ticket", include_in_schema=False)
    async def ticket(persona_id: str, request: Request) -> Response:
        p = by_id.get(persona_id)
        if p is None:
            return error_response(404, grpc.StatusCode.NOT_FOUND, "没有该演示用户。", "PERSONA_NOT_FOUND",
                                  request_id_of(request), field="persona")
        # Development only: the identity service's own minting (same key, same claims).
        from permit_identity.tickets import DEFAULT_DEV_TICKET_KEY, mint_dev_ticket

        key = os.environ.get("PERMIT_IDENTITY_DEV_TICKET_KEY") or DEFAULT_DEV_TICKET_KEY
        claims = {k: p.get(k) for k in ("user_type", "uid", "name", "uscc", "id_number", "officer")
                  if p.get(k)}
        minted = mint_dev_ticket(key, channel=p["channel"], **claims)
        return JSONResponse({"channel": f"CHANNEL_{p['channel']}", "ticket": minted})
