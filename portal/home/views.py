"""The client portal: home, and the entrance through an invitation."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import access, db
from portal.accounts import links, password_policy, sessions
from portal.accounts.models import ClientUser
from portal.home import service
from portal.home.forms import ChoosePasswordForm
from portal.web import render

bp = Blueprint("home", __name__)


@bp.get("/")
@access.client_user
def index():  # type: ignore[no-untyped-def]
    return render("home/index.html", companies=access.portal_companies(current_user))


def link_error(error: links.LinkError, **context):  # type: ignore[no-untyped-def]
    """The friendly page for a link that cannot be used; never names anyone."""
    status = 410 if error.reason in ("used", "expired", "revoked") else 404
    return render("accounts/link_error.html", reason=error.reason, status=status, **context)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@access.public
def accept_invitation(token: str):  # type: ignore[no-untyped-def]
    try:
        link = links.check(db.session, token, purpose="client_invite",
                           practice_id=g.practice.id)
    except links.LinkError as error:
        return link_error(error)
    user = db.session.get(ClientUser, link.subject_id)
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        problem = password_policy.problem(form.password.data, email=user.email, name=user.name)
        if problem:
            form.password.errors.append(problem)
        else:
            try:
                user = service.accept_invitation(
                    db.session, practice_id=g.practice.id, token=token,
                    password=form.password.data, ip=request.remote_addr,
                    user_agent=request.user_agent.string)
            except links.LinkError as error:
                return link_error(error)
            sessions.start(user)
            flash(_("Welcome! Your password is set; from now on you sign in with %(email)s.",
                    email=user.email), "success")
            return redirect(url_for("home.index"))
    elif request.method == "GET":
        links.mark_opened(db.session, link)
    return render("home/invitation.html", form=form, user=user,
                  status=422 if request.method == "POST" else 200)
