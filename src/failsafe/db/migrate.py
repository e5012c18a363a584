"""Running alembic from code (`failsafe db upgrade`, embedded start-up, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config


def alembic_config(database_url: str) -> Config:
    """The project's alembic.ini: the repository's in a checkout, the packaged copy in a wheel."""
    here = Path(__file__).resolve()
    candidates = [here.parents[3] / "alembic.ini", here.parents[1] / "alembic.ini"]
    ini = next((p for p in candidates if p.is_file()), None)
    if ini is None:
        raise FileNotFoundError("alembic.ini not found next to the package or the checkout")
    cfg = Config(str(ini))
    cfg.attributes["database_url"] = database_url
    cfg.attributes["configure_logging"] = False
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to `revision`. Blocking: call it in a thread from async code."""
    command.upgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree (alembic check)."""
    command.check(alembic_config(database_url))
