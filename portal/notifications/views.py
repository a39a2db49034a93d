"""Staff see mail problems at /office/mail; in development /dev/mail shows every mail sent."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, g, make_response, request
from flask_babel import gettext as _
from flask_login import current_user

from portal import access, db
from portal.notifications import service
from portal.notifications.transport import mail_folder
from portal.web import arg_int, done, render

bp = Blueprint("notifications", __name__)
PAGE_SIZE = 50


@bp.get("/office/mail")
@access.staff(role="admin")
def office_mail():  # type: ignore[no-untyped-def]
    page = max(request.args.get("page", 1, type=arg_int), 1)
    messages, total = service.problems(db.session, current_user.practice_id, limit=PAGE_SIZE,
                                       offset=(page - 1) * PAGE_SIZE)
    return render("notifications/office_mail.html", messages=messages, total=total, page=page,
                  pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1))


@bp.post("/office/mail/<int:message_id>/send-again")
@access.staff(role="admin")
def send_again(message_id: int):  # type: ignore[no-untyped-def]
    message = access.mail_for_staff(current_user, message_id)
    if service.send_again(db.session, access.actor(), message):
        flash(_("The mail to %(to)s goes out with the next pass.", to=message.recipient),
              "success")
    else:
        flash(_("That mail was already sent."), "info")
    return done("notifications.office_mail")


# --- development only ----------------------------------------------------------------

def _dev_messages() -> list[Path]:
    if not current_app.debug:
        abort(404)
    folder = mail_folder(current_app)
    prefix = f"p{g.practice.id}-"
    files = folder.glob(f"{prefix}*.eml") if folder.is_dir() else []
    return sorted(files, reverse=True)


@bp.get("/dev/mail")
@access.public
def dev_mail():  # type: ignore[no-untyped-def]
    messages = []
    for path in _dev_messages()[:200]:
        parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        text = parsed.get_body(("plain",))
        messages.append({
            "name": path.stem, "subject": parsed["Subject"], "to": parsed["To"],
            "date": parsed["Date"], "text": text.get_content() if text else "",
        })
    return render("notifications/dev_mail.html", messages=messages)


@bp.get("/dev/mail/<name>")
@access.public
def dev_mail_html(name: str):  # type: ignore[no-untyped-def]
    found = {p.stem: p for p in _dev_messages()}.get(name)
    if found is None:
        abort(404)
    parsed = email.message_from_bytes(found.read_bytes(), policy=policy.default)
    html = parsed.get_body(("html",))
    response = make_response(html.get_content() if html else "")
    # Mail HTML carries its own inline styles; it may show them, never run anything.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'none'")
    return response
