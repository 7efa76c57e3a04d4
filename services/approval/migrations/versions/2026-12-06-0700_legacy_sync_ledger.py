"""The legacy sync's ledger: what was imported from the PC system, record by record (PC-3)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import permitkit.db

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('legacy_sync_record',
    sa.Column('record', sa.String(length=300), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('sync_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('missing_since', permitkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('record', name=op.f('pk_legacy_sync_record'))
    )


def downgrade() -> None:
    op.drop_table('legacy_sync_record')
