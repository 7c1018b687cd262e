"""Background extraction of learning material: status, progress, error, OCR'd page count.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # Rows from before this revision were extracted on upload: they are ready.
    with op.batch_alter_table("learning_materials") as batch:
        batch.add_column(sa.Column("ocr_pages", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("status", sa.String(length=16), server_default="ready", nullable=False))
        batch.add_column(sa.Column("progress", sa.Double(), server_default="1", nullable=False))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_learning_materials_status"), "status IN ('processing', 'ready', 'failed')"
        )
        batch.create_check_constraint(
            op.f("ck_learning_materials_progress_range"), "progress >= 0 AND progress <= 1"
        )


def downgrade() -> None:
    with op.batch_alter_table("learning_materials") as batch:
        batch.drop_constraint(op.f("ck_learning_materials_progress_range"), type_="check")
        batch.drop_constraint(op.f("ck_learning_materials_status"), type_="check")
        batch.drop_column("error")
        batch.drop_column("progress")
        batch.drop_column("status")
        batch.drop_column("ocr_pages")
