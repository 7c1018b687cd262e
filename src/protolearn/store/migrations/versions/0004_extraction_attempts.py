"""Starts of a material's extraction, so one that never finishes stops being retried.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("learning_materials") as batch:
        batch.add_column(sa.Column("extraction_attempts", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("learning_materials") as batch:
        batch.drop_column("extraction_attempts")
