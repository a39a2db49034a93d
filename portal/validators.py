"""Form rules several features share."""

from __future__ import annotations

import math
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, ValidationError, validators
from wtforms.validators import Length, StopValidation

from portal import clock


def after_today(form: Any, field: Field) -> None:
    """A deadline is a day still to come in the Netherlands: one in the past would make every
    client late at once and put a date gone by in the mails."""
    if field.data is not None and field.data <= clock.today():
        raise ValidationError(_l("Choose a deadline after today."))


# WTForms' own words for Length, translated by its own catalogue (as Length's are).
_TOO_LONG = ("Field cannot be longer than %(max)d character.",
             "Field cannot be longer than %(max)d characters.")


class MaxLength(Length):
    """At most `max` characters of what was typed, and only that is said when there are more:
    the field's other rules (a pattern, say) are not run on text that cannot be right. For a
    field whose data is no longer text (a list of days) it measures the typed text."""

    def __init__(self, max: int, message: str | None = None) -> None:
        super().__init__(max=max, message=message)

    def __call__(self, form: Any, field: Field) -> None:
        text = field.data if isinstance(field.data, str) else \
            (str(field.raw_data[0]) if field.raw_data else "")
        if len(text) <= self.max:
            return
        message = self.message or field.ngettext(*_TOO_LONG, self.max)
        raise StopValidation(message % {"min": self.min, "max": self.max,
                                         "length": len(text)})


class NumberRange(validators.NumberRange):
    """WTForms' NumberRange, also for a whole number too big for a float ("9" * 400): WTForms
    asks math.isnan of it, which overflows. Such a number is judged as infinity."""

    def __call__(self, form: Any, field: Field) -> None:
        try:
            super().__call__(form, field)
        except OverflowError:
            typed = field.data
            field.data = math.inf if typed > 0 else -math.inf
            try:
                super().__call__(form, field)
            finally:
                field.data = typed


def _without_nul(value: Any) -> Any:
    return value.replace("\x00", "") if isinstance(value, str) else value


class Form(FlaskForm):
    """Every form of the portal: typed text loses NUL characters first. Nobody types them,
    and PostgreSQL cannot store them in a text column (a 500 the fuzz test found).
    The CSRF field renders without an id: a page with several forms would repeat it."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            filters = (_without_nul, *unbound_field.kwargs.get("filters", ()))
            extra: dict[str, Any] = {}
            if options.get("name") == self.csrf_field_name:
                extra["render_kw"] = {"id": False, **unbound_field.kwargs.get("render_kw", {})}
            return unbound_field.bind(form=form, **{**options, "filters": filters, **extra})
