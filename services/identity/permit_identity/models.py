"""Identity entities (SQLAlchemy 2.0, typed) with their rules as methods; no I/O here."""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from permit_identity import errors
from permitkit.db import TimestampMixin, UTCDateTime, make_base
from permitkit.etags import etag_of
from permitkit.legacy_sync import add_legacy_sync_table
from permitkit.outbox import add_outbox_tables

if TYPE_CHECKING:
    # make_base() builds the class at run time; give the type checker a static one.
    class Base(DeclarativeBase):
        pass
else:
    Base = make_base()
# The outbox carries identity's events (licence submitted and decided; ID-5).
outbox_table, inbox_table = add_outbox_tables(Base.metadata)
# What the legacy sync imported, record by record (PC-3).
legacy_sync_table = add_legacy_sync_table(Base.metadata)



class Channel(enum.StrEnum):
    """Sign-in channels (ID-1); values as in tickets and tokens."""

    APP = "APP"
    ALIPAY = "ALIPAY"
    WECHAT = "WECHAT"
    STAFF = "STAFF"

    @property
    def person_only(self) -> bool:
        # ID-1: the mini-programs accept individual users only.
        return self in (Channel.ALIPAY, Channel.WECHAT)


class PartyKind(enum.StrEnum):
    PERSON = "PERSON"
    ENTERPRISE = "ENTERPRISE"


class Onboarding(enum.StrEnum):
    """Onboarding states (ID-5), as carried in the `onb` claim."""

    ACTIVE = "ACTIVE"
    LICENCE_REQUIRED = "LICENCE_REQUIRED"
    LICENCE_PENDING = "LICENCE_PENDING"
    LICENCE_REJECTED = "LICENCE_REJECTED"


class LicenceState(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class LinkHint(enum.StrEnum):
    NONE = ""
    SIGN_IN_AS_LEGAL_PERSON = "SIGN_IN_AS_LEGAL_PERSON"


LINK_HINT_MESSAGES = {
    LinkHint.SIGN_IN_AS_LEGAL_PERSON: (
        "您的身份信息关联了大件运输许可系统的法人用户原账户。个人账号登录无法关联法人原账户，"
        "请使用在国家政务服务平台注册的法人账号登录。"
    ),
}

APPLICANT = "applicant"
OFFICER_ROLES = frozenset({"officer.accept", "officer.review", "officer.licence", "admin"})


def new_id() -> str:
    return uuid.uuid4().hex


class Party(TimestampMixin, Base):
    """An applicant party: an enterprise (USCC) or a person (ID number)."""

    __tablename__ = "party"
    __table_args__ = (
        Index("ix_party_kind_uscc", "kind", "uscc"),
        Index("ix_party_kind_id_number", "kind", "id_number"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18))
    id_number: Mapped[str | None] = mapped_column(String(18))
    province: Mapped[str | None] = mapped_column(String(6))
    legacy_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    onboarding: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def name(self) -> str:
        return f"parties/{self.id}"

    @property
    def identifier(self) -> str:
        return (self.uscc if self.kind == PartyKind.ENTERPRISE else self.id_number) or ""

    @classmethod
    def new(cls, *, kind: PartyKind, display_name: str, uscc: str | None, id_number: str | None,
            province: str | None) -> Party:
        """A party for a user with no legacy account: licence required first (ID-5)."""
        return cls(id=new_id(), kind=kind.value, display_name=display_name, uscc=uscc,
                   id_number=id_number, province=province, legacy_id=None,
                   onboarding=Onboarding.LICENCE_REQUIRED.value, version=1)

    @classmethod
    def from_legacy(cls, *, legacy_id: str, kind: PartyKind, display_name: str, uscc: str | None,
                    id_number: str | None, province: str | None) -> Party:
        """The party of a PC-system account: named `parties/{legacy_id}`, active at once (ID-3)."""
        return cls(id=legacy_id, kind=kind.value, display_name=display_name, uscc=uscc,
                   id_number=id_number, province=province, legacy_id=legacy_id,
                   onboarding=Onboarding.ACTIVE.value, version=1)

    def start_licence_review(self) -> None:
        """A licence was submitted: only a new or rejected party may submit (ID-5)."""
        if self.onboarding == Onboarding.ACTIVE:
            raise errors.OnboardingComplete()
        if self.onboarding == Onboarding.LICENCE_PENDING:
            raise errors.LicenceReviewPending()
        self.onboarding = Onboarding.LICENCE_PENDING.value
        self.version += 1

    def finish_licence_review(self, *, approved: bool) -> None:
        self.onboarding = (Onboarding.ACTIVE if approved else Onboarding.LICENCE_REJECTED).value
        self.version += 1


class LegacyAccount(TimestampMixin, Base):
    """One account of the PC system's export and its link (ID-3, ID-4)."""

    __tablename__ = "legacy_account"
    __table_args__ = (
        Index("ix_legacy_account_uscc", "uscc"),
        Index("ix_legacy_account_id_number", "id_number"),
    )

    legacy_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18))
    id_number: Mapped[str | None] = mapped_column(String(18))
    province: Mapped[str | None] = mapped_column(String(6))
    # Enterprise info kept as exported (address, contacts, ...): identity owns it.
    enterprise_info: Mapped[str] = mapped_column(Text, default="{}")
    party_id: Mapped[str] = mapped_column(ForeignKey("party.id"))
    linked_user_id: Mapped[str | None] = mapped_column(String(64))
    linked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    persons: Mapped[list[LegacyAccountPerson]] = relationship(
        back_populates="account", cascade="all, delete-orphan", lazy="selectin")

    @property
    def info(self) -> dict[str, object]:
        value = json.loads(self.enterprise_info or "{}")
        return value if isinstance(value, dict) else {}

    def link(self, *, user_id: str, now: dt.datetime) -> bool:
        """Record the first link; later calls change nothing (linking happens once). True if new."""
        if self.linked_at is not None:
            return False
        self.linked_user_id = user_id
        self.linked_at = now
        return True


class LegacyAccountPerson(Base):
    """A person tied to an enterprise legacy account (legal representative, agent):
    used only to tell them to sign in as the legal person (ID-4)."""

    __tablename__ = "legacy_account_person"

    legacy_id: Mapped[str] = mapped_column(ForeignKey("legacy_account.legacy_id", ondelete="CASCADE"),
                                           primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(32))

    account: Mapped[LegacyAccount] = relationship(back_populates="persons")


class User(TimestampMixin, Base):
    """A national-platform identity on one channel, acting for one party."""

    __tablename__ = "platform_user"
    __table_args__ = (UniqueConstraint("channel", "platform_uid", name="uq_platform_user_channel_uid"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    platform_uid: Mapped[str] = mapped_column(String(128))
    user_type: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18))
    id_number: Mapped[str | None] = mapped_column(String(18))
    party_id: Mapped[str] = mapped_column(ForeignKey("party.id"))
    link_hint: Mapped[str] = mapped_column(String(40), default="")
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    party: Mapped[Party] = relationship(lazy="joined")

    @property
    def name(self) -> str:
        return f"users/{self.id}"


class Officer(TimestampMixin, Base):
    """A staff account scoped to one province (ID-6); its id is the login."""

    __tablename__ = "officer"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    province: Mapped[str] = mapped_column(String(6))
    roles_csv: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def name(self) -> str:
        return f"officers/{self.id}"

    @property
    def roles(self) -> list[str]:
        return sorted(r for r in self.roles_csv.split(",") if r)

    @roles.setter
    def roles(self, value: list[str]) -> None:
        self.roles_csv = ",".join(sorted(set(value)))

    def may_review_licence_of(self, province: str | None) -> None:
        """ID-5/ID-6: only a licence officer of the party's province reviews its licence."""
        if "officer.licence" not in self.roles:
            raise errors.NotLicenceOfficer()
        if province != self.province:
            raise errors.OtherProvince()


class AuthSession(Base):
    """A signed-in session; refresh tokens rotate inside it; sign-out revokes it."""

    __tablename__ = "auth_session"
    __table_args__ = (Index("ix_auth_session_subject", "subject"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expire_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoke_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoke_reason: Mapped[str | None] = mapped_column(String(40))
    # Roles the staff directory granted at sign-in (comma list); None: not signed in through it.
    granted_roles: Mapped[str | None] = mapped_column(String(500))

    @property
    def name(self) -> str:
        return f"sessions/{self.id}"

    def revoke(self, *, now: dt.datetime, reason: str) -> bool:
        if self.revoke_time is not None:
            return False
        self.revoke_time = now
        self.revoke_reason = reason
        return True

    def is_live(self, now: dt.datetime) -> bool:
        return self.revoke_time is None and self.expire_time > now


class RefreshToken(Base):
    """One refresh token of a session, stored as a SHA-256 hash; single use."""

    __tablename__ = "refresh_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_session.id", ondelete="CASCADE"), index=True)
    issue_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expire_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    use_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    session: Mapped[AuthSession] = relationship(lazy="joined")


class UsedTicket(Base):
    """A platform ticket already spent (single use, ID-1); kept until it expires."""

    __tablename__ = "used_ticket"

    ticket_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    expire_time: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class SignInRequest(Base):
    """A started OpenID Connect sign-in (SI-1): what its completion must match.
    Keyed by the hash of ``state``; spent when the sign-in completes."""

    __tablename__ = "sign_in_request"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expire_time: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class SignInAttempt(Base):
    """One sign-in attempt of a subject, for the per-subject rate limit."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (Index("ix_sign_in_attempt_subject_time", "subject_key", "attempt_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_key: Mapped[str] = mapped_column(String(64))
    attempt_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SigningKey(Base):
    """An Ed25519 key pair that signs access tokens; old public keys stay published."""

    __tablename__ = "signing_key"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16), default="EdDSA")
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key_pem: Mapped[str] = mapped_column(Text)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    activate_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # After retire_time the key signs nothing; after expire_time it is no longer published.
    retire_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expire_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    def signs_at(self, now: dt.datetime) -> bool:
        return self.activate_time <= now and (self.retire_time is None or self.retire_time > now)

    def published_at(self, now: dt.datetime) -> bool:
        return self.expire_time is None or self.expire_time > now

    def retire(self, *, at: dt.datetime, token_ttl: dt.timedelta) -> None:
        """Stop signing at ``at``; stay published until the last token signed expires."""
        if self.retire_time is None or self.retire_time > at:
            self.retire_time = at
            self.expire_time = at + token_ttl


class Licence(TimestampMixin, Base):
    """A road transport business licence submitted for onboarding review (ID-5)."""

    __tablename__ = "licence"
    __table_args__ = (Index("ix_licence_province_state_due", "province", "state", "due_date"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("party.id"), index=True)
    submitter_id: Mapped[str] = mapped_column(String(64))
    licence_number: Mapped[str] = mapped_column(String(64))
    issuing_authority: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    document: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    province: Mapped[str] = mapped_column(String(6))
    submit_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    due_date: Mapped[dt.date] = mapped_column(Date)
    due_date_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewer_id: Mapped[str | None] = mapped_column(String(64))
    review_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    party: Mapped[Party] = relationship(lazy="joined")

    @property
    def name(self) -> str:
        return f"licences/{self.id}"

    @property
    def etag(self) -> str:
        return etag_of(self.version)

    def review(self, *, officer: Officer, approve: bool, reason: str, now: dt.datetime) -> None:
        """An officer of the party's province decides (ID-5, ID-6); rejection needs a reason."""
        officer.may_review_licence_of(self.province)
        if self.state != LicenceState.PENDING:
            raise errors.LicenceNotPending()
        if not approve and not reason.strip():
            raise errors.ReasonRequired()
        self.state = (LicenceState.APPROVED if approve else LicenceState.REJECTED).value
        self.reviewer_id = officer.id
        self.review_time = now
        self.rejection_reason = None if approve else reason.strip()
        self.version += 1
        self.party.finish_licence_review(approved=approve)



ENTERPRISE_FIELDS = ("display_name", "address", "contacts", "business_scope", "licence_valid_from",
                     "licence_valid_to")


class EnterpriseProfile(Base):
    """The enterprise information of a party (PC-2, ID-3): seeded from the PC system's
    export, kept by the carrier; every change leaves an EnterpriseChange."""

    __tablename__ = "enterprise_profile"

    party_id: Mapped[str] = mapped_column(ForeignKey("party.id"), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    contacts: Mapped[str] = mapped_column(Text, default="[]")
    business_scope: Mapped[str] = mapped_column(Text, default="")
    licence_valid_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    licence_valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    update_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_by: Mapped[str] = mapped_column(String(100), default="")

    @property
    def etag(self) -> str:
        return etag_of(self.version)

    @property
    def contact_list(self) -> list[dict[str, str]]:
        value = json.loads(self.contacts or "[]")
        return value if isinstance(value, list) else []

    def text_of(self, field: str) -> str:
        v = getattr(self, field)
        return "" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v)

    def change(self, values: dict[str, object], *, actor: str, now: dt.datetime) -> EnterpriseChange | None:
        """Apply the new values; the audit row of what differed, or None when nothing did."""
        diff: list[dict[str, str]] = []
        for f, new in values.items():
            before = self.text_of(f)
            setattr(self, f, new)
            after = self.text_of(f)
            if before != after:
                diff.append({"field": f, "before": before, "after": after})
        if not diff:
            return None
        self.version += 1
        self.update_time, self.updated_by = now, actor
        return EnterpriseChange(party_id=self.party_id, actor=actor, change_time=now,
                                changes=json.dumps(diff, ensure_ascii=False))


class EnterpriseChange(Base):
    """One audited change of enterprise information: who, when, what (PC-2)."""

    __tablename__ = "enterprise_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    party_id: Mapped[str] = mapped_column(ForeignKey("party.id"), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    change_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    changes: Mapped[str] = mapped_column(Text, default="[]")

    @property
    def fields(self) -> list[dict[str, str]]:
        value = json.loads(self.changes or "[]")
        return value if isinstance(value, list) else []
