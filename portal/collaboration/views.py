"""Offers, who pays, block and end, exports (staff); confirm, leave, export (client)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from portal import access, clock, db
from portal.accounts import links, password_policy, sessions
from portal.clients import tiers
from portal.clients.models import PAYERS, Client
from portal.clients.service import number_taken
from portal.collaboration import ending, exports, offers
from portal.collaboration.forms import (
    BlockForm,
    CancelOfferForm,
    ConfirmOfferForm,
    EndForm,
    LeaveForm,
    OfferClientForm,
    OfferContactForm,
    OfferStartForm,
    OfferTermsForm,
    PayerForm,
    PostponeForm,
)
from portal.collaboration.models import EXPORT_STATES, OFFER_STATES, Offer
from portal.documents import files
from portal.tenancy import hosts
from portal.web import arg_int, done, is_htmx, link_error_page, render

bp = Blueprint("collaboration", __name__)

# What the offer wizard carries from step to step in hidden fields.
CARRIED = ("client_id", "name", "client_number", "kvk_number", "contact_name", "email",
           "locale", "tier", "payer")


# --- offers (staff) ------------------------------------------------------------------

@bp.get("/office/offers")
@access.staff()
def offer_list():  # type: ignore[no-untyped-def]
    state = request.args.get("state") if request.args.get("state") in OFFER_STATES else None
    page = max(request.args.get("page", 1, type=arg_int), 1)
    rows, total = offers.offers(db.session, current_user.practice_id, state, page)
    return render("collaboration/offers.html", rows=rows, total=total, page=page, state=state,
                  states=OFFER_STATES, tier_labels=tiers.LABELS, payers=PAYERS)


def _carried(step: str) -> dict[str, str]:
    carried = {k: request.form.get(k, "").strip() for k in CARRIED if request.form.get(k)}
    if step == "client":  # the new client's form names its contact's address differently
        carried.pop("email", None)
        if request.form.get("contact_email", "").strip():
            carried["email"] = request.form["contact_email"].strip()
    return carried


# The carried values each step shows in its own fields. A step's page carries these in
# those fields only, not in hidden copies too: a hidden copy ahead of the field would win,
# and what was corrected would never arrive.
STEP_FIELDS = {"start": ("client_id",),
               "client": ("name", "client_number", "kvk_number", "contact_name", "email"),
               "contact": ("contact_name", "email", "locale"),
               "terms": ("tier", "payer")}
STEP_FORMS = {"start": OfferStartForm, "client": OfferClientForm,
              "contact": OfferContactForm, "terms": OfferTermsForm}


def _step_values(step: str, carried: dict[str, str], client) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What a step's form shows when it is opened: what was chosen before, if anything."""
    if step == "start":
        return {"which": "existing", "client_id": int(carried["client_id"])} \
            if carried.get("client_id", "").isdigit() else {}
    if step == "client":
        return {"name": carried.get("name"), "client_number": carried.get("client_number"),
                "kvk_number": carried.get("kvk_number"),
                "contact_name": carried.get("contact_name"),
                "contact_email": carried.get("email")}
    if step == "contact":
        email = carried.get("email") or (client.contact_email if client else None) or ""
        return {"contact_name": carried.get("contact_name")
                or (client.contact_name if client else None) or "",
                "email": email, "email_again": email if carried.get("email") else "",
                **({"locale": carried["locale"]} if carried.get("locale") else {})}
    return {k: carried[k] for k in ("tier", "payer") if carried.get(k)}


def _wizard(step: str, carried: dict[str, str], form=None, status: int = 200):  # type: ignore[no-untyped-def]
    g.nav_section = "collaboration.offer_list"
    client = None
    if carried.get("client_id", "").isdigit():
        client = access.client_for_staff(current_user, int(carried["client_id"]))
    choices = offers.without_portal(db.session, current_user.practice_id)
    if form is None:
        form = STEP_FORMS.get(step, OfferTermsForm)(
            formdata=None, **_step_values(step, carried, client))
    if step == "start":
        form.client_id.choices = [(c.id, f"{c.name} ({c.client_number})") for c in choices]
    hidden = {k: v for k, v in carried.items() if k not in STEP_FIELDS.get(step, ())}
    return render("collaboration/offer_new.html", step=step, carried=carried, hidden=hidden,
                  form=form, client=client, has_choices=bool(choices),
                  tier_labels=tiers.LABELS, payers=PAYERS, status=status)


def _recheck(carried: dict[str, str], new_client: bool):  # type: ignore[no-untyped-def]
    """Before sending, every step's rules once more over what was carried (hidden fields
    arrive as the browser sends them): the first step that fails comes back, with its
    errors by its fields, to be corrected there."""
    values = {**carried, "contact_email": carried.get("email", ""),
              "email_again": carried.get("email", "")}
    for step in (("client",) if new_client else ()) + ("contact", "terms"):
        form = STEP_FORMS[step](formdata=MultiDict(values), meta={"csrf": False})
        if not form.validate():
            return step, form
    return None


@bp.get("/office/offers/new")
@access.staff()
def new_offer():  # type: ignore[no-untyped-def]
    carried = {}
    if request.args.get("client_id", "").isdigit():
        carried["client_id"] = request.args["client_id"]
        return _wizard("contact", carried)
    return _wizard("start", carried)


@bp.post("/office/offers/new")
@access.staff()
def offer_step():  # type: ignore[no-untyped-def]
    """One step of the offer: each a plain form; what earlier steps chose rides along."""
    step = request.form.get("step", "start")
    carried = _carried(step)
    back = request.form.get("back")
    if back in ("start", "client", "contact", "terms"):
        return _wizard(back, carried)
    if step == "start":
        form = OfferStartForm()
        form.client_id.choices = [(c.id, c.name) for c in offers.without_portal(
            db.session, current_user.practice_id)]
        if form.which.data == "new":
            carried.pop("client_id", None)
            return _wizard("client", carried)
        if form.validate_on_submit() and form.client_id.data in dict(form.client_id.choices):
            return _wizard("contact", {**carried, "client_id": str(form.client_id.data)})
        form.client_id.errors.append(_("Choose a client."))
        return _wizard("start", carried, form, 422)
    if step == "client":
        form = OfferClientForm()
        valid = form.validate_on_submit()
        if form.client_number.data and number_taken(db.session, current_user.practice_id,
                                                    form.client_number.data, None):
            form.client_number.errors.append(_("Another client already has this number."))
            valid = False
        if not valid:
            return _wizard("client", carried, form, 422)
        carried.update({k: v for k, v in {
            "name": form.name.data, "client_number": form.client_number.data,
            "kvk_number": form.kvk_number.data or "",
            "contact_name": form.contact_name.data or "",
            "email": form.contact_email.data or ""}.items() if v})
        return _wizard("contact", carried)
    if step == "contact":
        form = OfferContactForm()
        if not form.validate_on_submit():
            return _wizard("contact", carried, form, 422)
        carried.update(contact_name=form.contact_name.data.strip(),
                       email=form.email.data.strip().lower(), locale=form.locale.data)
        return _wizard("terms", carried)
    if step == "terms":
        form = OfferTermsForm()
        if not form.validate_on_submit():
            return _wizard("terms", carried, form, 422)
        carried.update(tier=form.tier.data, payer=form.payer.data)
        return _wizard("review", carried)
    if step == "send":
        return _send_offer(carried)
    abort(400)


def _send_offer(carried: dict[str, str]):  # type: ignore[no-untyped-def]
    client = None
    if carried.get("client_id", "").isdigit():
        client = access.client_for_staff(current_user, int(carried["client_id"]))
    new_client = None if client else {
        "name": carried.get("name", ""), "client_number": carried.get("client_number", ""),
        "kvk_number": carried.get("kvk_number") or None,
        "contact_name": carried.get("contact_name"), "contact_email": carried.get("email")}
    if (client is None and not (new_client["name"] and new_client["client_number"])) or \
            not carried.get("email") or not carried.get("contact_name"):
        flash(_("Something went missing between the steps; please start again."), "error")
        return redirect(url_for("collaboration.new_offer"), 303)
    failed = _recheck(carried, new_client=client is None)
    if failed:
        return _wizard(failed[0], carried, failed[1], 422)
    try:
        offer = offers.make_offer(
            db.session, access.actor(), g.practice, client=client, new_client=new_client,
            email=carried["email"], contact_name=carried["contact_name"],
            tier=carried.get("tier", ""), payer=carried.get("payer", ""),
            locale=carried.get("locale"))
    except offers.Refused as refusal:
        flash(refusal.message, "error")
        return _wizard("review", carried, status=422)
    flash(_("The offer is on its way to %(email)s. It stays valid for %(days)d days.",
            email=offer.email, days=offers.offer_days()), "success")
    return done("collaboration.offer_list")


@bp.route("/office/offers/<int:offer_id>/cancel", methods=["GET", "POST"])
@access.staff()
def cancel_offer(offer_id: int):  # type: ignore[no-untyped-def]
    """Ask first (a page, or in its row with htmx); only the confirmed POST cancels."""
    offer = access.offer_for_staff(current_user, offer_id)
    g.nav_section = "collaboration.offer_list"
    form = CancelOfferForm()
    if form.validate_on_submit():
        if offers.cancel(db.session, access.actor(), offer):
            flash(_("The offer is cancelled; its link no longer works."), "success")
        else:
            flash(_("This offer was no longer waiting."), "warning")
        return done("collaboration.offer_list")
    return render("collaboration/offer_cancel.html", offer=offer, form=form,
                  client=db.session.get(Client, offer.client_id),
                  block="cancel_offer" if is_htmx() and request.method == "GET" else None,
                  status=422 if request.method == "POST" else 200)


@bp.post("/office/offers/<int:offer_id>/<action>")
@access.staff()
def offer_action(offer_id: int, action: str):  # type: ignore[no-untyped-def]
    offer = access.offer_for_staff(current_user, offer_id)
    if action == "send-again":
        try:
            offers.send_again(db.session, access.actor(), g.practice, offer)
        except offers.Refused as refusal:
            flash(refusal.message, "error")
        else:
            flash(_("The offer went out again, with a new link."), "success")
    else:
        abort(404)
    return done("collaboration.offer_list")


# --- the client confirms --------------------------------------------------------------

@bp.route("/offer/<token>", methods=["GET", "POST"])
@access.public
def confirm_offer(token: str):  # type: ignore[no-untyped-def]
    try:
        offer, client, user = offers.check(db.session, token, g.practice.id)
    except links.LinkError as error:
        return link_error_page(_offer_link_reason(error))
    hosts.house_style(tiers.has(offer.tier, "house_style"))
    needs_password = offers.needs_password(offer, user)
    form = ConfirmOfferForm()
    if form.validate_on_submit():
        problem = None
        if needs_password:
            problem = _("Choose a password.") if not form.password.data else \
                password_policy.problem(form.password.data, email=offer.email,
                                        name=offer.contact_name)
        if problem:
            form.password.errors.append(problem)
        else:
            try:
                user = offers.confirm(db.session, g.practice, token,
                                      password=form.password.data or None,
                                      ip=request.remote_addr,
                                      user_agent=request.user_agent.string)
            except links.LinkError as error:
                return link_error_page(_offer_link_reason(error))
            welcome = _("Welcome! %(name)s now works with %(practice)s online.",
                        name=client.name, practice=g.practice.name)
            if not tiers.has(offer.tier, "portal"):  # no login to go to: say what comes
                flash(welcome, "success")
                session[CONFIRMED_KEY] = offer.id
                return redirect(url_for("collaboration.offer_confirmed"), 303)
            sessions.start(user)  # a fresh session: flash only after it
            flash(welcome, "success")
            return redirect(url_for("home.company", client_id=client.id), 303)
    return render("collaboration/confirm.html", offer=offer, client=client, form=form,
                  needs_password=needs_password, terms=offers.offer_terms(offer),
                  tier_labels=tiers.LABELS, status=422 if request.method == "POST" else 200)


CONFIRMED_KEY = "offer_confirmed"


def _offer_link_reason(error: links.LinkError) -> str:
    """Why an offer's link no longer works, as its reader should hear it: the expiry sweep
    revokes the link of an offer that ran out, but that offer expired, nobody withdrew it."""
    if error.link is not None:
        offer = db.session.get(Offer, error.link.subject_id)
        if offer is not None and offer.state == "expired":
            return "expired"
    return error.reason


@bp.get("/offer/confirmed")
@access.public
def offer_confirmed():  # type: ignore[no-untyped-def]
    """Where a contact lands who confirmed a tier without a portal: what it gives, and that
    it needs no login. Only in the browser that confirmed (the offer's id in its session)."""
    offer = offers.confirmed_offer(db.session, session.get(CONFIRMED_KEY), g.practice.id)
    if offer is None:
        abort(404)
    hosts.house_style(tiers.has(offer.tier, "house_style"))
    return render("collaboration/confirmed.html", offer=offer,
                  client=db.session.get(Client, offer.client_id),
                  terms=offers.offer_terms(offer))


# --- staff on the client card: payer, block, end, keep longer, export -----------------

@bp.get("/office/clients/<int:client_id>/collaboration")
@access.staff()
def client_panel(client_id: int):  # type: ignore[no-untyped-def]
    """Where the collaboration with one client stands, and what staff can do about it."""
    return _panel(access.client_for_staff(current_user, client_id))


def _panel(client: Client, *, block_form: BlockForm | None = None,  # type: ignore[no-untyped-def]
           end_form: EndForm | None = None, status: int = 200):
    g.nav_section = "clients.index"
    return render("collaboration/panel.html", client=client,
                  offer=offers.pending_for(db.session, client.id),
                  payer_form=PayerForm(formdata=None, payer=client.payer),
                  postpone_form=PostponeForm(formdata=None),
                  block_form=block_form or BlockForm(formdata=None, prefix="block"),
                  end_form=end_form or EndForm(formdata=None, prefix="end"),
                  retention_days=ending.retention_days(),
                  items=exports.exports_of(db.session, client.practice_id,
                                           client_id=client.id, limit=10),
                  states=EXPORT_STATES, payers=PAYERS, tier_labels=tiers.LABELS,
                  has_portal=tiers.has(client, "portal"), status=status)


@bp.post("/office/clients/<int:client_id>/payer")
@access.staff()
def change_payer(client_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    form = PayerForm()
    if form.validate_on_submit() and offers.change_payer(
            db.session, access.actor(), g.practice, client, form.payer.data):
        flash(_("%(payer)s now pays for %(name)s; the client has been told.",
                payer=PAYERS[client.payer], name=client.name), "success")
    return done("collaboration.client_panel", client_id=client.id)


@bp.post("/office/clients/<int:client_id>/collaboration/<action>")
@access.staff()
def collaboration_action(client_id: int, action: str):  # type: ignore[no-untyped-def]
    """Block, unblock or end the collaboration with a client; block and end only with their
    box ticked, else the panel comes back saying so and nothing changes."""
    client = access.client_for_staff(current_user, client_id)
    steps = {"block": (ending.block, _("%(name)s is blocked: its users cannot reach it and "
                                      "its links no longer work.")),
             "unblock": (ending.unblock, _("%(name)s is active again.")),
             "end": (ending.end, _("The collaboration with %(name)s has ended. Its data is "
                                   "deleted after the retention period."))}
    if action not in steps:
        abort(404)
    step, message = steps[action]
    confirms = {"block": BlockForm, "end": EndForm}
    if action in confirms:
        form = confirms[action](prefix=action)
        if not form.validate_on_submit():
            return _panel(client, **{f"{action}_form": form}, status=422)
    try:
        step(db.session, access.actor(), client)
    except ending.Refused as refusal:
        flash(refusal.message, "error")
    else:
        flash(message % {"name": client.name}, "success")
    return done("collaboration.client_panel", client_id=client.id)


@bp.post("/office/clients/<int:client_id>/keep")
@access.staff(role="admin")
def postpone(client_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    form = PostponeForm()
    if form.validate_on_submit():
        try:
            ending.postpone(db.session, access.actor(), client,
                            clock.end_of_day(form.until.data))
        except ending.Refused as refusal:
            flash(refusal.message, "error")
        else:
            flash(_("The data of %(name)s is kept longer.", name=client.name), "success")
    else:
        flash(_("Choose a date."), "error")
    return done("collaboration.client_panel", client_id=client.id)


@bp.post("/office/clients/<int:client_id>/export")
@access.staff()
def request_export(client_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    exports.request_export(db.session, access.actor(), client)
    flash(_("The export of %(name)s is being made; you get a mail when it is ready.",
            name=client.name), "success")
    return done("collaboration.client_panel", client_id=client.id)


@bp.get("/office/exports")
@access.staff(role="admin")
def exports_list():  # type: ignore[no-untyped-def]
    return render("collaboration/exports.html",
                  items=exports.exports_of(db.session, current_user.practice_id),
                  states=EXPORT_STATES)


@bp.get("/office/exports/<int:export_id>/download")
@access.staff(role="admin")
def download_export(export_id: int):  # type: ignore[no-untyped-def]
    export = access.export_for_staff(current_user, export_id)
    return _send_export(export)


def _send_export(export):  # type: ignore[no-untyped-def]
    if export.state != "ready":
        abort(404)
    exports.mark_downloaded(db.session, access.actor(), export)
    name = f"export-{export.client_name}-{export.ready_at:%Y%m%d}.zip"
    return files.send_stored(export.storage_key, size=export.size, sha256=export.sha256,
                             filename=name, mimetype="application/zip")


# --- the client: export and leaving -----------------------------------------------------

@bp.route("/c/<int:client_id>/collaboration", methods=["GET", "POST"])
@access.client_user
def client_exports(client_id: int):  # type: ignore[no-untyped-def]
    """The main contact asks for an export, downloads it, or ends the collaboration."""
    client = access.company_for_member(current_user, client_id)
    g.company = client
    owner = access.is_owner(current_user, client)
    if request.method == "POST":
        if not owner:
            abort(403)
        exports.request_export(db.session, access.actor(), client, for_client=True)
        flash(_("Your export is being made; you get a mail when it is ready."), "success")
        return redirect(url_for("collaboration.client_exports", client_id=client.id), 303)
    items = exports.exports_of(db.session, client.practice_id, client_id=client.id,
                               for_client=True) if owner else []
    return render("collaboration/client.html", client=client, owner=owner, items=items,
                  states=EXPORT_STATES, form=LeaveForm(formdata=None))


@bp.get("/c/<int:client_id>/exports/<int:export_id>")
@access.client_user
def client_download(client_id: int, export_id: int):  # type: ignore[no-untyped-def]
    client = access.company_for_member(current_user, client_id)
    if not access.is_owner(current_user, client):
        abort(404)
    return _send_export(access.export_for_member(client, export_id))


@bp.post("/c/<int:client_id>/leave")
@access.client_user
def leave(client_id: int):  # type: ignore[no-untyped-def]
    client = access.company_for_member(current_user, client_id)
    g.company = client
    if not access.is_owner(current_user, client):
        abort(403)
    form = LeaveForm()
    if form.validate_on_submit():
        try:
            ending.leave(db.session, g.practice, current_user._get_current_object(), client,
                         form.password.data, request.remote_addr, request.user_agent.string)
        except ending.Refused as refusal:
            form.password.errors.append(refusal.message)
        else:
            flash(_("The collaboration has ended. Your data stays readable here until it is "
                    "deleted; download your export before then."), "success")
            return redirect(url_for("collaboration.client_exports", client_id=client.id), 303)
    return render("collaboration/client.html", client=client, owner=True, form=form,
                  items=exports.exports_of(db.session, client.practice_id,
                                           client_id=client.id, for_client=True),
                  states=EXPORT_STATES, status=422)
