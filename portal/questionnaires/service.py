"""The rules of questionnaires and question lists.

Templates are versioned copy-on-write: the newest version is edited in place until it is
sent; after that an edit makes a new version, so a sent questionnaire never changes.
Sending creates every assignment, open action and mail in one transaction (large sends run
in the worker, with a progress page). Answers are saved one question at a time, so several
contact persons can work at once: the last answer to a question wins, with who and when.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal import audit, notifications
from portal.accounts.models import ClientUser, Membership, StaffUser
from portal.audit import Actor
from portal.audit.service import Subject
from portal.clients import tiers
from portal.clients.models import Client
from portal.clients.service import Selection, selection_stamp
from portal.clock import now
from portal.db import transaction
from portal.notifications import tasks
from portal.notifications.models import ClientTask
from portal.notifications.reminders import DueTask
from portal.questionnaires import content as qc
from portal.questionnaires.models import (
    Answer,
    Assignment,
    Question,
    QuestionList,
    QuestionnaireBatch,
    QuestionnaireTemplate,
    TemplateVersion,
)

TASK_KIND = "questionnaire"
LIST_KIND = "question_list"
INLINE_SEND_LIMIT = 200  # larger sends go to the worker, with a progress page


class Refused(Exception):
    """The rule says no; `.message` says why, for the person who asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- templates -------------------------------------------------------------------------

def create_template(session: Session, actor: Actor, name: str, description: str | None,
                    content: dict[str, Any] | None = None) -> QuestionnaireTemplate:
    with transaction(session):
        template = QuestionnaireTemplate(practice_id=actor.practice_id, name=name,
                                         description=description)
        session.add(template)
        session.flush()
        session.add(TemplateVersion(template_id=template.id, number=1,
                                    content=content or qc.empty()))
        audit.record(session, actor, "questionnaire.template_created",
                     Subject("questionnaire_templates", template.id), name=name)
    return template


def latest_version(session: Session, template: QuestionnaireTemplate) -> TemplateVersion:
    return session.scalar(select(TemplateVersion).where(
        TemplateVersion.template_id == template.id)
        .order_by(TemplateVersion.number.desc()).limit(1))


def edit(session: Session, actor: Actor, template: QuestionnaireTemplate, change: str,
         **values: Any) -> TemplateVersion:
    """Apply one edit to the template's newest version, or to a new one when the newest
    has been sent already."""
    with transaction(session):
        version = latest_version(session, template)
        if version.sent:
            version = TemplateVersion(template_id=template.id, number=version.number + 1,
                                      content=qc.copy_content(version.content))
            session.add(version)
        content = qc.copy_content(version.content)
        _EDITS[change](content, **values)
        version.content = content  # a new object, so the JSON column is written
        audit.record(session, actor, f"questionnaire.{change}",
                     Subject("questionnaire_templates", template.id),
                     version=version.number, **{k: v for k, v in values.items()
                                                if isinstance(v, str | int | bool)})
    return version


def _section(content: dict[str, Any], key: str) -> dict[str, Any]:
    for section in content["sections"]:
        if section["key"] == key:
            return section
    raise Refused(_("That part no longer exists; reload the page."))


def _find_question(content: dict[str, Any], key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for section in content["sections"]:
        for question in section["questions"]:
            if question["key"] == key:
                return section, question
    raise Refused(_("That question no longer exists; reload the page."))


def _add_section(content: dict[str, Any], *, title: str, intro: str = "") -> None:
    content["sections"].append({"key": qc.new_key(), "title": title, "intro": intro,
                                "questions": []})


def _update_section(content: dict[str, Any], *, key: str, title: str, intro: str = "") -> None:
    section = _section(content, key)
    section["title"], section["intro"] = title, intro


def _remove_section(content: dict[str, Any], *, key: str) -> None:
    section = _section(content, key)
    gone = {q["key"] for q in section["questions"]}
    content["sections"].remove(section)
    _drop_conditions_on(content, gone)


def _move(items: list[Any], item: Any, direction: int) -> None:
    index = items.index(item)
    target = index + direction
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]


def _move_section(content: dict[str, Any], *, key: str, direction: int) -> None:
    _move(content["sections"], _section(content, key), direction)
    _check_conditions(content)


def _question_fields(values: dict[str, Any]) -> dict[str, Any]:
    kind = values["type"]
    if kind not in qc.TYPES:
        raise Refused(_("Choose a type of question."))
    options = [o.strip() for o in values.get("options") or [] if o.strip()]
    if kind in qc.CHOICE_TYPES and len(options) < 2:
        raise Refused(_("A choice needs at least two options, one per line."))
    return {"type": kind, "label": values["label"], "help": values.get("help") or "",
            "required": bool(values.get("required")), "allow_na": bool(values.get("allow_na")),
            "options": options if kind in qc.CHOICE_TYPES else [],
            "show_if": values.get("show_if") or None}


def _add_question(content: dict[str, Any], *, section: str, **values: Any) -> None:
    fields = _question_fields(values)
    _section(content, section)["questions"].append({"key": qc.new_key(), **fields})
    _check_conditions(content)


def _update_question(content: dict[str, Any], *, key: str, **values: Any) -> None:
    _, question = _find_question(content, key)
    question.update(_question_fields(values))
    _check_conditions(content)


def _remove_question(content: dict[str, Any], *, key: str) -> None:
    section, question = _find_question(content, key)
    section["questions"].remove(question)
    _drop_conditions_on(content, {key})


def _move_question(content: dict[str, Any], *, key: str, direction: int) -> None:
    section, question = _find_question(content, key)
    _move(section["questions"], question, direction)
    _check_conditions(content)


def _drop_conditions_on(content: dict[str, Any], keys: set[str]) -> None:
    for section in content["sections"]:
        for question in section["questions"]:
            if (question.get("show_if") or {}).get("question") in keys:
                question["show_if"] = None


def _check_conditions(content: dict[str, Any]) -> None:
    """A condition may only look at an earlier question, and at one of its answers."""
    seen: dict[str, dict[str, Any]] = {}
    for section in content["sections"]:
        for question in section["questions"]:
            condition = question.get("show_if")
            if condition:
                earlier = seen.get(condition.get("question"))
                if earlier is None:
                    raise Refused(_("A question can only depend on a question before it."))
                allowed = ["yes", "no"] if earlier["type"] == "yes_no" else earlier["options"]
                if earlier["type"] not in ("yes_no", *qc.CHOICE_TYPES) or \
                        condition.get("equals") not in allowed:
                    raise Refused(_("Show a question only after a yes/no or choice question, "
                                    "for one of its answers."))
            seen[question["key"]] = question


_EDITS = {
    "add_section": _add_section, "update_section": _update_section,
    "remove_section": _remove_section, "move_section": _move_section,
    "add_question": _add_question, "update_question": _update_question,
    "remove_question": _remove_question, "move_question": _move_question,
}


# --- sending ---------------------------------------------------------------------------

OPEN_STATES = ("not_started", "in_progress")
NAMES_SHOWN = 50  # the send page names this many clients; the rest are counted


@dataclass
class SendPreview:
    eligible: list[int]                       # the clients it goes to, by name
    names: dict[int, str] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)  # reason -> number of clients
    already_open: list[int] = field(default_factory=list)   # have this questionnaire open

    @property
    def stamp(self) -> str:
        """What the send checks: still the clients the page showed."""
        return selection_stamp((cid,) for cid in self.eligible)

    def named(self, client_ids: list[int]) -> list[str]:
        return [self.names[cid] for cid in client_ids[:NAMES_SHOWN]]


def preview_send(session: Session, practice_id: int, selection: Selection,
                 template: QuestionnaireTemplate, *, send_again: bool = False) -> SendPreview:
    """Who would receive a questionnaire: only active clients whose tier has them, and not
    those who have it open already unless staff choose to send it to them again."""
    rows = session.execute(selection.query(practice_id).add_columns(Client.status, Client.name)
                           .order_by(Client.name, Client.id)).all()
    still_open = set(session.scalars(
        select(Assignment.client_id).join(TemplateVersion,
                                          TemplateVersion.id == Assignment.version_id)
        .where(Assignment.practice_id == practice_id,
               TemplateVersion.template_id == template.id,
               Assignment.state.in_(OPEN_STATES))))
    preview = SendPreview([])
    for client_id, tier, status, name in rows:
        preview.names[client_id] = name
        if not tiers.has(tier, "questionnaires"):
            preview.left_out["tier"] = preview.left_out.get("tier", 0) + 1
        elif status != "active":
            preview.left_out["status"] = preview.left_out.get("status", 0) + 1
        elif client_id in still_open:
            preview.already_open.append(client_id)
            if send_again:
                preview.eligible.append(client_id)
        else:
            preview.eligible.append(client_id)
    return preview


def send(session: Session, actor: Actor, practice: Any, template: QuestionnaireTemplate,
         client_ids: list[int], *, deadline: datetime | None, message: str | None
         ) -> QuestionnaireBatch:
    """Create the send; small sends are done at once, large ones by the worker."""
    if not client_ids:
        raise Refused(_("None of the chosen clients can receive questionnaires."))
    with transaction(session):
        version = latest_version(session, template)
        if not qc.questions(version.content):
            raise Refused(_("This questionnaire has no questions yet."))
        batch = QuestionnaireBatch(practice_id=actor.practice_id, version_id=version.id,
                                   title=template.name, deadline=deadline, message=message,
                                   client_ids=list(client_ids), created_by_id=actor.id)
        session.add(batch)
        version.sent = True
        session.flush()
        audit.record(session, actor, "questionnaire.sent",
                     Subject("questionnaire_batches", batch.id), template=template.name,
                     version=version.number, clients=len(client_ids))
        if len(client_ids) <= INLINE_SEND_LIMIT:
            _deliver(session, practice, batch)
    return batch


def deliver_queued(session: Session) -> int:
    """Worker sweep: carry out large sends, each in one transaction."""
    from portal.tenancy.models import Practice

    done = 0
    for batch_id in session.scalars(select(QuestionnaireBatch.id).where(
            QuestionnaireBatch.state == "queued").order_by(QuestionnaireBatch.id)):
        with transaction(session):
            batch = session.scalar(select(QuestionnaireBatch).where(
                QuestionnaireBatch.id == batch_id, QuestionnaireBatch.state == "queued")
                .with_for_update())
            if batch is None:
                continue
            _deliver(session, session.get(Practice, batch.practice_id), batch)
            done += 1
    return done


def _deliver(session: Session, practice: Any, batch: QuestionnaireBatch) -> None:
    """Every assignment, its open action and its mails, set-based."""
    moment = now()
    clients = {c.id: c for c in session.scalars(select(Client).where(
        Client.id.in_(batch.client_ids), Client.practice_id == batch.practice_id))}
    rows = [{"practice_id": batch.practice_id, "client_id": cid, "batch_id": batch.id,
             "version_id": batch.version_id, "title": batch.title,
             "deadline": batch.deadline, "state": "not_started", "reopened": {},
             "created_at": moment} for cid in clients]
    created = session.execute(insert(Assignment).returning(Assignment.id, Assignment.client_id),
                              rows).all() if rows else []
    if created:
        session.execute(insert(ClientTask), [
            {"practice_id": batch.practice_id, "client_id": client_id, "kind": TASK_KIND,
             "subject_id": assignment_id, "title": batch.title, "deadline": batch.deadline,
             "state": "open", "created_at": moment} for assignment_id, client_id in created])
    contacts = _contacts(session, list(clients))
    mails = []
    for assignment_id, client_id in created:
        client = clients[client_id]
        link = notifications.practice_url(practice, "questionnaires.fill",
                                          client_id=client_id, assignment_id=assignment_id)
        for user in contacts.get(client_id, []):
            mails.append(notifications.Mail(
                to=user.email, to_name=user.name, kind="questionnaire_sent", locale=user.locale,
                context={"title": batch.title, "client_name": client.name, "link": link,
                         "deadline": batch.deadline, "message": batch.message}))
    notifications.enqueue_many(session, practice, mails)
    batch.state, batch.done_at = "done", now()


def _contacts(session: Session, client_ids: list[int]) -> dict[int, list[ClientUser]]:
    """The active contact persons with a portal login, per company."""
    found: dict[int, list[ClientUser]] = defaultdict(list)
    if not client_ids:
        return found
    for client_id, user in session.execute(
            select(Membership.client_id, ClientUser)
            .join(ClientUser, ClientUser.id == Membership.client_user_id)
            .where(Membership.client_id.in_(client_ids), ClientUser.active.is_(True))
            .order_by(Membership.role.desc(), ClientUser.id)):
        found[client_id].append(user)
    return found


# --- filling in ------------------------------------------------------------------------

def answers_of(session: Session, assignment: Assignment) -> dict[str, Answer]:
    # Answers are written by an upsert past the ORM: rows read before it in this session
    # must take the stored values, or a question shows or hides one answer late.
    return {a.question_key: a for a in session.scalars(
        select(Answer).where(Answer.assignment_id == assignment.id)
        .execution_options(populate_existing=True))}


def values_of(answers: dict[str, Answer]) -> dict[str, Any]:
    return {key: a.value for key, a in answers.items() if not a.not_applicable}


def may_edit(assignment: Assignment, section_key: str) -> bool:
    if assignment.state in ("submitted", "reviewed"):
        return False
    reopened = assignment.reopened or {}
    return not reopened or section_key in reopened


def save_answer(session: Session, user: ClientUser, assignment: Assignment,
                question: qc.Question, raw: Any, not_applicable: bool = False) -> Any:
    """Save one answer (AnswerError when it does not fit the question). Last write wins."""
    if not may_edit(assignment, question.section):
        raise qc.AnswerError(_("This questionnaire has been sent in; it can no longer be "
                               "changed."))
    if not_applicable and not question.allow_na:
        raise qc.AnswerError(_("This question needs an answer."))
    value = None if not_applicable else qc.parse(question, raw)
    with transaction(session):
        _upsert(session, assignment.id, question.key, value, not_applicable, user)
        session.execute(update(Assignment)
                        .where(Assignment.id == assignment.id,
                               Assignment.state == "not_started")
                        .values(state="in_progress")
                        .execution_options(synchronize_session=False))
    return value


def _upsert(session: Session, assignment_id: int, key: str, value: Any, not_applicable: bool,
            user: ClientUser) -> None:
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"assignment_id": assignment_id, "question_key": key, "value": value,
              "not_applicable": not_applicable, "answered_by_id": user.id,
              "answered_by": user.name, "answered_at": now()}
    statement = insert_(Answer).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["assignment_id", "question_key"],
        set_={k: statement.excluded[k] for k in ("value", "not_applicable", "answered_by_id",
                                                  "answered_by", "answered_at")})
    session.execute(statement)


@dataclass
class SectionProgress:
    section: qc.Section
    answered: int
    total: int
    missing_required: int

    @property
    def complete(self) -> bool:
        return self.missing_required == 0


def progress(content: dict[str, Any], answers: dict[str, Answer]) -> list[SectionProgress]:
    shown = qc.visible(content, values_of(answers))
    result = []
    for section in qc.sections(content):
        asked = [q for q in section.questions if q.key in shown]
        done = [q for q in asked if q.key in answers and qc.is_answered(
            answers[q.key].value, answers[q.key].not_applicable)]
        missing = [q for q in asked if q.required and q not in done]
        result.append(SectionProgress(section, len(done), len(asked), len(missing)))
    return result


def submit(session: Session, user: ClientUser, practice: Any, assignment: Assignment) -> None:
    """Send the answers in: every required question that shows must be answered."""
    with transaction(session):
        locked = session.scalar(select(Assignment).where(Assignment.id == assignment.id)
                                .with_for_update())
        if locked.state in ("submitted", "reviewed"):
            return
        answers = answers_of(session, locked)
        missing = [p for p in progress(_content(session, locked), answers) if not p.complete]
        if missing:
            raise Refused(_("Some required questions are not answered yet: see the parts "
                            "marked in the list."))
        locked.state, locked.submitted_at, locked.submitted_by = "submitted", now(), user.name
        locked.reopened = {}
        tasks.close_task(session, kind=TASK_KIND, subject_id=locked.id)
        audit.record(session, Actor(practice.id, "client", user.id, user.email),
                     "questionnaire.submitted", Subject("questionnaire_assignments", locked.id,
                                                        locked.client_id))
        _mail_staff(session, practice, locked, user)


def _content(session: Session, assignment: Assignment) -> dict[str, Any]:
    return session.scalar(select(TemplateVersion.content).where(
        TemplateVersion.id == assignment.version_id))


def _mail_staff(session: Session, practice: Any, assignment: Assignment,
                user: ClientUser) -> None:
    batch = session.get(QuestionnaireBatch, assignment.batch_id)
    client = session.get(Client, assignment.client_id)
    person = session.get(StaffUser, batch.created_by_id) if batch.created_by_id else None
    if person is None or not person.active:
        return
    notifications.enqueue(session, practice, notifications.Mail(
        to=person.email, to_name=person.name, kind="questionnaire_submitted",
        locale=person.locale,
        context={"title": assignment.title, "client_name": client.name, "who": user.name,
                 "link": notifications.practice_url(practice, "questionnaires.review",
                                                    assignment_id=assignment.id)}))


# --- review ----------------------------------------------------------------------------

def reopen(session: Session, actor: Actor, practice: Any, assignment: Assignment,
           section_key: str, comment: str) -> None:
    """Give a section back to the client with a comment; it is an open action again."""
    with transaction(session):
        content = _content(session, assignment)
        section = next((s for s in qc.sections(content) if s.key == section_key), None)
        if section is None:
            raise Refused(_("That part no longer exists; reload the page."))
        reopened = dict(assignment.reopened or {})
        reopened[section_key] = {"comment": comment, "by": actor.label,
                                 "at": now().isoformat()}
        assignment.reopened, assignment.state = reopened, "in_progress"
        assignment.reviewed_at = None
        client = session.get(Client, assignment.client_id)
        tasks.open_task(session, practice_id=assignment.practice_id, client_id=client.id,
                        kind=TASK_KIND, subject_id=assignment.id, title=assignment.title,
                        deadline=assignment.deadline)
        audit.record(session, actor, "questionnaire.reopened",
                     Subject("questionnaire_assignments", assignment.id, client.id),
                     section=section.title, comment=comment)
        link = notifications.practice_url(practice, "questionnaires.fill",
                                          client_id=client.id, assignment_id=assignment.id)
        for user in _contacts(session, [client.id]).get(client.id, []):
            notifications.enqueue(session, practice, notifications.Mail(
                to=user.email, to_name=user.name, kind="questionnaire_reopened",
                locale=user.locale,
                context={"title": assignment.title, "client_name": client.name,
                         "section": section.title, "comment": comment, "link": link}))


def mark_reviewed(session: Session, actor: Actor, assignment: Assignment) -> bool:
    with transaction(session):
        changed = session.execute(
            update(Assignment).where(Assignment.id == assignment.id,
                                     Assignment.state == "submitted")
            .values(state="reviewed", reviewed_at=now())
            .execution_options(synchronize_session=False)).rowcount
        if changed:
            audit.record(session, actor, "questionnaire.reviewed",
                         Subject("questionnaire_assignments", assignment.id,
                                 assignment.client_id))
    return changed == 1


@dataclass
class BatchOverview:
    counts: dict[str, int]
    overdue: int
    rows: list[tuple[Assignment, Client]]


def batch_overview(session: Session, batch: QuestionnaireBatch, *, state: str | None,
                   page: int, page_size: int = 50) -> tuple[BatchOverview, int]:
    counts = dict(session.execute(
        select(Assignment.state, func.count()).where(Assignment.batch_id == batch.id)
        .group_by(Assignment.state)).all())
    overdue = session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.batch_id == batch.id, Assignment.deadline < now(),
        Assignment.state.in_(("not_started", "in_progress")))) or 0
    where = [Assignment.batch_id == batch.id]
    if state:
        where.append(Assignment.state == state)
    total = session.scalar(select(func.count()).select_from(Assignment).where(*where)) or 0
    rows = list(session.execute(
        select(Assignment, Client).join(Client, Client.id == Assignment.client_id)
        .where(*where).order_by(Client.name, Assignment.id)
        .limit(page_size).offset((max(page, 1) - 1) * page_size)).tuples())
    return BatchOverview(counts, overdue, rows), total


def batches(session: Session, practice_id: int, limit: int = 20) -> list[QuestionnaireBatch]:
    return list(session.scalars(select(QuestionnaireBatch).where(
        QuestionnaireBatch.practice_id == practice_id)
        .order_by(QuestionnaireBatch.id.desc()).limit(limit)))


def templates(session: Session, practice_id: int) -> list[QuestionnaireTemplate]:
    return list(session.scalars(select(QuestionnaireTemplate).where(
        QuestionnaireTemplate.practice_id == practice_id,
        QuestionnaireTemplate.archived.is_(False)).order_by(QuestionnaireTemplate.name)))


# --- loose questions ("vragen stellen") ------------------------------------------------

def add_question(session: Session, actor: Actor, client: Client, text: str,
                 engagement_id: int | None, follow_up_of: Question | None = None) -> Question:
    with transaction(session):
        question = Question(practice_id=client.practice_id, client_id=client.id, text=text,
                            engagement_id=engagement_id, created_by_id=actor.id,
                            follow_up_of_id=follow_up_of.id if follow_up_of else None)
        session.add(question)
        if follow_up_of is not None and follow_up_of.state == "answered":
            follow_up_of.state = "done"
        session.flush()
        audit.record(session, actor, "question.added", Subject("questions", question.id,
                                                               client.id))
    return question


def client_questions(session: Session, client: Client) -> list[Question]:
    return list(session.scalars(select(Question).where(Question.client_id == client.id)
                                .order_by(Question.id.desc()).limit(200)))


def send_questions(session: Session, actor: Actor, practice: Any, client: Client,
                   deadline: datetime | None, message: str | None) -> QuestionList:
    """Every question collected so far goes out in one mail and one open action."""
    if not tiers.has(client, "questions"):
        raise Refused(_("This client's tier has no questions through the portal."))
    if client.status != "active":
        raise Refused(_("This client is blocked or the collaboration has ended."))
    with transaction(session):
        drafts = list(session.scalars(select(Question).where(
            Question.client_id == client.id, Question.state == "draft")))
        if not drafts:
            raise Refused(_("There are no questions to send."))
        question_list = QuestionList(practice_id=client.practice_id, client_id=client.id,
                                     deadline=deadline, message=message, sent_by_id=actor.id)
        session.add(question_list)
        session.flush()
        for question in drafts:
            question.list_id, question.state = question_list.id, "open"
        with force_locale(practice.locale):
            title = _("Answer %(count)d questions", count=len(drafts)) if len(drafts) > 1 \
                else _("Answer a question")
        tasks.open_task(session, practice_id=client.practice_id, client_id=client.id,
                        kind=LIST_KIND, subject_id=question_list.id, title=title,
                        deadline=deadline)
        link = notifications.practice_url(practice, "questionnaires.answer_questions",
                                          client_id=client.id, list_id=question_list.id)
        for user in _contacts(session, [client.id]).get(client.id, []):
            notifications.enqueue(session, practice, notifications.Mail(
                to=user.email, to_name=user.name, kind="questions_sent", locale=user.locale,
                context={"count": len(drafts), "client_name": client.name, "link": link,
                         "deadline": deadline, "message": message}))
        audit.record(session, actor, "question.sent", Subject("question_lists",
                                                              question_list.id, client.id),
                     questions=len(drafts))
    return question_list


def answer_question(session: Session, user: ClientUser, practice: Any, question: Question,
                    text: str) -> None:
    """An answer to one question; when every question of the list has one, the open action
    is done and the practice is told."""
    text = text.strip()
    if not text:
        raise qc.AnswerError(_("Type your answer first."))
    if len(text) > 10_000:
        raise qc.AnswerError(_("At most %(count)d characters, please.", count=10_000))
    with transaction(session):
        changed = session.execute(
            update(Question).where(Question.id == question.id,
                                   Question.state.in_(("open", "answered")))
            .values(answer=text, answered_by=user.name, answered_at=now(), state="answered")
            .execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            raise qc.AnswerError(_("This question has been dealt with already."))
        waiting = session.scalar(select(func.count()).select_from(Question).where(
            Question.list_id == question.list_id, Question.state == "open")) or 0
        if not waiting:
            question_list = session.get(QuestionList, question.list_id)
            if question_list.state == "open":
                question_list.state = "answered"
                tasks.close_task(session, kind=LIST_KIND, subject_id=question_list.id)
                _mail_answers_in(session, practice, question_list, user)
        audit.record(session, Actor(practice.id, "client", user.id, user.email),
                     "question.answered", Subject("questions", question.id,
                                                  question.client_id))


def _mail_answers_in(session: Session, practice: Any, question_list: QuestionList,
                     user: ClientUser) -> None:
    person = session.get(StaffUser, question_list.sent_by_id) if question_list.sent_by_id \
        else None
    if person is None or not person.active:
        return
    client = session.get(Client, question_list.client_id)
    notifications.enqueue(session, practice, notifications.Mail(
        to=person.email, to_name=person.name, kind="questions_answered", locale=person.locale,
        context={"client_name": client.name, "who": user.name,
                 "link": notifications.practice_url(practice, "questionnaires.client_questions",
                                                    client_id=client.id)}))


def mark_done(session: Session, actor: Actor, question: Question) -> None:
    with transaction(session):
        question.state = "done"
        audit.record(session, actor, "question.done", Subject("questions", question.id,
                                                              question.client_id))


def remove_draft(session: Session, actor: Actor, question: Question) -> None:
    if question.state != "draft":
        raise Refused(_("Only questions that have not been sent can be removed."))
    with transaction(session):
        session.delete(question)
        audit.record(session, actor, "question.removed", Subject("questions", question.id,
                                                                 question.client_id))


# --- reminders -------------------------------------------------------------------------

def compose_reminders(session: Session, due: list[DueTask]) -> list[tuple[Any, Any]]:
    """Questionnaires (until submitted) and question lists (until answered): a reminder to
    each contact person of the company, with the portal link."""
    from portal.tenancy.models import Practice

    practices = {p.id: p for p in session.scalars(select(Practice).where(
        Practice.id.in_({t.practice_id for t in due})))}
    clients = {c.id: c for c in session.scalars(select(Client).where(
        Client.id.in_({t.client_id for t in due})))}
    contacts = _contacts(session, list(clients))
    mails = []
    for task in due:
        practice, client = practices[task.practice_id], clients[task.client_id]
        if task.kind == TASK_KIND:
            link = notifications.practice_url(practice, "questionnaires.fill",
                                              client_id=client.id, assignment_id=task.subject_id)
        else:
            link = notifications.practice_url(practice, "questionnaires.answer_questions",
                                              client_id=client.id, list_id=task.subject_id)
        with force_locale(practice.locale):
            action = _("Continue in the portal")
        for user in contacts.get(client.id, []):
            mails.append((practice, notifications.Mail(
                to=user.email, to_name=user.name, kind="reminder",
                dedupe_key=f"reminder:{task.kind}:{task.subject_id}:{user.id}:{task.offset}",
                context={"task": task.title, "client_name": client.name,
                         "deadline": task.deadline, "link": link, "action": action,
                         "overdue": task.offset > 0, "custom_text": practice.reminder_text})))
    return mails
