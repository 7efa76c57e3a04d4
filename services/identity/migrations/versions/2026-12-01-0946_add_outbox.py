"""add outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:46:04.985562
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import permitkit.db

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbox_event',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('receive_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_inbox_event'))
    )
    op.create_table('outbox_event',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('create_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deliver_time', permitkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('park_time', permitkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_outbox_event')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_event_event_id'))
    )
    op.create_index(op.f('ix_outbox_event_deliver_time'), 'outbox_event', ['deliver_time'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_outbox_event_deliver_time'), table_name='outbox_event')
    op.drop_table('outbox_event')
    op.drop_table('inbox_event')
