from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.questionnaires.content import TYPES
from portal.validators import Form, after_today


class TemplateForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])


class SectionForm(Form):
    title = StringField(_l("Title of the part"), validators=[DataRequired(), Length(max=200)])
    intro = TextAreaField(_l("Introduction"), validators=[Optional(), Length(max=2000)])


class QuestionForm(Form):
    type = SelectField(_l("Type"), choices=[SelectChoice(k, v) for k, v in TYPES.items()])
    label = StringField(_l("Question"), validators=[DataRequired(), Length(max=500)])
    help = TextAreaField(_l("Help text"), validators=[Optional(), Length(max=2000)])
    required = BooleanField(_l("An answer is required"))
    allow_na = BooleanField(_l("The client may answer \"not applicable\""))
    options = TextAreaField(_l("Options"), validators=[Optional(), Length(max=4000)],
                            description=_l("For a choice: one option per line."))
    # One select of "question: answer" pairs, so that it works without JavaScript and staff
    # pick an answer in their own language instead of typing the stored value.
    show_if = SelectField(_l("Show only when"), validate_choice=False)

    def fields(self) -> dict[str, object]:
        condition = None
        question, separator, answer = (self.show_if.data or "").partition(":")
        if separator:
            condition = {"question": question, "equals": answer}
        return {"type": self.type.data, "label": self.label.data.strip(),
                "help": (self.help.data or "").strip(), "required": self.required.data,
                "allow_na": self.allow_na.data,
                "options": (self.options.data or "").splitlines(), "show_if": condition}


def condition_value(condition: dict[str, str] | None) -> str:
    """A stored show-if condition as the value of the "Show only when" select."""
    return f"{condition['question']}:{condition['equals']}" if condition else ""


class SendForm(Form):
    deadline = DateField(_l("Deadline"), validators=[DataRequired(), after_today])
    message = TextAreaField(_l("Message in the mail"), validators=[Optional(),
                                                                   Length(max=2000)])


class ReopenForm(Form):
    section = SelectField(_l("Part"), validate_choice=False)
    comment = TextAreaField(_l("What should be added or changed"),
                            validators=[DataRequired(), Length(max=2000)])


class LooseQuestionForm(Form):
    text = TextAreaField(_l("Question"), validators=[DataRequired(), Length(max=5000)])
    engagement_id = SelectField(_l("About"), coerce=int, validate_choice=True)


class SendQuestionsForm(Form):
    deadline = DateField(_l("Answer before"), validators=[Optional(), after_today])
    message = TextAreaField(_l("Message in the mail"), validators=[Optional(),
                                                                   Length(max=2000)])


class AnswerForm(Form):
    answer = TextAreaField(_l("Your answer"), validators=[DataRequired(), Length(max=10000)])


class FollowUpForm(Form):
    text = TextAreaField(_l("Follow-up question"), validators=[DataRequired(),
                                                               Length(max=5000)])
    question_id = HiddenField(validators=[Length(max=20)])
