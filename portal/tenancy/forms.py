"""The practice settings page's forms: settings, logo, custom domain."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from portal.tenancy import theme
from portal.validators import Form, MaxLength

DAY_LIST_MAX = 200  # characters of typed moments


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _color(value: str | None) -> str | None:
    value = _blank_to_none(value)
    if value and not value.startswith("#"):
        value = "#" + value
    return value.lower() if value else None


class DayListField(StringField):
    """Whole numbers with commas between them, as typed: "-7, -2, 1"."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        if len(str(valuelist[0])) > DAY_LIST_MAX:  # not read: MaxLength says it is too long
            self.data = None
            return
        parts = [p.strip() for p in str(valuelist[0]).replace(";", ",").split(",")]
        try:
            self.data = [int(p) for p in parts if p]
        except ValueError:
            self.data = None
            raise ValueError(_l("Type whole numbers with commas between them, for example "
                                "-7, -2, 1.")) from None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return ", ".join(str(day) for day in self.data or [])


def _color_field(label: Any, description: Any) -> StringField:
    return StringField(label, filters=[_color], description=description,
                       validators=[Optional(), MaxLength(7), Regexp(
                           theme.HEX_COLOR.pattern, message=_l(
                               "Type a colour as # and six hexadecimal digits, e.g. #1d4f7a."))],
                       render_kw={"placeholder": "#1d4f7a", "autocomplete": "off",
                                  "spellcheck": "false"})


class SettingsForm(Form):
    name = StringField(_l("Name of the practice"), filters=[_blank_to_none],
                       validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Default language"),
                         choices=[SelectChoice("nl", "Nederlands"), SelectChoice("en", "English")],
                         description=_l("For clients and mail until someone chooses their own."),
                         id="practice_locale")  # "locale" is the footer's language choice
    theme = SelectField(_l("Theme"))
    brand_color = _color_field(
        _l("Brand colour"),
        _l("The header, links and buttons. Leave empty for the theme's colour. Text on it "
           "and links in it must reach a contrast of 4.5:1."))
    accent_color = _color_field(
        _l("Accent colour"),
        _l("Highlights. Leave empty for the theme's colour. Must reach a contrast of 4.5:1 "
           "as text on the page."))
    background_color = _color_field(
        _l("Background colour"),
        _l("Behind the page. Leave empty for the theme's colour. The page's text on it, "
           "also the lighter grey text, must reach a contrast of 4.5:1."))
    welcome_text = TextAreaField(_l("Welcome text"), filters=[_blank_to_none],
                                 validators=[Length(max=2000)],
                                 description=_l("Shown to clients on the sign-in page."))
    reminder_text = TextAreaField(
        _l("Reminder text"), filters=[_blank_to_none], validators=[Length(max=2000)],
        description=_l("Your own words for reminder mails; leave empty for ours. You can use "
                       "{client}, {task}, {deadline} and {link}."))
    reminder_days = DayListField(
        _l("Reminder moments"), validators=[MaxLength(DAY_LIST_MAX)],
        description=_l("Days from the deadline: negative before it, positive after it. "
                       "For example -7, -2, 1."),
        render_kw={"inputmode": "text", "autocomplete": "off"})
    mail_sender_name = StringField(_l("Sender name in mail"), filters=[_blank_to_none],
                                   validators=[Length(max=200)],
                                   description=_l("Leave empty to use the practice's name."))
    reply_to = EmailField(_l("Reply-to address"), filters=[_blank_to_none],
                          validators=[Optional(), Email(), Length(max=254)],
                          description=_l("Where replies to our mails go."),
                          render_kw={"autocomplete": "email"})
    require_staff_2fa = BooleanField(
        _l("Require two-step sign-in for staff"),
        description=_l("Staff then confirm each sign-in with a code from an app on their "
                       "phone. Who has not set it up is asked to do so before anything "
                       "else, you too."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.theme.choices = [SelectChoice(name, name.replace("-", " ").title())
                              for name in theme.available_themes()]

    def values(self) -> dict[str, Any]:
        return {name: field.data for name, field in self._fields.items()
                if name != "csrf_token"}


class LogoForm(Form):
    logo = FileField(_l("New logo"), validators=[FileRequired(_l("Choose an image file."))],
                     description=_l("A PNG, JPEG or WebP image of at most 512 KB, "
                                    "square works best."),
                     render_kw={"accept": "image/png,image/jpeg,image/webp"})


class DomainForm(Form):
    host = StringField(_l("Host name"), validators=[DataRequired(), Length(max=253)],
                       render_kw={"placeholder": "portaal.yourpractice.nl",
                                  "autocomplete": "off", "autocapitalize": "none",
                                  "spellcheck": "false"})


def refuse(form: FlaskForm, errors: dict[str, str]) -> None:
    """Show a service's refusals beside the fields they are about."""
    for name, message in errors.items():
        field = form[name]
        field.errors = [*field.errors, message]
