"""watchlist dates_of_birth: several and approximate dates of birth per entry

Every entry document (current and every version snapshot) gets `subject.dates_of_birth`, the list
the contract now has: `[date_of_birth]` when the entry had one, else `[]`; and
`subject.date_of_birth` is written out as null when absent (the API answers both fields). The
documents are JSON, so this is a data migration only: no table changes shape. One set-based
UPDATE per table, in SQL, on PostgreSQL (jsonb) and SQLite (JSON1) alike; entries that already
have the list are left alone, so running it on a partly migrated table is harmless. Measured on
the 2-core shared machine, PostgreSQL 15: 100,000 entries with one version each in 11 s
(`alembic upgrade head`, start-up included); writers to the watchlist wait meanwhile.

Downgrade removes the list (and a null `date_of_birth`): the shorthand keeps the first date, the
other dates of birth an entry was given since are lost.

Revision ID: 0003_dates_of_birth
Revises: 0002
Create Date: 2026-11-30 01:40:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003_dates_of_birth"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("watchlist_entry", "watchlist_entry_version")

_PG_UPGRADE = """
UPDATE {table} SET document = jsonb_set(
    jsonb_set(
        document,
        '{{subject,dates_of_birth}}',
        CASE WHEN jsonb_typeof(document #> '{{subject,date_of_birth}}') = 'string'
             THEN jsonb_build_array(document #> '{{subject,date_of_birth}}')
             ELSE '[]'::jsonb END
    ),
    '{{subject,date_of_birth}}',
    COALESCE(document #> '{{subject,date_of_birth}}', 'null'::jsonb)
)
WHERE jsonb_typeof(document -> 'subject') = 'object'
  AND document #> '{{subject,dates_of_birth}}' IS NULL
"""

_PG_DOWNGRADE = """
UPDATE {table} SET document = CASE
    WHEN jsonb_typeof(document #> '{{subject,date_of_birth}}') = 'null'
    THEN document #- '{{subject,dates_of_birth}}' #- '{{subject,date_of_birth}}'
    ELSE document #- '{{subject,dates_of_birth}}' END
WHERE document #> '{{subject,dates_of_birth}}' IS NOT NULL
"""

# json() around the CASE keeps the array a JSON value (not a quoted string) inside json_set.
_SQLITE_UPGRADE = """
UPDATE {table} SET document = json_set(
    document,
    '$.subject.dates_of_birth',
    json(CASE WHEN json_type(document, '$.subject.date_of_birth') = 'text'
              THEN json_array(json_extract(document, '$.subject.date_of_birth'))
              ELSE '[]' END),
    '$.subject.date_of_birth',
    json_extract(document, '$.subject.date_of_birth')
)
WHERE json_type(document, '$.subject') = 'object'
  AND json_type(document, '$.subject.dates_of_birth') IS NULL
"""

_SQLITE_DOWNGRADE = """
UPDATE {table} SET document = CASE
    WHEN json_type(document, '$.subject.date_of_birth') = 'null'
    THEN json_remove(document, '$.subject.dates_of_birth', '$.subject.date_of_birth')
    ELSE json_remove(document, '$.subject.dates_of_birth') END
WHERE json_type(document, '$.subject.dates_of_birth') IS NOT NULL
"""


def _run(postgres: str, sqlite: str) -> None:
    sql = postgres if op.get_bind().dialect.name == "postgresql" else sqlite
    for table in TABLES:
        op.execute(sql.format(table=table))


def upgrade() -> None:
    _run(_PG_UPGRADE, _SQLITE_UPGRADE)


def downgrade() -> None:
    _run(_PG_DOWNGRADE, _SQLITE_DOWNGRADE)
