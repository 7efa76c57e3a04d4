"""Permit certificates (CT-1, CT-2): versions with their signed payloads and stored files, the
Ed25519 keys that sign them, and the cargo and overall figures a case prints.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cargo', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('overall', sa.JSON(), nullable=True))
    op.create_table(
        'permit_certificate',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('permit_id', sa.String(length=32), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('verification_code', sa.Text(), nullable=False),
        sa.Column('key_id', sa.String(length=64), nullable=False),
        sa.Column('superseded', sa.Boolean(), nullable=False),
        sa.Column('pdf_document', sa.String(length=100), nullable=False),
        sa.Column('png_document', sa.String(length=100), nullable=False),
        sa.Column('create_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('store_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lease_expire_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['permit_id'], ['permit.id'],
                                name=op.f('fk_permit_certificate_permit_id_permit'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_certificate')),
        sa.UniqueConstraint('permit_id', 'version', name=op.f('uq_permit_certificate_permit_id')),
    )
    op.create_index(op.f('ix_permit_certificate_permit_id'), 'permit_certificate', ['permit_id'])
    op.create_index(op.f('ix_permit_certificate_store_time'), 'permit_certificate', ['store_time'])
    op.create_table(
        'certificate_key',
        sa.Column('key_id', sa.String(length=64), nullable=False),
        sa.Column('algorithm', sa.String(length=16), nullable=False),
        sa.Column('private_key_pem', sa.Text(), nullable=False),
        sa.Column('public_key_pem', sa.Text(), nullable=False),
        sa.Column('activate_time', sa.DateTime(timezone=True), nullable=False),
        sa.Column('retire_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('unpublish_time', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key_id', name=op.f('pk_certificate_key')),
    )


def downgrade() -> None:
    op.drop_table('certificate_key')
    op.drop_index(op.f('ix_permit_certificate_store_time'), table_name='permit_certificate')
    op.drop_index(op.f('ix_permit_certificate_permit_id'), table_name='permit_certificate')
    op.drop_table('permit_certificate')
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_column('overall')
        batch_op.drop_column('cargo')
