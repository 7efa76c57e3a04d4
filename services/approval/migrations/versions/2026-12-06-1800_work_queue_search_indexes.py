"""The work queue's search by number or plate from trigram indexes (RV-2), PostgreSQL only

The officer's search looks for a text inside the number and the plates of each case
(``LIKE '%…%'``): without an index it read every case of the country. pg_trgm's GIN
indexes answer it from the cases that hold the text. The extension is a trusted one
(PostgreSQL 13 and later): the database's owner may create it. A downgrade drops the
indexes and leaves the extension, which holds no data.

SQLite (the embedded default) has no such index: its search stays a scan.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# permit_approval.models.case.SEARCH_NUMBER and SEARCH_PLATES at this revision.
_INDEXES = {
    "ix_review_case_number_search": "upper(application_number)",
    "ix_review_case_plates_search": "upper(CAST(plate_numbers AS VARCHAR))",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in _INDEXES.items():
        op.create_index(name, "review_case", [sa.text(f"{expression} gin_trgm_ops")], postgresql_using="gin")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in _INDEXES:
        op.drop_index(name, table_name="review_case")
