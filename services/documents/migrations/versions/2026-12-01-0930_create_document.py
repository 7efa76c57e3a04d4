"""create document and document_grant

Revision ID: 20261201_0930
Revises:
Create Date: 2026-12-01 09:30:00
"""

import sqlalchemy as sa
from alembic import op
from permitkit.db import UTCDateTime

revision = "20261201_0930"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("blob_key", sa.String(200), nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_document"),
        sa.UniqueConstraint("owner", "kind", "sha256", name="uq_document_owner_kind_sha256"),
    )
    op.create_index("ix_document_owner", "document", ["owner"])
    op.create_index("ix_document_blob_key", "document", ["blob_key"])
    op.create_table(
        "document_grant",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.String(32), nullable=False),
        sa.Column("application", sa.String(120), nullable=False),
        sa.Column("province", sa.String(6), nullable=False),
        sa.Column("create_time", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE",
                                name="fk_document_grant_document_id_document"),
        sa.PrimaryKeyConstraint("id", name="pk_document_grant"),
        sa.UniqueConstraint("document_id", "application", "province", name="uq_document_grant_document_id"),
    )
    op.create_index("ix_document_grant_document_id_province", "document_grant", ["document_id", "province"])


def downgrade() -> None:
    op.drop_index("ix_document_grant_document_id_province", table_name="document_grant")
    op.drop_table("document_grant")
    op.drop_index("ix_document_blob_key", table_name="document")
    op.drop_index("ix_document_owner", table_name="document")
    op.drop_table("document")
