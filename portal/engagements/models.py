"""Engagements: one piece of work for one client, e.g. the annual accounts 2025."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import now
from portal.db import Base

if TYPE_CHECKING:
    from portal.accounts.models import StaffUser
    from portal.clients.models import Client

KINDS = {
    "annual_accounts": _l("Annual accounts"),
    "tax_return": _l("Tax return"),
    "other": _l("Other"),
}
STATUSES = {
    "draft": _l("Draft"),
    "in_preparation": _l("In preparation"),
    "shared": _l("Shared"),
    "awaiting_approval": _l("Awaiting approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "closed": _l("Closed"),
}
# Statuses staff set by hand; the others follow from sharing and the client's decision.
MANUAL_STATUSES = ("draft", "in_preparation", "closed")
FINISHED = ("approved", "closed")
# Queries ask for status IN OPEN rather than NOT IN FINISHED: a list of values lets the
# database walk the (practice, status, deadline) index one status at a time.
OPEN = tuple(status for status in STATUSES if status not in FINISHED)


class Engagement(Base):
    __tablename__ = "engagements"
    __table_args__ = (
        Index("ix_engagements_practice_status", "practice_id", "status", "deadline"),
        Index("ix_engagements_practice_deadline", "practice_id", "deadline", "status"),
        Index("ix_engagements_client", "client_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    year: Mapped[int]
    title: Mapped[str | None] = mapped_column(String(200))
    deadline: Mapped[date | None]
    responsible_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # Annual accounts of a BV or NV: the general meeting's adoption ("vaststelling"), a
    # step after the directors signed, recorded by staff with its date.
    adopted_on: Mapped[date | None]
    adopted_recorded_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    client: Mapped[Client] = relationship(lazy="raise")
    responsible: Mapped[StaffUser | None] = relationship(lazy="raise")

    @property
    def label(self) -> str:
        """What people call it: "Annual accounts 2025", or the title of other work."""
        if self.kind == "other" and self.title:
            return f"{self.title} {self.year}"
        return f"{KINDS[self.kind]} {self.year}"

    def is_overdue(self, today: date) -> bool:
        return bool(self.deadline and self.deadline < today and self.status not in FINISHED)


# The overview's order, first deadline first and none last, read straight from an index
# that also holds the status, so filtering on it needs no lookups in the table.
URGENCY = (Engagement.deadline.is_(None), Engagement.deadline, Engagement.id)
Index("ix_engagements_practice_urgency", Engagement.practice_id, *URGENCY, Engagement.status)


class ReportVersion(Base):
    """One uploaded PDF of an engagement's report. A new upload is a new version; older
    versions stay for the record."""

    __tablename__ = "report_versions"
    __table_args__ = (UniqueConstraint("engagement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id",
                                                          ondelete="CASCADE"))
    number: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=now)

    uploaded_by: Mapped[StaffUser | None] = relationship(lazy="raise")


SHARE_MODES = {"view": _l("for viewing"), "approval": _l("for approval")}
SHARE_STATES = {
    "open": _l("open"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    "withdrawn": _l("withdrawn"),
    "superseded": _l("replaced by a new version"),
}


class Share(Base):
    """A report version shared with a client, for viewing or for approval by its signers.

    For approval it is open until every signer approved (approved), one rejected
    (rejected), staff withdrew it, or a new version replaced it (superseded).
    """

    __tablename__ = "shares"
    __table_args__ = (Index("ix_shares_engagement", "engagement_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id",
                                                          ondelete="CASCADE"))
    report_version_id: Mapped[int] = mapped_column(ForeignKey("report_versions.id",
                                                              ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(10))
    deadline: Mapped[datetime | None]
    message: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default="open")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    closed_at: Mapped[datetime | None]

    version: Mapped[ReportVersion] = relationship(lazy="raise")
    engagement: Mapped[Engagement] = relationship(lazy="raise")
    signers: Mapped[list[Signer]] = relationship(back_populates="share", lazy="raise",
                                                 order_by="Signer.id")


class Signer(Base):
    """Someone a share went to: a contact person (client user) or an e-mail address.

    For an approval, the decision and its evidence are kept here: what was decided, when
    (UTC), by whom and through what (the portal, or which link), from which IP address and
    browser, about which report version and its SHA-256.
    """

    __tablename__ = "share_signers"
    __table_args__ = (UniqueConstraint("share_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"))
    client_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("client_users.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(200))
    via_portal: Mapped[bool] = mapped_column(default=False)
    mailed_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    # approved, rejected; missing: staff recorded why this signature is missing (BW 2:210
    # lid 2), with the reason in comment and who recorded it in decided_by.
    decision: Mapped[str | None] = mapped_column(String(10))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decided_through: Mapped[str | None] = mapped_column(String(20))  # portal, link
    link_id: Mapped[int | None]
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    decided_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_versions.id", ondelete="SET NULL"))
    decided_sha256: Mapped[str | None] = mapped_column(String(64))
    statement: Mapped[str | None] = mapped_column(Text)
    # Their office at the company when the report was shared (director, supervisor).
    position: Mapped[str | None] = mapped_column(String(12))

    share: Mapped[Share] = relationship(back_populates="signers", lazy="raise")


class BulkReportBatch(Base):
    """PDFs dropped at once for a season's engagements (say the annual accounts 2026),
    each matched to its engagement by the number in its file name, stored on confirmation
    as that engagement's next report version and, if asked, shared."""

    __tablename__ = "bulk_report_batches"
    __table_args__ = (Index("ix_bulk_report_batches_practice", "practice_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    year: Mapped[int]
    pattern: Mapped[str] = mapped_column(String(200))  # how the number is found in a name
    # staged, queued, running, applied
    state: Mapped[str] = mapped_column(String(10), default="staged")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the summary, once applied
    created_at: Mapped[datetime] = mapped_column(default=now)
    claimed_at: Mapped[datetime | None]  # by the worker that runs it (a stale claim is taken over)
    applied_at: Mapped[datetime | None]


class BulkReportFile(Base):
    """One dropped file, stored while it waits (its storage_key keeps the orphan sweep off
    it); the row goes when its report version is made or the batch is abandoned."""

    __tablename__ = "bulk_report_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("bulk_report_batches.id",
                                                     ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str | None] = mapped_column(String(64))  # None: refused on arrival
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(default=0)
    refused: Mapped[str | None] = mapped_column(String(20))  # not_pdf, empty, too_large


class BulkEngagementBatch(Base):
    """The same engagement for more clients than a request should create at once, queued
    for the worker: exactly the confirmed clients (`plan`: client id and responsible each),
    created a chunk per transaction with the progress in `result`."""

    __tablename__ = "bulk_engagement_batches"
    __table_args__ = (Index("ix_bulk_engagement_batches_practice", "practice_id",
                            "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    year: Mapped[int]
    title: Mapped[str | None] = mapped_column(String(200))
    deadline: Mapped[date | None]
    state: Mapped[str] = mapped_column(String(10), default="queued")  # running, done, failed
    plan: Mapped[list[Any]] = mapped_column(JSON)  # [[client id, responsible id or null]]
    result: Mapped[dict[str, Any]] = mapped_column(JSON)  # counts, progress, left out
    created_at: Mapped[datetime] = mapped_column(default=now)
    claimed_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def label(self) -> str:
        if self.kind == "other" and self.title:
            return f"{self.title} {self.year}"
        return f"{KINDS[self.kind]} {self.year}"


class SealCertificate(Base):
    """The certificate a practice seals approved reports with: made for it on first use (a
    root of its own and a seal certificate under it), or later its own uploaded one. The
    private key is stored sealed (security.seal), bound to the practice."""

    __tablename__ = "seal_certificates"
    __table_args__ = (Index("ix_seal_certificates_practice", "practice_id", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(10))  # generated, uploaded
    subject: Mapped[str] = mapped_column(String(300))
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the seal certificate
    root_fingerprint: Mapped[str] = mapped_column(String(64))  # of the chain's top
    certificate: Mapped[bytes] = mapped_column(LargeBinary)  # DER
    chain: Mapped[bytes] = mapped_column(LargeBinary)  # PEM, issuers up to the root
    private_key: Mapped[str] = mapped_column(Text)  # PEM (PKCS#8), sealed
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)


SEAL_STATES = {"pending": _l("being sealed"), "sealed": _l("sealed"),
               "failed": _l("could not be sealed")}


class SealedReport(Base):
    """The approved report as a sealed PDF: its pages unchanged, approval pages appended,
    the evidence attached as JSON, the whole sealed (PAdES) and timestamped (RFC 3161).
    Made by the worker once the last signer approved; a failing timestamp server makes it
    wait and try again (last_error says why), never fall back to our own clock."""

    __tablename__ = "sealed_reports"
    __table_args__ = (Index("ix_sealed_reports_state", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    share_id: Mapped[int] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"),
                                          unique=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id",
                                                          ondelete="CASCADE"), index=True)
    report_version_id: Mapped[int] = mapped_column(ForeignKey("report_versions.id",
                                                              ondelete="CASCADE"))
    # In the QR code of the approval pages: opens /verify/<token> for whoever holds the file.
    verify_token: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    certificate_id: Mapped[int | None] = mapped_column(
        ForeignKey("seal_certificates.id", ondelete="SET NULL"))
    storage_key: Mapped[str | None] = mapped_column(String(64))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None]
    stamped_at: Mapped[datetime | None]  # the timestamp server's time, never our clock's
    created_at: Mapped[datetime] = mapped_column(default=now)
    sealed_at: Mapped[datetime | None]
