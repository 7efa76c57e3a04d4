"""add sign_in_request (OpenID Connect state, nonce and PKCE verifier), auth_session.granted_roles

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import permitkit.db

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sign_in_request',
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('redirect_uri', sa.String(length=500), nullable=False),
    sa.Column('create_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expire_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('state_hash', name=op.f('pk_sign_in_request'))
    )
    op.create_index(op.f('ix_sign_in_request_expire_time'), 'sign_in_request', ['expire_time'], unique=False)
    with op.batch_alter_table('auth_session') as batch_op:
        batch_op.add_column(sa.Column('granted_roles', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('auth_session') as batch_op:
        batch_op.drop_column('granted_roles')
    op.drop_index(op.f('ix_sign_in_request_expire_time'), table_name='sign_in_request')
    op.drop_table('sign_in_request')
