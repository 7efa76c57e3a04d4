"""create identity tables

Revision ID: 0001
Revises: 
Create Date: 2026-12-01 09:34:42.128871
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
    op.create_table('auth_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('create_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expire_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoke_time', permitkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoke_reason', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_session'))
    )
    op.create_index('ix_auth_session_subject', 'auth_session', ['subject'], unique=False)
    op.create_table('calendar_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_day'))
    )
    op.create_table('calendar_year',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('create_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_year'))
    )
    op.create_table('officer',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('province', sa.String(length=6), nullable=False),
    sa.Column('roles_csv', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('create_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('update_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer'))
    )
    op.create_table('party',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('province', sa.String(length=6), nullable=True),
    sa.Column('legacy_id', sa.String(length=64), nullable=True),
    sa.Column('onboarding', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('create_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('update_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_party')),
    sa.UniqueConstraint('legacy_id', name=op.f('uq_party_legacy_id'))
    )
    op.create_index('ix_party_kind_id_number', 'party', ['kind', 'id_number'], unique=False)
    op.create_index('ix_party_kind_uscc', 'party', ['kind', 'uscc'], unique=False)
    op.create_table('sign_in_attempt',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subject_key', sa.String(length=64), nullable=False),
    sa.Column('attempt_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempt'))
    )
    op.create_index('ix_sign_in_attempt_subject_time', 'sign_in_attempt', ['subject_key', 'attempt_time'], unique=False)
    op.create_table('signing_key',
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=False),
    sa.Column('public_key_pem', sa.Text(), nullable=False),
    sa.Column('create_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('activate_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retire_time', permitkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expire_time', permitkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_signing_key'))
    )
    op.create_table('used_ticket',
    sa.Column('ticket_key', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('expire_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('ticket_key', name=op.f('pk_used_ticket'))
    )
    op.create_index(op.f('ix_used_ticket_expire_time'), 'used_ticket', ['expire_time'], unique=False)
    op.create_table('legacy_account',
    sa.Column('legacy_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('province', sa.String(length=6), nullable=True),
    sa.Column('enterprise_info', sa.Text(), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=False),
    sa.Column('linked_user_id', sa.String(length=64), nullable=True),
    sa.Column('linked_at', permitkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('create_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('update_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_legacy_account_party_id_party')),
    sa.PrimaryKeyConstraint('legacy_id', name=op.f('pk_legacy_account'))
    )
    op.create_index('ix_legacy_account_id_number', 'legacy_account', ['id_number'], unique=False)
    op.create_index('ix_legacy_account_uscc', 'legacy_account', ['uscc'], unique=False)
    op.create_table('licence',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('party_id', sa.String(length=64), nullable=False),
    sa.Column('submitter_id', sa.String(length=64), nullable=False),
    sa.Column('licence_number', sa.String(length=64), nullable=False),
    sa.Column('issuing_authority', sa.String(length=200), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('document', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('province', sa.String(length=6), nullable=False),
    sa.Column('submit_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('due_date_provisional', sa.Boolean(), nullable=False),
    sa.Column('reviewer_id', sa.String(length=64), nullable=True),
    sa.Column('review_time', permitkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('create_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('update_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_licence_party_id_party')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_licence'))
    )
    op.create_index(op.f('ix_licence_party_id'), 'licence', ['party_id'], unique=False)
    op.create_index('ix_licence_province_state_due', 'licence', ['province', 'state', 'due_date'], unique=False)
    op.create_table('platform_user',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('platform_uid', sa.String(length=128), nullable=False),
    sa.Column('user_type', sa.String(length=16), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('party_id', sa.String(length=64), nullable=False),
    sa.Column('link_hint', sa.String(length=40), nullable=False),
    sa.Column('last_sign_in_at', permitkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('create_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('update_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_platform_user_party_id_party')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_user')),
    sa.UniqueConstraint('channel', 'platform_uid', name='uq_platform_user_channel_uid')
    )
    op.create_table('refresh_token',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=64), nullable=False),
    sa.Column('issue_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expire_time', permitkit.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('use_time', permitkit.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['auth_session.id'], name=op.f('fk_refresh_token_session_id_auth_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_refresh_token'))
    )
    op.create_index(op.f('ix_refresh_token_session_id'), 'refresh_token', ['session_id'], unique=False)
    op.create_table('legacy_account_person',
    sa.Column('legacy_id', sa.String(length=64), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['legacy_id'], ['legacy_account.legacy_id'], name=op.f('fk_legacy_account_person_legacy_id_legacy_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('legacy_id', 'id_number', name=op.f('pk_legacy_account_person'))
    )
    op.create_index(op.f('ix_legacy_account_person_id_number'), 'legacy_account_person', ['id_number'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_legacy_account_person_id_number'), table_name='legacy_account_person')
    op.drop_table('legacy_account_person')
    op.drop_index(op.f('ix_refresh_token_session_id'), table_name='refresh_token')
    op.drop_table('refresh_token')
    op.drop_table('platform_user')
    op.drop_index('ix_licence_province_state_due', table_name='licence')
    op.drop_index(op.f('ix_licence_party_id'), table_name='licence')
    op.drop_table('licence')
    op.drop_index('ix_legacy_account_uscc', table_name='legacy_account')
    op.drop_index('ix_legacy_account_id_number', table_name='legacy_account')
    op.drop_table('legacy_account')
    op.drop_index(op.f('ix_used_ticket_expire_time'), table_name='used_ticket')
    op.drop_table('used_ticket')
    op.drop_table('signing_key')
    op.drop_index('ix_sign_in_attempt_subject_time', table_name='sign_in_attempt')
    op.drop_table('sign_in_attempt')
    op.drop_index('ix_party_kind_uscc', table_name='party')
    op.drop_index('ix_party_kind_id_number', table_name='party')
    op.drop_table('party')
    op.drop_table('officer')
    op.drop_table('calendar_year')
    op.drop_table('calendar_day')
    op.drop_index('ix_auth_session_subject', table_name='auth_session')
    op.drop_table('auth_session')
