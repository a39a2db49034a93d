"""Run Alembic from code: `portal db upgrade`, tests and tools all come through here."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config

from portal import ROOT


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url  # not set_main_option: a URL may contain '%'
    return config


def upgrade(url: str, revision: str = "head", audit_key: bytes | None = None) -> None:
    """`audit_key`: the key new audit events are chained with (audit.service.chain_keys),
    for revision 0020, which rewrites the chains of a log recorded before it with it."""
    config = alembic_config(url)
    config.attributes["audit_key"] = audit_key
    command.upgrade(config, revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)


def for_dialect(dialect: str):  # type: ignore[no-untyped-def]
    """Alembic's include_object: leave out what the models make for another database only
    (an index with `.ddl_if(dialect=...)`), which autogenerate would otherwise compare."""
    def include(obj: Any, _name: str, _type: str, _reflected: bool, _compare_to: Any) -> bool:
        only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
        return only is None or only == dialect
    return include
