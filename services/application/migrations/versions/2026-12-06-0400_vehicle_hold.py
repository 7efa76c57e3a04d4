"""vehicle_hold: time taken by pending vehicle changes and extensions (AP-6)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import permitkit.db

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'vehicle_hold',
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('plate_number', sa.String(length=20), nullable=False),
        sa.Column('application_id', sa.String(length=40), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=False),
        sa.Column('create_time', permitkit.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id'],
                                name=op.f('fk_vehicle_hold_application_id_application'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('key', 'plate_number', name=op.f('pk_vehicle_hold')),
    )
    with op.batch_alter_table('vehicle_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vehicle_hold_plate_number'), ['plate_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_vehicle_hold_application_id'), ['application_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('vehicle_hold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vehicle_hold_application_id'))
        batch_op.drop_index(batch_op.f('ix_vehicle_hold_plate_number'))
    op.drop_table('vehicle_hold')
