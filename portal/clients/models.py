"""Client companies of a practice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, UniqueConstraint
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
    vat_number: Mapped[str | None] = mapped_column(String(14))  # "NL" + 9 digits "B" 2 digits
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    tier: Mapped[str] = mapped_column(String(20), default="standard")
    status: Mapped[str] = mapped_column(String(10), default="active")
    payer: Mapped[str] = mapped_column(String(10), default="practice", server_default="practice")
    # The staff member who looks after this client: new engagements may take them over.
    responsible_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True)
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


class ClientImport(Base):
    """A file of clients and contact persons on its way in: uploaded, its columns mapped,
    previewed, applied. The file is kept only until it is applied (or the sweep removes it);
    what was done stays in `result`. A large one is applied by the worker: queued, running
    (claimed at `claimed_at`, its progress in `result`), then applied, or failed (the rows
    done so far stay imported; it may be previewed and applied again)."""

    __tablename__ = "client_imports"
    __table_args__ = (Index("ix_client_imports_practice", "practice_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # normalised header -> field, as chosen on the mapping step (the next file starts from it)
    mapping: Mapped[dict[str, str] | None] = mapped_column(JSON)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # uploaded, queued, running, applied, failed
    state: Mapped[str] = mapped_column(String(10), default="uploaded")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=now)
    claimed_at: Mapped[datetime | None]  # by the worker that runs it (a stale claim is taken over)
    applied_at: Mapped[datetime | None]
