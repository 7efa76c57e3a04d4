"""An in-memory OpenID provider behind an httpx transport, for unit tests of the
relying party (the end-to-end tests run the real `oidc-provider` process)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from permit_identity.models import Channel
from permit_identity.oidc import ClientSettings, OidcProvider, OidcSignIn, ProviderSettings

ISSUER = "https://uias.test.gov.cn"
CLIENTS = {
    Channel.APP: ClientSettings("app-client", "", ("cn.gov.zwfw.app:/oidc", "https://h5.test.cn/cb")),
    Channel.ALIPAY: ClientSettings("alipay-client", "alipay-secret-0123456789", ("https://alipay.test.cn/cb",)),
    Channel.WECHAT: ClientSettings("wechat-client", "wechat-secret-0123456789", ("https://wechat.test.cn/cb",)),
    Channel.STAFF: ClientSettings("staff-client", "staff-secret-0123456789", ("https://staff.test.cn/cb",),
                                  scope="openid profile staff"),
}


def _kid() -> str:
    return secrets.token_hex(4)


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    claims: dict[str, Any]
    nonce: str
    challenge: str = ""


@dataclass
class FakeProvider:
    """Discovery, JWKS, token and userinfo endpoints; codes granted by :meth:`grant`."""

    now: dt.datetime
    keys: list[RSAKey] = field(default_factory=lambda: [RSAKey.generate_key(2048, parameters={"kid": _kid()})])
    down: bool = False
    claims_in_id_token: bool = True
    calls: list[str] = field(default_factory=list)
    codes: dict[str, Grant] = field(default_factory=dict)
    access: dict[str, dict[str, Any]] = field(default_factory=dict)
    id_token_overrides: dict[str, Any] = field(default_factory=dict)

    def rotate(self) -> None:
        self.keys.insert(0, RSAKey.generate_key(2048, parameters={"kid": _kid()}))

    def grant(self, channel: Channel, claims: dict[str, Any], *, nonce: str, redirect_uri: str = "",
              challenge: str = "") -> str:
        c = CLIENTS[channel]
        code = secrets.token_urlsafe(16)
        self.codes[code] = Grant(c.client_id, redirect_uri or c.redirect_uris[0], claims, nonce, challenge)
        return code

    def sign(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        key = key or self.keys[0]
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(path)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={
                "issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/auth",
                "token_endpoint": f"{ISSUER}/token", "jwks_uri": f"{ISSUER}/jwks",
                "userinfo_endpoint": f"{ISSUER}/me"})
        if path == "/jwks":
            return httpx.Response(200, json=KeySet(self.keys).as_dict(private=False))  # type: ignore[arg-type]
        if path == "/token":
            return self._token(request)
        if path == "/me":
            info = self.access.get(request.headers.get("authorization", "").removeprefix("Bearer "))
            return httpx.Response(200, json=info) if info else httpx.Response(401)
        return httpx.Response(404)

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        g = self.codes.pop(form.get("code", ""), None)
        client_id = form.get("client_id", "")
        auth = request.headers.get("authorization", "")
        if auth.startswith("Basic "):
            client_id = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
        if g is None or g.client_id != client_id or g.redirect_uri != form.get("redirect_uri"):
            return httpx.Response(400, json={"error": "invalid_grant"})
        if g.challenge:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != g.challenge:
                return httpx.Response(400, json={"error": "invalid_grant"})
        iat = int(self.now.timestamp())
        body: dict[str, Any] = {"iss": ISSUER, "aud": g.client_id, "sub": g.claims["sub"], "iat": iat,
                                "exp": iat + 3600, "nonce": g.nonce}
        if self.claims_in_id_token:
            body.update(g.claims)
        body.update(self.id_token_overrides)
        access = secrets.token_urlsafe(16)
        self.access[access] = dict(g.claims)
        return httpx.Response(200, json={"id_token": self.sign(body), "access_token": access,
                                         "token_type": "Bearer"})


def sign_in_of(fake: FakeProvider, *, min_refresh: float = 0.0, min_level: int = 0) -> OidcSignIn:
    p = OidcProvider(ProviderSettings(issuer=ISSUER, clients=CLIENTS,
                                      jwks_min_refresh=dt.timedelta(seconds=min_refresh)),
                     http=fake.client())
    return OidcSignIn(providers=dict.fromkeys(CLIENTS, p), min_real_name_level=min_level)
