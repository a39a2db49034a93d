"""Questionnaires and questions: staff build, send and review; clients fill in and answer."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, g, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal import access, clock, db
from portal.clients import tiers
from portal.clients.service import ClientFilter, Selection
from portal.engagements import service as engagements
from portal.questionnaires import content as qc
from portal.questionnaires import export, service
from portal.questionnaires.forms import (
    AnswerForm,
    FollowUpForm,
    LooseQuestionForm,
    QuestionForm,
    ReopenForm,
    SectionForm,
    SendForm,
    SendQuestionsForm,
    TemplateForm,
    condition_value,
)
from portal.questionnaires.models import (
    ASSIGNMENT_STATES,
    QUESTION_STATES,
    Assignment,
    Question,
    TemplateVersion,
)
from portal.questionnaires.service import Refused
from portal.web import arg_int, done, render

bp = Blueprint("questionnaires", __name__)


def _deadline(day) -> datetime | None:  # type: ignore[no-untyped-def]
    return clock.end_of_day(day) if day else None


# --- templates (staff) ---------------------------------------------------------------

@bp.get("/office/questionnaires")
@access.staff()
def index():  # type: ignore[no-untyped-def]
    return render("questionnaires/index.html",
                  templates=service.templates(db.session, current_user.practice_id),
                  batches=service.batches(db.session, current_user.practice_id),
                  form=TemplateForm(formdata=None))


@bp.post("/office/questionnaires")
@access.staff()
def create_template():  # type: ignore[no-untyped-def]
    form = TemplateForm()
    if not form.validate_on_submit():
        g.nav_section = "questionnaires.index"
        return render("questionnaires/index.html", status=422, form=form,
                      templates=service.templates(db.session, current_user.practice_id),
                      batches=service.batches(db.session, current_user.practice_id))
    template = service.create_template(db.session, access.actor(), form.name.data.strip(),
                                       (form.description.data or "").strip() or None)
    return done("questionnaires.template", template_id=template.id)


def _condition_choices(sections, *, before: str | None = None,
                       through_section: str | None = None) -> dict[str | None, list]:  # type: ignore[type-arg]
    """The answers a question may depend on: those of the yes/no and choice questions before
    it (before the question `before`, or up to the end of the part it is added to)."""
    answers = {"yes": _("Yes"), "no": _("No")}
    choices: dict[str | None, list] = {None: [("", _("always"))]}  # type: ignore[type-arg]
    for section in sections:
        for question in section.questions:
            if question.key == before:
                return choices
            if question.type == "yes_no":
                pairs = list(answers.items())
            elif question.type in qc.CHOICE_TYPES:
                pairs = [(option, option) for option in question.options]
            else:
                continue
            group = question.label if len(question.label) <= 80 else question.label[:79] + "…"
            choices.setdefault(group, []).extend(
                (f"{question.key}:{value}", f"{group} — {text}") for value, text in pairs)
        if section.key == through_section:
            return choices
    return choices


def _editor(template, *, status=200, error=None, open_form=None, **forms):  # type: ignore[no-untyped-def]
    g.nav_section = "questionnaires.index"
    version = service.latest_version(db.session, template)
    sections = qc.sections(version.content)

    def choices_for(position: str | None) -> dict:  # type: ignore[type-arg]
        kind, _sep, key = (position or "").partition("-")
        return _condition_choices(sections, before=key if kind == "q" else None,
                                  through_section=key if kind == "add" else None)

    def question_form(question=None, section=None):  # type: ignore[no-untyped-def]
        if question is None:
            form = QuestionForm(formdata=None)
            form.show_if.choices = choices_for(f"add-{section}")
        else:
            form = QuestionForm(formdata=None, type=question.type, label=question.label,
                                help=question.help, required=question.required,
                                allow_na=question.allow_na, options="\n".join(question.options),
                                show_if=condition_value(question.show_if))
            form.show_if.choices = choices_for(f"q-{question.key}")
        return form

    posted = forms.get("question_form")
    if posted is not None:
        posted.show_if.choices = choices_for(open_form)
    return render("questionnaires/template.html", template=template, version=version,
                  sections=sections, question_form=question_form,
                  section_form=forms.get("section_form") or SectionForm(formdata=None),
                  posted=posted, open_form=open_form, error=error, types=qc.TYPES,
                  answer_label=_answer_label, status=status,
                  labels_by_key={q.key: q.label for s in sections for q in s.questions})


def _answer_label(value: str) -> str:
    return {"yes": _("Yes"), "no": _("No")}.get(value, value)


@bp.get("/office/questionnaires/<int:template_id>")
@access.staff()
def template(template_id: int):  # type: ignore[no-untyped-def]
    return _editor(access.template_for_staff(current_user, template_id))


def _apply(template, change: str, **values):  # type: ignore[no-untyped-def]
    try:
        service.edit(db.session, access.actor(), template, change, **values)
    except Refused as refusal:
        return refusal.message
    return None


@bp.post("/office/questionnaires/<int:template_id>/sections")
@access.staff()
def add_section(template_id: int):  # type: ignore[no-untyped-def]
    template = access.template_for_staff(current_user, template_id)
    form = SectionForm()
    if not form.validate_on_submit():
        return _editor(template, status=422, section_form=form, open_form="new-section")
    _apply(template, "add_section", title=form.title.data.strip(),
           intro=(form.intro.data or "").strip())
    return done("questionnaires.template", template_id=template.id)


@bp.post("/office/questionnaires/<int:template_id>/sections/<key>")
@access.staff()
def section_action(template_id: int, key: str):  # type: ignore[no-untyped-def]
    """Rename, move or remove a part, by the button pressed."""
    template = access.template_for_staff(current_user, template_id)
    action = request.form.get("action")
    if action in ("up", "down"):
        error = _apply(template, "move_section", key=key, direction=-1 if action == "up" else 1)
    elif action == "remove":
        error = _apply(template, "remove_section", key=key)
    else:
        form = SectionForm()
        if not form.validate_on_submit():
            return _editor(template, status=422, open_form=f"section-{key}")
        error = _apply(template, "update_section", key=key, title=form.title.data.strip(),
                       intro=(form.intro.data or "").strip())
    if error:
        return _editor(template, status=422, error=error)
    return done("questionnaires.template", template_id=template.id)


@bp.post("/office/questionnaires/<int:template_id>/sections/<key>/questions")
@access.staff()
def add_question(template_id: int, key: str):  # type: ignore[no-untyped-def]
    template = access.template_for_staff(current_user, template_id)
    form = QuestionForm()
    if not form.validate_on_submit():
        return _editor(template, status=422, question_form=form, open_form=f"add-{key}")
    error = _apply(template, "add_question", section=key, **form.fields())
    if error:
        return _editor(template, status=422, error=error, question_form=form,
                       open_form=f"add-{key}")
    return done("questionnaires.template", template_id=template.id)


@bp.post("/office/questionnaires/<int:template_id>/questions/<key>")
@access.staff()
def question_action(template_id: int, key: str):  # type: ignore[no-untyped-def]
    """Change, move or remove a question, by the button pressed."""
    template = access.template_for_staff(current_user, template_id)
    action = request.form.get("action")
    if action in ("up", "down"):
        error = _apply(template, "move_question", key=key,
                       direction=-1 if action == "up" else 1)
    elif action == "remove":
        error = _apply(template, "remove_question", key=key)
    else:
        form = QuestionForm()
        if not form.validate_on_submit():
            return _editor(template, status=422, question_form=form, open_form=f"q-{key}")
        error = _apply(template, "update_question", key=key, **form.fields())
        if error:
            return _editor(template, status=422, error=error, question_form=form,
                           open_form=f"q-{key}")
    if error:
        return _editor(template, status=422, error=error)
    return done("questionnaires.template", template_id=template.id)


# --- sending (staff) -----------------------------------------------------------------

def _filter(args) -> ClientFilter:  # type: ignore[no-untyped-def]
    return ClientFilter(q=args.get("q", "")[:100], tier=args.get("tier") or None,
                        status=args.get("status") or None)


def _selection(args) -> Selection:  # type: ignore[no-untyped-def]
    ids = tuple(int(v) for v in args.getlist("client_id") if v.isdigit())
    return Selection(ids=ids) if ids else Selection(matching=_filter(args))


@bp.route("/office/questionnaires/<int:template_id>/send", methods=["GET", "POST"])
@access.staff()
def send(template_id: int):  # type: ignore[no-untyped-def]
    """Choose clients (a search over the overview's filters, or ticked ones), a deadline and
    a message; the page says who is left out and why before anything is sent."""
    template = access.template_for_staff(current_user, template_id)
    g.nav_section = "questionnaires.index"
    source = request.form if request.method == "POST" else request.args
    flt, selection = _filter(source), _selection(source)
    preview = service.preview_send(db.session, current_user.practice_id, selection, template,
                                   send_again=source.get("send_again") == "1")
    form = SendForm()
    if request.method == "POST" and form.validate_on_submit() \
            and _same_clients(form, preview):
        try:
            batch = service.send(db.session, access.actor(), g.practice, template,
                                 preview.eligible, deadline=_deadline(form.deadline.data),
                                 message=(form.message.data or "").strip() or None)
        except Refused as refusal:
            flash(refusal.message, "error")
        else:
            return done("questionnaires.batch", batch_id=batch.id)
    send_again = source.get("send_again") == "1"
    args = {"client_id": list(selection.ids)} if selection.ids else flt.args()
    return render("questionnaires/send.html", template=template, preview=preview, flt=flt,
                  selection=selection, form=form, tier_labels=tiers.LABELS,
                  send_again=send_again, args=args,
                  status=422 if request.method == "POST" else 200)


def _same_clients(form: SendForm, preview: service.SendPreview) -> bool:
    """Send only to the clients the page listed; if they changed meanwhile, say so."""
    if request.form.get("stamp") == preview.stamp:
        return True
    flash(_("The clients it goes to have changed since the page was shown: check the list "
            "and send again."), "error")
    return False


@bp.get("/office/questionnaires/batches/<int:batch_id>")
@access.staff()
def batch(batch_id: int):  # type: ignore[no-untyped-def]
    found = access.batch_for_staff(current_user, batch_id)
    g.nav_section = "questionnaires.index"
    state = request.args.get("state") if request.args.get("state") in ASSIGNMENT_STATES \
        else None
    page = request.args.get("page", 1, type=arg_int)
    overview, total = service.batch_overview(db.session, found, state=state, page=page)
    return render("questionnaires/batch.html", batch=found, overview=overview, total=total,
                  state=state, page=page, states=ASSIGNMENT_STATES)


def _download(data: bytes | str, name: str, kind: str):  # type: ignore[no-untyped-def]
    response = make_response(data)
    response.mimetype = "text/csv" if kind == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


@bp.get("/office/questionnaires/batches/<int:batch_id>/answers.<kind>")
@access.staff()
def export_batch(batch_id: int, kind: str):  # type: ignore[no-untyped-def]
    found = access.batch_for_staff(current_user, batch_id)
    if kind not in ("csv", "xlsx"):
        abort(404)
    assignments = list(db.session.scalars(select(Assignment).where(
        Assignment.batch_id == found.id).order_by(Assignment.id)))
    rows = export.rows(db.session, assignments)
    data = export.as_csv(rows) if kind == "csv" else export.as_xlsx(rows)
    return _download(data, f"questionnaire-{found.id}", kind)


# --- review (staff) ------------------------------------------------------------------

@bp.get("/office/questionnaires/assignments/<int:assignment_id>")
@access.staff()
def review(assignment_id: int):  # type: ignore[no-untyped-def]
    assignment, client = access.assignment_for_staff(current_user, assignment_id)
    return _review(assignment, client)


def _review(assignment, client, form=None, status=200):  # type: ignore[no-untyped-def]
    g.nav_section = "questionnaires.index"
    content = db.session.get(TemplateVersion, assignment.version_id).content
    answers = service.answers_of(db.session, assignment)
    shown = qc.visible(content, service.values_of(answers))
    form = form or ReopenForm(formdata=None)
    form.section.choices = [(s.key, s.title) for s in qc.sections(content)]
    return render("questionnaires/review.html", assignment=assignment, client=client,
                  sections=qc.sections(content), answers=answers, shown=shown,
                  display=qc.display, form=form, states=ASSIGNMENT_STATES, status=status)


@bp.post("/office/questionnaires/assignments/<int:assignment_id>/reopen")
@access.staff()
def reopen(assignment_id: int):  # type: ignore[no-untyped-def]
    assignment, client = access.assignment_for_staff(current_user, assignment_id)
    form = ReopenForm()
    if not form.validate_on_submit():
        return _review(assignment, client, form, 422)
    try:
        service.reopen(db.session, access.actor(), g.practice, assignment, form.section.data,
                       form.comment.data.strip())
    except Refused as refusal:
        form.section.errors.append(refusal.message)
        return _review(assignment, client, form, 422)
    flash(_("The part is open again for the client; they got a mail with your comment."),
          "success")
    return done("questionnaires.review", assignment_id=assignment.id)


@bp.post("/office/questionnaires/assignments/<int:assignment_id>/reviewed")
@access.staff()
def reviewed(assignment_id: int):  # type: ignore[no-untyped-def]
    assignment, _client = access.assignment_for_staff(current_user, assignment_id)
    if service.mark_reviewed(db.session, access.actor(), assignment):
        flash(_("Marked as reviewed."), "success")
    return done("questionnaires.review", assignment_id=assignment.id)


@bp.get("/office/questionnaires/assignments/<int:assignment_id>/answers.<kind>")
@access.staff()
def export_assignment(assignment_id: int, kind: str):  # type: ignore[no-untyped-def]
    assignment, client = access.assignment_for_staff(current_user, assignment_id)
    if kind not in ("csv", "xlsx"):
        abort(404)
    rows = export.rows(db.session, [assignment])
    data = export.as_csv(rows) if kind == "csv" else export.as_xlsx(rows)
    return _download(data, f"questionnaire-{client.client_number}-{assignment.id}", kind)


# --- filling in (client portal) --------------------------------------------------------

def _fill_state(assignment):  # type: ignore[no-untyped-def]
    content = db.session.get(TemplateVersion, assignment.version_id).content
    answers = service.answers_of(db.session, assignment)
    return content, answers, service.progress(content, answers)


@bp.get("/c/<int:client_id>/questionnaires/<int:assignment_id>")
@access.client_user
def fill(client_id: int, assignment_id: int):  # type: ignore[no-untyped-def]
    assignment, client = access.assignment_for_member(current_user, client_id, assignment_id)
    g.company = client
    _content, _answers, parts = _fill_state(assignment)
    if not parts:
        abort(404)
    reopened = assignment.reopened or {}
    first = next((p for p in parts if p.section.key in reopened), None) or \
        next((p for p in parts if not p.complete), parts[0])
    if assignment.state in ("submitted", "reviewed"):
        return _section_page(assignment, client, parts[0].section.key)
    return redirect(url_for("questionnaires.section", client_id=client.id,
                            assignment_id=assignment.id, key=first.section.key))


def _section_page(assignment, client, key, *, errors=None, typed=None, status=200):  # type: ignore[no-untyped-def]
    g.company = client
    content, answers, parts = _fill_state(assignment)
    index = next((i for i, p in enumerate(parts) if p.section.key == key), None)
    if index is None:
        abort(404)
    shown = qc.visible(content, service.values_of(answers))
    return render("questionnaires/fill.html", assignment=assignment, client=client,
                  parts=parts, part=parts[index], index=index, answers=answers, shown=shown,
                  errors=errors or {}, typed=typed or {}, raw_for_form=qc.raw_for_form,
                  editable=service.may_edit(assignment, key), status=status,
                  complete=all(p.complete for p in parts))


@bp.get("/c/<int:client_id>/questionnaires/<int:assignment_id>/s/<key>")
@access.client_user
def section(client_id: int, assignment_id: int, key: str):  # type: ignore[no-untyped-def]
    assignment, client = access.assignment_for_member(current_user, client_id, assignment_id)
    return _section_page(assignment, client, key)


def _typed(question: qc.Question):  # type: ignore[no-untyped-def]
    if question.type in ("multiple_choice", "files"):
        return request.form.getlist(question.key)
    return request.form.get(question.key, "")


@bp.post("/c/<int:client_id>/questionnaires/<int:assignment_id>/s/<key>")
@access.client_user
def save_section(client_id: int, assignment_id: int, key: str):  # type: ignore[no-untyped-def]
    """Without JavaScript: every answer of the part at once, then the next part."""
    assignment, client = access.assignment_for_member(current_user, client_id, assignment_id)
    access.require_active(client)
    content, answers, parts = _fill_state(assignment)
    shown = qc.visible(content, service.values_of(answers))
    part = next((p for p in parts if p.section.key == key), None)
    if part is None:
        abort(404)
    errors, typed = {}, {}
    for question in part.section.questions:
        if question.key not in shown and question.show_if is None:
            continue
        raw, not_applicable = _typed(question), request.form.get(f"na-{question.key}") == "1"
        if question.show_if is not None and question.key not in shown and not raw:
            continue
        try:
            service.save_answer(db.session, current_user, assignment, question, raw,
                                not_applicable)
        except qc.AnswerError as error:
            errors[question.key], typed[question.key] = str(error), raw
    if errors:
        return _section_page(assignment, client, key, errors=errors, typed=typed, status=422)
    _content, answers, parts = _fill_state(assignment)
    here = next(p for p in parts if p.section.key == key)
    if not here.complete:
        flash(_("Some questions in this part still need an answer."), "warning")
        return redirect(url_for("questionnaires.section", client_id=client.id,
                                assignment_id=assignment.id, key=key), 303)
    flash(_("Your answers are saved."), "success")
    position = [p.section.key for p in parts].index(key)
    if request.form.get("go") == "previous" and position > 0:
        target = parts[position - 1].section.key
    elif position + 1 < len(parts):
        target = parts[position + 1].section.key
    else:
        target = key
    return redirect(url_for("questionnaires.section", client_id=client.id,
                            assignment_id=assignment.id, key=target), 303)


@bp.post("/c/<int:client_id>/questionnaires/<int:assignment_id>/q/<key>")
@access.client_user
def save_answer(client_id: int, assignment_id: int, key: str):  # type: ignore[no-untyped-def]
    """With htmx: one answer saves itself; the question comes back with "saved", and the
    questions that depend on it appear or disappear."""
    assignment, client = access.assignment_for_member(current_user, client_id, assignment_id)
    access.require_active(client)
    content, answers, _parts = _fill_state(assignment)
    question = next((q for q in qc.questions(content) if q.key == key), None)
    if question is None:
        abort(404)
    raw, not_applicable = _typed(question), request.form.get(f"na-{question.key}") == "1"
    error = None
    try:
        service.save_answer(db.session, current_user, assignment, question, raw,
                            not_applicable)
    except qc.AnswerError as refusal:
        error = str(refusal)
    content, answers, parts = _fill_state(assignment)
    shown = qc.visible(content, service.values_of(answers))
    dependents = [q for q in qc.questions(content)
                  if (q.show_if or {}).get("question") == key or q.key == key]
    return render("questionnaires/answer.html", assignment=assignment, client=client,
                  questions=dependents, saved=key if error is None else None,
                  errors={key: error} if error else {}, typed={key: raw} if error else {},
                  answers=answers, shown=shown, parts=parts, raw_for_form=qc.raw_for_form,
                  editable=True, current=key, status=422 if error else 200)


@bp.post("/c/<int:client_id>/questionnaires/<int:assignment_id>/submit")
@access.client_user
def submit(client_id: int, assignment_id: int):  # type: ignore[no-untyped-def]
    assignment, client = access.assignment_for_member(current_user, client_id, assignment_id)
    access.require_active(client)
    try:
        service.submit(db.session, current_user, g.practice, assignment)
    except Refused as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("questionnaires.fill", client_id=client.id,
                                assignment_id=assignment.id), 303)
    flash(_("Thank you! Your answers have been sent to %(practice)s.",
            practice=g.practice.name), "success")
    return redirect(url_for("home.company", client_id=client.id), 303)


# --- loose questions -----------------------------------------------------------------

def _questions_page(client, form=None, send_form=None, status=200):  # type: ignore[no-untyped-def]
    g.nav_section = "clients.index"
    form = form or LooseQuestionForm(formdata=None)
    form.engagement_id.choices = [(0, _("in general"))] + [
        (e.id, e.label) for e in engagements.of_client(db.session, client)]
    return render("questionnaires/client_questions.html", client=client,
                  questions=service.client_questions(db.session, client), form=form,
                  send_form=send_form or SendQuestionsForm(formdata=None),
                  follow_up=FollowUpForm(formdata=None), states=QUESTION_STATES,
                  may_send=tiers.has(client, "questions"), status=status)


@bp.get("/office/clients/<int:client_id>/questions")
@access.staff()
def client_questions(client_id: int):  # type: ignore[no-untyped-def]
    return _questions_page(access.client_for_staff(current_user, client_id))


@bp.post("/office/clients/<int:client_id>/questions")
@access.staff()
def add_loose_question(client_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    form = LooseQuestionForm()
    form.engagement_id.choices = [(0, "")] + [
        (e.id, e.label) for e in engagements.of_client(db.session, client)]
    if not form.validate_on_submit():
        return _questions_page(client, form=form, status=422)
    service.add_question(db.session, access.actor(), client, form.text.data.strip(),
                         form.engagement_id.data or None)
    return done("questionnaires.client_questions", client_id=client.id)


@bp.post("/office/clients/<int:client_id>/questions/send")
@access.staff()
def send_loose_questions(client_id: int):  # type: ignore[no-untyped-def]
    client = access.client_for_staff(current_user, client_id)
    form = SendQuestionsForm()
    if not form.validate_on_submit():
        return _questions_page(client, send_form=form, status=422)
    try:
        service.send_questions(db.session, access.actor(), g.practice, client,
                               _deadline(form.deadline.data),
                               (form.message.data or "").strip() or None)
    except Refused as refusal:
        flash(refusal.message, "error")
    else:
        flash(_("The questions are on their way to %(name)s.", name=client.name), "success")
    return done("questionnaires.client_questions", client_id=client.id)


@bp.post("/office/questions/<int:question_id>/<action>")
@access.staff()
def question_step(question_id: int, action: str):  # type: ignore[no-untyped-def]
    """Done, follow-up or remove: what staff do with one question."""
    question = access.question_for_staff(current_user, question_id)
    client = access.client_for_staff(current_user, question.client_id)
    if action == "done":
        service.mark_done(db.session, access.actor(), question)
    elif action == "follow-up":
        form = FollowUpForm()
        if not form.validate_on_submit():
            flash(_("Type the follow-up question first."), "error")
        else:
            service.add_question(db.session, access.actor(), client, form.text.data.strip(),
                                 question.engagement_id, follow_up_of=question)
            flash(_("The follow-up question waits with the others until you send them."),
                  "success")
    elif action == "remove":
        try:
            service.remove_draft(db.session, access.actor(), question)
        except Refused as refusal:
            flash(refusal.message, "error")
    else:
        abort(404)
    return done("questionnaires.client_questions", client_id=client.id)


@bp.get("/c/<int:client_id>/questions/<int:list_id>")
@access.client_user
def answer_questions(client_id: int, list_id: int):  # type: ignore[no-untyped-def]
    question_list, client = access.question_list_for_member(current_user, client_id, list_id)
    return _answer_page(question_list, client)


def _answer_page(question_list, client, *, errors=None, typed=None, status=200):  # type: ignore[no-untyped-def]
    g.company = client
    items = list(db.session.scalars(select(Question).where(
        Question.list_id == question_list.id).order_by(Question.id)))
    return render("questionnaires/answer_questions.html", question_list=question_list,
                  client=client, items=items, errors=errors or {}, typed=typed or {},
                  form=AnswerForm(formdata=None), status=status)


@bp.post("/c/<int:client_id>/questions/<int:list_id>/<int:question_id>")
@access.client_user
def answer_question(client_id: int, list_id: int, question_id: int):  # type: ignore[no-untyped-def]
    question_list, client = access.question_list_for_member(current_user, client_id, list_id)
    access.require_active(client)
    question = access.question_of_list(question_list, question_id)
    text = request.form.get(f"answer-{question.id}", "")
    try:
        service.answer_question(db.session, current_user, g.practice, question, text)
    except qc.AnswerError as error:
        return _answer_page(question_list, client, errors={question.id: str(error)},
                            typed={question.id: text}, status=422)
    flash(_("Your answer is saved."), "success")
    return done("questionnaires.answer_questions", client_id=client.id, list_id=list_id)

