"""Client companies of a practice."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import now
from portal.db import Base

STATUSES = {
    "active": _l("Active"),
    "blocked": _l("Blocked"),
    "ended": _l("Ended"),
    "left": _l("Ended by the client"),
}
PAYERS = {"practice": _l("the practice"), "client": _l("the client")}


SEARCHED = ("name", "client_number", "kvk_number", "contact_email")  # the overview's search


class Client(Base):
    """A client company ("cliënt"); its tier covers every service the practice gives it."""

    __tablename__ = "clients"
    __table_args__ = (
        UniqueConstraint("practice_id", "client_number"),
        Index("ix_clients_practice_name", "practice_id", "name"),
        Index("ix_clients_practice_tier", "practice_id", "tier"),
        Index("ix_clients_practice_kvk", "practice_id", "kvk_number"),
        # The overview's search ("bakker" anywhere in these) on PostgreSQL: trigrams, so
        # ILIKE '%bakker%' needs no scan of the practice's clients. SQLite scans.
        Index("ix_clients_search", *SEARCHED, postgresql_using="gin",
              postgresql_ops=dict.fromkeys(SEARCHED, "gin_trgm_ops")
              ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    client_number: Mapped[str] = mapped_column(String(40))
    kvk_number: Mapped[str | None] = mapped_column(String(8))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    tier: Mapped[str] = mapped_column(String(20), default="standard")
    status: Mapped[str] = mapped_column(String(10), default="active")
    payer: Mapped[str] = mapped_column(String(10), default="practice", server_default="practice")
    # When the client confirmed online collaboration (its first days are free).
    portal_since: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # After an end, the client's data is deleted on this date unless staff postpone it.
    purge_after: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    def __repr__(self) -> str:
        return f"<Client {self.client_number} {self.name}>"
