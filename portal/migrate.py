"""Run Alembic from code: `portal db upgrade`, tests and tools all come through here."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from portal import ROOT


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url  # not set_main_option: a URL may contain '%'
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)
