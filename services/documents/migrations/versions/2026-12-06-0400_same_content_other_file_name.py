"""same content under another file name is its own document

Revision ID: 20261206_0400
Revises: 20261206_0330
Create Date: 2026-12-06 04:00:00
"""

from alembic import op

revision = "20261206_0400"
down_revision = "20261206_0330"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.drop_constraint("uq_document_owner_kind_sha256", type_="unique")
        batch.create_unique_constraint("uq_document_owner_kind_sha256_filename",
                                       ["owner", "kind", "sha256", "filename"])


def downgrade() -> None:
    op.execute("DELETE FROM document WHERE id NOT IN (SELECT MIN(id) FROM document "
               "GROUP BY owner, kind, sha256)")
    with op.batch_alter_table("document") as batch:
        batch.drop_constraint("uq_document_owner_kind_sha256_filename", type_="unique")
        batch.create_unique_constraint("uq_document_owner_kind_sha256", ["owner", "kind", "sha256"])
