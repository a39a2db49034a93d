"""Offers to collaborate online, and exports of a client's data."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.clock import now
from portal.db import Base

OFFER_STATES = {
    "pending": _l("Waiting for the client"),
    "confirmed": _l("Confirmed"),
    "cancelled": _l("Cancelled by the practice"),
    "expired": _l("Expired"),
}
EXPORT_STATES = {
    "queued": _l("Waiting"),
    "running": _l("Being made"),
    "ready": _l("Ready"),
    "failed": _l("Failed"),
    "expired": _l("Removed"),
}


class Offer(Base):
    """An offer ("aanbieding") to a company to work together online: pending until the
    contact confirms through the mailed link, or cancelled, or expired after 21 days."""

    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_practice_state", "practice_id", "state", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"),
                                           index=True)
    email: Mapped[str] = mapped_column(String(254))
    contact_name: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(20))
    payer: Mapped[str] = mapped_column(String(10))
    locale: Mapped[str | None] = mapped_column(String(5))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    sent_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class ClientExport(Base):
    """A complete export ("back-up") of one client, made by the worker as a ZIP."""

    __tablename__ = "client_exports"
    __table_args__ = (Index("ix_client_exports_practice", "practice_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    # Kept without a foreign key: the practice's export outlives the purged client.
    client_id: Mapped[int] = mapped_column(index=True)
    client_name: Mapped[str] = mapped_column(String(200))
    requested_by: Mapped[str] = mapped_column(String(254))
    for_client: Mapped[bool] = mapped_column(default=False)  # asked from the portal
    automatic: Mapped[bool] = mapped_column(default=False)  # made before a purge
    state: Mapped[str] = mapped_column(String(10), default="queued")
    storage_key: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=now)
    ready_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
