"""The identity unit of work: one short transaction per use case."""

from __future__ import annotations

from sqlalchemy.orm import Session

from permit_identity import repository as r
from permitkit.db import SqlAlchemyUnitOfWork


class IdentityUnitOfWork(SqlAlchemyUnitOfWork):
    """Repositories of the identity context on one session."""

    parties: r.PartyRepository
    legacy: r.LegacyAccountRepository
    users: r.UserRepository
    officers: r.OfficerRepository
    sessions: r.SessionRepository
    refresh_tokens: r.RefreshTokenRepository
    tickets: r.TicketRepository
    attempts: r.AttemptRepository
    keys: r.SigningKeyRepository
    licences: r.LicenceRepository

    def _attach(self, session: Session) -> None:
        self.parties = r.PartyRepository(session)
        self.legacy = r.LegacyAccountRepository(session)
        self.users = r.UserRepository(session)
        self.officers = r.OfficerRepository(session)
        self.sessions = r.SessionRepository(session)
        self.refresh_tokens = r.RefreshTokenRepository(session)
        self.tickets = r.TicketRepository(session)
        self.attempts = r.AttemptRepository(session)
        self.keys = r.SigningKeyRepository(session)
        self.licences = r.LicenceRepository(session)
        self.enterprises = r.EnterpriseRepository(session)

    def flush(self) -> None:
        self.session.flush()

    def __exit__(self, *exc: object) -> None:
        # The closing rollback would expire every loaded entity, and read-only use
        # cases return entities to the transport after the session is gone: detach
        # them first so they keep the state they were read with.
        self.session.expunge_all()
        super().__exit__(*exc)
