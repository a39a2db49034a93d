"""The audit log page for admins (/office/audit): the practice's events, newest first."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from portal import access, db
from portal.audit import service
from portal.audit.forms import EventFilterForm
from portal.web import arg_int, done, htmx_target, render

bp = Blueprint("audit", __name__)
RESULTS = "audit_results"  # the block (and element id) that live filtering swaps
CHECK = "audit_check"  # the block that shows the latest check of the chain


@bp.get("/office/audit")
@access.staff(role="admin")
def events():  # type: ignore[no-untyped-def]
    target = htmx_target()
    check = None if target == RESULTS else service.latest_check(db.session,
                                                                current_user.practice_id)
    if target == CHECK:  # a check is running: its panel asks how far it is
        return render("audit/events.html", block=CHECK, check=check,
                      broken=service.broken_event(db.session, check))
    form = EventFilterForm(formdata=request.args)
    valid = form.validate()
    page = service.events(db.session, current_user.practice_id, form.event_filter(),
                          page=request.args.get("page", 1, type=arg_int))
    # The latest check of the chain, not the chain: the worker reads the whole log.
    return render("audit/events.html", form=form, args=form.args(), events=page,
                  check=check, broken=service.broken_event(db.session, check),
                  status=200 if valid else 422)


@bp.post("/office/audit/check")
@access.staff(role="admin")
def request_check():  # type: ignore[no-untyped-def]
    service.request_check(db.session, access.actor())  # the page shows that it runs
    return done("audit.events")

