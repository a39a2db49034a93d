"""Documents exchanged between a practice and a client, the documents a practice asks for,
and what staff shared with whom.

A row points at stored bytes by key (storage.py); the name is only for display and
download. Deleting is soft: the row keeps its key for 30 days, then a sweep removes both.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import now
from portal.db import Base

if TYPE_CHECKING:
    from portal.engagements.models import Engagement

FROM_CLIENT = "from_client"
FROM_PRACTICE = "from_practice"
DIRECTIONS = {FROM_CLIENT: _l("from the client"), FROM_PRACTICE: _l("from the practice")}

REQUEST_STATES = {
    "open": _l("open"),
    "fulfilled": _l("received"),
    "cancelled": _l("cancelled"),
}
AUDIENCES = ("all", "chosen")


class Document(Base):
    """One file in a client's folders: sent by the client, or shared by the practice."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_client_folder", "client_id", "deleted_at", "year",
              "engagement_id"),
        Index("ix_documents_deleted", "deleted_at"),
        Index("ix_documents_batch", "batch"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagements.id", ondelete="SET NULL"))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_requests.id", ondelete="SET NULL"))
    share_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_shares.id", ondelete="SET NULL"))
    year: Mapped[int]  # the folder; an engagement's year unless moved
    direction: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(String(255))  # for display and download only
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    mime: Mapped[str] = mapped_column(String(100))  # from the content, checked against the name
    note: Mapped[str | None] = mapped_column(Text)
    batch: Mapped[str] = mapped_column(String(32))  # files uploaded together
    uploaded_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    uploaded_by_client_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("client_users.id", ondelete="SET NULL"))
    uploaded_by_label: Mapped[str] = mapped_column(String(254))  # kept when the user goes
    created_at: Mapped[datetime] = mapped_column(default=now)
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))

    engagement: Mapped[Engagement | None] = relationship(lazy="raise")
    request: Mapped[DocumentRequest | None] = relationship(lazy="raise")
    share: Mapped[DocumentShare | None] = relationship(lazy="raise")

    @property
    def extension(self) -> str:
        return self.name.rpartition(".")[2].lower() if "." in self.name else ""


class DocumentRequest(Base):
    """Staff ask a client for named documents before a deadline ("bank statements 2025").

    Open until the client uploads against it (fulfilled) or staff cancel it; its ClientTask
    (kind "document_request") makes it an open action and brings reminders.
    """

    __tablename__ = "document_requests"
    __table_args__ = (Index("ix_document_requests_client_state", "client_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagements.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(10), default="open")
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    closed_at: Mapped[datetime | None]

    engagement: Mapped[Engagement | None] = relationship(lazy="raise")


class DocumentShare(Base):
    """Documents staff shared with a client in one go: with all contact persons (also
    those added later) or with chosen ones, who alone see them in the portal."""

    __tablename__ = "document_shares"
    __table_args__ = (Index("ix_document_shares_client", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(10))  # all, chosen
    message: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)

    recipients: Mapped[list[DocumentShareRecipient]] = relationship(
        back_populates="share", lazy="raise", order_by="DocumentShareRecipient.id")


class DocumentShareRecipient(Base):
    """A contact person a share was mailed to: once, whatever happens later."""

    __tablename__ = "document_share_recipients"
    __table_args__ = (
        UniqueConstraint("share_id", "email"),
        Index("ix_document_share_recipients_user", "client_user_id", "share_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("document_shares.id", ondelete="CASCADE"))
    client_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("client_users.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(200))
    mailed_at: Mapped[datetime | None]

    share: Mapped[DocumentShare] = relationship(back_populates="recipients", lazy="raise")
