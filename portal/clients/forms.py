from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from portal.accounts.models import POSITIONS
from portal.clients import tiers
from portal.validators import Form, MaxLength


def tier_choices() -> list[SelectChoice]:
    return [SelectChoice(t, str(tiers.LABELS[t])) for t in tiers.TIERS]


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _blank_to_none(value: str | None) -> str | None:
    value = _strip(value)
    return value or None


class ClientForm(Form):
    name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=200)],
                       filters=[_strip])
    client_number = StringField(_l("Client number"), validators=[DataRequired(), Length(max=40)],
                                filters=[_strip])
    kvk_number = StringField(
        _l("KvK number"), filters=[_blank_to_none],
        validators=[Optional(), MaxLength(8, message=_l("A KvK number has 8 digits.")),
                    Regexp(r"^\d{8}$", message=_l("A KvK number has 8 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "off"})
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=200)],
                               filters=[_blank_to_none])
    contact_email = EmailField(_l("Contact e-mail address"), filters=[_blank_to_none],
                               validators=[Optional(), Email(), Length(max=254)])
    # Choices: the practice's staff (0: nobody), set by the view.
    responsible_id = SelectField(_l("Responsible"), coerce=int, validate_choice=True,
                                 default=0, description=_l(
                                     "Who looks after this client. Engagements made for many "
                                     "clients at once can take them as responsible."))


class NewClientForm(ClientForm):
    tier = SelectField(_l("Tier"), choices=tier_choices, default=tiers.STANDARD)


class TierForm(Form):
    tier = SelectField(_l("Tier"), choices=tier_choices)
    confirm = HiddenField(validators=[Length(max=20)])  # a tier name


class ContactForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)],
                       filters=[_strip], render_kw={"autocomplete": "off"})
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(),
                                                         Length(max=254)],
                       filters=[_strip], render_kw={"autocomplete": "off"})
    locale = SelectField(_l("Language of the mail"),
                         choices=[SelectChoice("nl", "Nederlands"),
                                  SelectChoice("en", "English")])
    position = SelectField(_l("Position at the company"), choices=lambda: position_choices(),
                           default="")


def position_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("Other")),
            *(SelectChoice(key, label) for key, label in POSITIONS.items())]


class PositionForm(Form):
    position = SelectField(_l("Position at the company"), choices=lambda: position_choices(),
                           default="")


class BulkTierForm(Form):
    # Not "tier": the overview's filter sends a tier of its own along.
    new_tier = SelectField(_l("New tier"), choices=tier_choices)


class ImportUploadForm(Form):
    file = FileField(_l("File with clients (CSV or XLSX)"),
                     validators=[FileRequired(_l("Choose a CSV or XLSX file."))],
                     render_kw={"accept": ".csv,.txt,.xlsx,text/csv,application/vnd."
                                          "openxmlformats-officedocument.spreadsheetml.sheet"})


class ImportMappingForm(Form):
    """The options of the mapping step; the column choices (col_0, col_1, ...) are read by
    the view, one per column the file has."""

    erase_empty = BooleanField(_l("An empty KvK or VAT cell erases the stored number"))
    invite = BooleanField(_l("Invite new contact persons by mail (where the tier has the "
                             "portal)"))


class ImportApplyForm(Form):
    stamp = HiddenField(validators=[Length(max=64)])
    mode = RadioField(_l("Refused rows"), default="all", choices=[
        SelectChoice("all", _l("Import nothing while any row is refused")),
        SelectChoice("valid", _l("Import the valid rows and leave the refused ones out"))])


class InviteAllForm(Form):
    stamp = HiddenField(validators=[Length(max=64)])
