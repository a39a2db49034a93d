from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=[SelectChoice("nl", "Nederlands"),
                                                  SelectChoice("en", "English")])
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is a POST."""
