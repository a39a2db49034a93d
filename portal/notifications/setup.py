"""Wiring the mail machinery into an app: transport, template filter, the reminder sweep."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from portal.notifications import reminders, transport, worker

PLACEHOLDERS = ("client", "task", "deadline", "link")


def fill_placeholders(text: str, **values: object) -> str:
    """A practice's own reminder text with {client}, {task}, {deadline}, {link} filled in;
    anything else in braces stays as typed."""
    for name in PLACEHOLDERS:
        text = text.replace("{" + name + "}", str(values.get(name, "")))
    return text


def init_app(app: Flask) -> None:
    transport.init_app(app)
    app.jinja_env.filters["placeholders"] = fill_placeholders

    def reminder_sweep(session: Session) -> int:
        # Which tiers get reminders is the tier table's to say; create_app puts it in config.
        return reminders.sweep(session, app.extensions.get("portal.reminder_composers", {}),
                               tiers=app.config["REMINDER_TIERS"])

    worker.register_sweep(app, "reminders", reminder_sweep)
