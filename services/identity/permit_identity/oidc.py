"""OpenID Connect relying party: the national platform's unified identity
authentication (统一身份认证) and the provincial staff directories (SI-1).

One provider per issuer: its discovery document and JWKS are fetched over
HTTP and cached (the JWKS is fetched again on an unknown key id, so that the
provider's key rotation works). Per channel a client: authorization code with
PKCE, ``state`` and ``nonce`` for the APP, the H5 pages and the staff
workbench; a code handed over by a mini-program is exchanged server to server.
The ID token is checked (signature against the JWKS, issuer, audience, expiry,
nonce) with joserfc; the user's claims come from the ID token, completed from
the userinfo endpoint when the ID token carries only ``sub``.

Where the platform's real interface differs from standard OpenID Connect,
this module is the one place that changes: it turns the provider's answer
into a :class:`~permit_identity.tickets.PlatformIdentity`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import structlog
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from permit_identity import errors
from permit_identity.models import Channel
from permit_identity.tickets import LEGAL, MINISTRY_PORTAL, PERSON, PlatformIdentity

log = structlog.get_logger("permit_identity.oidc")

# Claims of the national platform (user channels).
CLAIM_USER_TYPE = "user_type"            # PERSON (个人) or LEGAL (法人)
CLAIM_ID_NUMBER = "id_number"            # 身份证号 of a person
CLAIM_USCC = "uscc"                      # 统一社会信用代码 of a legal person
CLAIM_REAL_NAME_LEVEL = "real_name_level"  # 实名等级, an integer
CLAIM_CHANNEL = "channel"                # APP, ALIPAY, WECHAT (when the platform says)
CLAIM_ACCOUNT_SOURCE = "account_source"  # NATIONAL_PLATFORM, or MOT_PORTAL for an old portal account
# Claims of a staff directory.
CLAIM_LOGIN = "preferred_username"
CLAIM_PROVINCE = "province"
CLAIM_ROLES = "roles"

ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
USER_SCOPE = "openid profile platform"
STAFF_SCOPE = "openid profile staff"


@dataclass(frozen=True)
class ClientSettings:
    """One relying-party client registered with a provider, for one channel."""

    client_id: str
    client_secret: str = ""  # empty: a public client (PKCE alone)
    redirect_uris: tuple[str, ...] = ()
    scope: str = USER_SCOPE


@dataclass(frozen=True)
class ProviderSettings:
    """An issuer and its clients per channel."""

    issuer: str
    clients: Mapping[Channel, ClientSettings]
    timeout: float = 5.0
    jwks_min_refresh: dt.timedelta = dt.timedelta(seconds=10)
    leeway: dt.timedelta = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class TokenResponse:
    id_token: str
    access_token: str = ""


@dataclass(frozen=True)
class AuthorizationRequest:
    """What a started sign-in keeps server-side and what the client opens."""

    url: str
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str


def code_challenge(verifier: str) -> str:
    """RFC 7636 S256."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _unavailable(what: str, exc: BaseException | None = None) -> errors.IdentityProviderUnavailable:
    log.warning("identity_provider_unavailable", step=what,
                error=type(exc).__name__ if exc else "")
    return errors.IdentityProviderUnavailable()


class OidcProvider:
    """One OpenID provider (issuer): discovery, JWKS cache, token and userinfo calls."""

    def __init__(self, settings: ProviderSettings, *, http: httpx.Client | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._http = http or httpx.Client(timeout=settings.timeout, follow_redirects=False)
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._keys_fetched = float("-inf")

    @property
    def issuer(self) -> str:
        return self.settings.issuer

    def client(self, channel: Channel) -> ClientSettings | None:
        return self.settings.clients.get(channel)

    def close(self) -> None:
        self._http.close()

    # --- HTTP ------------------------------------------------------------------
    def _get_json(self, url: str, what: str, **kw: Any) -> dict[str, Any]:
        try:
            r = self._http.get(url, **kw)
        except httpx.HTTPError as e:
            raise _unavailable(what, e) from None
        if r.status_code >= 500 or r.status_code in (408, 429):
            raise _unavailable(what)
        if r.status_code != 200:
            log.warning("identity_provider_refused", step=what, status=r.status_code)
            raise errors.IdTokenInvalid(metadata={"check": what})
        try:
            body = r.json()
        except ValueError:
            raise _unavailable(what) from None
        if not isinstance(body, dict):
            raise _unavailable(what)
        return body

    def metadata(self) -> dict[str, Any]:
        """The discovery document, fetched once; its issuer must be the configured one."""
        with self._lock:
            if self._metadata is None:
                url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
                doc = self._get_json(url, "discovery")
                if doc.get("issuer") != self.issuer:
                    log.error("identity_provider_issuer_mismatch", configured=self.issuer,
                              announced=doc.get("issuer"))
                    raise errors.IdentityProviderUnavailable()
                self._metadata = doc
            return self._metadata

    def _endpoint(self, name: str) -> str:
        url = self.metadata().get(name)
        if not isinstance(url, str) or not url:
            raise _unavailable(name)
        return url

    def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's signing keys; ``refresh`` refetches them unless that
        happened less than ``jwks_min_refresh`` ago (an unknown kid must not let
        anyone make us hammer the provider)."""
        jwks_uri = self._endpoint("jwks_uri")
        with self._lock:
            stale = self._monotonic() - self._keys_fetched >= self.settings.jwks_min_refresh.total_seconds()
            if self._keys is None or (refresh and stale):
                doc = self._get_json(jwks_uri, "jwks")
                try:
                    self._keys = KeySet.import_key_set(doc)  # type: ignore[arg-type]
                except (JoseError, ValueError, KeyError, TypeError):
                    raise _unavailable("jwks") from None
                self._keys_fetched = self._monotonic()
                log.info("identity_provider_keys_fetched", issuer=self.issuer,
                         kids=[k.kid for k in self._keys.keys])
            return self._keys

    # --- the authorization code flow ---------------------------------------------
    def authorization_request(self, channel: Channel, *, redirect_uri: str = "") -> AuthorizationRequest:
        """A fresh state, nonce and PKCE verifier and the URL the client opens."""
        client = self._client_or_refuse(channel)
        uri = redirect_uri or (client.redirect_uris[0] if client.redirect_uris else "")
        if not uri or uri not in client.redirect_uris:
            raise errors.RedirectUriInvalid(field="redirect_uri")
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)
        query = urlencode({
            "response_type": "code", "client_id": client.client_id, "redirect_uri": uri,
            "scope": client.scope, "state": state, "nonce": nonce,
            "code_challenge": code_challenge(verifier), "code_challenge_method": "S256",
        })
        endpoint = self._endpoint("authorization_endpoint")
        sep = "&" if "?" in endpoint else "?"
        return AuthorizationRequest(url=f"{endpoint}{sep}{query}", state=state, nonce=nonce,
                                    code_verifier=verifier, redirect_uri=uri)

    def _client_or_refuse(self, channel: Channel) -> ClientSettings:
        client = self.client(channel)
        if client is None:
            raise errors.ChannelNotConfigured(field="channel")
        return client

    def exchange(self, channel: Channel, *, code: str, redirect_uri: str,
                 code_verifier: str = "") -> TokenResponse:
        """Redeem an authorization code at the token endpoint (server to server)."""
        client = self._client_or_refuse(channel)
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        headers = {"accept": "application/json"}
        if client.client_secret:
            # client_secret_basic: both halves form-encoded first (RFC 6749 2.3.1)
            cred = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
            headers["authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
        else:
            form["client_id"] = client.client_id
        url = self._endpoint("token_endpoint")
        try:
            r = self._http.post(url, data=form, headers=headers)
        except httpx.HTTPError as e:
            raise _unavailable("token", e) from None
        if r.status_code >= 500 or r.status_code in (408, 429):
            raise _unavailable("token")
        try:
            body = r.json()
        except ValueError:
            raise _unavailable("token") from None
        if r.status_code != 200:
            error = str(body.get("error", "")) if isinstance(body, dict) else ""
            log.info("authorization_code_refused", channel=channel.value, status=r.status_code,
                     error=error)
            if error == "invalid_client":
                # Our registration is wrong: the user cannot fix that.
                raise _unavailable("token")
            raise errors.AuthorizationCodeInvalid(field="code")
        id_token = body.get("id_token") if isinstance(body, dict) else None
        if not isinstance(id_token, str) or not id_token:
            raise errors.IdTokenInvalid(metadata={"check": "missing"})
        return TokenResponse(id_token=id_token, access_token=str(body.get("access_token") or ""))

    def verify_id_token(self, channel: Channel, id_token: str, *, nonce: str,
                        now: dt.datetime) -> dict[str, Any]:
        """Signature (JWKS, by kid), issuer, audience, expiry and nonce; the claims."""
        client = self._client_or_refuse(channel)
        keys = self.keys()
        kid = _kid_of(id_token)
        if kid is not None and not _has_kid(keys, kid):
            keys = self.keys(refresh=True)
        try:
            token = jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
        except (JoseError, ValueError, KeyError, TypeError) as e:
            log.info("id_token_refused", check="signature", channel=channel.value, error=type(e).__name__)
            raise errors.IdTokenInvalid(metadata={"check": "signature"}) from None
        claims = dict(token.claims)
        self._check_claims(client, claims, nonce=nonce, now=now, channel=channel)
        return claims

    def _check_claims(self, client: ClientSettings, claims: dict[str, Any], *, nonce: str,
                      now: dt.datetime, channel: Channel) -> None:
        def refuse(check: str) -> errors.IdTokenInvalid:
            log.info("id_token_refused", check=check, channel=channel.value)
            return errors.IdTokenInvalid(metadata={"check": check})

        if claims.get("iss") != self.issuer:
            raise refuse("issuer")
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else list(aud) if isinstance(aud, list) else []
        if client.client_id not in audiences:
            raise refuse("audience")
        if len(audiences) > 1 and claims.get("azp") != client.client_id:
            raise refuse("audience")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise refuse("subject")
        leeway = self.settings.leeway.total_seconds()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            raise refuse("time")
        if exp <= now.timestamp() - leeway:
            log.info("id_token_refused", check="expiry", channel=channel.value)
            raise errors.IdTokenExpired()
        if iat > now.timestamp() + leeway:
            raise refuse("time")
        if not nonce or not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise refuse("nonce")

    def userinfo(self, access_token: str) -> dict[str, Any]:
        url = self.metadata().get("userinfo_endpoint")
        if not access_token or not isinstance(url, str) or not url:
            return {}
        return self._get_json(url, "userinfo", headers={"authorization": f"Bearer {access_token}",
                                                        "accept": "application/json"})


def _incomplete(channel: Channel, claims: Mapping[str, Any]) -> bool:
    """Whether the ID token lacks what sign-in needs (then userinfo completes it)."""
    if channel == Channel.STAFF:
        return CLAIM_PROVINCE not in claims or CLAIM_ROLES not in claims
    return (CLAIM_USER_TYPE not in claims or "name" not in claims
            or (CLAIM_ID_NUMBER not in claims and CLAIM_USCC not in claims))


def _kid_of(token: str) -> str | None:
    try:
        header_b64 = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
    except (ValueError, IndexError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return str(kid) if kid else None


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(k.kid == kid for k in keys.keys)


# --- claims -> identity (the one place that knows the platform's claim names) ------
def _s(claims: Mapping[str, Any], key: str) -> str | None:
    v = claims.get(key)
    return str(v).strip() if v not in (None, "") else None


def identity_of(channel: Channel, claims: Mapping[str, Any], *, nonce: str,
                expires_at: dt.datetime, min_real_name_level: int = 0) -> PlatformIdentity:
    """The caller as the verified claims say; refuses what the channel rules forbid
    before anything is written (ID-1, ID-2, ID-6)."""
    sub = str(claims["sub"])
    said = _s(claims, CLAIM_CHANNEL)
    if said and channel != Channel.STAFF and said.upper() != channel.value:
        raise errors.TicketChannelMismatch()
    if channel == Channel.STAFF:
        login = (_s(claims, CLAIM_LOGIN) or sub).lower()
        roles = claims.get(CLAIM_ROLES)
        role_list = tuple(str(r) for r in roles) if isinstance(roles, list) else ()
        return PlatformIdentity(channel=channel, ticket_id=f"oidc:{nonce}", expires_at=expires_at,
                                officer_login=login, uid=login, name=_s(claims, "name") or "",
                                province=_s(claims, CLAIM_PROVINCE) or "", roles=role_list)
    source = _s(claims, CLAIM_ACCOUNT_SOURCE) or "NATIONAL_PLATFORM"
    if source.upper() == MINISTRY_PORTAL:
        # ID-2: refused whatever else the claims say.
        raise errors.MinistryPortalAccount()
    user_type = (_s(claims, CLAIM_USER_TYPE) or "").upper()
    if user_type not in (PERSON, LEGAL):
        raise errors.IdTokenInvalid(metadata={"check": "claims"})
    if min_real_name_level:
        try:
            level = int(claims.get(CLAIM_REAL_NAME_LEVEL) or 0)
        except (TypeError, ValueError):
            level = 0
        if level < min_real_name_level:
            raise errors.RealNameLevelTooLow()
    return PlatformIdentity(
        channel=channel, ticket_id=f"oidc:{nonce}", expires_at=expires_at, user_type=user_type,
        uid=sub, name=_s(claims, "name") or "", uscc=_s(claims, CLAIM_USCC),
        id_number=_s(claims, CLAIM_ID_NUMBER), account_source=source.upper())


@dataclass
class OidcSignIn:
    """The providers behind each channel: the national platform for the user
    channels, the staff directory for STAFF."""

    providers: dict[Channel, OidcProvider] = field(default_factory=dict)
    min_real_name_level: int = 0

    def provider(self, channel: Channel) -> OidcProvider:
        p = self.providers.get(channel)
        if p is None:
            raise errors.ChannelNotConfigured(field="channel")
        return p

    def authenticate(self, channel: Channel, *, code: str, nonce: str, now: dt.datetime,
                     redirect_uri: str, code_verifier: str = "") -> PlatformIdentity:
        """Exchange the code, verify the ID token, read the claims (network only; no writes)."""
        p = self.provider(channel)
        tokens = p.exchange(channel, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier)
        claims = p.verify_id_token(channel, tokens.id_token, nonce=nonce, now=now)
        if _incomplete(channel, claims) and tokens.access_token:
            info = p.userinfo(tokens.access_token)
            if info and info.get("sub") != claims["sub"]:
                raise errors.IdTokenInvalid(metadata={"check": "userinfo"})
            claims = {**info, **claims}
        exp = dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC)
        return identity_of(channel, claims, nonce=nonce, expires_at=exp,
                           min_real_name_level=self.min_real_name_level)

    def close(self) -> None:
        for p in {id(p): p for p in self.providers.values()}.values():
            p.close()
