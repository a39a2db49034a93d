"""Document exchange pages: the client's documents in the portal, the client's documents
in the back office, and downloads. Views read the request and call the service."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from portal import access, clock, db
from portal.clients import service as clients_service
from portal.clients import tiers
from portal.documents import files, service
from portal.documents.filetypes import Refusal
from portal.documents.forms import NONE, ClientUploadForm, DocumentForm, RequestForm, ShareForm
from portal.documents.models import DIRECTIONS, FROM_CLIENT, REQUEST_STATES
from portal.documents.service import DocumentError, Incoming
from portal.engagements import service as engagements
from portal.web import arg_int, done, error_response, render

bp = Blueprint("documents", __name__)
MB = 1024 * 1024


def _limits() -> dict[str, int]:
    config = current_app.config
    return {"file_mb": config["UPLOAD_MAX_MB"],
            "request_mb": (config["MAX_CONTENT_LENGTH"] or 0) // MB}


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> Response:
    """The whole request was over the limit: refused before a byte was stored."""
    limits = _limits()
    return error_response(413, _(
        "Together these files are larger than the %(request_mb)d MB this portal accepts at "
        "once (at most %(file_mb)d MB per file). Nothing was stored: please send them in "
        "smaller groups.", **limits))


@bp.app_template_global("has_documents")
def has_documents(client: Any) -> bool:
    """For the portal's navigation: whether this company exchanges documents."""
    return tiers.has(client, "documents")


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    from flask_babel import format_decimal

    if size < 1024:
        return ngettext("%(num)d byte", "%(num)d bytes", size)
    if size < MB:
        return _("%(size)s KB", size=format_decimal(round(size / 1024)))
    return _("%(size)s MB", size=format_decimal(round(size / MB, 1)))


def _incoming(form: Any) -> list[Incoming]:
    return [Incoming(upload.stream, upload.filename) for upload in form.files.data]


def refusal_text(refusal: Refusal) -> str:
    """Every refusal names the file and says why."""
    name, facts = refusal.filename, refusal.facts
    extension = facts.get("extension", "")
    texts = {
        "empty": _("“%(name)s” is empty.", name=name),
        "too_large": _("“%(name)s” is larger than %(mb)d MB.", name=name,
                       mb=facts.get("megabytes", 0)),
        "no_extension": _("“%(name)s” has no extension such as .pdf, so its type is "
                          "unknown.", name=name),
        "type": _("“%(name)s”: files of type .%(ext)s are not accepted. Send PDF, images "
                  "(PNG, JPEG, GIF, WebP, HEIC), Word, Excel, PowerPoint, OpenDocument, CSV, "
                  "text or ZIP files.", name=name, ext=extension),
        "mismatch": _("“%(name)s” is not a .%(ext)s file inside: its content does not match "
                      "its name. Save or export it again as .%(ext)s.", name=name,
                      ext=extension),
        "not_text": _("“%(name)s” is not a text file (it holds binary data), so it cannot be "
                      "a .%(ext)s file.", name=name, ext=extension),
    }
    return texts.get(refusal.reason, _("“%(name)s” was not accepted.", name=name))


def _report(result: service.Batch, form: Any, *, received: str) -> bool:
    """Flash what was received; put each refused file on the form. True when all went."""
    if result.documents:
        flash(ngettext("%(num)d file received.", "%(num)d files received.",
                       len(result.documents)) + " " + received, "success")
    form.files.errors = [refusal_text(r) for r in result.refused]
    return not result.refused


# --- the portal ----------------------------------------------------------------------------

def _company(client_id: int):  # type: ignore[no-untyped-def]
    g.company = access.documents_company_for_member(current_user, client_id)
    return g.company


def _choices(form: Any, client: Any, requests: list[Any]) -> list[Any]:
    work = engagements.of_client(db.session, client)
    form.engagement_id.choices = [(NONE, _("No particular engagement"))] + [
        (e.id, e.label) for e in work]
    if hasattr(form, "request_id"):
        form.request_id.choices = [(NONE, _("None"))] + [(r.id, r.title) for r in requests]
    return work


def _portal_page(client, form=None, status=200):  # type: ignore[no-untyped-def]
    requests = service.open_requests(db.session, client)
    if form is None:
        wanted = request.args.get("request", type=arg_int)
        form = ClientUploadForm(formdata=None, request_id=wanted if wanted in {
            r.id for r in requests} else NONE)
    _choices(form, client, requests)
    view = service.folders(db.session, client, viewer_id=current_user.id,
                           year=request.args.get("year", type=arg_int),
                           page=request.args.get("page", 1, type=arg_int))
    return render("documents/portal.html", client=client, form=form, requests=requests,
                  view=view, directions=DIRECTIONS, from_client=FROM_CLIENT,
                  limits=_limits(), status=status)


@bp.get("/c/<int:client_id>/documents")
@access.client_user
def portal_index(client_id: int):  # type: ignore[no-untyped-def]
    return _portal_page(_company(client_id))


@bp.post("/c/<int:client_id>/documents")
@access.client_user
def portal_upload(client_id: int):  # type: ignore[no-untyped-def]
    client = _company(client_id)
    requests = service.open_requests(db.session, client)
    form = ClientUploadForm()
    work = _choices(form, client, requests)
    if not form.validate_on_submit():
        return _portal_page(client, form, 422)
    result = service.upload_from_client(
        db.session, access.actor(), files.storage(), g.practice, client, _incoming(form),
        max_bytes=current_app.config["UPLOAD_MAX_MB"] * MB,
        engagement=next((e for e in work if e.id == form.engagement_id.data), None),
        request=next((r for r in requests if r.id == form.request_id.data), None),
        note=(form.note.data or "").strip() or None)
    if _report(result, form, received=_("Your accountant has been told.")):
        return done("documents.portal_index", client_id=client.id,
                    year=result.documents[0].year)
    return _portal_page(client, form, 422)


@bp.get("/c/<int:client_id>/documents/<int:document_id>/download")
@access.client_user
def portal_download(client_id: int, document_id: int):  # type: ignore[no-untyped-def]
    client = _company(client_id)
    return _send(access.document_for_member(current_user, client, document_id))


def _send(document) -> Response:  # type: ignore[no-untyped-def]
    """Always an attachment: a document is the client's or the practice's file, never a
    page of ours."""
    return files.send_stored(document.storage_key, size=document.size,
                             sha256=document.sha256, filename=document.name,
                             mimetype=document.mime)


# --- the back office -----------------------------------------------------------------------

def _office_page(client, *, share_form=None, request_form=None, status=200):  # type: ignore[no-untyped-def]
    g.nav_section = "clients.index"
    share_form = share_form or ShareForm(formdata=None, year=clock.today().year)
    request_form = request_form or RequestForm(formdata=None)
    contacts = clients_service.contacts(db.session, client)
    work = _choices(share_form, client, [])
    request_form.engagement_id.choices = share_form.engagement_id.choices
    share_form.recipients.choices = [(user.id, f"{user.name} <{user.email}>")
                                     for _m, user in contacts]
    view = service.folders(db.session, client, year=request.args.get("year", type=arg_int),
                           page=request.args.get("page", 1, type=arg_int))
    return render("documents/office.html", client=client, share_form=share_form,
                  request_form=request_form, view=view, engagements=work,
                  requests=service.recent_requests(db.session, client),
                  removed=service.deleted(db.session, client), directions=DIRECTIONS,
                  from_client=FROM_CLIENT, request_states=REQUEST_STATES,
                  may_exchange=service.may_exchange(client), has_contacts=bool(contacts),
                  limits=_limits(), office=True, status=status)


@bp.get("/office/clients/<int:client_id>/documents")
@access.staff()
def office_index(client_id: int):  # type: ignore[no-untyped-def]
    return _office_page(access.client_for_staff(current_user, client_id))


@bp.post("/office/clients/<int:client_id>/documents")
@access.staff()
def office_upload(client_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    form = ShareForm()
    work = _choices(form, client, [])
    form.recipients.choices = [(user.id, user.email) for _m, user in
                               clients_service.contacts(db.session, client)]
    if not form.validate_on_submit():
        return _office_page(client, share_form=form, status=422)
    try:
        result = service.share_with_client(
            db.session, access.actor(), files.storage(), g.practice, client, _incoming(form),
            max_bytes=current_app.config["UPLOAD_MAX_MB"] * MB, audience=form.audience.data,
            chosen=form.recipients.data or [], year=form.year.data,
            engagement=next((e for e in work if e.id == form.engagement_id.data), None),
            message=(form.message.data or "").strip() or None)
    except DocumentError as refusal:
        form.files.errors = [_error_text(refusal)]
        return _office_page(client, share_form=form, status=422)
    if _report(result, form, received=_("The contact persons get a mail.")):
        return done("documents.office_index", client_id=client.id,
                    year=result.documents[0].year)
    return _office_page(client, share_form=form, status=422)


def _error_text(refusal: DocumentError) -> str:
    return {
        "tier": _("This client's tier does not include exchanging documents."),
        "inactive": _("This client is blocked or its collaboration has ended: nothing new "
                      "can be shared or asked for."),
        "no_recipients": _("Choose at least one contact person."),
        "deadline": _("Choose a deadline after today."),
    }.get(refusal.reason, _("That did not work. Please reload the page."))


@bp.post("/office/clients/<int:client_id>/documents/requests")
@access.staff()
def office_request(client_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    form = RequestForm()
    work = _choices(form, client, [])
    if not form.validate_on_submit():
        return _office_page(client, request_form=form, status=422)
    try:
        service.request_documents(
            db.session, access.actor(), g.practice, client, title=form.title.data.strip(),
            deadline=form.deadline.data, message=(form.message.data or "").strip() or None,
            engagement=next((e for e in work if e.id == form.engagement_id.data), None))
    except DocumentError as refusal:
        form.deadline.errors = [_error_text(refusal)]
        return _office_page(client, request_form=form, status=422)
    flash(_("The request is on its way to %(client)s.", client=client.name), "success")
    return done("documents.office_index", client_id=client.id)


@bp.post("/office/clients/<int:client_id>/documents/requests/<int:request_id>/cancel")
@access.staff()
def office_cancel_request(client_id: int, request_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    found = access.document_request_for_staff(current_user, client, request_id)
    if service.cancel_request(db.session, access.actor(), found):
        flash(_("The request is cancelled."), "success")
    else:
        flash(_("The request was already closed."), "warning")
    return done("documents.office_index", client_id=client.id)


def _document_page(client, document, form=None, status=200):  # type: ignore[no-untyped-def]
    g.nav_section = "clients.index"
    if form is None:
        form = DocumentForm(formdata=None, name=document.name, year=document.year,
                            engagement_id=document.engagement_id or NONE)
    _choices(form, client, [])
    return render("documents/office_document.html", client=client, document=document,
                  form=form, directions=DIRECTIONS, retention=service.RETENTION,
                  status=status)


@bp.get("/office/clients/<int:client_id>/documents/<int:document_id>")
@access.staff()
def office_document(client_id: int, document_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    return _document_page(client, access.document_for_staff(current_user, client, document_id,
                                                            deleted=True))


@bp.post("/office/clients/<int:client_id>/documents/<int:document_id>")
@access.staff()
def office_update(client_id: int, document_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    document = access.document_for_staff(current_user, client, document_id)
    form = DocumentForm()
    work = _choices(form, client, [])
    if not form.validate_on_submit():
        return _document_page(client, document, form, 422)
    changed = service.update_document(
        db.session, access.actor(), document, name=form.name.data, year=form.year.data,
        engagement=next((e for e in work if e.id == form.engagement_id.data), None))
    if changed:
        flash(_("The document has been saved."), "success")
    return done("documents.office_document", client_id=client.id, document_id=document.id)


@bp.post("/office/clients/<int:client_id>/documents/<int:document_id>/delete")
@access.staff()
def office_delete(client_id: int, document_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    document = access.document_for_staff(current_user, client, document_id)
    service.delete_document(db.session, access.actor(), document)
    flash(_("“%(name)s” is deleted. It can be restored for %(days)d days.",
            name=document.name, days=service.RETENTION.days), "success")
    return done("documents.office_index", client_id=client.id)


@bp.post("/office/clients/<int:client_id>/documents/<int:document_id>/restore")
@access.staff()
def office_restore(client_id: int, document_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    document = access.document_for_staff(current_user, client, document_id, deleted=True)
    if service.restore_document(db.session, access.actor(), document):
        flash(_("“%(name)s” is back.", name=document.name), "success")
    else:
        flash(_("“%(name)s” cannot be restored any more.", name=document.name), "warning")
    return done("documents.office_document", client_id=client.id, document_id=document.id)


@bp.get("/office/clients/<int:client_id>/documents/<int:document_id>/download")
@access.staff()
def office_download(client_id: int, document_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    return _send(access.document_for_staff(current_user, client, document_id))
