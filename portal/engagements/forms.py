from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal import clock
from portal.engagements.models import KINDS, MANUAL_STATUSES, STATUSES
from portal.engagements.service import NewWork, months_after_year_end
from portal.validators import Form, NumberRange, after_today

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class EngagementForm(Form):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in KINDS.items()])
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)],
                        render_kw={"inputmode": "numeric"})
    title = StringField(_l("Title"), validators=[Length(max=200)],
                        description=_l("Needed for other work, e.g. \"VAT return Q1\"."))
    deadline = DateField(_l("Deadline"), validators=[Optional(), after_today])
    responsible_id = SelectField(_l("Responsible"), coerce=int, validate_choice=True)

    def validate_title(self, field: StringField) -> None:
        if self.kind.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Give other work a title."))


class EngagementUpdateForm(Form):
    stored_deadline: date | None = None  # the engagement's deadline as it is now
    status = SelectField(_l("Status"))
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    responsible_id = SelectField(_l("Responsible"), coerce=int, validate_choice=True)

    def for_engagement(self, engagement: Any) -> EngagementUpdateForm:
        allowed = [s for s in STATUSES if s in MANUAL_STATUSES or s == engagement.status]
        self.status.choices = [SelectChoice(s, str(STATUSES[s])) for s in allowed]
        self.stored_deadline = engagement.deadline
        return self

    def validate_deadline(self, field: DateField) -> None:
        # An overdue engagement keeps its deadline when something else is saved; a deadline
        # set or moved must still be to come.
        if field.data != self.stored_deadline:
            after_today(self, field)


class ReportForm(Form):
    report = FileField(_l("Report (PDF)"), validators=[FileRequired(_l("Choose a PDF file."))],
                       render_kw={"accept": "application/pdf,.pdf"})


class ShareForm(Form):
    mode = RadioField(_l("Share"), default="approval", choices=[
        SelectChoice("approval", _l("for approval: the client approves or rejects it")),
        SelectChoice("view", _l("for viewing only"))])
    deadline = DateField(_l("Approve before"), validators=[Optional(), after_today])
    signers = SelectMultipleField(_l("Who receives it"), coerce=int, validate_choice=True,
                                  widget=ListWidget(prefix_label=False),
                                  option_widget=CheckboxInput())
    extra_emails = TextAreaField(
        _l("Other e-mail addresses"), validators=[Optional(), Length(max=2000)],
        description=_l("One per line, e.g. a second director who signs."))
    message = TextAreaField(_l("Message in the mail"), validators=[Optional(), Length(max=2000)])

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        return _approval_has_deadline(self.deadline, self.mode.data == "approval") and valid

    def validate_extra_emails(self, field: TextAreaField) -> None:
        for address in self.extra_addresses():
            if not EMAIL.match(address):
                raise ValidationError(_l("%(address)s is not an e-mail address.",
                                         address=address))

    def extra_addresses(self) -> list[str]:
        return [a.strip().lower() for a in (self.extra_emails.data or "").replace(",", "\n")
                .splitlines() if a.strip()]


class DecisionForm(Form):
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)],
                            description=_l("Needed when you do not approve: say what should "
                                           "change."))
    decision = HiddenField(validators=[Length(max=10)])


class RenewLinkForm(Form):
    token = HiddenField(validators=[Length(max=200)])


class BulkEngagementForm(EngagementForm):
    """The same engagement for many clients; its deadline a date, or a number of months
    after the year's end (the legal terms are put that way: five months for annual
    accounts)."""

    deadline_rule = RadioField(_l("Deadline"), default="months", choices=[
        SelectChoice("months", _l("A number of months after the year's end")),
        SelectChoice("date", _l("On a date")),
        SelectChoice("none", _l("No deadline yet"))])
    months = IntegerField(_l("Months after the year's end"), default=5,
                          validators=[Optional()],
                          description=_l("E.g. 5: the last day of May of the next year."),
                          render_kw={"inputmode": "numeric"})
    deadline = DateField(_l("Deadline date"), validators=[Optional()])
    responsible_rule = RadioField(_l("Responsible"), default="one", choices=[
        SelectChoice("one", _l("The staff member chosen below, for every client")),
        SelectChoice("own", _l("Each client's own responsible (from the client card or the "
                               "import); the staff member chosen below for clients without "
                               "one"))])
    responsible_id = SelectField(_l("Staff member"), coerce=int, validate_choice=True)

    # Only the rule chosen counts: a value left in the other field is no error.
    def validate_months(self, field: IntegerField) -> None:
        if self.deadline_rule.data != "months" or field.data is None:  # not a number
            return
        if not 1 <= field.data <= 24:
            raise ValidationError(_l("Choose from 1 to 24 months."))
        if self.year.data and not self.year.errors and \
                self.deadline_value() <= clock.today():  # type: ignore[operator]
            raise ValidationError(_l("That is a day gone by: choose more months, or a date."))

    def validate_deadline(self, field: DateField) -> None:
        if self.deadline_rule.data == "date":
            after_today(self, field)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        needed = {"months": (self.months, _l("Say how many months after the year's end.")),
                  "date": (self.deadline, _l("Choose the deadline's date."))}
        field, message = needed.get(self.deadline_rule.data, (None, None))
        if field is not None and field.data is None and not field.errors:
            field.errors.append(message)
            valid = False
        return valid

    def deadline_value(self) -> date | None:
        if self.deadline_rule.data == "months" and self.months.data and self.year.data:
            return months_after_year_end(self.year.data, self.months.data)
        if self.deadline_rule.data == "date":
            return self.deadline.data
        return None

    def work(self) -> NewWork:
        return NewWork(kind=self.kind.data, year=self.year.data,
                       title=(self.title.data or "").strip() or None,
                       deadline=self.deadline_value(),
                       responsible_id=self.responsible_id.data or None,
                       own_responsible=self.responsible_rule.data == "own")


class BulkReportsForm(Form):
    """Step 1 of bulk reports: the files, and which engagements they are for."""

    reports = MultipleFileField(_l("Reports (PDF)"),
                                render_kw={"accept": "application/pdf,.pdf"})
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in KINDS.items()])
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000,
                                                                             max=2100)],
                        render_kw={"inputmode": "numeric"})
    pattern = StringField(_l("Where the client number is in the file name"),
                          default=r"(\d+)", validators=[InputRequired(), Length(max=200)],
                          description=_l("A regular expression; the part in brackets is the "
                                         "client number or KvK number. The default takes the "
                                         "first number in the name, as in "
                                         "“1001 Jaarrekening 2026.pdf”."))

    def validate_reports(self, field: MultipleFileField) -> None:
        if not [f for f in field.data or [] if getattr(f, "filename", "")]:
            raise ValidationError(_l("Choose one or more PDF files."))


class BulkShareForm(Form):
    """Step 2: store the matched reports, and share them if asked."""

    stamp = HiddenField(validators=[Length(max=64)])
    share = RadioField(_l("After storing"), default="approval", choices=[
        SelectChoice("approval", _l("share each for approval with the client's contact "
                                    "persons")),
        SelectChoice("view", _l("share each for viewing")),
        SelectChoice("none", _l("do not share yet"))])
    deadline = DateField(_l("Approve before"), validators=[Optional(), after_today])
    message = TextAreaField(_l("Message in the mail"), validators=[Optional(), Length(max=2000)])

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        return _approval_has_deadline(self.deadline, self.share.data == "approval") and valid


def _approval_has_deadline(deadline: DateField, approval: bool) -> bool:
    """An approval needs a deadline. Checked after the fields, not as an inline validator:
    Optional() ends a field's checks when it is empty."""
    if approval and not deadline.data and not deadline.errors:
        deadline.errors = [_l("An approval needs a deadline.")]
        return False
    return True


class VerifyForm(Form):
    document = FileField(_l("The PDF file"), validators=[FileRequired(_l("Choose a PDF file."))],
                         render_kw={"accept": "application/pdf,.pdf"})


class SealCertificateForm(Form):
    certificate = FileField(
        _l("Certificate with its private key (PKCS#12)"),
        validators=[FileRequired(_l("Choose a .p12 or .pfx file."))],
        description=_l("A .p12 or .pfx file, e.g. a qualified seal or an Adobe-trusted "
                       "organisation certificate. Approved reports are sealed with it from "
                       "now on; what was sealed before stays checkable."),
        render_kw={"accept": ".p12,.pfx,application/x-pkcs12"})
    password = PasswordField(_l("Password of the file"),
                             validators=[Optional(), Length(max=200)],
                             render_kw={"autocomplete": "off"})


class MissingSignatureForm(Form):
    reason = TextAreaField(_l("Why this signature is missing"),
                           validators=[InputRequired(), Length(max=2000)],
                           description=_l("E.g. “Resigned as director on 1 March; no longer "
                                          "in office.” The approval record states it."))


class AdoptionForm(Form):
    adopted_on = DateField(_l("Adopted by the general meeting on"),
                           validators=[InputRequired(_l("Enter the date of the meeting."))])
