"""Tables of certificates: each version of a permit's certificate, and the keys that sign them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from permit_approval.models import Base, Permit, new_id

PENDING, CURRENT, SUPERSEDED = "PENDING", "CURRENT", "SUPERSEDED"


class PermitCertificate(Base):
    """One version of a permit's certificate (CT-1): what it says, its signed QR payload
    (CT-2), and once rendered the stored PDF and phone image (documents service)."""

    __tablename__ = "permit_certificate"
    __table_args__ = (UniqueConstraint("permit_id", "version"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    permit_id: Mapped[str] = mapped_column(ForeignKey("permit.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    verification_code: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(64))
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    pdf_document: Mapped[str] = mapped_column(String(100), default="")
    png_document: Mapped[str] = mapped_column(String(100), default="")
    create_time: Mapped[dt.datetime] = mapped_column()
    store_time: Mapped[dt.datetime | None] = mapped_column(nullable=True, index=True)
    # Rendering and storing happen after the permit's commit, retried with backoff.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_time: Mapped[dt.datetime] = mapped_column()
    lease_expire_time: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")

    # Read with the permit (Permit.certificates, oldest first) without editing Permit.
    permit: Mapped[Permit] = relationship(backref=backref(
        "certificates", lazy="selectin", order_by="PermitCertificate.version",
        cascade="all, delete-orphan"))

    @property
    def stored(self) -> bool:
        return self.store_time is not None

    @property
    def state(self) -> str:
        if self.superseded:
            return SUPERSEDED
        return CURRENT if self.stored else PENDING


class CertificateKey(Base):
    """An Ed25519 key that signs certificate payloads; retired keys stay published (CT-2)."""

    __tablename__ = "certificate_key"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16), default="Ed25519")
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key_pem: Mapped[str] = mapped_column(Text)
    activate_time: Mapped[dt.datetime] = mapped_column()
    # After retire_time the key signs nothing; after unpublish_time it is no longer listed.
    retire_time: Mapped[dt.datetime | None] = mapped_column(nullable=True)
    unpublish_time: Mapped[dt.datetime | None] = mapped_column(nullable=True)
