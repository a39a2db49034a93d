from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.insights.models import SERIES_KINDS
from portal.insights.service import KEY_LINES
from portal.validators import Form

CSV_ACCEPT = {"accept": ".csv,.txt,text/csv,text/plain"}


class KeyFiguresForm(Form):
    """One text field per line of `service.KEY_LINES` (added below), typed as in the annual
    accounts; amounts are read by `amounts.parse_amount`, Dutch or English."""

    year = HiddenField(validators=[Length(max=4)])
    action = HiddenField(validators=[Length(max=20)])


for _line in KEY_LINES:
    setattr(KeyFiguresForm, _line.field_name, StringField(
        _line.label, validators=[Optional(), Length(max=40)], description=_line.hint,
        render_kw={"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"}))


class TrialBalanceForm(Form):
    period = SelectField(_l("Period"), validators=[InputRequired()])
    upload = FileField(_l("Trial balance (CSV)"),
                       validators=[FileRequired(_l("Choose a CSV file."))], render_kw=CSV_ACCEPT)


class MappingForm(Form):
    """The codes chosen for unmapped accounts come as two lists, `account` and `code`, in
    the same order: account numbers may hold any character, so they are values, not names."""

    action = HiddenField(validators=[Length(max=20)])


class BlocksForm(Form):
    blocks = SelectMultipleField(_l("Show the client"), validate_choice=True,
                                 widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput())


class SeriesUploadForm(Form):
    upload = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))],
                       render_kw=CSV_ACCEPT)


NEW_SERIES = "new"


class SeriesMappingForm(Form):
    date_column = SelectField(_l("Column with the date or month"),
                              validators=[InputRequired()])
    amount_column = SelectField(_l("Column with the amount"), validators=[InputRequired()])
    series = SelectField(_l("Add these figures to"), validators=[InputRequired()])
    name = StringField(_l("Name of the new series"), validators=[Optional(), Length(max=80)],
                       description=_l("For example “Till”, “Webshop” or “Bank account”."))
    kind = SelectField(_l("What the amounts are"),
                       choices=[SelectChoice(k, str(v)) for k, v in SERIES_KINDS.items()])
    action = HiddenField(validators=[Length(max=20)])

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        valid = super().validate(extra_validators)
        if self.series.data == NEW_SERIES and not (self.name.data or "").strip():
            self.name.errors = [*self.name.errors, _l("Give the new series a name.")]
            valid = False
        if valid and self.date_column.data == self.amount_column.data:
            self.amount_column.errors = [*self.amount_column.errors,
                                         _l("Choose two different columns.")]
            valid = False
        return valid


class PeriodForm(Form):
    """The client's choice of years on the insights page (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    first = SelectField(_l("From"), coerce=int, validators=[Optional()])
    last = SelectField(_l("To"), coerce=int, validators=[Optional()])
