"""Alembic environment: the only way the schema is made, in development, tests and production."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.pool import NullPool

from portal.db import Base, UTCDateTime, import_models, make_engine
from portal.migrate import for_dialect

import_models()
config = context.config


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"  # stored naive in UTC; the model's type adds the zone back
    return False


def run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        include_object=for_dialect(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(config.attributes["url"], poolclass=NullPool)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
