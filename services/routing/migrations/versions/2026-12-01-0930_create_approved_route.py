"""create approved_route projection and the event inbox/outbox

Revision ID: 0001_routing
Revises:
Create Date: 2026-12-01 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_routing"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "approved_route",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("applicant", sa.String(length=100), nullable=False),
        sa.Column("origin_province", sa.String(length=6), nullable=False),
        sa.Column("destination_province", sa.String(length=6), nullable=False),
        sa.Column("route_key", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("times_approved", sa.Integer(), nullable=False),
        sa.Column("rank_score", sa.Float(precision=53), nullable=False),
        sa.Column("first_approve_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_approve_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_application", sa.String(length=100), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approved_route")),
        sa.UniqueConstraint("applicant", "origin_province", "destination_province", "route_key",
                            name="uq_approved_route_applicant_route"),
    )
    op.create_index("ix_approved_route_ranking", "approved_route",
                    ["applicant", "origin_province", "destination_province", "rank_score"])
    op.create_table(
        "outbox_event",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deliver_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("park_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_event_id")),
    )
    op.create_index(op.f("ix_outbox_event_deliver_time"), "outbox_event", ["deliver_time"])
    op.create_table(
        "inbox_event",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("receive_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_inbox_event")),
    )


def downgrade() -> None:
    op.drop_table("inbox_event")
    op.drop_index(op.f("ix_outbox_event_deliver_time"), table_name="outbox_event")
    op.drop_table("outbox_event")
    op.drop_index("ix_approved_route_ranking", table_name="approved_route")
    op.drop_table("approved_route")
