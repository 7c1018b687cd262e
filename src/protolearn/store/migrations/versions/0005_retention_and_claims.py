"""Retention of evidence clips (deleted, released by an admin) and claims on extraction jobs.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import protolearn.store.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("evidence_clips") as batch:
        batch.add_column(
            sa.Column("deleted_at", protolearn.store.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("released_at", protolearn.store.base.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("learning_materials") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("claimed_until", protolearn.store.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("learning_materials") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("claimed_by")
    with op.batch_alter_table("evidence_clips") as batch:
        batch.drop_column("released_at")
        batch.drop_column("deleted_at")
