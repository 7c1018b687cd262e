"""Per-test proctoring rule thresholds and auto-termination.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("tests") as batch:
        batch.add_column(sa.Column("proctoring_rules", sa.JSON(), server_default="{}", nullable=False))
        batch.add_column(sa.Column("auto_terminate_after_critical", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tests") as batch:
        batch.drop_column("auto_terminate_after_critical")
        batch.drop_column("proctoring_rules")
