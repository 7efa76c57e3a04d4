"""typed outbox: packed protobuf event messages with their full name as topic, one delivery position per consumer, parked events per consumer

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 03:30:00
"""

from collections.abc import Sequence

from alembic import op

from permitkit import outbox

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    outbox.upgrade_outbox_to_messages(op)


def downgrade() -> None:
    outbox.downgrade_outbox_to_json(op)
