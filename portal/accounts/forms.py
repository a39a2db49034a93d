from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.validators import Form

NEXT_MAX = 2000  # characters of a page to return to


def _local_next(value: str | None) -> str | None:
    """A page to return to that is too long to be one of ours is dropped, not refused: the
    sign-in goes on, to the home page."""
    return "" if value and len(value) > NEXT_MAX else value


class LoginForm(Form):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField(filters=[_local_next], validators=[Length(max=NEXT_MAX)])


class LanguageForm(Form):
    locale = SelectField(_l("Language"), choices=[SelectChoice("nl", "Nederlands"),
                                                  SelectChoice("en", "English")])
    next = HiddenField(filters=[_local_next], validators=[Length(max=NEXT_MAX)])


class LogoutForm(Form):
    """Only the CSRF token: logging out is a POST."""


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice("staff", _l("Staff member")), SelectChoice("admin", _l("Admin"))]


class InviteStaffForm(Form):
    email = EmailField(_l("E-mail address"), filters=[lambda v: v.strip() if v else v],
                       validators=[DataRequired(), Email(), Length(max=254)],
                       render_kw={"autocomplete": "off", "autocapitalize": "none"})
    name = StringField(_l("Name"), validators=[Length(max=200)],
                       description=_l("Optional: they can change it when they accept."),
                       render_kw={"autocomplete": "off"})
    role = SelectField(_l("Role"), choices=_role_choices(), default="staff",
                       description=_l("Admins also manage settings, staff, billing and mail."))


class StaffRoleForm(Form):
    role = SelectField(_l("Role"), choices=_role_choices())


class AcceptInviteForm(Form):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)],
                       render_kw={"autocomplete": "name"})
    password = PasswordField(_l("Choose a password"), validators=[DataRequired(),
                                                                  Length(max=200)],
                             render_kw={"autocomplete": "new-password"},
                             description=_l("At least 12 characters. A few unrelated words "
                                            "together are strong and easy to remember."))
    repeat = PasswordField(_l("Repeat the password"),
                           validators=[DataRequired(), Length(max=200),
                                       EqualTo("password", _l("The passwords differ."))],
                           render_kw={"autocomplete": "new-password"})


# --- forgot password, sign-in links, two-step sign-in, the account page ----------------

def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class EmailForm(Form):
    """Only an address: "forgot password" and "e-mail me a sign-in link"."""

    email = EmailField(_l("E-mail address"), filters=[_strip],
                       validators=[DataRequired(), Email(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})


class ConfirmForm(Form):
    """Only the CSRF token: a button that confirms what the page says."""


_NEW_PASSWORD_HINT = _l("At least 12 characters. A few unrelated words together are strong "
                        "and easy to remember.")


class NewPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "new-password"},
                             description=_NEW_PASSWORD_HINT)
    repeat = PasswordField(_l("Repeat the password"),
                           validators=[DataRequired(), Length(max=200),
                                       EqualTo("password", _l("The passwords differ."))],
                           render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(), Length(max=200)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired(),
                                                                 Length(max=200)],
                                 render_kw={"autocomplete": "new-password"},
                                 description=_NEW_PASSWORD_HINT)
    repeat = PasswordField(_l("Repeat the new password"),
                           validators=[DataRequired(), Length(max=200),
                                       EqualTo("new_password", _l("The passwords differ."))],
                           render_kw={"autocomplete": "new-password"})


class ChangeEmailForm(Form):
    email = EmailField(_l("New e-mail address"), filters=[_strip],
                       validators=[DataRequired(), Email(), Length(max=254)],
                       description=_l("We send a link to the new address; the change counts "
                                      "once you open it."),
                       render_kw={"autocomplete": "email", "autocapitalize": "none"})
    password = PasswordField(_l("Current password"), validators=[DataRequired(),
                                                                 Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class CodeForm(Form):
    """A code from the authenticator app, or a recovery code."""

    code = StringField(_l("Code"), filters=[_strip], validators=[DataRequired(),
                                                                 Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "none",
                                  "spellcheck": "false"})


class DisableTwoFactorForm(Form):
    password = PasswordField(_l("Current password"), validators=[DataRequired(),
                                                                 Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    code = StringField(_l("Code from your app, or a recovery code"), filters=[_strip],
                       validators=[DataRequired(), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "none",
                                  "spellcheck": "false"})
