"""Rules about client companies."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.clients import tiers
from portal.clients.models import Client


def tier_counts(session: Session, practice_id: int) -> dict[str, int]:
    """Number of clients per tier, every tier present (zero when none)."""
    counts = dict(session.execute(
        select(Client.tier, func.count()).where(Client.practice_id == practice_id)
        .group_by(Client.tier)
    ).all())
    return {tier: counts.get(tier, 0) for tier in tiers.TIERS}
