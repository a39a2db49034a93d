"""Staff users, client users and the memberships that tie client users to companies."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import now
from portal.db import Base

if TYPE_CHECKING:
    from portal.clients.models import Client

STAFF_ROLES = ("admin", "staff")
MEMBER_ROLES = ("owner", "member")


class _Account(UserMixin):
    """What staff and client users share: a login whose sessions can be revoked.

    The id Flask-Login keeps in the cookie names the kind, the row and the session
    version; bumping the version makes every earlier cookie anonymous.
    """

    kind: str
    id: int
    session_version: int
    active: bool
    totp_enabled_at: datetime | None

    def get_id(self) -> str:
        return f"{self.kind}:{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def two_factor_enabled(self) -> bool:
        """Signing in takes a code from an authenticator app (or a recovery code) too."""
        return self.totp_enabled_at is not None


class StaffUser(_Account, Base):
    """An accountant or office employee of one practice."""

    __tablename__ = "staff_users"
    __table_args__ = (UniqueConstraint("practice_id", "email"),)
    kind = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10), default="staff")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    # Two-factor sign-in (TOTP): the secret is set when setup starts and counts once a code
    # confirmed it (totp_enabled_at); the last time step used stops a code being replayed.
    totp_secret: Mapped[str | None] = mapped_column(String(200))  # sealed: security.seal
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"<StaffUser {self.email}>"


class ClientUser(_Account, Base):
    """A person at a client company; one login reaches all of that person's companies."""

    __tablename__ = "client_users"
    __table_args__ = (UniqueConstraint("practice_id", "email"),)
    kind = "client"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    # Two-factor sign-in (TOTP): the secret is set when setup starts and counts once a code
    # confirmed it (totp_enabled_at); the last time step used stops a code being replayed.
    totp_secret: Mapped[str | None] = mapped_column(String(200))  # sealed: security.seal
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="client_user", lazy="raise", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<ClientUser {self.email}>"


POSITIONS = {"director": _l("Director (bestuurder)"),
             "supervisor": _l("Supervisory director (commissaris)")}
SIGNING_POSITIONS = ("director", "supervisor")


class Membership(Base):
    """A client user's place at one client company: owner (the main contact) or member."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("client_user_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_user_id: Mapped[int] = mapped_column(
        ForeignKey("client_users.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"),
                                           index=True)
    role: Mapped[str] = mapped_column(String(10), default="member")
    # Their office at the company (POSITIONS): directors and supervisory directors sign the
    # annual accounts (BW 2:210 lid 2), so sharing those for approval proposes them.
    position: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=now)

    client_user: Mapped[ClientUser] = relationship(back_populates="memberships", lazy="raise")
    client: Mapped[Client] = relationship(lazy="raise")


class OneTimeLink(Base):
    """The row behind a temporary link in a mail. The token in the URL carries this row's id
    and a random secret; only a hash of the secret is stored, so a copy of the database
    yields no working link."""

    __tablename__ = "one_time_links"
    __table_args__ = (Index("ix_one_time_links_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(30))
    secret_hash: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    used_ip: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app when the phone is lost.
    Ten are shown once when two-factor sign-in is set up; only their SHA-256 is kept (each
    holds 80 random bits, so a copy of the database yields none)."""

    __tablename__ = "recovery_codes"
    __table_args__ = (
        CheckConstraint("(staff_user_id IS NULL) <> (client_user_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    client_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("client_users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
    used_at: Mapped[datetime | None]
