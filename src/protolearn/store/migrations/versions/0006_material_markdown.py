"""Materials keep their Markdown beside the plain text, and where each page's text came from.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("learning_materials") as batch:
        batch.add_column(sa.Column("extracted_markdown", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("page_sources", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("learning_materials") as batch:
        batch.drop_column("page_sources")
        batch.drop_column("extracted_markdown")
