"""The back office's client pages: overview with bulk change, client card, billing."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, g, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal import access, clock, db
from portal.accounts.models import POSITIONS
from portal.clients import billing, imports, invitations, service, tiers
from portal.clients.forms import (
    BulkTierForm,
    ClientForm,
    ContactForm,
    ImportApplyForm,
    ImportMappingForm,
    ImportUploadForm,
    InviteAllForm,
    NewClientForm,
    PositionForm,
    TierForm,
)
from portal.clients.models import STATUSES
from portal.clients.service import ClientFilter, NotAllowed, Selection
from portal.documents import service as documents
from portal.engagements import service as engagements
from portal.engagements.forms import EngagementForm
from portal.engagements.models import STATUSES as ENGAGEMENT_STATUSES
from portal.i18n import translated
from portal.web import arg_int, done, render

bp = Blueprint("clients", __name__)


@bp.get("/office/")
@access.staff()
def office_home():  # type: ignore[no-untyped-def]
    summary = engagements.morning_summary(db.session, current_user.practice_id, clock.today())
    counts = service.tier_counts(db.session, current_user.practice_id)
    return render("clients/office_home.html", summary=summary, today=clock.today(),
                  statuses=ENGAGEMENT_STATUSES,
                  tier_counts=[(t, tiers.LABELS[t], n) for t, n in counts.items()])


@bp.get("/office/clients")
@access.staff()
def index():  # type: ignore[no-untyped-def]
    flt = ClientFilter.from_args(request.args)
    page = service.overview(db.session, current_user.practice_id, flt,
                            request.args.get("page", 1, type=arg_int))
    return render("clients/index.html", page=page, flt=flt, bulk_form=BulkTierForm(),
                  statuses=translated(STATUSES), tier_labels=translated(tiers.LABELS))


@bp.get("/office/clients/export.<kind>")
@access.staff()
def export(kind: str):  # type: ignore[no-untyped-def]
    """The clients the overview's filter shows, as CSV or XLSX; it imports back unchanged."""
    if kind not in ("csv", "xlsx"):
        abort(404)
    flt = ClientFilter.from_args(request.args)
    header, rows = imports.export_rows(db.session, flt.conditions(current_user.practice_id),
                                       flt.order())
    if kind == "csv":
        response = make_response(imports.export_csv(header, rows))
        response.mimetype = "text/csv"
    else:
        response = make_response(imports.export_xlsx(header, rows))
        response.mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    stamp = clock.today().isoformat()
    response.headers["Content-Disposition"] = f'attachment; filename="clients-{stamp}.{kind}"'
    return response


@bp.route("/office/clients/new", methods=["GET", "POST"])
@access.staff()
def new():  # type: ignore[no-untyped-def]
    g.nav_section = "clients.index"
    form = NewClientForm()
    form.responsible_id.choices = engagements.responsible_choices(db.session,
                                                                  current_user.practice_id)
    if _valid(form, None):
        values = _details(form)
        try:
            client = service.create_client(db.session, access.actor(), values)
        except NotAllowed:
            form.client_number.errors.append(_("Another client already has this number."))
        else:
            flash(_("%(name)s has been added.", name=client.name), "success")
            return done("clients.card", client_id=client.id)
    return render("clients/new.html", form=form,
                  status=422 if request.method == "POST" else 200)


def _valid(form, own_id: int | None) -> bool:  # type: ignore[no-untyped-def]
    """The form's own checks, and (so every problem shows at once) a taken client number."""
    valid = form.validate_on_submit()
    number = form.client_number.data
    if request.method == "POST" and number and service.number_taken(
            db.session, current_user.practice_id, number, own_id):
        form.client_number.errors.append(_("Another client already has this number."))
        return False
    return valid


def _details(form) -> dict:  # type: ignore[no-untyped-def]
    values = {k: v for k, v in form.data.items() if k != "csrf_token"}
    values["responsible_id"] = values.get("responsible_id") or None  # 0: nobody
    return values


def _details_form(client) -> ClientForm:  # type: ignore[no-untyped-def]
    form = ClientForm(obj=client, formdata=None)
    form.responsible_id.data = client.responsible_id or 0
    return form


def _card(client, **forms):  # type: ignore[no-untyped-def]
    g.nav_section = "clients.index"
    contacts = service.contacts(db.session, client)
    work = engagements.of_client(db.session, client)
    engagement_form = forms.pop("engagement_form", None) or EngagementForm(
        formdata=None, year=clock.today().year - 1)
    staff = engagements.responsible_choices(db.session, client.practice_id,
                                            keep=client.responsible_id)
    engagement_form.responsible_id.choices = staff
    details_form = forms.pop("details_form", None) or _details_form(client)
    details_form.responsible_id.choices = staff
    return render(
        "clients/card.html", client=client, contacts=contacts, engagements=work,
        details_form=details_form, responsible_name=dict(staff).get(client.responsible_id),
        tier_form=forms.pop("tier_form", None) or TierForm(tier=client.tier, formdata=None),
        contact_form=forms.pop("contact_form", None) or ContactForm(
            formdata=None, locale=g.practice.locale),
        engagement_form=engagement_form, tier_labels=tiers.LABELS, statuses=STATUSES,
        positions=POSITIONS,
        engagement_statuses=ENGAGEMENT_STATUSES,
        feature_labels=tiers.FEATURE_LABELS, has_portal=tiers.has(client, "portal"),
        may_add_contact=service.may_add_contact(client, len(contacts)),
        documents=documents.summary(db.session, client),
        today=clock.today(), status=forms.pop("status", 200), **forms)


@bp.get("/office/clients/<int:client_id>")
@access.staff()
def card(client_id: int):  # type: ignore[no-untyped-def]
    return _card(access.client_for_staff(current_user, client_id))


@bp.post("/office/clients/<int:client_id>/details")
@access.staff()
def update_details(client_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    form = ClientForm()
    form.responsible_id.choices = engagements.responsible_choices(
        db.session, client.practice_id, keep=client.responsible_id)
    if _valid(form, client.id):
        values = _details(form)
        try:
            changed = service.update_details(db.session, access.actor(), client, values)
        except NotAllowed:
            form.client_number.errors.append(_("Another client already has this number."))
        else:
            if changed:
                flash(_("The details have been saved."), "success")
            return done("clients.card", client_id=client.id)
    return _card(client, details_form=form, status=422)


@bp.post("/office/clients/<int:client_id>/tier")
@access.staff()
def change_tier(client_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    form = TierForm()
    if not form.validate_on_submit():
        return _card(client, tier_form=form, status=422)
    lost = tiers.lost_on_change(client.tier, form.tier.data)
    if lost and form.confirm.data != form.tier.data:
        # A downgrade: first show what the client loses, and ask again.
        return _card(client, tier_form=form, downgrade_to=form.tier.data, lost=lost)
    old = client.tier
    service.change_tier(db.session, access.actor(), client, form.tier.data)
    if old != client.tier:
        flash(_("%(name)s is now on %(tier)s.", name=client.name,
                tier=tiers.LABELS[client.tier]), "success")
    return done("clients.card", client_id=client.id)


@bp.post("/office/clients/<int:client_id>/contacts")
@access.staff()
def add_contact(client_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            service.add_contact(db.session, access.actor(), g.practice, client,
                                email=form.email.data, name=form.name.data,
                                locale=form.locale.data, position=form.position.data)
        except NotAllowed as refusal:
            message = _("%(email)s is a contact of this company already.",
                        email=form.email.data) if str(refusal) == "already" else _(
                "Only Collaborate Extended includes more than one contact person.")
            form.email.errors.append(message)
        else:
            if tiers.has(client, "portal"):
                flash(_("%(email)s has been added and invited to the portal.",
                        email=form.email.data), "success")
            else:
                flash(_("%(email)s has been added as contact person.",
                        email=form.email.data), "success")
            return done("clients.card", client_id=client.id)
    return _card(client, contact_form=form, status=422)


@bp.post("/office/clients/<int:client_id>/contacts/<int:membership_id>/position")
@access.staff()
def contact_position(client_id: int, membership_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    membership = access.membership_for_staff(current_user, client, membership_id)
    form = PositionForm()
    if form.validate_on_submit() and service.set_position(
            db.session, access.actor(), client, membership, form.position.data):
        flash(_("The position is saved."), "success")
    return done("clients.card", client_id=client.id)


@bp.post("/office/clients/<int:client_id>/contacts/<int:membership_id>/remove")
@access.staff()
def remove_contact(client_id: int, membership_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    membership = access.membership_for_staff(current_user, client, membership_id)
    service.remove_contact(db.session, access.actor(), client, membership)
    flash(_("The contact person has been removed; their sessions have ended."), "success")
    return done("clients.card", client_id=client.id)


@bp.post("/office/clients/<int:client_id>/engagements")
@access.staff()
def create_engagement(client_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    form = EngagementForm()
    form.responsible_id.choices = engagements.responsible_choices(
        db.session, client.practice_id, keep=client.responsible_id)
    if not form.validate_on_submit():
        return _card(client, engagement_form=form, status=422)
    engagement = engagements.create(db.session, access.actor(), client, {
        "kind": form.kind.data, "year": form.year.data,
        "title": (form.title.data or "").strip() or None, "deadline": form.deadline.data,
        "responsible_id": form.responsible_id.data or None})
    flash(_("%(label)s has been created.", label=engagement.label), "success")
    return done("clients.card", client_id=client.id)


# --- bulk change ------------------------------------------------------------------------

@bp.post("/office/clients/bulk")
@access.staff()
def bulk_preview():  # type: ignore[no-untyped-def]
    g.nav_section = "clients.index"
    form = BulkTierForm()
    selection = Selection.from_form(request.form)
    if not form.validate_on_submit() or selection is None:
        flash(_("Tick one or more clients, or all that match, and choose a tier."), "error")
        return redirect(url_for("clients.index",
                                **ClientFilter.from_args(request.form).args()), 303)
    prices, _extra = billing.prices_from(current_app.config)
    preview = service.bulk_preview(db.session, current_user.practice_id, selection,
                                   form.new_tier.data, prices)
    return render("clients/bulk_confirm.html", form=form, preview=preview,
                  selection=selection, labels=tiers.LABELS)


@bp.post("/office/clients/bulk/apply")
@access.staff()
def bulk_apply():  # type: ignore[no-untyped-def]
    form = BulkTierForm()
    selection = Selection.from_form(request.form)
    if not form.validate_on_submit() or selection is None:
        abort(400)
    try:
        changed = service.bulk_change_tier(db.session, access.actor(), selection,
                                           form.new_tier.data, request.form.get("stamp", ""))
    except service.SelectionChanged:
        g.nav_section = "clients.index"
        prices, _extra = billing.prices_from(current_app.config)
        preview = service.bulk_preview(db.session, current_user.practice_id, selection,
                                       form.new_tier.data, prices)
        flash(_("The selection has changed since you checked it (a client was added or "
                "changed meanwhile). Nothing has been changed yet: check the figures below "
                "and confirm again."), "error")
        return render("clients/bulk_confirm.html", form=form, preview=preview,
                      selection=selection, labels=tiers.LABELS), 409
    flash(ngettext("%(num)d client is now on %(tier)s.", "%(num)d clients are now on %(tier)s.",
                   changed, tier=tiers.LABELS[form.new_tier.data]), "success")
    return done("clients.index")


# --- billing --------------------------------------------------------------------------

def _month() -> date:
    raw = request.args.get("month", "")
    try:
        year, month = (int(p) for p in raw.split("-"))
        if 1900 <= year < 9999:  # the month after it is a date too, and so is its start in UTC
            return date(year, month, 1)
    except ValueError:
        pass
    return clock.today().replace(day=1)


def _statement() -> billing.Statement:
    prices, extra = billing.prices_from(current_app.config)
    return billing.statement(db.session, current_user.practice_id, _month(), prices, extra,
                             current_app.config["FREE_DAYS"])


@bp.get("/office/billing")
@access.staff(role="admin")
def billing_page():  # type: ignore[no-untyped-def]
    statement = _statement()
    return render("clients/billing.html", statement=statement, labels=tiers.LABELS,
                  month=statement.month, this_month=clock.today().replace(day=1),
                  free_days=current_app.config["FREE_DAYS"])


@bp.get("/office/billing.csv")
@access.staff(role="admin")
def billing_csv():  # type: ignore[no-untyped-def]
    statement = _statement()
    payer = request.args.get("payer") if request.args.get("payer") in ("practice", "client") \
        else None
    response = make_response(billing.as_csv(statement, payer))
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = \
        f'attachment; filename="statement-{g.practice.slug}-{statement.month:%Y-%m}' \
        f'{"-" + payer if payer else ""}.csv"'
    return response


# --- import ------------------------------------------------------------------------------

@bp.route("/office/clients/import", methods=["GET", "POST"])
@access.staff()
def import_start():  # type: ignore[no-untyped-def]
    """Step 1: choose the file."""
    g.nav_section = "clients.index"
    form = ImportUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            started = imports.upload(db.session, access.actor(), upload.filename or "",
                                     upload.read(imports.MAX_BYTES + 1))
        except imports.ImportRefused as refusal:
            form.file.errors.append(refusal.message)
        else:
            return done("clients.import_mapping", import_id=started.id)
    return render("clients/import.html", form=form, max_mb=imports.MAX_BYTES // 2**20,
                  status=422 if request.method == "POST" else 200)


PREVIEWABLE = ("uploaded", "failed")  # a failed import may be checked and applied again


def _table_or_gone(started):  # type: ignore[no-untyped-def]
    if started.state != "uploaded":
        return None
    return imports.read(started.data)


@bp.route("/office/clients/import/<int:import_id>", methods=["GET", "POST"])
@access.staff()
def import_mapping(import_id: int):  # type: ignore[no-untyped-def]
    """Step 2: which column holds what (guessed); or, once confirmed, how far the worker
    is (an htmx poll gets only that block) and then what was done."""
    g.nav_section = "clients.index"
    started = access.client_import_for_staff(current_user, import_id)
    table = _table_or_gone(started)
    if table is None:
        return render("clients/import_done.html", started=started)
    columns = imports.columns_of(started)
    form = ImportMappingForm(formdata=None, erase_empty=started.options.get("erase_empty"),
                             invite=started.options.get("invite"))
    error = None
    if request.method == "POST":
        form = ImportMappingForm()
        columns = {str(i): request.form.get(f"col_{i}", "") for i in range(len(table.header))}
        columns = {i: f for i, f in columns.items() if f in imports.LABELS}
        if form.validate_on_submit():
            try:
                imports.set_mapping(db.session, started, table.header, columns,
                                    erase_empty=form.erase_empty.data,
                                    invite_contacts=form.invite.data)
            except imports.ImportRefused as refusal:
                error = refusal.message
            else:
                return done("clients.import_preview", import_id=started.id)
    return render("clients/import_mapping.html", started=started, table=table, form=form,
                  columns=columns, labels=imports.LABELS, samples=table.rows[:3], error=error,
                  status=422 if request.method == "POST" else 200)


def _preview(started):  # type: ignore[no-untyped-def]
    prices, extra_user_price = billing.prices_from(current_app.config)
    return imports.preview(db.session, started, prices, extra_user_price)


def _preview_page(started, result, form, status=200):  # type: ignore[no-untyped-def]
    g.nav_section = "clients.index"
    return render("clients/import_preview.html", started=started, preview=result, form=form,
                  labels=imports.LABELS, tier_labels=tiers.LABELS, shown=imports.SHOWN,
                  inline_limit=imports.INLINE_LIMIT, status=status)


@bp.get("/office/clients/import/<int:import_id>/preview")
@access.staff()
def import_preview(import_id: int):  # type: ignore[no-untyped-def]
    """Step 3: every row as it would come out."""
    started = access.client_import_for_staff(current_user, import_id)
    if started.state not in PREVIEWABLE:
        return redirect(url_for("clients.import_mapping", import_id=started.id))
    result = _preview(started)
    return _preview_page(started, result, ImportApplyForm(formdata=None, stamp=result.stamp))


@bp.post("/office/clients/import/<int:import_id>/apply")
@access.staff()
def import_apply(import_id: int):  # type: ignore[no-untyped-def]
    """Step 4: apply exactly what the preview showed."""
    started = access.client_import_for_staff(current_user, import_id)
    if started.state not in PREVIEWABLE:
        return redirect(url_for("clients.import_mapping", import_id=started.id), 303)
    form = ImportApplyForm()
    result = _preview(started)
    if not form.validate_on_submit():
        return _preview_page(started, result, form, 422)
    try:
        outcome = imports.apply(db.session, access.actor(), g.practice, started, result,
                                form.stamp.data or "", only_valid=form.mode.data == "valid",
                                admin=current_user.role == "admin")
    except imports.PreviewChanged:
        flash(_("The clients have changed since this preview was made, so nothing was "
                "imported. Check the preview below and apply again."), "error")
        return _preview_page(started, result,
                             ImportApplyForm(formdata=None, stamp=result.stamp), 409)
    except imports.ImportRefused as refusal:
        flash(refusal.message, "error")
        return _preview_page(started, result, form, 422)
    if outcome is None:  # the worker does it; the import's page shows how far it is
        return done("clients.import_mapping", import_id=started.id)
    flash(_("Imported: %(created)d new clients, %(updated)d updated, %(contacts)d contact "
            "persons added.", created=outcome.created, updated=outcome.updated,
            contacts=outcome.contacts), "success")
    return done("clients.import_mapping", import_id=started.id)


@bp.get("/office/clients/import/<int:import_id>/refused.csv")
@access.staff()
def import_refused(import_id: int):  # type: ignore[no-untyped-def]
    """The refused rows with line and reason, to correct the file."""
    started = access.client_import_for_staff(current_user, import_id)
    if started.state not in PREVIEWABLE:
        rows = (started.result or {}).get("refused_rows", [])
    else:
        rows = [[r.line, r.number, r.name, " ".join(r.problems)]
                for r in _preview(started).rows if r.kind == "refused"]
    response = make_response(imports.refused_csv(rows))
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = \
        f'attachment; filename="import-{started.id}-refused.csv"'
    return response


# --- invitations -------------------------------------------------------------------------

def _invitations_page(form=None, status=200):  # type: ignore[no-untyped-def]
    g.nav_section = "clients.index"
    found = invitations.preview(db.session, current_user.practice_id)
    page = invitations.standing(db.session, current_user.practice_id,
                                request.args.get("page", 1, type=arg_int))
    return render("clients/invitations.html", preview=found, page=page,
                  form=form or InviteAllForm(formdata=None, stamp=found.stamp),
                  shown=invitations.NAMES_SHOWN, status=status)


@bp.get("/office/clients/invitations")
@access.staff()
def invitations_page():  # type: ignore[no-untyped-def]
    """Who of the portal clients has signed in, and inviting everyone who has not."""
    return _invitations_page()


@bp.post("/office/clients/invitations")
@access.staff()
def invite_all():  # type: ignore[no-untyped-def]
    form = InviteAllForm()
    if not form.validate_on_submit():
        return _invitations_page(form, 422)
    try:
        sent = invitations.invite_all(db.session, access.actor(), g.practice,
                                      form.stamp.data or "")
    except NotAllowed:
        flash(_("Someone signed in or was invited meanwhile, so nothing was sent. Check the "
                "list below and send again."), "error")
        return _invitations_page(status=409)
    flash(ngettext("%(num)d invitation is on its way.", "%(num)d invitations are on their way.",
                   sent), "success")
    return done("clients.invitations_page")
