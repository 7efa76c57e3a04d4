"""create application tables: applications, plates, progress, audit trail, fleet, outbox/inbox

Revision ID: 0001
Revises: 
Create Date: 2026-12-01 09:37:54.664856
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import permitkit.db

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('application',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('party', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('cargo', sa.JSON(), nullable=True),
    sa.Column('vehicles', sa.JSON(), nullable=True),
    sa.Column('overall', sa.JSON(), nullable=True),
    sa.Column('passage', sa.JSON(), nullable=True),
    sa.Column('agent', sa.JSON(), nullable=True),
    sa.Column('materials', sa.JSON(), nullable=True),
    sa.Column('classification', sa.JSON(), nullable=True),
    sa.Column('permit_class', sa.Integer(), nullable=False),
    sa.Column('route_provinces', sa.JSON(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('permit', sa.String(length=100), nullable=False),
    sa.Column('permit_number', sa.String(length=100), nullable=False),
    sa.Column('permit_start_date', sa.Date(), nullable=True),
    sa.Column('permit_end_date', sa.Date(), nullable=True),
    sa.Column('permit_state', sa.String(length=20), nullable=False),
    sa.Column('return_reason', sa.Text(), nullable=False),
    sa.Column('submission', sa.Integer(), nullable=False),
    sa.Column('submit_request_id', sa.String(length=100), nullable=True),
    sa.Column('create_request_id', sa.String(length=100), nullable=True),
    sa.Column('source_application', sa.String(length=100), nullable=False),
    sa.Column('notice_shown_time', permitkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submit_time', permitkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('legacy_id', sa.String(length=100), nullable=True),
    sa.Column('create_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('update_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application')),
    sa.UniqueConstraint('party', 'create_request_id', name=op.f('uq_application_party'))
    )
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_party'), ['party'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_period_start'), ['period_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_state'), ['state'], unique=False)

    op.create_table('fleet_agent',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('party', sa.String(length=100), nullable=False),
    sa.Column('agent_name', sa.String(length=50), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('id_card_documents', sa.JSON(), nullable=True),
    sa.Column('power_of_attorney_document', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('create_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('update_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fleet_agent')),
    sa.UniqueConstraint('party', 'id_number', name=op.f('uq_fleet_agent_party'))
    )
    with op.batch_alter_table('fleet_agent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fleet_agent_party'), ['party'], unique=False)

    op.create_table('fleet_vehicle',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('party', sa.String(length=100), nullable=False),
    sa.Column('plate_number', sa.String(length=20), nullable=False),
    sa.Column('vehicle_type', sa.String(length=50), nullable=False),
    sa.Column('make_model', sa.String(length=100), nullable=False),
    sa.Column('curb_mass_kg', sa.Integer(), nullable=False),
    sa.Column('axle_count', sa.Integer(), nullable=False),
    sa.Column('wheelbase_mm', sa.Integer(), nullable=False),
    sa.Column('tyre_count', sa.Integer(), nullable=False),
    sa.Column('length_mm', sa.Integer(), nullable=False),
    sa.Column('width_mm', sa.Integer(), nullable=False),
    sa.Column('height_mm', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('licence_documents', sa.JSON(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('create_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('update_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fleet_vehicle')),
    sa.UniqueConstraint('party', 'plate_number', name=op.f('uq_fleet_vehicle_party'))
    )
    with op.batch_alter_table('fleet_vehicle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fleet_vehicle_party'), ['party'], unique=False)

    op.create_table('inbox_event',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('receive_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_inbox_event'))
    )
    op.create_table('number_counter',
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_number_counter'))
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
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_event_deliver_time'), ['deliver_time'], unique=False)

    op.create_table('state_change',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('application_id', sa.String(length=40), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=False),
    sa.Column('to_state', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=True),
    sa.Column('change_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_state_change'))
    )
    with op.batch_alter_table('state_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_state_change_application_id'), ['application_id'], unique=False)

    op.create_table('vehicle_lock',
    sa.Column('plate_number', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('plate_number', name=op.f('pk_vehicle_lock'))
    )
    op.create_table('application_vehicle',
    sa.Column('application_id', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('plate_number', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_application_vehicle_application_id_application'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('application_id', 'position', name=op.f('pk_application_vehicle'))
    )
    with op.batch_alter_table('application_vehicle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_vehicle_plate_number'), ['plate_number'], unique=False)

    op.create_table('province_progress',
    sa.Column('application_id', sa.String(length=40), nullable=False),
    sa.Column('province', sa.String(length=6), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('officer', sa.String(length=100), nullable=False),
    sa.Column('origin', sa.Boolean(), nullable=False),
    sa.Column('decide_time', permitkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('suggested_route', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_province_progress_application_id_application'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('application_id', 'province', name=op.f('pk_province_progress'))
    )


def downgrade() -> None:
    op.drop_table('province_progress')
    with op.batch_alter_table('application_vehicle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_vehicle_plate_number'))

    op.drop_table('application_vehicle')
    op.drop_table('vehicle_lock')
    with op.batch_alter_table('state_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_state_change_application_id'))

    op.drop_table('state_change')
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_event_deliver_time'))

    op.drop_table('outbox_event')
    op.drop_table('number_counter')
    op.drop_table('inbox_event')
    with op.batch_alter_table('fleet_vehicle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fleet_vehicle_party'))

    op.drop_table('fleet_vehicle')
    with op.batch_alter_table('fleet_agent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fleet_agent_party'))

    op.drop_table('fleet_agent')
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_state'))
        batch_op.drop_index(batch_op.f('ix_application_period_start'))
        batch_op.drop_index(batch_op.f('ix_application_party'))

    op.drop_table('application')
