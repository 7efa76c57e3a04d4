"""event inbox: the ids of the events applied (grants from approval's and identity's events)

Revision ID: 20261206_0330
Revises: 20261201_0930
Create Date: 2026-12-06 03:30:00
"""

from alembic import op

from permitkit import outbox

revision = "20261206_0330"
down_revision = "20261201_0930"
branch_labels = None
depends_on = None


def upgrade() -> None:
    outbox.create_inbox(op)


def downgrade() -> None:
    op.drop_table(outbox.INBOX_TABLE)
