"""watchlist distribution columns: allow/deny bureau lists as searchable text

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 02:16:01.229699+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Additive with a server default: no table rewrite on PostgreSQL 11+, plain ADD COLUMN on SQLite.
    op.add_column(
        "watchlist_entry",
        sa.Column("distribution_allow", sa.Text(), server_default="", nullable=False),
    )
    op.add_column(
        "watchlist_entry",
        sa.Column("distribution_deny", sa.Text(), server_default="", nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("watchlist_entry") as batch:
        batch.drop_column("distribution_deny")
        batch.drop_column("distribution_allow")
