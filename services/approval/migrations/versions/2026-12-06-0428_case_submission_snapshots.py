"""The application as submitted, one row per submission of a case (RV-2)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 04:28:28.857317
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_submission',
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('submission', sa.Integer(), nullable=False),
    sa.Column('submit_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('snapshot', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['review_case.id'], name=op.f('fk_case_submission_case_id_review_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'submission', name=op.f('pk_case_submission'))
    )


def downgrade() -> None:
    op.drop_table('case_submission')
