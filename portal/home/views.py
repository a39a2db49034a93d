"""The client portal: choosing a company, its home, history and people; the invitation."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import access, db
from portal.accounts import links, password_policy, sessions
from portal.accounts.models import ClientUser
from portal.clients import service as clients_service
from portal.clients.forms import ContactForm
from portal.clients.service import NotAllowed
from portal.engagements.models import KINDS
from portal.home import service
from portal.home.forms import ChoosePasswordForm
from portal.web import arg_int, done, link_error_page, render

bp = Blueprint("home", __name__)

# Where each kind of open action is done, by the id of the row it is about.
ACTION_PAGES = {
    "approval": ("engagements.portal_task", "share_id"),
    "document_request": ("documents.portal_index", "request"),
    "questionnaire": ("questionnaires.fill", "assignment_id"),
    "question_list": ("questionnaires.answer_questions", "list_id"),
}


def action_url(task) -> str:  # type: ignore[no-untyped-def]
    endpoint, argument = ACTION_PAGES[task.kind]
    return url_for(endpoint, client_id=task.client_id, **{argument: task.subject_id})


def _company(client_id: int):  # type: ignore[no-untyped-def]
    """The company in the URL, if this user reaches it in the portal (else 404)."""
    g.company = access.company_for_member(current_user, client_id)
    return g.company


@bp.get("/")
@access.client_user
def index():  # type: ignore[no-untyped-def]
    companies = access.portal_companies(current_user)
    if len(companies) == 1:
        return redirect(url_for("home.company", client_id=companies[0].id))
    counts = service.open_counts(db.session, [c.id for c in companies])
    return render("home/index.html", companies=companies, counts=counts)


@bp.get("/c/<int:client_id>/")
@access.client_user
def company(client_id: int):  # type: ignore[no-untyped-def]
    client = _company(client_id)
    return render("home/company.html", client=client,
                  actions=service.open_actions(db.session, [client.id]),
                  activity=service.recent_activity(db.session, client),
                  action_url=action_url)


@bp.get("/c/<int:client_id>/history")
@access.client_user
def history(client_id: int):  # type: ignore[no-untyped-def]
    client = _company(client_id)
    flt = service.HistoryFilter(year=request.args.get("year", type=arg_int),
                                kind=request.args.get("kind") if request.args.get("kind")
                                in KINDS else None)
    page, years, documents = service.history(db.session, client, flt,
                                             request.args.get("page", 1, type=arg_int),
                                             viewer_id=current_user.id)
    return render("home/history.html", client=client, page=page, years=years, flt=flt,
                  kinds=KINDS, documents=documents)


@bp.get("/c/<int:client_id>/people")
@access.client_user
def people(client_id: int):  # type: ignore[no-untyped-def]
    return _people(_company(client_id))


def _people(client, form=None, status=200):  # type: ignore[no-untyped-def]
    contacts = clients_service.contacts(db.session, client)
    mine = next((m for m, user in contacts if user.id == current_user.id), None)
    return render("home/people.html", client=client, contacts=contacts,
                  is_owner=bool(mine and mine.role == "owner"),
                  form=form or ContactForm(formdata=None, locale=g.practice.locale),
                  status=status)


def _owner_of(client) -> None:  # type: ignore[no-untyped-def]
    access.require_active(client)
    if not access.is_owner(current_user, client):
        abort(403)


@bp.post("/c/<int:client_id>/people")
@access.client_user
def invite_person(client_id: int):  # type: ignore[no-untyped-def]
    client = _company(client_id)
    _owner_of(client)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            clients_service.add_contact(db.session, access.actor(), g.practice, client,
                                        email=form.email.data, name=form.name.data,
                                        locale=form.locale.data)
        except NotAllowed:
            form.email.errors.append(_("%(email)s is a contact of this company already.",
                                       email=form.email.data))
        else:
            flash(_("%(email)s has been invited to the portal.", email=form.email.data),
                  "success")
            return done("home.people", client_id=client.id)
    return _people(client, form, 422)


@bp.post("/c/<int:client_id>/people/<int:membership_id>/remove")
@access.client_user
def remove_person(client_id: int, membership_id: int):  # type: ignore[no-untyped-def]
    client = _company(client_id)
    _owner_of(client)
    membership = access.membership_of_company(client, membership_id)
    if membership.client_user_id == current_user.id:
        flash(_("You cannot remove yourself; ask your accountant to do it."), "error")
    else:
        clients_service.remove_contact(db.session, access.actor(), client, membership)
        flash(_("The contact person has been removed; their sessions have ended."),
              "success")
    return done("home.people", client_id=client.id)


# --- the way in: an invitation ------------------------------------------------------------

@bp.route("/invitation/<token>", methods=["GET", "POST"])
@access.public
def accept_invitation(token: str):  # type: ignore[no-untyped-def]
    try:
        link = links.check(db.session, token, purpose="client_invite",
                           practice_id=g.practice.id)
    except links.LinkError as error:
        return link_error_page(error.reason)
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
                return link_error_page(error.reason)
            sessions.start(user)
            flash(_("Welcome! Your password is set; from now on you sign in with %(email)s.",
                    email=user.email), "success")
            return redirect(url_for("home.index"))
    elif request.method == "GET":
        links.mark_opened(db.session, link)
    return render("home/invitation.html", form=form, user=user,
                  status=422 if request.method == "POST" else 200)
