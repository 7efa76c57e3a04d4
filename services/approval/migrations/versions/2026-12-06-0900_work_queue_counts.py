"""The work queue read in due order from partial indexes, and its counts per state kept in a table (RV-2)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every step of an open case waiting for a province, and whose queue holds it (the
# definition of permit_approval.repository.queue_steps at this revision).
_STEPS = """
    SELECT id AS case_id, origin_province AS province, state, 'ACCEPT' AS queue FROM review_case
     WHERE state IN ('AWAITING_ACCEPTANCE', 'READY_TO_ISSUE')
    UNION ALL
    SELECT c.id, c.origin_province, c.state, 'ACCEPT' FROM vehicle_change v JOIN review_case c ON c.id = v.case_id
     WHERE v.state = 'PENDING' AND c.state IN ('UNDER_REVIEW', 'READY_TO_ISSUE')
    UNION ALL
    SELECT r.case_id, r.province, c.state, 'REVIEW' FROM review r JOIN review_case c ON c.id = r.case_id
     WHERE r.state = 'PENDING' AND c.state = 'UNDER_REVIEW'
"""


def _partial(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(name, table, columns, unique=False, postgresql_where=sa.text(where),
                    sqlite_where=sa.text(where))


def upgrade() -> None:
    op.create_table('work_queue_count',
    sa.Column('province', sa.String(length=6), nullable=False),
    sa.Column('queue', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('province', 'queue', 'state', name=op.f('pk_work_queue_count'))
    )
    _partial('ix_review_case_awaiting_queue', 'review_case', ['origin_province', 'acceptance_due_date', 'id'],
             "state = 'AWAITING_ACCEPTANCE'")
    _partial('ix_review_case_ready_queue', 'review_case', ['origin_province', 'accepted_on', 'id'],
             "state = 'READY_TO_ISSUE'")
    _partial('ix_review_pending_queue', 'review', ['province', 'due_date', 'case_id'], "state = 'PENDING'")
    _partial('ix_vehicle_change_pending', 'vehicle_change', ['case_id'], "state = 'PENDING'")
    # The cases already open: each once per queue that holds it (an officer who accepts
    # and reviews sees both queues as one).
    op.execute(f"""
        WITH steps AS ({_STEPS})
        INSERT INTO work_queue_count (province, queue, state, cases)
        SELECT province, queue, state, count(DISTINCT case_id) FROM (
            SELECT case_id, province, state, queue FROM steps
            UNION ALL
            SELECT case_id, province, state, 'ACCEPT_REVIEW' FROM steps
        ) AS s GROUP BY province, queue, state
    """)


def downgrade() -> None:
    op.drop_index('ix_vehicle_change_pending', table_name='vehicle_change')
    op.drop_index('ix_review_pending_queue', table_name='review')
    op.drop_index('ix_review_case_ready_queue', table_name='review_case')
    op.drop_index('ix_review_case_awaiting_queue', table_name='review_case')
    op.drop_table('work_queue_count')
