"""stream_ticket: one-time websocket tickets (hashed, 30 s, consumed once)

Revision ID: 0004_stream_ticket
Revises: 0003_dates_of_birth
Create Date: 2026-11-30 01:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import failsafe.db.base

revision: str = "0004_stream_ticket"
down_revision: str | None = "0003_dates_of_birth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new table only: nothing existing is locked or rewritten.
    op.create_table(
        "stream_ticket",
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("principal_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", failsafe.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", failsafe.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", failsafe.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["principal.id"],
            name=op.f("fk_stream_ticket_principal_id_principal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_hash", name=op.f("pk_stream_ticket")),
    )
    op.create_index(
        op.f("ix_stream_ticket_expires_at"), "stream_ticket", ["expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_stream_ticket_principal_id"), "stream_ticket", ["principal_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_stream_ticket_principal_id"), table_name="stream_ticket")
    op.drop_index(op.f("ix_stream_ticket_expires_at"), table_name="stream_ticket")
    op.drop_table("stream_ticket")
