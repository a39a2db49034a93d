"""Engagements in the back office: the morning overview, creating and updating them."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    request,
    url_for,
)
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from portal import access, clock, db
from portal.accounts import links
from portal.accounts.models import POSITIONS
from portal.clients import service as clients_service
from portal.clients import tiers
from portal.clients.models import STATUSES as CLIENT_STATUSES
from portal.clients.models import Client
from portal.clients.service import ClientFilter, Selection, SelectionChanged
from portal.documents import files
from portal.engagements import approvals, sealing, service
from portal.engagements import bulk_reports as bulk_reports_service
from portal.engagements.forms import (
    AdoptionForm,
    BulkEngagementForm,
    BulkReportsForm,
    BulkShareForm,
    DecisionForm,
    EngagementUpdateForm,
    MissingSignatureForm,
    RenewLinkForm,
    ReportForm,
    SealCertificateForm,
    ShareForm,
    VerifyForm,
)
from portal.engagements.models import (
    KINDS,
    SEAL_STATES,
    SHARE_MODES,
    SHARE_STATES,
    STATUSES,
    BulkEngagementBatch,
    Engagement,
    Share,
    Signer,
)
from portal.engagements.service import EngagementFilter, NotAllowed
from portal.i18n import translated
from portal.security import limiter
from portal.tenancy import hosts
from portal.web import arg_int, done, link_error_page, render

bp = Blueprint("engagements", __name__)


def _filter_from(args) -> EngagementFilter:  # type: ignore[no-untyped-def]
    return EngagementFilter(
        status=args.get("status") if args.get("status") in STATUSES else None,
        kind=args.get("kind") if args.get("kind") in KINDS else None,
        year=args.get("year", type=arg_int),
        tier=args.get("tier") if args.get("tier") in tiers.TIERS else None,
        responsible=args.get("responsible", type=arg_int),
        overdue=args.get("overdue") == "1",
    )


@bp.get("/office/engagements")
@access.staff()
def index():  # type: ignore[no-untyped-def]
    flt = _filter_from(request.args)
    today = clock.today()
    page = service.overview(db.session, current_user.practice_id, flt,
                            request.args.get("page", 1, type=arg_int), today)
    return render("engagements/index.html", page=page, flt=flt, today=today,
                  statuses=translated(STATUSES), kinds=translated(KINDS),
                  tier_labels=translated(tiers.LABELS),
                  staff=service.responsible_choices(db.session, current_user.practice_id),
                  years=range(today.year + 1, today.year - 6, -1))


def _detail(engagement, form=None, status=200, **work):  # type: ignore[no-untyped-def]
    g.nav_section = "engagements.index"
    if not work:
        return _work(engagement, form=form, status=status)
    if form is None:
        form = EngagementUpdateForm(formdata=None, obj=engagement,
                                    responsible_id=engagement.responsible_id or 0)
    form.for_engagement(engagement)
    form.responsible_id.choices = service.responsible_choices(db.session,
                                                              engagement.practice_id)
    return render("engagements/detail.html", engagement=engagement, form=form,
                  statuses=STATUSES, today=clock.today(), status=status, **work)


@bp.get("/office/engagements/<int:engagement_id>")
@access.staff()
def detail(engagement_id: int):  # type: ignore[no-untyped-def]
    return _detail(access.engagement_for_staff(current_user, engagement_id))


@bp.post("/office/engagements/<int:engagement_id>")
@access.staff()
def update(engagement_id: int):  # type: ignore[no-untyped-def]
    engagement = access.engagement_for_staff(current_user, engagement_id)
    form = EngagementUpdateForm()
    form.for_engagement(engagement)
    form.responsible_id.choices = service.responsible_choices(db.session,
                                                              engagement.practice_id)
    if not form.validate_on_submit():
        return _detail(engagement, form, 422)
    try:
        changed = service.update(db.session, access.actor(), engagement, {
            "status": form.status.data, "deadline": form.deadline.data,
            "responsible_id": form.responsible_id.data or None})
    except NotAllowed:
        form.status.errors.append(_("This status follows from sharing the report."))
        return _detail(engagement, form, 422)
    if changed:
        flash(_("The engagement has been saved."), "success")
    return done("engagements.detail", engagement_id=engagement.id)


# --- the same engagement for many clients ---------------------------------------------

def _client_selection(values) -> Selection | None:  # type: ignore[no-untyped-def]
    """The clients overview's selection: ticked clients, or all that match its filter."""
    selection = Selection.from_form(values)
    if selection is None or selection.matching is not None:
        return selection
    ids = tuple(i for i in selection.ids if i < 2**31)  # ids are INTEGER columns
    return Selection(ids=ids) if ids else None


def _selection_args(selection: Selection) -> dict[str, object]:
    if selection.matching is not None:
        return {"all_matching": "1", **selection.matching.args()}
    return {"client_id": list(selection.ids)}


def _bulk_form() -> BulkEngagementForm:
    form = BulkEngagementForm()
    form.responsible_id.choices = service.responsible_choices(db.session,
                                                              current_user.practice_id)
    return form


def _bulk_page(form, selection, *, status=200, preview=None):  # type: ignore[no-untyped-def]
    """The form, or (with `preview`) what it would do and the button that does it."""
    g.nav_section = "engagements.index"
    template = "engagements/bulk_preview.html" if preview else "engagements/bulk_new.html"
    selection_error = None
    if selection is None:
        selection_error = _("Tick one or more clients on the clients overview, or choose "
                            "all clients that match.")
    elif status == 422 and not form.errors:
        selection_error = _("No client matches this selection.")
    return render(template, form=form, selection=selection, preview=preview,
                  selection_args=_selection_args(selection) if selection else {},
                  selection_error=selection_error, kinds=KINDS,
                  client_statuses=translated(CLIENT_STATUSES),
                  tier_labels=translated(tiers.LABELS), status=status)


@bp.post("/office/engagements/bulk/selection")
@access.staff()
def bulk_select():  # type: ignore[no-untyped-def]
    """From the clients overview's selection to the form, by post/redirect/get."""
    selection = _client_selection(request.form)
    if selection is None:
        flash(_("Tick one or more clients, or all that match."), "error")
        return redirect(url_for("clients.index", **ClientFilter.from_args(request.form).args()),
                        303)
    return redirect(url_for("engagements.bulk_new", **_selection_args(selection)), 303)


@bp.get("/office/engagements/bulk")
@access.staff()
def bulk_new():  # type: ignore[no-untyped-def]
    selection = _client_selection(request.args) or Selection(
        matching=ClientFilter.from_args(request.args))
    form = BulkEngagementForm(formdata=None, year=clock.today().year - 1)
    form.responsible_id.choices = service.responsible_choices(db.session,
                                                              current_user.practice_id)
    return _bulk_page(form, selection)


@bp.post("/office/engagements/bulk")
@access.staff()
def bulk_preview():  # type: ignore[no-untyped-def]
    form = _bulk_form()
    selection = _client_selection(request.form)
    if request.form.get("change") == "1":  # back from the preview, with what was chosen
        return _bulk_page(form, selection)
    if not form.validate_on_submit() or selection is None:
        return _bulk_page(form, selection, status=422)
    preview = service.preview_many(db.session, current_user.practice_id, selection,
                                   form.work())
    if not preview.selected:
        return _bulk_page(form, selection, status=422)
    return _bulk_page(form, selection, preview=preview)


@bp.post("/office/engagements/bulk/apply")
@access.staff()
def bulk_apply():  # type: ignore[no-untyped-def]
    form = _bulk_form()
    selection = _client_selection(request.form)
    if not form.validate_on_submit() or selection is None:
        return _bulk_page(form, selection, status=422)
    work = form.work()
    try:
        outcome = service.confirm_many(db.session, access.actor(), selection, work,
                                       request.form.get("stamp", ""))
    except SelectionChanged:
        flash(_("The selection has changed since you checked it (a client was added, or "
                "given this engagement, meanwhile). Nothing has been created yet: check the "
                "figures below and confirm again."), "error")
        preview = service.preview_many(db.session, current_user.practice_id, selection,
                                       work)
        return _bulk_page(form, selection, preview=preview, status=409)
    if isinstance(outcome, BulkEngagementBatch):  # the worker makes them; its page shows how
        return done("engagements.bulk_batch", batch_id=outcome.id)
    created, skipped = outcome
    flash(ngettext("%(num)d engagement created, %(skipped)d skipped.",
                   "%(num)d engagements created, %(skipped)d skipped.", created,
                   skipped=skipped), "success")
    return done("engagements.index", kind=work.kind, year=work.year)


@bp.get("/office/engagements/bulk/<int:batch_id>")
@access.staff()
def bulk_batch(batch_id: int):  # type: ignore[no-untyped-def]
    """Engagements for many clients made by the worker: how far it is (an htmx poll gets
    only that block), then what was made and what was left out."""
    g.nav_section = "engagements.index"
    batch = access.engagement_batch_for_staff(current_user, batch_id)
    return render("engagements/bulk_batch.html", batch=batch)


@bp.get("/office/engagements/bulk/<int:batch_id>/left-out.csv")
@access.staff()
def bulk_left_out(batch_id: int):  # type: ignore[no-untyped-def]
    """The clients the batch left out, with the reason."""
    batch = access.engagement_batch_for_staff(current_user, batch_id)
    response = make_response(service.left_out_csv(batch.result.get("left_out", [])))
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = \
        f'attachment; filename="engagements-{batch.id}-left-out.csv"'
    return response


# --- reports and sharing (staff) -----------------------------------------------------

def _signer_choices(contacts):  # type: ignore[no-untyped-def]
    """Contact persons to choose from, with their office where it has one."""
    return [(user.id, f"{user.name} <{user.email}>" + (
        f" · {POSITIONS[m.position]}" if m.position in POSITIONS else ""))
        for m, user in contacts]


def _work(engagement, **forms):  # type: ignore[no-untyped-def]
    """The engagement page with its reports, shares and forms."""
    g.nav_section = "engagements.index"
    client = engagement.client
    contacts = clients_service.contacts(db.session, client)
    share_form = forms.pop("share_form", None) or ShareForm(formdata=None)
    share_form.signers.choices = _signer_choices(contacts)
    if share_form.signers.data is None and not forms.get("keep_signers"):
        share_form.signers.data = approvals.proposed_signers(engagement, contacts)
    update_form = forms.pop("form", None)
    return _detail(engagement, update_form, forms.pop("status", 200),
                   versions=approvals.versions(db.session, engagement),
                   shares=approvals.shares_of(db.session, engagement),
                   seals=sealing.of_engagement(db.session, engagement.id),
                   seal_states=SEAL_STATES, positions=POSITIONS,
                   adoption_form=forms.pop("adoption_form", None) or AdoptionForm(formdata=None),
                   report_form=forms.pop("report_form", None) or ReportForm(formdata=None),
                   share_form=share_form, may_share=tiers.has(client, "share_reports"),
                   has_portal=tiers.has(client, "portal"), share_states=SHARE_STATES,
                   share_modes=SHARE_MODES, **forms)


@bp.post("/office/engagements/<int:engagement_id>/reports")
@access.staff()
def upload_report(engagement_id: int):  # type: ignore[no-untyped-def]
    engagement = access.engagement_for_staff(current_user, engagement_id)
    form = ReportForm()
    if form.validate_on_submit():
        upload = form.report.data
        try:
            version = approvals.upload_report(
                db.session, access.actor(), files.storage(), engagement, upload.stream,
                upload.filename or "report.pdf",
                current_app.config["REPORT_MAX_MB"] * 1024 * 1024)
        except approvals.ApprovalError as refusal:
            form.report.errors.append(_refusal(refusal))
        else:
            flash(_("Version %(number)d of the report is in place.", number=version.number),
                  "success")
            return done("engagements.detail", engagement_id=engagement.id)
    return _work(engagement, report_form=form, status=422)


@bp.get("/office/engagements/<int:engagement_id>/reports/<int:version_id>")
@access.staff()
def download_report(engagement_id: int, version_id: int):  # type: ignore[no-untyped-def]
    engagement = access.engagement_for_staff(current_user, engagement_id)
    version = access.version_for_staff(current_user, engagement, version_id)
    return _send_report(version, inline=request.args.get("inline") == "1")


def _send_report(version, *, inline: bool, share=None):  # type: ignore[no-untyped-def]
    """The report version; of an approval that is sealed, the sealed PDF (approval pages and
    seal included), which is what the client keeps."""
    sealed = sealing.sealed_of(db.session, share.id) if share is not None else None
    if sealed is not None:
        return files.send_stored(sealed.storage_key, size=sealed.size, sha256=sealed.sha256,
                                 filename=sealing.sealed_filename(version.filename),
                                 mimetype=approvals.PDF, inline=inline)
    return files.send_stored(version.storage_key, size=version.size, sha256=version.sha256,
                             filename=version.filename, mimetype=approvals.PDF, inline=inline)


@bp.get("/office/engagements/<int:engagement_id>/shares/<int:share_id>/sealed.pdf")
@access.staff()
def sealed_report(engagement_id: int, share_id: int):  # type: ignore[no-untyped-def]
    engagement = access.engagement_for_staff(current_user, engagement_id)
    found = access.share_for_staff(current_user, engagement, share_id)
    if sealing.sealed_of(db.session, found.id) is None:
        abort(404)
    return _send_report(found.version, inline=request.args.get("inline") == "1", share=found)


@bp.post("/office/engagements/<int:engagement_id>/shares")
@access.staff()
def share(engagement_id: int):  # type: ignore[no-untyped-def]
    engagement = access.engagement_for_staff(current_user, engagement_id)
    client = engagement.client
    contacts = clients_service.contacts(db.session, client)
    form = ShareForm()
    form.signers.choices = _signer_choices(contacts)
    if form.validate_on_submit():
        chosen = [approvals.SignerChoice(user.email, user.name, user.id)
                  for _m, user in contacts if user.id in (form.signers.data or [])]
        chosen += [approvals.SignerChoice(address) for address in form.extra_addresses()]
        deadline = clock.end_of_day(form.deadline.data) \
            if form.mode.data == "approval" and form.deadline.data else None
        try:
            approvals.share_report(db.session, access.actor(), g.practice, engagement, client,
                                   mode=form.mode.data, signers=chosen, deadline=deadline,
                                   message=(form.message.data or "").strip() or None)
        except approvals.ApprovalError as refusal:
            form.signers.errors.append(_refusal(refusal))
        else:
            flash(ngettext("The report is on its way to %(num)d person.",
                           "The report is on its way to %(num)d people.", len(chosen)),
                  "success")
            return done("engagements.detail", engagement_id=engagement.id)
    return _work(engagement, share_form=form, keep_signers=True, status=422)


@bp.post("/office/engagements/<int:engagement_id>/shares/<int:share_id>/withdraw")
@access.staff()
def withdraw(engagement_id: int, share_id: int):  # type: ignore[no-untyped-def]
    engagement = access.engagement_for_staff(current_user, engagement_id)
    found = access.share_for_staff(current_user, engagement, share_id)
    if approvals.withdraw(db.session, access.actor(), found):
        flash(_("The share is withdrawn; its links no longer work."), "success")
    else:
        flash(_("The client decided before the share could be withdrawn."), "warning")
    return done("engagements.detail", engagement_id=engagement.id)


@bp.post("/office/engagements/<int:engagement_id>/shares/<int:share_id>/signers/"
         "<int:signer_id>/missing")
@access.staff()
def signature_missing(engagement_id: int, share_id: int, signer_id: int):  # type: ignore[no-untyped-def]
    """Staff state why a signer will not sign; the approval record shows it."""
    engagement = access.engagement_for_staff(current_user, engagement_id)
    found = access.share_for_staff(current_user, engagement, share_id)
    form = MissingSignatureForm()
    if not form.validate_on_submit():
        flash(_("Say why this signature is missing: the record states the reason."),
              "error")
        return done("engagements.detail", engagement_id=engagement.id)
    try:
        approvals.record_missing(db.session, access.actor(), g.practice, found, signer_id,
                                 form.reason.data)
    except approvals.ApprovalError as refusal:
        flash(_("This signer decided already.") if refusal.reason == "decided" else
              _refusal(refusal), "warning")
    else:
        flash(_("The missing signature and its reason are recorded."), "success")
    return done("engagements.detail", engagement_id=engagement.id)


@bp.post("/office/engagements/<int:engagement_id>/adoption")
@access.staff()
def adoption(engagement_id: int):  # type: ignore[no-untyped-def]
    """The general meeting adopted the approved annual accounts (a BV's or NV's step after
    the directors signed)."""
    engagement = access.engagement_for_staff(current_user, engagement_id)
    form = AdoptionForm()
    if form.validate_on_submit():
        approved = approvals.approved_on(db.session, engagement)
        try:
            service.record_adoption(db.session, access.actor(), engagement,
                                    form.adopted_on.data, approved)
        except NotAllowed as refusal:
            form.adopted_on.errors.append(
                _("Only approved annual accounts are adopted.") if str(refusal) ==
                "not_approved" else _("The date lies between the approval (%(day)s) and "
                                      "today.", day=format_date(approved, "medium") if
                                      approved else "-"))
        else:
            flash(_("The adoption is recorded."), "success")
            return done("engagements.detail", engagement_id=engagement.id)
    return _work(engagement, adoption_form=form, status=422)


@bp.get("/office/engagements/<int:engagement_id>/shares/<int:share_id>/record")
@access.staff()
def approval_record(engagement_id: int, share_id: int):  # type: ignore[no-untyped-def]
    engagement = access.engagement_for_staff(current_user, engagement_id)
    found = access.share_for_staff(current_user, engagement, share_id)
    g.nav_section = "engagements.index"
    return render("engagements/approval_record.html", engagement=engagement, share=found,
                  positions=POSITIONS,
                  share_states=SHARE_STATES, printed_at=clock.now())


def _refusal(refusal: approvals.ApprovalError) -> str:
    messages = {
        "not_pdf": _("This file is not a PDF. Save the report as PDF and upload that."),
        "too_large": _("The file is larger than %(mb)s MB.",
                       mb=refusal.facts.get("megabytes", "")),
        "empty": _("The file is empty."),
        "tier": _("This client's tier has no digital sharing. Download the report and send "
                  "it, or move the client to Collaborate."),
        "no_signers": _("Choose at least one person to receive the report."),
        "deadline": _("Choose a deadline after today."),
        "no_version": _("Upload the report first."),
        "inactive": _("This client is blocked or the collaboration has ended: nothing can be "
                      "shared."),
    }
    return messages.get(refusal.reason, _("That did not work. Please reload the page."))


# --- the holder of a temporary link ---------------------------------------------------

@bp.get("/l/<token>")
@access.public
@limiter.limit("60 per minute")
def link_open(token: str):  # type: ignore[no-untyped-def]
    """The confirm page a link opens: it changes nothing (mail scanners open links)."""
    try:
        signer, found = approvals.check_link(db.session, token, practice_id=g.practice.id)
    except links.LinkError as error:
        return _link_failed(error, token)
    if not approvals._is_waiting(found, signer) and found.mode == "approval":
        return link_error_page("decided")
    engagement = db.session.get(Engagement, found.engagement_id)
    hosts.house_style(tiers.has(db.session.get(Client, found.client_id).tier, "house_style"))
    return render("engagements/link_confirm.html", token=token, engagement=engagement,
                  share=found, form=RenewLinkForm())


@bp.post("/l/<token>")
@access.public
@limiter.limit("30 per minute")
def link_use(token: str):  # type: ignore[no-untyped-def]
    try:
        signer = approvals.open_link(db.session, token, practice_id=g.practice.id,
                                     ip=request.remote_addr)
    except links.LinkError as error:
        return _link_failed(error, token)
    access.grant(signer.id)
    return redirect(url_for("engagements.link_task", signer_id=signer.id), 303)


def _link_failed(error: links.LinkError, token: str):  # type: ignore[no-untyped-def]
    """A friendly page that says what happened to the task; where it is still open, it
    offers a new link by mail."""
    reason, offer = error.reason, False
    if error.link is not None:
        signer = db.session.get(Signer, error.link.subject_id)
        found = db.session.get(Share, signer.share_id) if signer else None
        if found is not None and found.state in ("approved", "rejected"):
            reason = "decided"
        elif found is not None and found.state in ("withdrawn", "superseded"):
            reason = "revoked"
        elif found is not None:
            offer = approvals._is_waiting(found, signer)
    return link_error_page(reason, renew_token=token if offer else None,
                           renew_form=RenewLinkForm())


@bp.post("/l/new-link")
@access.public
@limiter.limit("5 per 15 minutes")
def link_renew():  # type: ignore[no-untyped-def]
    form = RenewLinkForm()
    if form.validate_on_submit() and form.token.data:
        approvals.renew_link(db.session, form.token.data, practice=g.practice)
    # The same answer whatever happened: a link tells no one whether an address exists.
    return render("engagements/link_renewed.html")


def _task_page(signer, found, engagement, client, *, form=None, status=200,  # type: ignore[no-untyped-def]
               portal: bool = False):
    if portal:
        place = {"client_id": client.id, "share_id": found.id}
        report_url = url_for("engagements.portal_report", **place)
        decide_url = url_for("engagements.portal_decide", **place)
    else:
        report_url = url_for("engagements.link_report", signer_id=signer.id)
        decide_url = url_for("engagements.link_decide", signer_id=signer.id)
        hosts.house_style(tiers.has(client.tier, "house_style"))
    return render("engagements/task.html", signer=signer, share=found, engagement=engagement,
                  client=client, form=form or DecisionForm(formdata=None), portal=portal,
                  status=status, share_states=SHARE_STATES, report_url=report_url,
                  decide_url=decide_url, may_view=_may_view(found, client, portal))


def _may_view(found: Share, client, portal: bool) -> bool:  # type: ignore[no-untyped-def]
    """A link gives sight of the report while its task is open; after approval only the
    portal keeps it, in the client's history."""
    if portal:
        return True
    return found.state == "open"


@bp.get("/task/<int:signer_id>")
@access.link_holder
def link_task(signer_id: int):  # type: ignore[no-untyped-def]
    signer, found, engagement, client = access.signer_for_link_holder(signer_id)
    return _task_page(signer, found, engagement, client)


@bp.get("/task/<int:signer_id>/report.pdf")
@access.link_holder
def link_report(signer_id: int):  # type: ignore[no-untyped-def]
    _signer, found, _engagement, client = access.signer_for_link_holder(signer_id)
    if not _may_view(found, client, portal=False):
        abort(404)
    return _send_report(found.version, inline=request.args.get("download") != "1",
                        share=found)


@bp.post("/task/<int:signer_id>/decide")
@access.link_holder
def link_decide(signer_id: int):  # type: ignore[no-untyped-def]
    signer, found, engagement, client = access.signer_for_link_holder(signer_id)
    decider = approvals.Decider(label=signer.email, through="link", ip=request.remote_addr,
                                user_agent=request.user_agent.string)
    return _decide(signer, found, engagement, client, decider, "engagements.link_task",
                   {"signer_id": signer.id}, portal=False)


def _decide(signer, found, engagement, client, decider, endpoint, values, *,  # type: ignore[no-untyped-def]
            portal: bool):
    form = DecisionForm()
    decision = form.decision.data
    valid = form.validate_on_submit()
    if valid and decision == "rejected" and not (form.comment.data or "").strip():
        form.comment.errors.append(_("Say what should change, so your accountant can help."))
    elif valid and decision in ("approved", "rejected"):
        try:
            approvals.decide(db.session, g.practice, signer.id, decision,
                             (form.comment.data or "").strip() or None, decider)
        except approvals.ApprovalError as refusal:
            flash(_("Someone decided on this report just before you, or it was withdrawn; "
                    "see its state below.") if refusal.reason in ("closed", "decided")
                  else _("That did not work. Please reload the page."), "warning")
        else:
            flash(_("Thank you. Your approval is recorded; a confirmation is on its way by "
                    "mail.") if decision == "approved" else
                  _("Your answer is recorded; your accountant will contact you."), "success")
        return done(endpoint, **values)
    return _task_page(signer, found, engagement, client, form=form, status=422,
                      portal=portal)


# --- the same task in the portal ------------------------------------------------------

@bp.get("/c/<int:client_id>/approvals/<int:share_id>")
@access.client_user
def portal_task(client_id: int, share_id: int):  # type: ignore[no-untyped-def]
    found, signer, engagement, client = access.share_for_member(current_user, client_id,
                                                                share_id)
    return _task_page(signer, found, engagement, client, portal=True)


@bp.get("/c/<int:client_id>/approvals/<int:share_id>/report.pdf")
@access.client_user
def portal_report(client_id: int, share_id: int):  # type: ignore[no-untyped-def]
    found, _signer, _engagement, _client = access.share_for_member(current_user, client_id,
                                                                   share_id)
    return _send_report(found.version, inline=request.args.get("download") != "1",
                        share=found)


@bp.post("/c/<int:client_id>/approvals/<int:share_id>/decide")
@access.client_user
def portal_decide(client_id: int, share_id: int):  # type: ignore[no-untyped-def]
    found, signer, engagement, client = access.share_for_member(current_user, client_id,
                                                                share_id)
    if signer is None:
        abort(404)  # a colleague at the company may look, not decide for someone else
    access.require_active(client)
    decider = approvals.Decider(label=current_user.email, through="portal",
                                ip=request.remote_addr, user_agent=request.user_agent.string,
                                client_user_id=current_user.id)
    return _decide(signer, found, engagement, client, decider, "engagements.portal_task",
                   {"client_id": client.id, "share_id": found.id}, portal=True)


# --- reports in bulk (staff) ---------------------------------------------------------------

@bp.route("/office/reports/bulk", methods=["GET", "POST"])
@access.staff()
def bulk_reports():  # type: ignore[no-untyped-def]
    """Step 1: drop the season's PDFs and say which engagements they are for."""
    g.nav_section = "engagements.index"
    form = BulkReportsForm()
    if request.method == "GET":
        form = BulkReportsForm(formdata=None, year=clock.today().year - 1)
    elif form.validate_on_submit():
        uploads = [(f.filename or "report.pdf", f.stream) for f in form.reports.data
                   if getattr(f, "filename", "")]
        try:
            batch = bulk_reports_service.stage(
                db.session, access.actor(), files.storage(), kind=form.kind.data,
                year=form.year.data, pattern=form.pattern.data, files=uploads,
                max_bytes=current_app.config["REPORT_MAX_MB"] * 1024 * 1024)
        except bulk_reports_service.BadPattern as refusal:
            form.pattern.errors.append(refusal.message)
        except bulk_reports_service.BulkRefused as refusal:
            form.reports.errors.append(refusal.message)
        else:
            return done("engagements.bulk_reports_preview", batch_id=batch.id)
    return render("engagements/bulk_reports.html", form=form,
                  max_files=bulk_reports_service.MAX_FILES,
                  status=422 if request.method == "POST" else 200)


def _bulk_reports_page(batch, form, status=200):  # type: ignore[no-untyped-def]
    g.nav_section = "engagements.index"
    found = bulk_reports_service.preview(db.session, batch) if batch.state == "staged" \
        else None
    if form is None and found is not None:
        form = BulkShareForm(formdata=None, stamp=found.stamp)
    return render("engagements/bulk_reports_preview.html", batch=batch, preview=found,
                  form=form, kinds=KINDS, shown=bulk_reports_service.SHOWN, status=status)


@bp.get("/office/reports/bulk/<int:batch_id>")
@access.staff()
def bulk_reports_preview(batch_id: int):  # type: ignore[no-untyped-def]
    """Step 2: each file with its engagement, or why it has none; then store (and share)."""
    batch = access.report_batch_for_staff(current_user, batch_id)
    return _bulk_reports_page(batch, None)


@bp.post("/office/reports/bulk/<int:batch_id>")
@access.staff()
def bulk_reports_apply(batch_id: int):  # type: ignore[no-untyped-def]
    batch = access.report_batch_for_staff(current_user, batch_id)
    form = BulkShareForm()
    if batch.state != "staged":
        return redirect(url_for("engagements.bulk_reports_preview", batch_id=batch.id), 303)
    if not form.validate_on_submit():
        return _bulk_reports_page(batch, form, 422)
    found = bulk_reports_service.preview(db.session, batch)
    share = None if form.share.data == "none" else form.share.data
    try:
        outcome = bulk_reports_service.confirm(
            db.session, access.actor(), g.practice, files.storage(), batch, found,
            form.stamp.data or "", share=share,
            deadline=clock.end_of_day(form.deadline.data)
            if share == "approval" and form.deadline.data else None,
            message=(form.message.data or "").strip() or None)
    except approvals.ApprovalError as refusal:
        if refusal.reason == "changed":
            flash(_("The engagements or reports changed since this page was made, so nothing "
                    "was stored. Check the list and confirm again."), "error")
            return _bulk_reports_page(batch, None, 409)
        form.deadline.errors.append(_refusal(refusal))
        return _bulk_reports_page(batch, form, 422)
    except bulk_reports_service.BulkRefused as refusal:
        flash(refusal.message, "error")
        return _bulk_reports_page(batch, form, 422)
    if outcome is None:  # the worker does it; the page shows how far it is
        return done("engagements.bulk_reports_preview", batch_id=batch.id)
    flash(_("%(stored)d reports stored, %(shared)d shared.", stored=outcome.stored,
            shared=outcome.shared), "success")
    return done("engagements.bulk_reports_preview", batch_id=batch.id)


# --- checking a sealed file -------------------------------------------------------------------

@bp.route("/verify", methods=["GET", "POST"])
@access.public
@limiter.limit("30 per minute", methods=["POST"])
def verify():  # type: ignore[no-untyped-def]
    """Anyone who holds a PDF may ask whether this practice sealed it; the answer says
    nothing about a file the practice did not seal."""
    form = VerifyForm()
    verdict = None
    if form.validate_on_submit():
        limit = current_app.config["REPORT_MAX_MB"] * 1024 * 1024
        data = form.document.data.stream.read(limit + 1)
        if len(data) > limit:
            form.document.errors.append(_("That file is larger than %(megabytes)d MB.",
                                          megabytes=current_app.config["REPORT_MAX_MB"]))
        else:
            verdict = sealing.verify(db.session, g.practice.id, data)
    status = 422 if form.errors else 200
    return render("engagements/verify.html", form=form, verdict=verdict), status


@bp.get("/verify/<token>")
@access.public
@limiter.limit("60 per minute")
def verify_record(token: str):  # type: ignore[no-untyped-def]
    """The address in a sealed file's QR code: its record, for whoever holds the file."""
    verdict = sealing.by_token(db.session, g.practice.id, token)
    status = 404 if verdict.outcome == "unknown" else 200
    return render("engagements/verify.html", form=VerifyForm(), verdict=verdict), status


# --- the practice's seal (admins) -------------------------------------------------------------

@bp.route("/office/settings/seal", methods=["GET", "POST"])
@access.staff(role="admin")
def seal_settings():  # type: ignore[no-untyped-def]
    """Which certificate seals approved reports, its fingerprints to give a checker, and
    the practice's own certificate instead of the one made for it."""
    g.nav_section = "tenancy.settings"
    form = SealCertificateForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                sealing.install_pkcs12(db.session, access.actor(), g.practice,
                                       form.certificate.data.read(256 * 1024),
                                       form.password.data or "")
            except sealing.CertificateRefused as refused:
                form.certificate.errors.append(str(refused))
            else:
                flash(_("Approved reports are sealed with this certificate from now on."),
                      "success")
                return done("engagements.seal_settings")
        status = 422
    active = sealing.active_certificate(db.session, g.practice.id)
    return render("engagements/seal_settings.html", form=form, active=active,
                  valid_until=sealing.valid_until(active) if active else None), status


@bp.get("/office/settings/seal/chain.pem")
@access.staff(role="admin")
def seal_chain():  # type: ignore[no-untyped-def]
    """The seal's issuers up to its root: what a validator (or Acrobat) is told to trust."""
    active = sealing.active_certificate(db.session, g.practice.id)
    if active is None:
        abort(404)
    response = make_response(active.chain)
    response.headers["Content-Type"] = "application/x-pem-file"
    response.headers["Content-Disposition"] = 'attachment; filename="seal-root.pem"'
    return response
