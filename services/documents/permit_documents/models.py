"""Documents domain model: kinds and their formats, the document entity, access grants."""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from permit_documents import errors
from permit_documents.formats import Format
from permitkit.context import Principal
from permitkit.db import NAMING_CONVENTION, UTCDateTime, utcnow
from permitkit.outbox import add_inbox_table


class Base(DeclarativeBase):
    """Declarative base of the documents tables (permitkit's naming convention and UTC times)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


# The ids of the events applied (grants from approval's and identity's events).
INBOX = add_inbox_table(Base.metadata)


OFFICER_ROLES = ("officer.accept", "officer.review", "officer.licence")
PARTY_NAME = re.compile(r"^parties/[A-Za-z0-9_-]{1,64}$")
DOCUMENT_NAME = re.compile(r"^documents/([0-9a-f]{32})$")
PROVINCE_CODE = re.compile(r"^\d{2}0000$")


class DocumentKind(enum.Enum):
    """Kinds of material from the manual; each allows some formats."""

    VEHICLE_LICENCE = "行驶证"
    TEMPORARY_PLATE = "临时号牌"
    ID_CARD_FRONT = "身份证正面"
    ID_CARD_BACK = "身份证反面"
    POWER_OF_ATTORNEY = "授权委托书"
    OUTLINE_DRAWING = "车货总体轮廓图"
    ESCORT_PLAN = "护送方案"
    TRANSPORT_PLAN = "运输计划"
    BUSINESS_LICENCE = "道路运输经营许可证"
    CERTIFICATE = "超限运输车辆通行证"

    @property
    def label(self) -> str:
        return self.value

    @property
    def allowed_formats(self) -> frozenset[Format]:
        return ALLOWED_FORMATS[self]

    def check_format(self, fmt: Format) -> None:
        """Refuse a format this kind does not take (FORMAT_NOT_ALLOWED)."""
        allowed = self.allowed_formats
        if fmt not in allowed:
            wanted = "、".join(f.label for f in sorted(allowed, key=lambda f: list(Format).index(f)))
            raise errors.FormatNotAllowed(
                f"{self.label}只能上传 {wanted} 格式的文件，当前文件为 {fmt.label} 格式。",
                field="header.kind", metadata={"kind": self.name, "detected": fmt.name.lower()},
            )


_IMAGES = frozenset({Format.JPEG, Format.PNG})
# AP-4/AP-8/AP-9: photos are images; plans may be images or doc/docx/pdf.
# ID-5: the business licence is a photo or a scan (PDF).
ALLOWED_FORMATS: dict[DocumentKind, frozenset[Format]] = {
    DocumentKind.VEHICLE_LICENCE: _IMAGES,
    DocumentKind.TEMPORARY_PLATE: _IMAGES,
    DocumentKind.ID_CARD_FRONT: _IMAGES,
    DocumentKind.ID_CARD_BACK: _IMAGES,
    DocumentKind.POWER_OF_ATTORNEY: _IMAGES,
    DocumentKind.OUTLINE_DRAWING: _IMAGES,
    DocumentKind.ESCORT_PLAN: _IMAGES | {Format.PDF, Format.DOC, Format.DOCX},
    DocumentKind.TRANSPORT_PLAN: _IMAGES | {Format.PDF, Format.DOC, Format.DOCX},
    DocumentKind.BUSINESS_LICENCE: _IMAGES | {Format.PDF},
    # CT-1: the approval service stores the certificate as a PDF and a phone image.
    DocumentKind.CERTIFICATE: frozenset({Format.PDF, Format.PNG}),
}
# Kinds only a peer service stores (for the party it names); applicants cannot upload them.
SERVICE_KINDS = frozenset({DocumentKind.CERTIFICATE})


def new_document_id() -> str:
    return uuid.uuid4().hex


def blob_key_for(owner: str, sha256: str) -> str:
    """Object key: one blob per owner and content, so identical uploads are stored once."""
    return f"{owner}/{sha256}"


def document_id_from_name(name: str) -> str:
    """``documents/{id}`` -> id, or DocumentNotFound for anything else."""
    m = DOCUMENT_NAME.match(name or "")
    if not m:
        raise errors.DocumentNotFound(field="name", metadata={"name": (name or "")[:100]})
    return m.group(1)


class Document(Base):
    """An uploaded file's metadata; the content is the blob at ``blob_key``."""

    __tablename__ = "document"
    # The same content under another file name is its own document (sharing the blob):
    # the carrier always sees the name it gave.
    __table_args__ = (UniqueConstraint("owner", "kind", "sha256", "filename",
                                       name="uq_document_owner_kind_sha256_filename"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_document_id)
    owner: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    format: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    blob_key: Mapped[str] = mapped_column(String(200), index=True)
    create_time: Mapped[dt.datetime] = mapped_column(default=utcnow)

    # Not loaded with the document: a file a carrier reuses gains a grant for every
    # application and province that reviews it, and uploads, reads by the owner or
    # a service, and the materials check need none of them. Use cases that do load
    # only the rows they look at (DocumentRepository.get_readable); grants are added in SQL (add_grants).
    grants: Mapped[list[DocumentGrant]] = relationship(
        back_populates="document", cascade="all, delete-orphan", lazy="select",
    )

    @property
    def name(self) -> str:
        return f"documents/{self.id}"

    @property
    def document_kind(self) -> DocumentKind:
        return DocumentKind[self.kind]

    @property
    def document_format(self) -> Format:
        return Format[self.format]

    def readable_by(self, principal: Principal | None) -> bool:
        """The owner, a peer service, or an officer of a province granted access."""
        if principal is None:
            return False
        if principal.is_service:
            return True
        if principal.party and principal.party == self.owner:
            return True
        if principal.has_role(*OFFICER_ROLES) and principal.province:
            return any(g.province == principal.province for g in self.grants)
        return False

    def ensure_deletable(self) -> None:
        """A document that a review already uses stays (DOCUMENT_IN_REVIEW); so does a file a
        service issued to its holder, such as the permit certificate (CERTIFICATE_KEPT, CT-1)."""
        if DocumentKind[self.kind] in SERVICE_KINDS:
            raise errors.IssuedDocumentKept(field="name", metadata={"name": self.name, "kind": self.kind})
        if self.grants:
            raise errors.DocumentInReview(field="name", metadata={"name": self.name})


class DocumentGrant(Base):
    """Officers of ``province`` may read the document because they review ``application``."""

    __tablename__ = "document_grant"
    __table_args__ = (
        UniqueConstraint("document_id", "application", "province", name="uq_document_grant_document_id"),
        Index("ix_document_grant_document_id_province", "document_id", "province"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    application: Mapped[str] = mapped_column(String(120))
    province: Mapped[str] = mapped_column(String(6))
    create_time: Mapped[dt.datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="grants")
