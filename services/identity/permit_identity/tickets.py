"""Channel provider adapters: one interface, verifying a platform ticket (ID-1).

The development provider verifies HS256 tickets signed with a local key and
minted by the CLI; real channel adapters implement the same interface.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import jwt

from permit_identity import errors
from permit_identity.models import Channel

# The development key used in embedded mode; refused in production (config.py).
DEFAULT_DEV_TICKET_KEY = "permit-dev-ticket-key-not-for-production-use-0001"
DEV_TICKET_ISSUER = "permit-dev-platform"
# A platform ticket is a hand-over of a few minutes; refuse longer-lived ones.
MAX_TICKET_LIFETIME = dt.timedelta(hours=1)

PERSON = "PERSON"
LEGAL = "LEGAL"
# Account origin marking an account of the old ministry portal (ID-2).
MINISTRY_PORTAL = "MOT_PORTAL"


@dataclass(frozen=True)
class PlatformIdentity:
    """Who a verified ticket says the caller is."""

    channel: Channel
    ticket_id: str
    expires_at: dt.datetime
    user_type: str = PERSON  # PERSON or LEGAL; ignored for STAFF
    uid: str = ""
    name: str = ""
    uscc: str | None = None
    id_number: str | None = None
    officer_login: str | None = None
    account_source: str = "NATIONAL_PLATFORM"
    # Staff directory claims (OpenID Connect sign-in of officers, ID-6); None: not claimed.
    province: str | None = None
    roles: tuple[str, ...] | None = None

    @property
    def subject_key(self) -> str:
        """A stable key of the claimed subject for rate limiting (no raw identifiers)."""
        who = self.officer_login if self.channel == Channel.STAFF else self.uid
        return hashlib.sha256(f"{self.channel.value}:{who}".encode()).hexdigest()

    @property
    def ticket_key(self) -> str:
        return hashlib.sha256(f"{self.channel.value}:{self.ticket_id}".encode()).hexdigest()


class ChannelProvider(Protocol):
    """Verifies a ticket of one channel: signature, expiry, channel."""

    def verify(self, ticket: str, *, channel: Channel, now: dt.datetime) -> PlatformIdentity: ...


class DevTicketProvider:
    """The development identity provider: HS256 tickets under a local key."""

    def __init__(self, key: str) -> None:
        self._key = key

    def verify(self, ticket: str, *, channel: Channel, now: dt.datetime) -> PlatformIdentity:
        try:
            claims = jwt.decode(
                ticket, self._key, algorithms=["HS256"],
                options={"require": ["exp", "jti", "ch"], "verify_exp": False, "verify_iat": False,
                         "verify_nbf": False},
                issuer=DEV_TICKET_ISSUER,
            )
        except jwt.PyJWTError:
            raise errors.TicketInvalid() from None
        exp = dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC)
        # Expiry is checked against the service clock (injectable), not the host's.
        if exp <= now:
            raise errors.TicketExpired()
        if exp > now + MAX_TICKET_LIFETIME:
            raise errors.TicketInvalid()
        try:
            ticket_channel = Channel(str(claims["ch"]))
        except ValueError:
            raise errors.TicketInvalid() from None
        if ticket_channel != channel:
            raise errors.TicketChannelMismatch()
        return _identity(claims, channel, exp)


def _identity(claims: Mapping[str, object], channel: Channel, exp: dt.datetime) -> PlatformIdentity:
    def s(key: str) -> str | None:
        v = claims.get(key)
        return str(v).strip() if v not in (None, "") else None

    if channel == Channel.STAFF:
        login = s("officer")
        if not login:
            raise errors.TicketInvalid()
        return PlatformIdentity(channel=channel, ticket_id=str(claims["jti"]), expires_at=exp,
                                officer_login=login, uid=login, name=s("name") or "")
    user_type = s("ut") or PERSON
    uid = s("uid")
    if user_type not in (PERSON, LEGAL) or not uid:
        raise errors.TicketInvalid()
    return PlatformIdentity(
        channel=channel, ticket_id=str(claims["jti"]), expires_at=exp, user_type=user_type,
        uid=uid, name=s("name") or "", uscc=s("uscc"), id_number=s("idn"),
        account_source=s("src") or "NATIONAL_PLATFORM",
    )


def mint_dev_ticket(key: str, *, channel: str, user_type: str = PERSON, uid: str = "",
                    name: str = "", uscc: str | None = None, id_number: str | None = None,
                    officer: str | None = None, source: str | None = None,
                    ttl: dt.timedelta = dt.timedelta(minutes=10), now: dt.datetime | None = None,
                    ticket_id: str | None = None) -> str:
    """Mint a development ticket as the platform would hand one over."""
    issued = now or dt.datetime.now(dt.UTC)
    claims: dict[str, object] = {
        "iss": DEV_TICKET_ISSUER, "ch": channel.upper(), "jti": ticket_id or uuid.uuid4().hex,
        "iat": int(issued.timestamp()), "exp": int((issued + ttl).timestamp()),
    }
    if channel.upper() == Channel.STAFF:
        claims["officer"] = officer or uid
        if name:
            claims["name"] = name
    else:
        claims.update({"ut": user_type.upper(), "uid": uid, "name": name})
        if uscc:
            claims["uscc"] = uscc
        if id_number:
            claims["idn"] = id_number
    if source:
        claims["src"] = source
    return jwt.encode(claims, key, algorithm="HS256")
