"""radiation alarms (issue 12): alarm, lane_crossing, alarm_link, alarm_adjudication; alert.kind

The alert gets a `kind` (existing rows: watchlist_hit) and radiation alerts have no entry and no
sighting, so those two columns become nullable (batch mode: SQLite rebuilds the table).

Revision ID: 0005_radiation_alarms
Revises: 0004_stream_ticket
Create Date: 2026-11-30 04:00:00.197560+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import failsafe.db.base

revision: str = '0005_radiation_alarms'
down_revision: str | None = '0004_stream_ticket'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('alarm',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('alarm_id', sa.String(length=128), nullable=False),
    sa.Column('occurred_at', failsafe.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('country', sa.String(length=3), nullable=False),
    sa.Column('point', sa.String(length=64), nullable=False),
    sa.Column('lane', sa.String(length=16), nullable=True),
    sa.Column('window_start', failsafe.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', failsafe.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('categories', sa.String(length=64), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('alert_id', sa.BigInteger(), nullable=True),
    sa.Column('adjudication', sa.String(length=32), nullable=True),
    sa.Column('received_at', failsafe.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm')),
    sa.UniqueConstraint('alarm_id', name=op.f('uq_alarm_alarm_id'))
    )
    op.create_index(op.f('ix_alarm_adjudication'), 'alarm', ['adjudication'], unique=False)
    op.create_index(op.f('ix_alarm_alert_id'), 'alarm', ['alert_id'], unique=False)
    op.create_index(op.f('ix_alarm_occurred_at'), 'alarm', ['occurred_at'], unique=False)
    op.create_index('ix_alarm_point_window', 'alarm', ['point', 'window_start', 'window_end'], unique=False)
    op.create_table('lane_crossing',
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('point', sa.String(length=64), nullable=False),
    sa.Column('lane', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', failsafe.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('hit', sa.Boolean(), nullable=False),
    sa.Column('event', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('purge_after', failsafe.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', failsafe.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_lane_crossing'))
    )
    op.create_index('ix_lane_crossing_point_time', 'lane_crossing', ['point', 'occurred_at'], unique=False)
    op.create_index(op.f('ix_lane_crossing_purge_after'), 'lane_crossing', ['purge_after'], unique=False)
    op.create_table('alarm_adjudication',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('alarm_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('secondary', sa.String(length=16), nullable=False),
    sa.Column('isotopes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('principal_id', sa.String(length=32), nullable=True),
    sa.Column('bureau_code', sa.String(length=3), nullable=True),
    sa.Column('at', failsafe.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alarm_pk'], ['alarm.id'], name=op.f('fk_alarm_adjudication_alarm_pk_alarm')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alarm_adjudication'))
    )
    op.create_index(op.f('ix_alarm_adjudication_alarm_pk'), 'alarm_adjudication', ['alarm_pk'], unique=False)
    op.create_table('alarm_link',
    sa.Column('alarm_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('created_at', failsafe.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alarm_pk'], ['alarm.id'], name=op.f('fk_alarm_link_alarm_pk_alarm')),
    sa.PrimaryKeyConstraint('alarm_pk', 'event_id', name=op.f('pk_alarm_link'))
    )
    op.create_index(op.f('ix_alarm_link_event_id'), 'alarm_link', ['event_id'], unique=False)
    with op.batch_alter_table('alert') as batch:
        batch.add_column(
            sa.Column('kind', sa.String(length=24), server_default='watchlist_hit', nullable=False)
        )
        batch.alter_column('entry_id', existing_type=sa.VARCHAR(length=64), nullable=True)
        batch.alter_column('sighting_id', existing_type=sa.BIGINT(), nullable=True)
    op.create_index('ux_alert_radiation_event', 'alert', ['event_id'], unique=True, postgresql_where=sa.text("kind = 'radiation_alarm'"), sqlite_where=sa.text("kind = 'radiation_alarm'"))


def downgrade() -> None:
    op.drop_index('ux_alert_radiation_event', table_name='alert', postgresql_where=sa.text("kind = 'radiation_alarm'"), sqlite_where=sa.text("kind = 'radiation_alarm'"))
    op.execute("DELETE FROM alert_recipient WHERE alert_id IN "
               "(SELECT id FROM alert WHERE kind = 'radiation_alarm')")
    op.execute("DELETE FROM alert_transition WHERE alert_id IN "
               "(SELECT id FROM alert WHERE kind = 'radiation_alarm')")
    op.execute("DELETE FROM alert_ack WHERE alert_id IN "
               "(SELECT id FROM alert WHERE kind = 'radiation_alarm')")
    op.execute("DELETE FROM alert WHERE kind = 'radiation_alarm'")
    with op.batch_alter_table('alert') as batch:
        batch.alter_column('sighting_id', existing_type=sa.BIGINT(), nullable=False)
        batch.alter_column('entry_id', existing_type=sa.VARCHAR(length=64), nullable=False)
        batch.drop_column('kind')
    op.drop_index(op.f('ix_alarm_link_event_id'), table_name='alarm_link')
    op.drop_table('alarm_link')
    op.drop_index(op.f('ix_alarm_adjudication_alarm_pk'), table_name='alarm_adjudication')
    op.drop_table('alarm_adjudication')
    op.drop_index(op.f('ix_lane_crossing_purge_after'), table_name='lane_crossing')
    op.drop_index('ix_lane_crossing_point_time', table_name='lane_crossing')
    op.drop_table('lane_crossing')
    op.drop_index('ix_alarm_point_window', table_name='alarm')
    op.drop_index(op.f('ix_alarm_occurred_at'), table_name='alarm')
    op.drop_index(op.f('ix_alarm_alert_id'), table_name='alarm')
    op.drop_index(op.f('ix_alarm_adjudication'), table_name='alarm')
    op.drop_table('alarm')
