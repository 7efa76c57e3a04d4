"""Suspended review deadlines: time spent strengthening roads or bridges does not count (RV-4, Art. 15).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:59:53.935894
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('suspend_reason', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('remaining_days', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_column('remaining_days')
        batch_op.drop_column('suspend_reason')
        batch_op.drop_column('suspended_on')
