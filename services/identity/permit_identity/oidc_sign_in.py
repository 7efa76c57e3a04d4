"""Sign-in use cases over OpenID Connect (SI-1): start and complete.

StartSignIn keeps state, nonce and PKCE verifier server-side and answers the
provider's authorization URL; CompleteSignIn redeems the code the provider
sent back (APP, H5, staff workbench) or the code a mini-program hands over
(Alipay, WeChat, with the nonce the mini-program sent), verifies the ID token
and signs the user in as SignIn does. Every network call happens before the
first write: a provider that does not answer leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import structlog
from sqlalchemy import delete

from permit_identity import errors
from permit_identity.models import Channel, SignInRequest
from permit_identity.oidc import OidcSignIn
from permit_identity.services import Policy, SessionView, sign_in_verified
from permit_identity.unit_of_work import IdentityUnitOfWork

log = structlog.get_logger("permit_identity")

SIGN_IN_REQUEST_TTL = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class SignInStart:
    authorization_url: str
    state: str
    expire_time: dt.datetime


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _channel(channel: str) -> Channel:
    try:
        return Channel(channel)
    except ValueError:
        raise errors.ChannelRequired(field="channel") from None


def start_sign_in(uow: IdentityUnitOfWork, *, oidc: OidcSignIn, now: dt.datetime, channel: str,
                  redirect_uri: str = "") -> SignInStart:
    """A new authorization request for the channel (authorization code, PKCE S256)."""
    ch = _channel(channel)
    req = oidc.provider(ch).authorization_request(ch, redirect_uri=redirect_uri)
    expire = now + SIGN_IN_REQUEST_TTL
    with uow:
        uow.session.execute(delete(SignInRequest).where(SignInRequest.expire_time < now))
        uow.session.add(SignInRequest(state_hash=_state_hash(req.state), channel=ch.value, nonce=req.nonce,
                                      code_verifier=req.code_verifier, redirect_uri=req.redirect_uri,
                                      create_time=now, expire_time=expire))
        uow.commit()
    log.info("sign_in_started", channel=ch.value)
    return SignInStart(authorization_url=req.url, state=req.state, expire_time=expire)


def complete_sign_in(uow: IdentityUnitOfWork, *, oidc: OidcSignIn, policy: Policy, now: dt.datetime,
                     channel: str, code: str, state: str = "", nonce: str = "",
                     redirect_uri: str = "") -> SessionView:
    """Redeem the code, verify the ID token, apply the channel rules and sign in."""
    if not code:
        raise errors.CodeRequired(field="code")
    if state:
        key = _state_hash(state)
        with uow:
            started = uow.session.get(SignInRequest, key)
            found = (None if started is None or started.expire_time <= now
                     else (Channel(started.channel), started.nonce, started.code_verifier,
                           started.redirect_uri))
        if found is None:
            raise errors.SignInStateInvalid(field="state")
        ch, expected_nonce, verifier, uri = found
        if channel and _channel(channel) != ch:
            raise errors.TicketChannelMismatch()
    else:
        # A mini-program hands over the code of its own authorization request.
        ch = _channel(channel)
        if ch not in (Channel.ALIPAY, Channel.WECHAT):
            raise errors.StateRequired(field="state")
        if not nonce:
            raise errors.NonceRequired(field="nonce")
        client = oidc.provider(ch).client(ch)
        uris = client.redirect_uris if client else ()
        uri = redirect_uri or (uris[0] if uris else "")
        if uri not in uris:
            raise errors.RedirectUriInvalid(field="redirect_uri")
        expected_nonce, verifier, key = nonce, "", ""

    identity = oidc.authenticate(ch, code=code, nonce=expected_nonce, now=now, redirect_uri=uri,
                                 code_verifier=verifier)

    def spend(u: IdentityUnitOfWork) -> bool:
        if not key:
            return True
        gone = u.session.execute(delete(SignInRequest).where(SignInRequest.state_hash == key))
        return bool(getattr(gone, "rowcount", 0))

    return sign_in_verified(uow, identity, policy=policy, now=now, spend=spend)
