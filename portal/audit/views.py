"""The audit log page for admins (/office/audit): the practice's events, newest first."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from portal import access, db
from portal.audit import service
from portal.audit.forms import EventFilterForm
from portal.web import htmx_target, render

bp = Blueprint("audit", __name__)
RESULTS = "audit_results"  # the block (and element id) that live filtering swaps


@bp.get("/office/audit")
@access.staff(role="admin")
def events():  # type: ignore[no-untyped-def]
    form = EventFilterForm(formdata=request.args)
    valid = form.validate()
    page = service.events(db.session, current_user.practice_id, form.event_filter(),
                          page=request.args.get("page", 1, type=int))
    # Verifying reads the whole chain: on the full page, not on every filter change.
    chain = None if htmx_target() == RESULTS else service.chain_state(
        db.session, current_user.practice_id)
    return render("audit/events.html", form=form, args=form.args(), events=page,
                  chain=chain, status=200 if valid else 422)
