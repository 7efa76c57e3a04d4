"""Create the approval tables: cases, reviews, audit, vehicle changes, permits, extensions, permit numbers, calendar years, outbox and inbox.

Revision ID: 0001
Revises: 
Create Date: 2026-12-01 09:34:29.320056
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('calendar_year',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('holidays', sa.JSON(), nullable=False),
    sa.Column('workdays', sa.JSON(), nullable=False),
    sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_year'))
    )
    op.create_table('inbox_event',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('receive_time', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_inbox_event'))
    )
    op.create_table('outbox_event',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deliver_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('park_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_outbox_event')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_event_event_id'))
    )
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_event_deliver_time'), ['deliver_time'], unique=False)

    op.create_table('permit',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('application', sa.String(length=100), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=False),
    sa.Column('issuing_province', sa.String(length=6), nullable=False),
    sa.Column('route_provinces', sa.JSON(), nullable=False),
    sa.Column('route', sa.JSON(), nullable=False),
    sa.Column('plate_numbers', sa.JSON(), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('multi_trip', sa.Boolean(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('abolish_reason', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit')),
    sa.UniqueConstraint('number', name=op.f('uq_permit_number'))
    )
    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permit_application'), ['application'], unique=False)
        batch_op.create_index(batch_op.f('ix_permit_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_permit_holder'), ['holder'], unique=False)

    op.create_table('permit_sequence',
    sa.Column('key', sa.String(length=16), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_permit_sequence'))
    )
    op.create_table('review_case',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('application', sa.String(length=100), nullable=False),
    sa.Column('application_number', sa.String(length=64), nullable=False),
    sa.Column('applicant', sa.String(length=100), nullable=False),
    sa.Column('origin_province', sa.String(length=6), nullable=False),
    sa.Column('destination_province', sa.String(length=6), nullable=False),
    sa.Column('route_provinces', sa.JSON(), nullable=False),
    sa.Column('route', sa.JSON(), nullable=False),
    sa.Column('permit_class', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('submission', sa.Integer(), nullable=False),
    sa.Column('plate_numbers', sa.JSON(), nullable=False),
    sa.Column('vehicles', sa.JSON(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('multi_trip', sa.Boolean(), nullable=False),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('acceptance_due_date', sa.Date(), nullable=False),
    sa.Column('acceptance_due_provisional', sa.Boolean(), nullable=False),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('permit_id', sa.String(length=32), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('update_time', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_case')),
    sa.UniqueConstraint('application', name=op.f('uq_review_case_application'))
    )
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_case_applicant'), ['applicant'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_case_origin_province'), ['origin_province'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_case_state'), ['state'], unique=False)

    op.create_table('case_audit',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('province', sa.String(length=6), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=False),
    sa.Column('to_state', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('occur_time', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['review_case.id'], name=op.f('fk_case_audit_case_id_review_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_case_audit'))
    )
    with op.batch_alter_table('case_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_audit_case_id'), ['case_id'], unique=False)

    op.create_table('permit_extension',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('permit_id', sa.String(length=32), nullable=False),
    sa.Column('new_end_date', sa.Date(), nullable=False),
    sa.Column('provinces', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('decisions', sa.JSON(), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['permit_id'], ['permit.id'], name=op.f('fk_permit_extension_permit_id_permit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_extension'))
    )
    with op.batch_alter_table('permit_extension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permit_extension_permit_id'), ['permit_id'], unique=False)

    op.create_table('review',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('province', sa.String(length=6), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('officer', sa.String(length=100), nullable=False),
    sa.Column('decide_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('deadline_days', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('due_provisional', sa.Boolean(), nullable=False),
    sa.Column('fast_track', sa.Boolean(), nullable=False),
    sa.Column('suggested_route', sa.JSON(), nullable=False),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('claimed_by', sa.String(length=100), nullable=False),
    sa.Column('claim_expire_time', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['review_case.id'], name=op.f('fk_review_case_id_review_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review')),
    sa.UniqueConstraint('case_id', 'province', name='uq_review_case_province')
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_province'), ['province'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_state'), ['state'], unique=False)

    op.create_table('vehicle_change',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('old_plate_number', sa.String(length=20), nullable=False),
    sa.Column('new_vehicle', sa.String(length=100), nullable=False),
    sa.Column('new_plate_number', sa.String(length=20), nullable=False),
    sa.Column('new_spec', sa.JSON(), nullable=False),
    sa.Column('power_of_attorney', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('officer', sa.String(length=100), nullable=False),
    sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decide_time', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['review_case.id'], name=op.f('fk_vehicle_change_case_id_review_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vehicle_change'))
    )
    with op.batch_alter_table('vehicle_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vehicle_change_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('vehicle_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vehicle_change_case_id'))

    op.drop_table('vehicle_change')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_state'))
        batch_op.drop_index(batch_op.f('ix_review_province'))
        batch_op.drop_index(batch_op.f('ix_review_case_id'))

    op.drop_table('review')
    with op.batch_alter_table('permit_extension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permit_extension_permit_id'))

    op.drop_table('permit_extension')
    with op.batch_alter_table('case_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_audit_case_id'))

    op.drop_table('case_audit')
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_case_state'))
        batch_op.drop_index(batch_op.f('ix_review_case_origin_province'))
        batch_op.drop_index(batch_op.f('ix_review_case_applicant'))

    op.drop_table('review_case')
    op.drop_table('permit_sequence')
    with op.batch_alter_table('permit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permit_holder'))
        batch_op.drop_index(batch_op.f('ix_permit_case_id'))
        batch_op.drop_index(batch_op.f('ix_permit_application'))

    op.drop_table('permit')
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_event_deliver_time'))

    op.drop_table('outbox_event')
    op.drop_table('inbox_event')
    op.drop_table('calendar_year')
