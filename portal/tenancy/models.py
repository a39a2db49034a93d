"""Practices (the tenants) and the custom domains they may bring."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from portal.clock import now
from portal.db import Base


class Practice(Base):
    """An accounting practice: its subdomain, house style, texts and sender name."""

    __tablename__ = "practices"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(5), default="nl")
    theme: Mapped[str] = mapped_column(String(40), default="default")
    # House style overrides; None means "as the theme says".
    brand_color: Mapped[str | None] = mapped_column(String(7))
    accent_color: Mapped[str | None] = mapped_column(String(7))
    background_color: Mapped[str | None] = mapped_column(String(7))
    logo_type: Mapped[str | None] = mapped_column(String(40))
    logo_hash: Mapped[str | None] = mapped_column(String(64))
    logo: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    welcome_text: Mapped[str | None] = mapped_column(Text)
    reminder_text: Mapped[str | None] = mapped_column(Text)
    # When to remind, in days relative to a task's deadline (negative: before it).
    reminder_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [-7, -2, 1])
    reply_to: Mapped[str | None] = mapped_column(String(254))
    mail_sender_name: Mapped[str | None] = mapped_column(String(200))
    # Staff must set up two-factor sign-in before they can use the back office.
    require_staff_2fa: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)

    domains: Mapped[list[CustomDomain]] = relationship(
        back_populates="practice", lazy="raise", cascade="all, delete-orphan"
    )

    def brand_colors(self) -> tuple[str, str]:
        """(brand colour, readable text colour on it): the theme's unless overridden."""
        from portal.tenancy import theme

        brand = self.brand_color or theme.theme_color(self.theme or "default", "brand") \
            or "#1d4f7a"
        return brand, theme.text_color_on(brand)

    def __repr__(self) -> str:
        return f"<Practice {self.slug}>"


class CustomDomain(Base):
    """A host name of the practice's own (e.g. portaal.kantoor.nl) besides its subdomain."""

    __tablename__ = "custom_domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"),
                                             index=True)
    host: Mapped[str] = mapped_column(String(253), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)

    practice: Mapped[Practice] = relationship(back_populates="domains", lazy="raise")
