"""principal.kind: desk tokens, named officers, people signed in through the identity provider

Revision ID: 0006_principal_kind
Revises: 0005_radiation_alarms
Create Date: 2026-11-30 05:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_principal_kind"
down_revision: str | None = "0005_radiation_alarms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A column with a constant server default: PostgreSQL 11+ adds it without rewriting the
    # table, and every existing principal is a desk token.
    with op.batch_alter_table("principal") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), server_default="token", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("principal") as batch:
        batch.drop_column("kind")
