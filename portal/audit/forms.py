"""The audit log page's filter: a plain GET form."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, StringField
from wtforms.validators import Length, Optional, ValidationError

from portal.audit.service import EventFilter
from portal.validators import Form, NumberRange


def _strip(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


class EventFilterForm(Form):
    class Meta:
        csrf = False  # a GET form that changes nothing

    action = StringField(_l("Action"), filters=[_strip], validators=[Length(max=60)],
                         description=_l("An action or its start: staff. finds every staff "
                                        "event."),
                         render_kw={"autocomplete": "off", "spellcheck": "false"})
    actor = StringField(_l("Done by"), filters=[_strip], validators=[Length(max=254)],
                        description=_l("Part of the e-mail address."),
                        render_kw={"autocomplete": "off", "spellcheck": "false"})
    client = IntegerField(_l("Client id"),  # an id: an INTEGER column holds no more
                          validators=[Optional(), NumberRange(min=1, max=2**31 - 1)],
                          render_kw={"inputmode": "numeric"})
    since = DateField(_l("From date"), validators=[Optional()])
    until = DateField(_l("Up to and including"), validators=[Optional()])

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("This date lies before the first date."))

    def args(self) -> dict[str, str]:
        """The filter as it goes in a URL (for the page links): only what was given."""
        return {name: str(field.raw_data[0]) for name, field in self._fields.items()
                if field.raw_data and str(field.raw_data[0]).strip() and not field.errors}

    def event_filter(self) -> EventFilter:
        """The dates are days in the practice's time zone, the end day included."""
        zone = get_timezone()

        def start_of(day: date | None) -> datetime | None:
            return datetime.combine(day, time(), tzinfo=zone) if day else None

        return EventFilter(
            action=self.action.data if not self.action.errors else None,
            actor=self.actor.data if not self.actor.errors else None,
            client_id=self.client.data if not self.client.errors else None,
            since=start_of(self.since.data if not self.since.errors else None),
            until=start_of(self.until.data + timedelta(days=1)
                           if self.until.data and not self.until.errors else None))
