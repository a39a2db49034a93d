"""The client portal's home: the companies this login reaches."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from portal import access
from portal.web import render

bp = Blueprint("home", __name__)


@bp.get("/")
@access.client_user
def index():  # type: ignore[no-untyped-def]
    return render("home/index.html", companies=access.portal_companies(current_user))
