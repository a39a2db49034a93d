"""Key figures of a client: amounts per period and RGS code, each from a named import.

An import is one act of putting figures in: staff typing an engagement's key figures, a
trial balance CSV, or a CSV the client uploaded. Every figure points to its import, so the
source of each number can be named. The annual figures of a client-year come from exactly
one import (its `slot`), and so do those of a month where staff import a trial balance of
one month (the bookkeeping's movements in that month); importing again replaces them. A
client's own CSV feeds one of its named series month by month; a new file replaces the
months it covers.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import now
from portal.db import Base

STAFF_FORM, TRIAL_BALANCE, CLIENT_CSV = "staff_form", "trial_balance", "client_csv"
SOURCES = {
    STAFF_FORM: _l("key figures typed in by the practice"),
    TRIAL_BALANCE: _l("trial balance"),
    CLIENT_CSV: _l("your own CSV file"),
}
ANNUAL_SOURCES = (STAFF_FORM, TRIAL_BALANCE)

# What a client's series measures. A flow adds up over a year (revenue, costs); a balance is
# a position at the end of each month (a bank balance), so its year is its last month.
SERIES_KINDS = {
    "revenue": _l("Revenue"),
    "costs": _l("Costs"),
    "bank_balance": _l("Bank balance"),
    "other": _l("Other amounts"),
}
BALANCE_KINDS = ("bank_balance",)


class FigureImport(Base):
    """One import of figures, and where it came from."""

    __tablename__ = "insight_imports"
    __table_args__ = (
        # One import per client and period: "year:2025", "month:2025-03". Client CSVs
        # replace month by month within their series instead, and have no slot.
        UniqueConstraint("client_id", "slot"),
        Index("ix_insight_imports_client", "client_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagements.id", ondelete="SET NULL"))
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("insight_series.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20))  # STAFF_FORM, TRIAL_BALANCE, CLIENT_CSV
    slot: Mapped[str | None] = mapped_column(String(40))
    year: Mapped[int | None]  # the year of a trial balance or typed figures
    month: Mapped[int | None] = mapped_column(SmallInteger)  # a trial balance of one month
    filename: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str | None] = mapped_column(String(64))
    lines: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(String(254))  # who, by e-mail address
    created_at: Mapped[datetime] = mapped_column(default=now)


class Figure(Base):
    """An amount of a client: signed as in a trial balance (debit positive, credit
    negative) for RGS codes; as the client's file has it for a series."""

    __tablename__ = "insight_figures"
    __table_args__ = (
        Index("ix_insight_figures_client_period", "client_id", "year", "month"),
        Index("ix_insight_figures_import", "import_id"),
        Index("ix_insight_figures_series", "series_id", "year", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("insight_imports.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int | None] = mapped_column(SmallInteger)  # None: the whole year
    code: Mapped[str | None] = mapped_column(String(16))  # an RGS code of rgs.CODES
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("insight_series.id", ondelete="CASCADE"))
    account: Mapped[str | None] = mapped_column(String(40))  # the trial balance's account
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))


class Series(Base):
    """A named series of monthly amounts the client keeps itself: "Till", "Webshop"."""

    __tablename__ = "insight_series"
    __table_args__ = (UniqueConstraint("client_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))  # a key of SERIES_KINDS
    created_at: Mapped[datetime] = mapped_column(default=now)

    @property
    def is_balance(self) -> bool:
        return self.kind in BALANCE_KINDS


class AccountMapping(Base):
    """A client's ledger account and the RGS code it counts towards, remembered from the
    mapping step of a trial balance import."""

    __tablename__ = "insight_account_mappings"
    __table_args__ = (UniqueConstraint("client_id", "account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    account: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class SharedBlocks(Base):
    """Which blocks of a page staff show the client: `scope` is "engagement:<id>" for an
    engagement's dashboard, "insights" for the client insights page."""

    __tablename__ = "insight_shared_blocks"
    __table_args__ = (UniqueConstraint("client_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(30))
    blocks: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_by: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)


class PendingImport(Base):
    """An uploaded file between upload and save: the bytes are parsed again at every step,
    so what is saved is what the file says, never what a form posted back."""

    __tablename__ = "insight_pending_imports"
    __table_args__ = (Index("ix_insight_pending_imports_expires", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # TRIAL_BALANCE or CLIENT_CSV
    owner: Mapped[str] = mapped_column(String(40))  # "staff:12", "client:34"
    year: Mapped[int | None]
    month: Mapped[int | None] = mapped_column(SmallInteger)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # account -> code
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime]
