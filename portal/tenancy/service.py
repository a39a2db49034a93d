"""Which practice a host name belongs to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.tenancy.models import CustomDomain, Practice

BARE = object()  # the base domain itself: no practice, only the landing page


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
