"""The back office (/office/): the practice at a glance."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from portal import access, db
from portal.clients import service, tiers
from portal.web import render

bp = Blueprint("clients", __name__)


@bp.get("/office/")
@access.staff()
def office_home():  # type: ignore[no-untyped-def]
    counts = service.tier_counts(db.session, current_user.practice_id)
    return render("clients/office_home.html",
                  tier_counts=[(tiers.LABELS[t], n) for t, n in counts.items()])
