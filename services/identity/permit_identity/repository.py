"""Repositories: typed access to identity entities through the unit of work's session."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, lazyload

from permit_identity.models import (
    AuthSession,
    EnterpriseChange,
    EnterpriseProfile,
    LegacyAccount,
    LegacyAccountPerson,
    Licence,
    Officer,
    Party,
    PartyKind,
    RefreshToken,
    SignInAttempt,
    SigningKey,
    UsedTicket,
    User,
)
from permitkit.db import RepositoryBase, is_unique_violation


class PartyRepository(RepositoryBase[Party]):
    model = Party

    def find_unlinked(self, *, kind: PartyKind, identifier: str) -> Party | None:
        """A non-legacy party of that kind and identifier (a returning new user)."""
        col = Party.uscc if kind == PartyKind.ENTERPRISE else Party.id_number
        stmt = (select(Party).where(Party.kind == kind.value, col == identifier,
                                    Party.legacy_id.is_(None)).order_by(Party.create_time).limit(1))
        return self.session.scalars(stmt).first()


class LegacyAccountRepository(RepositoryBase[LegacyAccount]):
    model = LegacyAccount

    def find(self, *, kind: PartyKind, identifier: str) -> LegacyAccount | None:
        col = LegacyAccount.uscc if kind == PartyKind.ENTERPRISE else LegacyAccount.id_number
        stmt = (select(LegacyAccount).where(LegacyAccount.kind == kind.value, col == identifier)
                .order_by(LegacyAccount.legacy_id).limit(1))
        return self.session.scalars(stmt).first()

    def enterprises_associating(self, id_number: str) -> list[LegacyAccount]:
        """Enterprise legacy accounts that name this person (representative, agent)."""
        stmt = (select(LegacyAccount).join(LegacyAccountPerson)
                .where(LegacyAccountPerson.id_number == id_number,
                       LegacyAccount.kind == PartyKind.ENTERPRISE.value))
        return list(self.session.scalars(stmt).unique())


def _latest_first(licence: Any) -> tuple[Any, ...]:
    """The order that makes a party's first licence its latest (``licence``: the entity or
    an alias of it)."""
    return licence.submit_time.desc(), licence.create_time.desc()


def _user_with_latest_licence() -> Select[tuple[User, Licence]]:
    """Built once: building a statement with an alias costs more than running it. The
    licence's party is the user's (already loaded), so it is not joined again."""
    newest = aliased(Licence)
    latest_id = (select(newest.id).where(newest.party_id == User.party_id)
                 .order_by(*_latest_first(newest)).limit(1)
                 .correlate(User).scalar_subquery())
    return (select(User, Licence).outerjoin(Licence, Licence.id == latest_id)
            .where(User.id == bindparam("user_id")).options(lazyload(Licence.party)))


_USER_WITH_LATEST_LICENCE = _user_with_latest_licence()


class UserRepository(RepositoryBase[User]):
    model = User

    def with_latest_licence(self, user_id: str) -> tuple[User, Licence | None] | None:
        """The user (its party joined) and the party's latest licence, in one statement:
        ``GET /v1/me`` is one round trip."""
        row = self.session.execute(_USER_WITH_LATEST_LICENCE, {"user_id": user_id}).first()
        return None if row is None else (row[0], row[1])

    def by_channel_uid(self, channel: str, uid: str) -> User | None:
        stmt = select(User).where(User.channel == channel, User.platform_uid == uid)
        return self.session.scalars(stmt).first()


class OfficerRepository(RepositoryBase[Officer]):
    model = Officer

    def list(self, *, province: str | None, offset: int, limit: int) -> list[Officer]:
        stmt = select(Officer).order_by(Officer.id).offset(offset).limit(limit)
        if province:
            stmt = stmt.where(Officer.province == province)
        return list(self.session.scalars(stmt))


class SessionRepository(RepositoryBase[AuthSession]):
    model = AuthSession

    def live_of(self, subject: str, now: dt.datetime) -> list[AuthSession]:
        stmt = select(AuthSession).where(AuthSession.subject == subject,
                                         AuthSession.revoke_time.is_(None),
                                         AuthSession.expire_time > now)
        return list(self.session.scalars(stmt))


class RefreshTokenRepository(RepositoryBase[RefreshToken]):
    model = RefreshToken


class TicketRepository(RepositoryBase[UsedTicket]):
    model = UsedTicket

    def consume(self, *, ticket_key: str, channel: str, expire_time: dt.datetime) -> bool:
        """Record a ticket as spent; False when it already was (a replay)."""
        if self.session.get(UsedTicket, ticket_key) is not None:
            return False
        try:
            with self.session.begin_nested():
                self.session.add(UsedTicket(ticket_key=ticket_key, channel=channel,
                                            expire_time=expire_time))
        except IntegrityError as e:
            if is_unique_violation(e):
                return False
            raise
        return True

    def purge(self, now: dt.datetime) -> None:
        self.session.execute(delete(UsedTicket).where(UsedTicket.expire_time < now))


class AttemptRepository(RepositoryBase[SignInAttempt]):
    model = SignInAttempt

    def count_since(self, subject_key: str, since: dt.datetime) -> int:
        stmt = select(func.count()).select_from(SignInAttempt).where(
            SignInAttempt.subject_key == subject_key, SignInAttempt.attempt_time > since)
        return int(self.session.scalar(stmt) or 0)

    def purge(self, subject_key: str, before: dt.datetime) -> None:
        self.session.execute(delete(SignInAttempt).where(
            SignInAttempt.subject_key == subject_key, SignInAttempt.attempt_time <= before))


class SigningKeyRepository(RepositoryBase[SigningKey]):
    model = SigningKey

    def all(self) -> list[SigningKey]:
        """By activation; keys rotated at one instant activate together, so the id breaks ties."""
        return list(self.session.scalars(select(SigningKey).order_by(SigningKey.activate_time,
                                                                     SigningKey.key_id)))


class LicenceRepository(RepositoryBase[Licence]):
    model = Licence

    def latest_for_party(self, party_id: str) -> Licence | None:
        stmt = select(Licence).where(Licence.party_id == party_id).order_by(*_latest_first(Licence)).limit(1)
        return self.session.scalars(stmt).first()

    def queue(self, *, province: str, state: str, offset: int, limit: int) -> list[Licence]:
        stmt = (select(Licence).where(Licence.province == province, Licence.state == state)
                .order_by(Licence.due_date, Licence.submit_time, Licence.id)
                .offset(offset).limit(limit))
        return list(self.session.scalars(stmt))



class EnterpriseRepository(RepositoryBase[EnterpriseProfile]):
    """Enterprise information and its audit trail (PC-2)."""

    model = EnterpriseProfile

    def add_change(self, change: EnterpriseChange) -> None:
        self.session.add(change)

    def changes(self, party_id: str, *, offset: int, limit: int) -> list[EnterpriseChange]:
        stmt = (select(EnterpriseChange).where(EnterpriseChange.party_id == party_id)
                .order_by(EnterpriseChange.change_time.desc(), EnterpriseChange.id.desc()))
        return list(self.session.scalars(stmt.offset(offset).limit(limit)))
