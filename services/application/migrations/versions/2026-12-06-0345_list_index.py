"""The applicant's list newest first from one index (party, create_time, id); the party-only index goes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 03:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index('ix_application_party_create_time', ['party', 'create_time', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_application_party'))


def downgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_party'), ['party'], unique=False)
        batch_op.drop_index('ix_application_party_create_time')
