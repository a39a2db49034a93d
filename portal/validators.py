"""Form rules several features share."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, ValidationError

from portal import clock


def after_today(form: Any, field: Field) -> None:
    """A deadline is a day still to come in the Netherlands: one in the past would make every
    client late at once and put a date gone by in the mails."""
    if field.data is not None and field.data <= clock.today():
        raise ValidationError(_l("Choose a date after today."))
