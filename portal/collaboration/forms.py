from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from portal.clients.forms import ClientForm, tier_choices
from portal.validators import Form


class OfferStartForm(Form):
    """Step 1: a new client record, or one the practice already keeps."""

    which = RadioField(_l("For which company?"), default="existing", choices=[
        SelectChoice("existing", _l("A client we already keep")),
        SelectChoice("new", _l("A new client"))])
    client_id = SelectField(_l("Client"), coerce=int, validate_choice=False)


class OfferClientForm(ClientForm):
    """Step 2 for a new client: its details (the contact follows)."""

    responsible_id = None  # set on the client's card later; the wizard stays short


class OfferContactForm(Form):
    """Step 2: the contact person, whose address becomes their login."""

    contact_name = StringField(_l("Name of the contact"),
                               validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail address of the contact"),
                       validators=[DataRequired(), Email(), Length(max=254)],
                       description=_l("This address becomes their login and receives the "
                                      "confirmation mail: check it carefully."))
    email_again = EmailField(_l("The same address again"),
                             validators=[DataRequired(), Length(max=254), EqualTo(
                                 "email", _l("The two addresses differ."))])
    locale = SelectField(_l("Language of the mail"), choices=[
        SelectChoice("nl", "Nederlands"), SelectChoice("en", "English")])


class OfferTermsForm(Form):
    """Step 3: the tier and who pays."""

    tier = SelectField(_l("Tier"), choices=tier_choices)
    payer = RadioField(_l("Who pays"), default="practice", choices=[
        SelectChoice("practice", _l("The practice (on our statement)")),
        SelectChoice("client", _l("The client (invoiced to them)"))])


class ConfirmOfferForm(Form):
    password = PasswordField(_l("Choose a password"), validators=[Optional(), Length(max=200)],
                             render_kw={"autocomplete": "new-password"},
                             description=_l("At least 12 characters. A few unrelated words "
                                            "together are strong and easy to remember."))
    repeat = PasswordField(_l("Repeat the password"), validators=[
        Optional(), Length(max=200), EqualTo("password", _l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"})


class PayerForm(Form):
    payer = RadioField(_l("Who pays"), choices=[
        SelectChoice("practice", _l("The practice")),
        SelectChoice("client", _l("The client"))])


class PostponeForm(Form):
    until = DateField(_l("Keep the data until"), validators=[DataRequired()])


class LeaveForm(Form):
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


# --- confirming a step that cannot be taken back at a click -----------------------------
# The box (or, on a confirm page, its hidden stand-in) must come with the POST: without it
# the page comes back with the reason beside it and nothing has changed.

class BlockForm(Form):
    confirm = BooleanField(
        _l("I understand that its users lose access at once and that every link sent to "
           "them stops working."),
        validators=[DataRequired(_l("Nothing was blocked: tick the box to confirm."))])


class EndForm(Form):
    confirm = BooleanField(
        _l("I understand that this cannot be undone: its open tasks, shares and offers stop, "
           "and all its data is deleted after the retention period."),
        validators=[DataRequired(_l("Nothing has ended: tick the box to confirm."))])


class CancelOfferForm(Form):
    """Posted from the confirm page, whose button is the confirmation."""

    confirm = HiddenField(validators=[DataRequired(
        _l("Nothing was cancelled: confirm on this page that the offer should be cancelled.")),
        Length(max=10)])
