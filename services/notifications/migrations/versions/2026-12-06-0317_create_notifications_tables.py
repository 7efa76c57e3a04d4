"""create the inbox, read marks, webhooks, deliveries and reminders

Revision ID: 0001_notifications
Revises: 
Create Date: 2026-12-06 03:17:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001_notifications'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbox_event',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('receive_time', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_inbox_event'))
    )
    op.create_table('message',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('audience', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=200), nullable=False),
    sa.Column('application', sa.String(length=100), nullable=False),
    sa.Column('application_number', sa.String(length=40), nullable=False),
    sa.Column('province', sa.String(length=6), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
    sa.UniqueConstraint('event_id', 'audience', 'kind', name='uq_message_event_audience_kind'),
    sa.UniqueConstraint('public_id', name=op.f('uq_message_public_id'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_audience_id', ['audience', 'id'], unique=False)

    op.create_table('read_watermark',
    sa.Column('user', sa.String(length=100), nullable=False),
    sa.Column('through_id', sa.Integer(), nullable=False),
    sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user', name=op.f('pk_read_watermark'))
    )
    op.create_table('reminder',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_name', sa.String(length=100), nullable=False),
    sa.Column('province', sa.String(length=6), nullable=False),
    sa.Column('kind', sa.String(length=48), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('fire_date', sa.Date(), nullable=False),
    sa.Column('application', sa.String(length=100), nullable=False),
    sa.Column('application_number', sa.String(length=40), nullable=False),
    sa.Column('fired', sa.Boolean(), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder')),
    sa.UniqueConstraint('case_name', 'province', 'kind', 'due_date', name='uq_reminder_case_province_kind_due')
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_fire', ['fired', 'cancelled', 'fire_date'], unique=False)

    op.create_table('webhook',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('party', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('display_name', sa.String(length=60), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delete_time', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook')),
    sa.UniqueConstraint('public_id', name=op.f('uq_webhook_public_id'))
    )
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_party', ['party'], unique=False)

    op.create_table('delivery',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deliver_time', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_delivery_message_id_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery')),
    sa.UniqueConstraint('message_id', 'channel', 'target', name='uq_delivery_message_channel_target'),
    sa.UniqueConstraint('public_id', name=op.f('uq_delivery_public_id'))
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_due', ['state', 'next_attempt_time'], unique=False)
        batch_op.create_index('ix_delivery_target_id', ['target', 'id'], unique=False)

    op.create_table('message_read',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('user', sa.String(length=100), nullable=False),
    sa.Column('read_time', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_message_read_message_id_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'user', name=op.f('pk_message_read'))
    )


def downgrade() -> None:
    op.drop_table('message_read')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_target_id')
        batch_op.drop_index('ix_delivery_due')

    op.drop_table('delivery')
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_party')

    op.drop_table('webhook')
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_fire')

    op.drop_table('reminder')
    op.drop_table('read_watermark')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_audience_id')

    op.drop_table('message')
    op.drop_table('inbox_event')
