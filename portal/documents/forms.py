"""Forms of the document exchange. Choices (engagements, requests, contact persons) are
filled in by the view from rows of this client only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileRequired, MultipleFileField
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.documents.filetypes import ACCEPT_ATTRIBUTE
from portal.validators import Form, NumberRange

NONE = 0  # "no engagement", "no request"


def _files(label: str):  # type: ignore[no-untyped-def]
    return MultipleFileField(label, validators=[FileRequired(_l("Choose one or more files."))],
                             render_kw={"accept": ACCEPT_ATTRIBUTE, "multiple": True})


class ClientUploadForm(Form):
    """The client sends one or more files, for an engagement or a request, with a note."""

    engagement_id = SelectField(_l("For"), coerce=int, validate_choice=True, default=NONE)
    request_id = SelectField(_l("Requested document"), coerce=int, validate_choice=True,
                             default=NONE)
    note = TextAreaField(_l("Note for your accountant"),
                         validators=[Optional(), Length(max=2000)])
    files = _files(_l("Files"))


class ShareForm(Form):
    engagement_id = SelectField(_l("Engagement"), coerce=int, validate_choice=True,
                                default=NONE)
    year = IntegerField(_l("Year"), validators=[InputRequired(),
                                                NumberRange(min=2000, max=2100)],
                        render_kw={"inputmode": "numeric"})
    audience = RadioField(_l("Share with"), default="all", choices=[
        SelectChoice("all", _l("all contact persons, also those added later")),
        SelectChoice("chosen", _l("only the contact persons chosen below"))])
    recipients = SelectMultipleField(_l("Contact persons"), coerce=int, validate_choice=True,
                                     widget=ListWidget(prefix_label=False),
                                     option_widget=CheckboxInput())
    message = TextAreaField(_l("Message in the mail"), validators=[Optional(), Length(max=2000)])
    files = _files(_l("Files"))

    def validate_recipients(self, field: SelectMultipleField) -> None:
        if self.audience.data == "chosen" and not field.data:
            raise ValidationError(_l("Choose at least one contact person."))


class RequestForm(Form):
    title = StringField(_l("What do you need?"), validators=[InputRequired(), Length(max=200)],
                        description=_l('e.g. "Bank statements 2025"'))
    deadline = DateField(_l("Deadline"), validators=[InputRequired()])
    engagement_id = SelectField(_l("Engagement"), coerce=int, validate_choice=True,
                                default=NONE)
    message = TextAreaField(_l("Explanation in the mail"),
                            validators=[Optional(), Length(max=2000)])


class DocumentForm(Form):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)],
                       description=_l("The extension stays as it is."))
    engagement_id = SelectField(_l("Engagement"), coerce=int, validate_choice=True,
                                default=NONE)
    year = IntegerField(_l("Year"), validators=[InputRequired(),
                                                NumberRange(min=2000, max=2100)],
                        description=_l("With an engagement, the document goes into that "
                                       "engagement's year."),
                        render_kw={"inputmode": "numeric"})
