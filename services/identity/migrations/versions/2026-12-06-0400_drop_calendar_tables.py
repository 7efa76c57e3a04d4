"""drop identity's working-day calendar: approval owns the calendar

The licence review due date (ID-5) is asked of approval's CalendarService;
years an administrator loads go through approval (UpdateWorkingCalendar).
Years entered here before are named in the log: load them into approval.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 04:00:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import permitkit.db

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    years = [row[0] for row in op.get_bind().execute(sa.text("SELECT year FROM calendar_year ORDER BY year"))]
    if years:
        log.warning("identity calendar years %s are dropped: load them into approval "
                    "(PATCH /v1/workingCalendars/{year}) if approval lacks them", years)
    op.drop_table('calendar_year')
    op.drop_table('calendar_day')


def downgrade() -> None:
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
