from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.validators import Form


class ChoosePasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "new-password"},
                             description=_l("At least 12 characters. A few unrelated words "
                                            "together are strong and easy to remember."))
    repeat = PasswordField(_l("Repeat the password"),
                           validators=[DataRequired(), Length(max=200),
                                       EqualTo("password", _l("The passwords differ."))],
                           render_kw={"autocomplete": "new-password"})
