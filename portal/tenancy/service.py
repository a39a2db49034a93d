"""Which practice a host name belongs to, and the practice's own settings: house style,
texts, reminder moments, mail sender, logo and custom domains."""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

import filetype
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.audit.service import Subject
from portal.db import transaction
from portal.notifications.setup import PLACEHOLDERS
from portal.tenancy import theme
from portal.tenancy.models import CustomDomain, Practice

BARE = object()  # the base domain itself: no practice, only the landing page

LOCALES = ("nl", "en")
SETTINGS = ("name", "locale", "theme", "brand_color", "accent_color", "background_color",
            "welcome_text", "reminder_text", "reminder_days", "mail_sender_name", "reply_to",
            "require_staff_2fa")
REMINDER_DAY_RANGE = (-60, 60)
MAX_REMINDER_MOMENTS = 10
LOGO_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WebP"}
MAX_LOGO_BYTES = 512 * 1024
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class Refused(Exception):
    """A setting the rules do not accept; `errors` maps each field to why."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def host_name(raw_host: str) -> str:
    """The host without port or trailing dot, lower case."""
    host = raw_host.strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0].rstrip(".") if ":" in host else host.rstrip(".")


def practice_for_host(session: Session, raw_host: str,
                      base_domain: str) -> Practice | object | None:
    """The practice served at this host, BARE for the base domain, None when unknown."""
    host = host_name(raw_host)
    if host == base_domain:
        return BARE
    suffix = "." + base_domain
    if host.endswith(suffix):
        slug = host[: -len(suffix)]
        if "." in slug or not slug:
            return None
        return session.scalar(select(Practice).where(Practice.slug == slug))
    return session.scalar(
        select(Practice).join(CustomDomain).where(CustomDomain.host == host)
    )


# --- settings ----------------------------------------------------------------------------

def _ratio(value: float) -> str:
    # Rounded down, so 4.47 never reads as an acceptable "4.5".
    return format_decimal(math.floor(value * 10) / 10, format="0.0")


def _too_low(ratio: float) -> str | None:
    if ratio >= theme.AA_NORMAL_TEXT:
        return None
    return _("Contrast %(ratio)s:1 is too low; at least %(needed)s:1 is needed.",
             ratio=_ratio(ratio), needed=_ratio(theme.AA_NORMAL_TEXT))


def contrast_problems(values: dict[str, Any]) -> dict[str, str]:
    """Colours must keep text readable (WCAG AA, 4.5:1 for normal text).

    The brand colour carries white or black text (the header, primary buttons) and is
    itself the colour of links and buttons on the theme's panels; the accent colour is
    held to the same. The page background carries the theme's text colour and its muted
    (lighter) text colour, e.g. in the footer.
    """
    chosen = values.get("theme") or "default"
    surface = theme.theme_color(chosen, "surface") or "#ffffff"
    text = theme.theme_color(chosen, "text") or "#1b2430"
    muted = theme.theme_color(chosen, "muted") or text
    problems: dict[str, str] = {}
    for field in ("brand_color", "accent_color"):
        color = values.get(field)
        if color:
            lowest = min(theme.contrast_ratio(color, theme.text_color_on(color)),
                         theme.contrast_ratio(color, surface))
            if message := _too_low(lowest):
                problems[field] = message
    background = values.get("background_color")
    if background and (message := _too_low(min(theme.contrast_ratio(background, text),
                                                theme.contrast_ratio(background, muted)))):
        problems["background_color"] = message
    return problems


def placeholder_problem(text: str | None) -> str | None:
    """A reminder text may use {client}, {task}, {deadline} and {link}, nothing else."""
    unknown = sorted({name for name in _PLACEHOLDER.findall(text or "")
                      if name not in PLACEHOLDERS})
    if not unknown:
        return None
    return _("Unknown placeholder %(unknown)s. You can use %(allowed)s.",
             unknown=", ".join("{" + name + "}" for name in unknown),
             allowed=", ".join("{" + name + "}" for name in PLACEHOLDERS))


def reminder_days_problem(days: list[int] | None) -> str | None:
    low, high = REMINDER_DAY_RANGE
    if not days:
        return _("Give at least one moment, for example -7, -2, 1.")
    if len(days) > MAX_REMINDER_MOMENTS:
        return _("Give at most %(count)d moments.", count=MAX_REMINDER_MOMENTS)
    outside = [day for day in days if not low <= day <= high]
    if outside:
        return _("Each moment must be between %(low)d and %(high)d days; %(days)s is not.",
                 low=low, high=high, days=", ".join(str(d) for d in outside))
    return None


def settings_problems(values: dict[str, Any]) -> dict[str, str]:
    """Everything wrong with these settings, per field; empty when they may be saved."""
    problems = contrast_problems(values)
    if not (values.get("name") or "").strip():
        problems["name"] = _("The practice needs a name.")
    if "theme" in values and not theme.theme_exists(values["theme"] or ""):
        problems["theme"] = _("Choose one of the themes.")
    if "locale" in values and values["locale"] not in LOCALES:
        problems["locale"] = _("Choose Dutch or English.")
    if message := placeholder_problem(values.get("reminder_text")):
        problems["reminder_text"] = message
    if "reminder_days" in values and (message := reminder_days_problem(
            values["reminder_days"])):
        problems["reminder_days"] = message
    return problems


def update_settings(session: Session, actor: audit.Actor, practice: Practice,
                    values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Save the practice's settings when every rule holds; audit old and new values of
    what changed. Returns those changes (empty when nothing changed)."""
    values = {k: v for k, v in values.items() if k in SETTINGS}
    if values.get("reminder_days"):
        values["reminder_days"] = sorted(set(values["reminder_days"]))
    if problems := settings_problems({"name": practice.name, **values}):
        raise Refused(problems)
    changes = {field: {"old": getattr(practice, field), "new": value}
               for field, value in values.items() if getattr(practice, field) != value}
    if changes:
        with transaction(session):
            for field, change in changes.items():
                setattr(practice, field, change["new"])
            audit.record(session, actor, "practice.settings_changed", practice,
                         changes=changes)
    return changes


def set_logo(session: Session, actor: audit.Actor, practice: Practice, data: bytes) -> None:
    """A logo is a PNG, JPEG or WebP image (by its content, not its name) of at most
    512 KB, kept in the practice row. The audit log keeps its type, size and hash."""
    if not data:
        raise Refused({"logo": _("Choose an image file.")})
    if len(data) > MAX_LOGO_BYTES:
        raise Refused({"logo": _("The file is larger than %(size)d KB. Make it smaller "
                                 "and try again.", size=MAX_LOGO_BYTES // 1024)})
    kind = filetype.guess(data)
    if kind is None or kind.mime not in LOGO_TYPES:
        raise Refused({"logo": _("This file is not a PNG, JPEG or WebP image.")})
    digest = hashlib.sha256(data).hexdigest()
    with transaction(session):
        old = practice.logo_hash
        practice.logo, practice.logo_type, practice.logo_hash = data, kind.mime, digest
        audit.record(session, actor, "practice.logo_changed", practice, type=kind.mime,
                     size=len(data), old_hash=old, new_hash=digest)


def remove_logo(session: Session, actor: audit.Actor, practice: Practice) -> bool:
    """Back to no logo; False when there was none."""
    if not practice.logo_hash:
        return False
    with transaction(session):
        old = practice.logo_hash
        practice.logo = practice.logo_type = practice.logo_hash = None
        audit.record(session, actor, "practice.logo_removed", practice, old_hash=old)
    return True


# --- custom domains ----------------------------------------------------------------------

def domains(session: Session, practice_id: int) -> list[CustomDomain]:
    return list(session.scalars(select(CustomDomain)
                                .where(CustomDomain.practice_id == practice_id)
                                .order_by(CustomDomain.host)))


def domain_problem(host: str, base_domain: str) -> str | None:
    """A custom domain is a real host name (letters, digits, hyphens; a dot between labels;
    not an address) outside the portal's own base domain."""
    if host == base_domain or host.endswith("." + base_domain):
        return _("Addresses under %(base)s are the portal's own; choose a host name of "
                 "your own domain.", base=base_domain)
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels) \
            or labels[-1].isdigit():
        return _("Type a host name such as portaal.yourpractice.nl: letters, digits and "
                 "hyphens, with dots between the parts.")
    return None


def add_domain(session: Session, actor: audit.Actor, practice: Practice, host: str, *,
               base_domain: str) -> CustomDomain:
    """Serve the practice on a host name of its own as well. Each host belongs to one
    practice."""
    host = host.strip().lower().rstrip(".")
    if message := domain_problem(host, base_domain):
        raise Refused({"host": message})
    taken = session.scalar(select(CustomDomain.practice_id).where(CustomDomain.host == host))
    if taken is not None:
        raise Refused({"host": _taken_message(taken == practice.id)})
    domain = CustomDomain(practice_id=practice.id, host=host)
    try:
        with transaction(session):
            session.add(domain)
            session.flush()
            audit.record(session, actor, "practice.domain_added", practice, host=host)
    except IntegrityError:  # another request added it in the meantime
        raise Refused({"host": _taken_message(False)}) from None
    return domain


def _taken_message(ours: bool) -> str:
    if ours:
        return _("This host name is already one of your domains.")
    return _("This host name is already in use by another practice. If it is yours, "
             "please contact us.")


def remove_domain(session: Session, actor: audit.Actor, domain: CustomDomain) -> None:
    """The host stops serving the practice at once."""
    with transaction(session):
        session.delete(domain)
        audit.record(session, actor, "practice.domain_removed",
                     Subject("practices", domain.practice_id), host=domain.host)
