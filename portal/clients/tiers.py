"""The tier table: which collaboration tier ("cliënt type") has which feature.

One setting per client covers all of its services. Views, templates and services ask
`has(client, feature)`; nothing else in the code names tiers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from flask_babel import lazy_gettext as _l

STANDARD = "standard"
COLLABORATE = "collaborate"
COLLABORATE_PLUS = "collaborate_plus"
TIERS = (STANDARD, COLLABORATE, COLLABORATE_PLUS)

LABELS = {
    STANDARD: _l("Standard"),
    COLLABORATE: _l("Collaborate"),
    COLLABORATE_PLUS: _l("Collaborate Extended"),
}

# Monthly price per billable client, from the product text; configurable per deployment.
DEFAULT_PRICES = {
    STANDARD: Decimal("0.80"),
    COLLABORATE: Decimal("1.10"),
    COLLABORATE_PLUS: Decimal("1.65"),
}
EXTRA_USER_PRICE = Decimal("1.00")
INCLUDED_USERS = 1

_ALL = frozenset(TIERS)
_SHARING = frozenset({COLLABORATE, COLLABORATE_PLUS})
_PLUS = frozenset({COLLABORATE_PLUS})

FEATURES: dict[str, frozenset[str]] = {
    "download_reports": _ALL,       # download and print the reports the practice made
    "manage_engagements": _ALL,     # overview pages of clients, engagements and status
    "share_reports": _SHARING,      # share for viewing or digital approval
    "deadline_reminders": _SHARING, # automatic reminder when a task's deadline is near
    "share_dashboard": _SHARING,    # dashboard of charts of one set of annual accounts
    "portal": _PLUS,                # own login, history, open actions, several companies
    "client_insights": _PLUS,       # charts combining data from several sources
    "house_style": _PLUS,           # the practice's logo, colours, texts
    "documents": _PLUS,             # exchange documents both ways
    "questions": _PLUS,             # collect questions, send them at once
    "questionnaires": _PLUS,        # prepare-by-client questionnaires
    "extra_users": _PLUS,           # more contact persons per company, billed per user
}


FEATURE_LABELS = {
    "download_reports": _l("download and print reports"),
    "manage_engagements": _l("overview of engagements and their status"),
    "share_reports": _l("sharing reports for viewing and digital approval"),
    "deadline_reminders": _l("automatic reminders before deadlines"),
    "share_dashboard": _l("the annual-accounts dashboard"),
    "portal": _l("the permanent portal with its own login and history"),
    "client_insights": _l("client insights from several sources"),
    "house_style": _l("the practice's own logo and house style"),
    "documents": _l("exchanging documents"),
    "questions": _l("questions from the practice"),
    "questionnaires": _l("prepare-by-client questionnaires"),
    "extra_users": _l("extra contact persons"),
}


class _HasTier(Protocol):
    tier: str


def has(subject: _HasTier | str, feature: str) -> bool:
    """Whether a client (or a tier name) has a feature. Unknown features are an error."""
    tier = subject if isinstance(subject, str) else subject.tier
    return tier in FEATURES[feature]


def features_of(tier: str) -> list[str]:
    """What a tier gives, in table order (for the texts that tell a client what it gets)."""
    return [f for f, has_it in FEATURES.items() if tier in has_it]


def tiers_with(feature: str) -> tuple[str, ...]:
    """The tiers that have a feature, in table order (for queries: `tier.in_(...)`)."""
    return tuple(t for t in TIERS if t in FEATURES[feature])


def lost_on_change(old: str, new: str) -> list[str]:
    """Features a client loses when its tier goes from old to new."""
    return [f for f, tiers in FEATURES.items() if old in tiers and new not in tiers]
