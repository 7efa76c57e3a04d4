"""Identity use cases: the unit of work first, then keyword-only primitives."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from google.protobuf import timestamp_pb2
from google.type import date_pb2
from sqlalchemy.exc import IntegrityError

from permit.identity.v1 import events_pb2 as identity_events
from permit_identity import errors, identifiers, tokens
from permit_identity.models import (
    APPLICANT,
    LINK_HINT_MESSAGES,
    OFFICER_ROLES,
    AuthSession,
    Channel,
    LegacyAccount,
    LegacyAccountPerson,
    Licence,
    LicenceState,
    LinkHint,
    Officer,
    Onboarding,
    Party,
    PartyKind,
    RefreshToken,
    SignInAttempt,
    SigningKey,
    User,
    legacy_sync_table,
    new_id,
    outbox_table,
)
from permit_identity.ports import CalendarPort, DocumentsPort
from permit_identity.provinces import is_province
from permit_identity.tickets import LEGAL, MINISTRY_PORTAL, ChannelProvider, PlatformIdentity
from permit_identity.unit_of_work import IdentityUnitOfWork
from permitkit import access, legacy_sync
from permitkit.context import Principal
from permitkit.dates import local_date
from permitkit.db import is_unique_violation
from permitkit.errors import PermitError
from permitkit.etags import etag_matches
from permitkit.outbox import record_event
from permitkit.paging import PageRequest, scope_of


def _ts(t: dt.datetime) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromDatetime(t.astimezone(dt.UTC))
    return out


log = structlog.get_logger("permit_identity")

# The principal of the operator CLI (migrate, import-legacy, create-officer, ...).
OPERATOR = Principal(subject="services/identity-cli", roles=frozenset({"service", "admin"}))

LICENCE_REVIEW_WORKING_DAYS = 5  # ID-5


@dataclass(frozen=True)
class Policy:
    """Token, session and abuse settings the use cases apply."""

    access_ttl: dt.timedelta = dt.timedelta(minutes=15)
    refresh_ttl: dt.timedelta = dt.timedelta(days=7)
    session_max: dt.timedelta = dt.timedelta(days=30)
    key_passphrase: str = ""
    key_max_age: dt.timedelta | None = dt.timedelta(days=30)
    key_prepublish: dt.timedelta = dt.timedelta(minutes=10)
    sign_in_limit: int = 10
    sign_in_window: dt.timedelta = dt.timedelta(minutes=1)


# --- views returned to the transport ----------------------------------------
@dataclass
class MeView:
    """The caller as GetMe/SignIn report it."""

    user: str
    party: str = ""
    party_kind: str = ""
    display_name: str = ""
    roles: list[str] = field(default_factory=list)
    province: str = ""
    onboarding: str = Onboarding.ACTIVE.value
    legacy_linked: bool = False
    channel: str = ""
    link_hint: str = ""
    link_hint_message: str = ""
    masked_identifier: str = ""
    legacy_account: str = ""
    licence: Licence | None = None


@dataclass
class SessionView:
    """A session as SignIn/RefreshSession return it."""

    name: str
    access_token: str
    expire_time: dt.datetime
    refresh_token: str
    refresh_expire_time: dt.datetime
    me: MeView


@dataclass
class LegacyAccountInput:
    """One account of the PC system's export (see legacy.py for the file format)."""

    legacy_id: str
    kind: str
    name: str
    uscc: str = ""
    id_number: str = ""
    province: str = ""
    associated_id_numbers: Sequence[tuple[str, str]] = ()
    enterprise_info: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class ImportResult:
    created: int
    updated: int
    parties: list[str]


@dataclass
class Introspection:
    active: bool
    reason: str = ""
    claims: dict[str, Any] = field(default_factory=dict)


# --- helpers ------------------------------------------------------------------
def masked(party: Party) -> str:
    # USCCs are public registry data; ID numbers never leave whole.
    if party.kind == PartyKind.ENTERPRISE:
        return party.uscc or ""
    return identifiers.mask_id_number(party.id_number or "")


def _me_of_user(uow: IdentityUnitOfWork, user: User) -> MeView:
    return _me_view(user, uow.licences.latest_for_party(user.party_id))


def _me_view(user: User, licence: Licence | None) -> MeView:
    party = user.party
    hint = LinkHint(user.link_hint or "")
    return MeView(
        user=user.name, party=party.name, party_kind=party.kind, display_name=party.display_name,
        roles=[APPLICANT], province=party.province or "", onboarding=party.onboarding,
        legacy_linked=party.legacy_id is not None, channel=user.channel, link_hint=hint.value,
        link_hint_message=LINK_HINT_MESSAGES.get(hint, ""), masked_identifier=masked(party),
        legacy_account=party.legacy_id or "", licence=licence,
    )


def _me_of_officer(officer: Officer) -> MeView:
    return MeView(user=officer.name, display_name=officer.display_name, roles=officer.roles,
                  province=officer.province, onboarding=Onboarding.ACTIVE.value,
                  channel=Channel.STAFF.value)


def _claims_of(me: MeView, session_id: str) -> tokens.AccessClaims:
    is_officer = me.user.startswith("officers/")
    return tokens.AccessClaims(subject=me.user, session_id=session_id, roles=tuple(me.roles),
                               onboarding=me.onboarding, party=me.party or None,
                               province=me.province if is_officer else None)


def ensure_signing_key(uow: IdentityUnitOfWork, *, now: dt.datetime, policy: Policy) -> SigningKey:
    """The key that signs now; creates the first one, and rotates one older than
    ``key_max_age`` (the successor is published ``key_prepublish`` before it signs)."""
    keys = uow.keys.all()
    signing = [k for k in keys if k.signs_at(now)]
    if not signing:
        return _add_key(uow, now=now, activate_at=now, policy=policy)
    current = max(signing, key=lambda k: k.activate_time)
    pending = [k for k in keys if k.activate_time > now]
    if (policy.key_max_age is not None and not pending
            and current.activate_time + policy.key_max_age <= now):
        _rotate(uow, keys=keys, now=now, activate_after=policy.key_prepublish, policy=policy)
    return current


def encrypt_stored_keys(uow: IdentityUnitOfWork, *, policy: Policy) -> int:
    """Encrypt at rest any signing key still stored in the clear; their key ids stay."""
    n = 0
    for k in uow.keys.all():
        pem = tokens.encrypt_private_key(k.private_key_pem, policy.key_passphrase)
        if pem is not None:
            k.private_key_pem = pem
            n += 1
    if n:
        log.info("signing_keys_encrypted", count=n)
    return n


def _add_key(uow: IdentityUnitOfWork, *, now: dt.datetime, activate_at: dt.datetime,
             policy: Policy) -> SigningKey:
    pair = tokens.generate_key_pair(now, policy.key_passphrase)
    key = SigningKey(key_id=pair.key_id, algorithm=tokens.ALGORITHM,
                     private_key_pem=pair.private_key_pem, public_key_pem=pair.public_key_pem,
                     create_time=now, activate_time=activate_at)
    uow.keys.add(key)
    uow.flush()
    log.info("signing_key_created", key_id=key.key_id, activate_time=activate_at.isoformat())
    return key


def _rotate(uow: IdentityUnitOfWork, *, keys: list[SigningKey], now: dt.datetime,
            activate_after: dt.timedelta, policy: Policy) -> SigningKey:
    activate_at = now + activate_after
    for k in keys:
        if k.retire_time is None or k.retire_time > activate_at:
            k.retire(at=activate_at, token_ttl=policy.access_ttl)
    return _add_key(uow, now=now, activate_at=activate_at, policy=policy)


def _sign(uow: IdentityUnitOfWork, claims: tokens.AccessClaims, *, now: dt.datetime,
          policy: Policy) -> tuple[str, dt.datetime]:
    key = ensure_signing_key(uow, now=now, policy=policy)
    return tokens.sign_access_token(claims, key_id=key.key_id, private_key_pem=key.private_key_pem,
                                    now=now, ttl=policy.access_ttl, passphrase=policy.key_passphrase)


def _issue_refresh(uow: IdentityUnitOfWork, session: AuthSession, *, now: dt.datetime,
                   policy: Policy) -> tuple[str, dt.datetime]:
    token, digest = tokens.new_refresh_token(session.id)
    expire = min(now + policy.refresh_ttl, session.expire_time)
    uow.refresh_tokens.add(RefreshToken(token_hash=digest, session_id=session.id, issue_time=now,
                                        expire_time=expire))
    return token, expire


def _open_session(uow: IdentityUnitOfWork, me: MeView, *, now: dt.datetime,
                  policy: Policy, granted_roles: Sequence[str] | None = None) -> SessionView:
    session = AuthSession(id=new_id(), subject=me.user, channel=me.channel, create_time=now,
                          expire_time=now + policy.session_max,
                          granted_roles=",".join(granted_roles) if granted_roles is not None else None)
    uow.sessions.add(session)
    uow.flush()
    refresh, refresh_exp = _issue_refresh(uow, session, now=now, policy=policy)
    access, exp = _sign(uow, _claims_of(me, session.id), now=now, policy=policy)
    return SessionView(name=session.name, access_token=access, expire_time=exp,
                       refresh_token=refresh, refresh_expire_time=refresh_exp, me=me)


# --- sign-in (ID-1 .. ID-4, ID-6) -------------------------------------------------
def sign_in(uow: IdentityUnitOfWork, *, providers: Mapping[Channel, ChannelProvider],
            policy: Policy, now: dt.datetime, channel: str, ticket: str,
            portal_account: str = "") -> SessionView:
    """Verify a channel ticket, apply the channel and account rules, bind the user
    to a party (linking a legacy account on first entry) and open a session."""
    if portal_account:
        # ID-2: old ministry portal accounts cannot sign in at all.
        log.info("sign_in_refused", reason="MINISTRY_PORTAL_ACCOUNT")
        raise errors.MinistryPortalAccount()
    try:
        ch = Channel(channel)
    except ValueError:
        raise errors.ChannelRequired(field="channel") from None
    if not ticket:
        raise errors.TicketRequired(field="ticket")
    provider = providers.get(ch)
    if provider is None:
        # SI-2: development tickets only where the development provider is on.
        raise errors.DevSignInDisabled()
    identity = provider.verify(ticket, channel=ch, now=now)
    return sign_in_verified(uow, identity, policy=policy, now=now)


def sign_in_verified(uow: IdentityUnitOfWork, identity: PlatformIdentity, *, policy: Policy,
                     now: dt.datetime,
                     spend: Callable[[IdentityUnitOfWork], bool] | None = None) -> SessionView:
    """Sign in an identity a provider vouched for: rate limit, single use of its
    ticket (or nonce), channel and account rules, binding, session.

    ``spend`` runs in the first commit with the ticket (the OpenID Connect
    sign-in spends its started request there); False refuses the sign-in."""
    ch = identity.channel
    with uow:
        # Rate limit per claimed subject, and spend the ticket, in their own commit
        # so that a refused sign-in still counts and still burns the ticket.
        since = now - policy.sign_in_window
        if uow.attempts.count_since(identity.subject_key, since) >= policy.sign_in_limit:
            log.info("sign_in_rate_limited", channel=ch.value)
            raise errors.RateLimited(metadata={
                "retry_after_seconds": str(int(policy.sign_in_window.total_seconds()))})
        uow.attempts.purge(identity.subject_key, since)
        uow.attempts.add(SignInAttempt(subject_key=identity.subject_key, attempt_time=now))
        fresh = uow.tickets.consume(ticket_key=identity.ticket_key, channel=ch.value,
                                    expire_time=identity.expires_at)
        spent = spend(uow) if spend is not None else True
        uow.commit()
        if not spent:
            raise errors.SignInStateInvalid(field="state")
        if not fresh:
            log.info("sign_in_refused", reason="TICKET_REPLAYED", channel=ch.value)
            raise errors.TicketReplayed()

        for attempt in (1, 2):
            try:
                if ch == Channel.STAFF:
                    me = _staff_sign_in(uow, identity)
                else:
                    me = _user_sign_in(uow, identity, now=now)
                view = _open_session(uow, me, now=now, policy=policy,
                                     granted_roles=identity.roles if ch == Channel.STAFF else None)
                uow.tickets.purge(now)
                uow.commit()
                break
            except IntegrityError as e:
                # Two first sign-ins of the same platform user raced to create it:
                # the loser starts over and finds the winner's row.
                uow.rollback()
                if attempt == 2 or not is_unique_violation(e):
                    raise
    log.info("signed_in", subject=me.user, channel=ch.value, party=me.party,
             onboarding=me.onboarding, legacy_linked=me.legacy_linked)
    return view


def _staff_sign_in(uow: IdentityUnitOfWork, identity: PlatformIdentity) -> MeView:
    officer = uow.officers.get(identity.officer_login or "")
    if officer is None:
        raise errors.OfficerUnknown()
    if not officer.active:
        raise errors.OfficerDisabled()
    me = _me_of_officer(officer)
    if identity.province is not None and identity.province != officer.province:
        # ID-6: the staff directory and the officer records must agree on the province.
        log.info("sign_in_refused", reason="OFFICER_PROVINCE_MISMATCH", officer=officer.name)
        raise errors.OfficerProvinceMismatch()
    if identity.roles is not None:
        # Only roles both the directory grants and the records hold.
        me.roles = [r for r in officer.roles if r in identity.roles]
        if not me.roles:
            log.info("sign_in_refused", reason="OFFICER_ROLES_MISSING", officer=officer.name)
            raise errors.OfficerRolesMissing()
    return me


def _checked_identity(identity: PlatformIdentity) -> tuple[PartyKind, str]:
    """The party kind and validated identifier a ticket claims (ID-1, ID-2)."""
    if identity.account_source == MINISTRY_PORTAL:
        raise errors.MinistryPortalAccount()
    if identity.user_type == LEGAL:
        if identity.channel.person_only:
            # ID-1: the mini-programs accept individual users only.
            raise errors.ChannelPersonOnly()
        uscc = identifiers.normalise(identity.uscc or "")
        if not identifiers.is_valid_uscc(uscc):
            raise errors.InvalidUscc(field="ticket.uscc")
        return PartyKind.ENTERPRISE, uscc
    idn = identifiers.normalise(identity.id_number or "")
    if not identifiers.is_valid_id_number(idn):
        raise errors.InvalidIdNumber(field="ticket.idn")
    return PartyKind.PERSON, idn


def _resolve_party(uow: IdentityUnitOfWork, *, kind: PartyKind, identifier: str,
                   name: str) -> tuple[Party, LegacyAccount | None]:
    """The legacy party for this identifier (ID-3), else the user's own new party.

    Only a legacy account of the same kind matches: a person's ID number never
    reaches an enterprise account (ID-4)."""
    legacy = uow.legacy.find(kind=kind, identifier=identifier)
    if legacy is not None:
        party = uow.parties.get(legacy.party_id)
        assert party is not None
        return party, legacy
    party = uow.parties.find_unlinked(kind=kind, identifier=identifier)
    if party is not None:
        return party, None
    province = (identifiers.province_of_uscc(identifier) if kind == PartyKind.ENTERPRISE
                else identifiers.province_of_id_number(identifier))
    party = Party.new(kind=kind, display_name=name or identifier[:6],
                      uscc=identifier if kind == PartyKind.ENTERPRISE else None,
                      id_number=identifier if kind == PartyKind.PERSON else None, province=province)
    uow.parties.add(party)
    uow.flush()
    return party, None


def _link_hint(uow: IdentityUnitOfWork, identity: PlatformIdentity, kind: PartyKind,
               idn: str, party: Party) -> LinkHint:
    """ID-4: a person tied to an enterprise legacy account is told to sign in as
    the legal person (their personal sign-in does not link it)."""
    if kind != PartyKind.PERSON or party.legacy_id is not None:
        return LinkHint.NONE
    if uow.legacy.enterprises_associating(idn):
        return LinkHint.SIGN_IN_AS_LEGAL_PERSON
    uscc = identifiers.normalise(identity.uscc or "")
    if uscc and uow.legacy.find(kind=PartyKind.ENTERPRISE, identifier=uscc) is not None:
        return LinkHint.SIGN_IN_AS_LEGAL_PERSON
    return LinkHint.NONE


def _bind_user(uow: IdentityUnitOfWork, user: User, identity: PlatformIdentity, *,
               kind: PartyKind, identifier: str, now: dt.datetime) -> None:
    """Point the user at its party, linking a legacy account once (ID-3, idempotent)."""
    if user.party_id and user.party.legacy_id is not None:
        party, legacy = user.party, uow.legacy.get(user.party.legacy_id)
    else:
        party, legacy = _resolve_party(uow, kind=kind, identifier=identifier,
                                       name=identity.name or user.display_name)
        if user.party_id != party.id:
            user.party_id = party.id
            user.party = party
    if legacy is not None and legacy.link(user_id=user.id, now=now):
        log.info("legacy_account_linked", legacy_id=legacy.legacy_id, party=party.name,
                 user=user.name)
    user.link_hint = _link_hint(uow, identity, kind, identifier, party).value


def _user_sign_in(uow: IdentityUnitOfWork, identity: PlatformIdentity, *,
                  now: dt.datetime) -> MeView:
    kind, identifier = _checked_identity(identity)
    user = uow.users.by_channel_uid(identity.channel.value, identity.uid)
    if user is None:
        user = User(id=new_id(), channel=identity.channel.value, platform_uid=identity.uid,
                    user_type=identity.user_type, display_name=identity.name or "",
                    uscc=identifier if kind == PartyKind.ENTERPRISE else None,
                    id_number=identifier if kind == PartyKind.PERSON else None, party_id="")
        party, _ = _resolve_party(uow, kind=kind, identifier=identifier, name=identity.name)
        user.party_id, user.party = party.id, party
        uow.users.add(user)
        uow.flush()
    elif identity.name:
        user.display_name = identity.name
    _bind_user(uow, user, identity, kind=kind, identifier=identifier, now=now)
    user.last_sign_in_at = now
    uow.flush()
    return _me_of_user(uow, user)


# --- the caller ------------------------------------------------------------------
def _require(principal: Principal | None) -> Principal:
    return access.signed_in(principal)


def _user_id(principal: Principal) -> str:
    if not principal.subject.startswith("users/"):
        raise errors.NotApplicant()
    return principal.subject.removeprefix("users/")


def _user_of(uow: IdentityUnitOfWork, principal: Principal) -> User:
    user = uow.users.get(_user_id(principal))
    if user is None:
        raise errors.UserNotFound()
    return user


def get_me(uow: IdentityUnitOfWork, *, principal: Principal | None) -> MeView:
    """Who the caller is: user or officer, party, roles, onboarding state."""
    p = _require(principal)
    with uow:
        if p.subject.startswith("officers/"):
            officer = uow.officers.get(p.subject.removeprefix("officers/"))
            if officer is None:
                raise errors.UserNotFound()
            return _me_of_officer(officer)
        found = uow.users.with_latest_licence(_user_id(p))
        if found is None:
            raise errors.UserNotFound()
        return _me_view(*found)


def link_legacy_account(uow: IdentityUnitOfWork, *, principal: Principal | None,
                        now: dt.datetime) -> MeView:
    """Re-run legacy linking for the caller (after a late import); idempotent (ID-3)."""
    p = _require(principal)
    with uow:
        user = _user_of(uow, p)
        kind = PartyKind.ENTERPRISE if user.user_type == LEGAL else PartyKind.PERSON
        identifier = (user.uscc if kind == PartyKind.ENTERPRISE else user.id_number) or ""
        identity = PlatformIdentity(channel=Channel(user.channel), ticket_id="", expires_at=now,
                                    user_type=user.user_type, uid=user.platform_uid,
                                    name=user.display_name, uscc=user.uscc, id_number=user.id_number)
        _bind_user(uow, user, identity, kind=kind, identifier=identifier, now=now)
        uow.flush()
        me = _me_of_user(uow, user)
        uow.commit()
        return me


# --- sessions ------------------------------------------------------------------------
def refresh_session(uow: IdentityUnitOfWork, *, policy: Policy, now: dt.datetime,
                    refresh_token: str) -> SessionView:
    """Spend a refresh token for a new one and a fresh access token; a reused
    token revokes its whole session (it may have been stolen)."""
    if not refresh_token:
        raise errors.RefreshTokenRequired(field="refresh_token")
    with uow:
        row = uow.refresh_tokens.get(tokens.hash_refresh_token(refresh_token))
        if row is None:
            raise errors.RefreshTokenInvalid()
        session = row.session
        if session.revoke_time is not None:
            raise errors.SessionRevoked()
        if row.use_time is not None:
            session.revoke(now=now, reason="REFRESH_TOKEN_REUSED")
            uow.commit()
            log.warning("refresh_token_reused", session=session.name, subject=session.subject)
            raise errors.RefreshTokenReused()
        if row.expire_time <= now or session.expire_time <= now:
            raise errors.RefreshTokenExpired()
        row.use_time = now
        me = _current_me(uow, session, now=now)
        refresh, refresh_exp = _issue_refresh(uow, session, now=now, policy=policy)
        access, exp = _sign(uow, _claims_of(me, session.id), now=now, policy=policy)
        uow.commit()
    return SessionView(name=session.name, access_token=access, expire_time=exp,
                       refresh_token=refresh, refresh_expire_time=refresh_exp, me=me)


def _current_me(uow: IdentityUnitOfWork, session: AuthSession, *, now: dt.datetime) -> MeView:
    if session.subject.startswith("officers/"):
        officer = uow.officers.get(session.subject.removeprefix("officers/"))
        if officer is None or not officer.active:
            session.revoke(now=now, reason="OFFICER_DISABLED")
            uow.commit()
            raise errors.OfficerDisabled()
        me = _me_of_officer(officer)
        if session.granted_roles is not None:
            # Signed in through the staff directory: never more than it granted (ID-6).
            granted = set(session.granted_roles.split(","))
            me.roles = [r for r in me.roles if r in granted]
        return me
    user = uow.users.get(session.subject.removeprefix("users/"))
    if user is None:
        raise errors.UserNotFound()
    return _me_of_user(uow, user)


def sign_out(uow: IdentityUnitOfWork, *, principal: Principal | None, now: dt.datetime,
             refresh_token: str = "") -> int:
    """Revoke the session of ``refresh_token`` (the caller's), or all the caller's sessions."""
    p = _require(principal)
    with uow:
        if refresh_token:
            row = uow.refresh_tokens.get(tokens.hash_refresh_token(refresh_token))
            if row is None:
                raise errors.RefreshTokenInvalid()
            if row.session.subject != p.subject:
                raise errors.SessionNotOwned()
            sessions = [row.session]
        else:
            sessions = uow.sessions.live_of(p.subject, now)
        count = sum(1 for s in sessions if s.revoke(now=now, reason="SIGNED_OUT"))
        uow.commit()
    log.info("signed_out", subject=p.subject, revoked=count)
    return count


def introspect_token(uow: IdentityUnitOfWork, *, principal: Principal | None, now: dt.datetime,
                     access_token: str) -> Introspection:
    """Verify an access token and its session (revocation before expiry)."""
    _require_service(principal)
    if not access_token:
        raise errors.AccessTokenRequired(field="access_token")
    with uow:
        keys = {k.key_id: k.public_key_pem for k in uow.keys.all() if k.published_at(now)}
        try:
            claims = tokens.verify_access_token(access_token, keys, now=now)
        except tokens.TokenRejected as e:
            return Introspection(active=False, reason=e.reason)
        session = uow.sessions.get(str(claims.get("sid", "")))
        if session is None or session.revoke_time is not None:
            return Introspection(active=False, reason="SESSION_REVOKED", claims=claims)
        return Introspection(active=True, claims=claims)


def list_public_keys(uow: IdentityUnitOfWork, *, now: dt.datetime, policy: Policy, page_size: int = 0,
                     page_token: str = "") -> tuple[list[SigningKey], str]:
    """Every key that may verify a valid token: current, previous until expiry, next;
    oldest activation first. The default page is the largest, so a caller that does
    not page (the gateway's token verifier) still gets every published key."""
    req = PageRequest.of(page_size=page_size, page_token=page_token, scope=scope_of("public_keys"),
                         default=100, maximum=100)
    with uow:
        ensure_signing_key(uow, now=now, policy=policy)
        keys = [k for k in uow.keys.all() if k.published_at(now)]
        uow.commit()
    page = req.window(keys)
    return page.items, page.next_page_token


def rotate_signing_key(uow: IdentityUnitOfWork, *, principal: Principal | None, now: dt.datetime,
                       policy: Policy, activate_after: dt.timedelta | None = None) -> SigningKey:
    """Publish a new key now that signs after ``activate_after``; old keys retire
    then and stay published until the last token they signed expires."""
    _require_service_or_admin(principal)
    delay = policy.key_prepublish if activate_after is None else activate_after
    if delay < dt.timedelta(0) or delay > dt.timedelta(days=1):
        raise errors.ActivateAfterInvalid(field="activate_after")
    with uow:
        key = _rotate(uow, keys=uow.keys.all(), now=now, activate_after=delay, policy=policy)
        uow.commit()
    log.info("signing_key_rotated", key_id=key.key_id)
    return key


# --- internal / admin --------------------------------------------------------------
def _require_service(principal: Principal | None) -> Principal:
    return access.require_service(principal)


def _require_service_or_admin(principal: Principal | None) -> Principal:
    return access.require_service(principal, or_admin=True)


require_service_or_admin = _require_service_or_admin


def _require_admin(principal: Principal | None) -> Principal:
    return access.require_admin(principal, or_service=True)


def get_party(uow: IdentityUnitOfWork, *, principal: Principal | None, name: str) -> Party:
    """An applicant party for a peer service."""
    _require_service(principal)
    with uow:
        party = uow.parties.get(name.removeprefix("parties/")) if name.startswith("parties/") else None
        if party is None:
            raise errors.PartyNotFound(field="name")
        return party


LEGACY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def import_legacy_accounts(uow: IdentityUnitOfWork, *, principal: Principal | None,
                           now: dt.datetime, accounts: Sequence[LegacyAccountInput]) -> ImportResult:
    """Create or update legacy accounts and their parties `parties/{legacy_id}` (ID-3).

    Idempotent by legacy id; an existing link is kept."""
    _require_service_or_admin(principal)
    checked = [_checked_legacy(i, a) for i, a in enumerate(accounts)]
    created = updated = 0
    parties: list[str] = []
    with uow:
        for a, kind, identifier, province in checked:
            party, known = _upsert_legacy_account(uow, a, kind, identifier, province)
            if known:
                updated += 1
            else:
                created += 1
            uow.flush()
            parties.append(party.name)
        uow.commit()
    log.info("legacy_accounts_imported", created=created, updated=updated)
    return ImportResult(created=created, updated=updated, parties=parties)


def _upsert_legacy_account(uow: IdentityUnitOfWork, a: LegacyAccountInput, kind: PartyKind,
                           identifier: str, province: str | None) -> tuple[Party, bool]:
    """Create or refresh one legacy account and its party; True when it was known."""
    acc = uow.legacy.get(a.legacy_id)
    party = uow.parties.get(a.legacy_id)
    if party is None:
        party = Party.from_legacy(
            legacy_id=a.legacy_id, kind=kind, display_name=a.name,
            uscc=identifier if kind == PartyKind.ENTERPRISE else None,
            id_number=identifier if kind == PartyKind.PERSON else None, province=province)
        uow.parties.add(party)
        uow.flush()
    else:
        party.display_name, party.province = a.name, province
    info = json.dumps(dict(a.enterprise_info), ensure_ascii=False, sort_keys=True)
    known = acc is not None
    if acc is None:
        acc = LegacyAccount(legacy_id=a.legacy_id, party_id=a.legacy_id)
        uow.legacy.add(acc)
    acc.kind, acc.name, acc.province, acc.enterprise_info = kind.value, a.name, province, info
    acc.uscc = identifier if kind == PartyKind.ENTERPRISE else None
    acc.id_number = identifier if kind == PartyKind.PERSON else None
    persons: dict[str, str] = {}
    if kind == PartyKind.ENTERPRISE:
        for idn, role in a.associated_id_numbers:
            n = identifiers.normalise(idn)
            if identifiers.is_valid_id_number(n):
                persons.setdefault(n, role)
    acc.persons = [LegacyAccountPerson(legacy_id=a.legacy_id, id_number=n, role=r)
                   for n, r in sorted(persons.items())]
    uow.flush()
    return party, known


@dataclass
class LegacySyncRecord:
    """One account of an export for the sync (PC-3): the parsed input, or why it
    could not be read, and where it was read."""

    record: str
    source: str
    account: LegacyAccountInput | None = None
    error: PermitError | None = None


def sync_legacy_accounts(uow: IdentityUnitOfWork, *, principal: Principal | None, now: dt.datetime,
                         records: Sequence[LegacySyncRecord],
                         scope: Sequence[str] | None = None) -> list[legacy_sync.Outcome]:
    """The accounts of a PC-system export as a repeatable sync (PC-3, ID-3): each
    account is imported, updated, left unchanged or refused; a known account the
    export lacks is flagged (never deleted). Idempotent by legacy id."""
    _require_service_or_admin(principal)
    items: list[legacy_sync.Item] = []
    for i, r in enumerate(records):
        if r.error is not None or r.account is None:
            items.append(legacy_sync.Item(r.record, r.source, error=r.error or errors.LegacyIdInvalid()))
            continue
        try:
            checked = _checked_legacy(i, r.account, path="account")
        except PermitError as e:
            items.append(legacy_sync.Item(r.record, r.source, error=e))
            continue

        def apply(_known: bool, c: tuple[LegacyAccountInput, PartyKind, str, str | None] = checked) -> None:
            _upsert_legacy_account(uow, *c)

        a = checked[0]
        items.append(legacy_sync.Item(r.record, r.source, fingerprint=legacy_sync.fingerprint(
            [a.legacy_id, checked[1].value, a.name, checked[2], checked[3],
             sorted(list(p) for p in a.associated_id_numbers), dict(a.enterprise_info)]), apply=apply))
    with uow:
        outcomes = legacy_sync.reconcile(uow.session, legacy_sync_table, items, now=now, prefix="accounts/",
                                         scope=scope)
        uow.commit()
    log.info("legacy_accounts_synced", **{k.value.lower(): sum(o.result == k for o in outcomes)
                                          for k in legacy_sync.SyncResult})
    return outcomes


def _checked_legacy(i: int, a: LegacyAccountInput,
                    path: str = "") -> tuple[LegacyAccountInput, PartyKind, str, str | None]:
    path = path or f"accounts[{i}]"
    if not LEGACY_ID.match(a.legacy_id or ""):
        raise errors.LegacyIdInvalid(field=f"{path}.legacy_id")
    try:
        kind = PartyKind(a.kind)
    except ValueError:
        raise errors.KindRequired(field=f"{path}.kind") from None
    if kind == PartyKind.ENTERPRISE:
        identifier = identifiers.normalise(a.uscc)
        if not identifiers.is_valid_uscc(identifier):
            raise errors.InvalidUscc(field=f"{path}.uscc")
        derived = identifiers.province_of_uscc(identifier)
    else:
        identifier = identifiers.normalise(a.id_number)
        if not identifiers.is_valid_id_number(identifier):
            raise errors.InvalidIdNumber(field=f"{path}.id_number")
        derived = identifiers.province_of_id_number(identifier)
    province = a.province or derived
    if province is not None and not is_province(province):
        raise errors.ProvinceInvalid(field=f"{path}.province")
    return a, kind, identifier, province


LOGIN = re.compile(r"^[a-z][a-z0-9-]{2,62}$")


def _checked_officer_fields(*, display_name: str | None = None, province: str | None = None,
                            roles: Sequence[str] | None = None) -> None:
    if display_name is not None and not display_name.strip():
        raise errors.field_error("DISPLAY_NAME_REQUIRED", "请填写工作人员姓名。", "officer.display_name")
    if province is not None and not is_province(province):
        raise errors.ProvinceInvalid(field="officer.province")
    if roles is not None:
        if not roles:
            raise errors.field_error("ROLES_REQUIRED", "请至少指定一个角色。", "officer.roles")
        bad = [r for r in roles if r not in OFFICER_ROLES]
        if bad:
            raise errors.field_error("ROLE_INVALID", f"角色无效：{','.join(bad)}", "officer.roles")


def create_officer(uow: IdentityUnitOfWork, *, principal: Principal | None, login: str,
                   display_name: str, province: str, roles: Sequence[str],
                   exist_ok: bool = False) -> Officer:
    """Provision an officer scoped to one province (ID-6). Admin only."""
    _require_admin(principal)
    if not LOGIN.match(login or ""):
        raise errors.field_error("LOGIN_INVALID", "登录名须为3-63位小写字母、数字或连字符，以字母开头。",
                                 "officer.login")
    _checked_officer_fields(display_name=display_name, province=province, roles=roles)
    with uow:
        existing = uow.officers.get(login)
        if existing is not None:
            if not exist_ok:
                raise errors.OfficerExists(field="officer.login")
            existing.display_name, existing.province = display_name.strip(), province
            existing.roles = list(roles)
            uow.commit()
            return existing
        officer = Officer(id=login, display_name=display_name.strip(), province=province,
                          roles_csv="", active=True)
        officer.roles = list(roles)
        uow.officers.add(officer)
        uow.commit()
    log.info("officer_created", officer=officer.name, province=province, roles=officer.roles)
    return officer


def list_officers(uow: IdentityUnitOfWork, *, principal: Principal | None, province: str,
                  page_size: int, page_token: str) -> tuple[list[Officer], str]:
    """Officers by login, optionally of one province. Admin only."""
    _require_admin(principal)
    req = PageRequest.of(page_size=page_size, page_token=page_token, scope=scope_of("officers", province),
                         default=50, maximum=100)
    with uow:
        page = req.cut(uow.officers.list(province=province or None, offset=req.offset, limit=req.limit))
    return page.items, page.next_page_token


def update_officer(uow: IdentityUnitOfWork, *, principal: Principal | None, name: str,
                   paths: Sequence[str], now: dt.datetime, display_name: str = "",
                   province: str = "", roles: Sequence[str] = (), active: bool = True) -> Officer:
    """Change an officer; disabling revokes their sessions. Admin only."""
    _require_admin(principal)
    allowed = {"display_name", "province", "roles", "active"}
    if not paths or any(p not in allowed for p in paths):
        raise errors.UpdateMaskInvalid(field="update_mask")
    _checked_officer_fields(display_name=display_name if "display_name" in paths else None,
                            province=province if "province" in paths else None,
                            roles=list(roles) if "roles" in paths else None)
    with uow:
        officer = uow.officers.get(name.removeprefix("officers/")) if name.startswith("officers/") else None
        if officer is None:
            raise errors.OfficerNotFound(field="officer.name")
        if "display_name" in paths:
            officer.display_name = display_name.strip()
        if "province" in paths:
            officer.province = province
        if "roles" in paths:
            officer.roles = list(roles)
        if "active" in paths:
            officer.active = active
        if "active" in paths and not active or "province" in paths or "roles" in paths:
            # A narrowed scope must not live on in refreshable sessions.
            for s in uow.sessions.live_of(officer.name, now):
                s.revoke(now=now, reason="OFFICER_CHANGED")
        uow.commit()
    log.info("officer_updated", officer=officer.name, fields=list(paths))
    return officer


# --- licence onboarding (ID-5) --------------------------------------------------------
def licence_due_date(calendar: CalendarPort, submitted: dt.datetime) -> tuple[dt.date, bool]:
    """5 working days after the submission date (Asia/Shanghai) by approval's calendar,
    and whether provisional (a year without data, or approval not answering)."""
    return calendar.add_working_days(local_date(submitted), LICENCE_REVIEW_WORKING_DAYS)


def submit_licence(uow: IdentityUnitOfWork, *, principal: Principal | None, now: dt.datetime,
                   licence_number: str, issuing_authority: str, valid_from: dt.date | None,
                   valid_until: dt.date | None, document: str, calendar: CalendarPort,
                   province: str = "", documents: DocumentsPort | None = None) -> Licence:
    """Submit (or resubmit after rejection) the party's business licence for review (ID-5).

    With ``documents`` the image must be a business-licence document of the
    party; the grant letting the province's officers read it goes through the
    outbox in the same transaction."""
    p = _require(principal)
    number, authority = licence_number.strip(), issuing_authority.strip()
    if not number:
        raise errors.field_error("LICENCE_NUMBER_REQUIRED", "请填写道路运输经营许可证号。", "licence_number")
    if not authority:
        raise errors.field_error("ISSUING_AUTHORITY_REQUIRED", "请填写发证机关。", "issuing_authority")
    if valid_from is None or valid_until is None:
        raise errors.field_error("VALIDITY_REQUIRED", "请填写许可证有效期。",
                                 "valid_from" if valid_from is None else "valid_until")
    if valid_until < valid_from:
        raise errors.field_error("VALIDITY_INVERTED", "有效期截止日期不能早于起始日期。", "valid_until")
    if valid_until < local_date(now):
        raise errors.field_error("LICENCE_EXPIRED", "该经营许可证已过有效期。", "valid_until")
    if not re.match(r"^documents/[A-Za-z0-9_-]+$", document or ""):
        raise errors.field_error("DOCUMENT_REQUIRED", "请上传经营许可证图片。", "document")
    if province and not is_province(province):
        raise errors.ProvinceInvalid(field="province")
    # Asked before the transaction opens: a peer call never holds row locks.
    due, provisional = licence_due_date(calendar, now)
    with uow:
        user = _user_of(uow, p)
        party = user.party
        reviewing = party.province or province
        if not reviewing:
            raise errors.ProvinceUnknown(field="province")
        party.start_licence_review()
        if documents is not None:
            info = documents.describe(document)
            # Another party's document looks absent, like a missing one.
            if info is None or info.owner != party.name:
                raise errors.DocumentNotFound(field="document")
            if info.kind != "BUSINESS_LICENCE":
                raise errors.DocumentKindInvalid(field="document")
        if not party.province:
            party.province = reviewing
        licence = Licence(
            id=new_id(), party_id=party.id, submitter_id=user.id, licence_number=number,
            issuing_authority=authority, valid_from=valid_from, valid_until=valid_until,
            document=document, state=LicenceState.PENDING.value, province=reviewing,
            submit_time=now, due_date=due, due_date_provisional=provisional, version=1)
        licence.party = party
        uow.licences.add(licence)
        record_event(uow.session, outbox_table, identity_events.LicenceSubmitted(
            occur_time=_ts(now), licence=licence.name, applicant=party.name, province=reviewing,
            document=document, licence_number=number, party_display_name=party.display_name or "",
            due_date=date_pb2.Date(year=due.year, month=due.month, day=due.day),
            due_date_provisional=provisional))
        uow.commit()
    log.info("licence_submitted", licence=licence.name, party=party.name, province=reviewing,
             due_date=due.isoformat(), provisional=provisional)
    return licence


def _officer_of(uow: IdentityUnitOfWork, principal: Principal) -> Officer:
    if not principal.subject.startswith("officers/"):
        raise errors.NotLicenceOfficer()
    officer = uow.officers.get(principal.subject.removeprefix("officers/"))
    if officer is None or not officer.active:
        raise errors.NotLicenceOfficer()
    return officer


def _licence(uow: IdentityUnitOfWork, name: str) -> Licence:
    licence = uow.licences.get(name.removeprefix("licences/")) if name.startswith("licences/") else None
    if licence is None:
        raise errors.LicenceNotFound(field="name")
    return licence


def get_licence(uow: IdentityUnitOfWork, *, principal: Principal | None, name: str) -> Licence:
    """One submission: to its party's users, or a licence officer of its province."""
    p = _require(principal)
    with uow:
        if p.subject.startswith("users/"):
            user = _user_of(uow, p)
            licence = _licence(uow, name)
            # Permission before existence: another party's licence looks absent.
            if licence.party_id != user.party_id:
                raise errors.LicenceNotFound(field="name")
            return licence
        officer = _officer_of(uow, p)
        licence = _licence(uow, name)
        officer.may_review_licence_of(licence.province)
        return licence


def list_licence_reviews(uow: IdentityUnitOfWork, *, principal: Principal | None, state: str,
                         province: str, page_size: int, page_token: str) -> tuple[list[Licence], str]:
    """The licence review queue of the officer's province, earliest due first."""
    p = _require(principal)
    with uow:
        officer = _officer_of(uow, p)
        wanted, state = province or officer.province, state or LicenceState.PENDING.value
        if "admin" not in officer.roles:
            officer.may_review_licence_of(wanted)
        req = PageRequest.of(page_size=page_size, page_token=page_token,
                             scope=scope_of("licence_reviews", wanted, state), default=20, maximum=100)
        page = req.cut(uow.licences.queue(province=wanted, state=state, offset=req.offset, limit=req.limit))
    return page.items, page.next_page_token


def review_licence(uow: IdentityUnitOfWork, *, principal: Principal | None, now: dt.datetime,
                   name: str, approve: bool | None, reason: str = "", etag: str = "") -> Licence:
    """Approve or reject a pending licence (ID-5) as a licence officer of its province (ID-6)."""
    p = _require(principal)
    if approve is None:
        raise errors.DecisionRequired(field="decision")
    with uow:
        officer = _officer_of(uow, p)
        licence = _licence(uow, name)
        officer.may_review_licence_of(licence.province)
        if not etag_matches(etag, licence.version):
            raise errors.EtagMismatch(field="etag")
        licence.review(officer=officer, approve=approve, reason=reason, now=now)
        # Published for notifications: the party may now apply, or must submit again.
        record_event(uow.session, outbox_table, identity_events.LicenceDecided(
            occur_time=_ts(now), licence=licence.name, applicant=f"parties/{licence.party_id}",
            province=licence.province, officer=officer.name, approved=approve, reason=reason,
            licence_number=licence.licence_number))
        uow.commit()
    log.info("licence_reviewed", licence=licence.name, officer=officer.name,
             decision="APPROVE" if approve else "REJECT")
    return licence

