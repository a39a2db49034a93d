"""Answers out: CSV (semicolons, what Dutch spreadsheets open) and XLSX (openpyxl).

Amounts, numbers and dates are written as values a spreadsheet can count with, and the time
of each answer in Amsterdam time, as the review page shows it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clients.billing import cell
from portal.clients.models import Client
from portal.clock import AMSTERDAM
from portal.questionnaires import content as qc
from portal.questionnaires.models import Answer, Assignment, TemplateVersion

HEADER = ["client_number", "client", "questionnaire", "section", "question", "answer",
          "not_applicable", "answered_by", "answered_at"]
EURO_FORMAT = '"€" #,##0.00;-"€" #,##0.00'
DATE_FORMAT = "dd-mm-yyyy"
MOMENT_FORMAT = "dd-mm-yyyy hh:mm:ss"


class Euro(Decimal):
    """An amount answer: a number to spreadsheets, shown with a euro format."""


def _value(question: qc.Question, answer: Answer | None) -> Any:
    if answer is None:
        return ""
    if answer.not_applicable or answer.value in (None, "", []):
        return qc.display(question, answer.value, answer.not_applicable)
    if question.type == "amount":
        return Euro(answer.value)
    if question.type == "number":
        return Decimal(answer.value)
    if question.type == "date":
        return date.fromisoformat(answer.value)
    return qc.display(question, answer.value)


def _moment(stored: datetime) -> datetime:
    """A stored moment (UTC) in Amsterdam time, with its offset."""
    return (stored if stored.tzinfo else stored.replace(tzinfo=UTC)).astimezone(AMSTERDAM)


def rows(session: Session, assignments: list[Assignment]) -> Iterable[list[Any]]:
    """One row per question that shows, for each assignment, in questionnaire order."""
    if not assignments:
        return
    ids = [a.id for a in assignments]
    answers: dict[int, dict[str, Answer]] = {i: {} for i in ids}
    for answer in session.scalars(select(Answer).where(Answer.assignment_id.in_(ids))):
        answers[answer.assignment_id][answer.question_key] = answer
    versions = {v.id: v.content for v in session.scalars(select(TemplateVersion).where(
        TemplateVersion.id.in_({a.version_id for a in assignments})))}
    clients = {c.id: c for c in session.scalars(select(Client).where(
        Client.id.in_({a.client_id for a in assignments})))}
    for assignment in assignments:
        content, given = versions[assignment.version_id], answers[assignment.id]
        shown = qc.visible(content, {k: a.value for k, a in given.items()
                                     if not a.not_applicable})
        client = clients[assignment.client_id]
        for section in qc.sections(content):
            for question in section.questions:
                if question.key not in shown:
                    continue
                answer = given.get(question.key)
                yield [client.client_number, client.name, assignment.title, section.title,
                       question.label, _value(question, answer),
                       "yes" if answer and answer.not_applicable else "",
                       answer.answered_by if answer else "",
                       _moment(answer.answered_at) if answer else ""]


def _csv_text(value: Any) -> str:
    """Numbers with a decimal comma (the file is for Dutch spreadsheets, hence the
    semicolons), dates as dd-mm-yyyy, moments as ISO 8601 with the offset."""
    if isinstance(value, Euro):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, Decimal):
        return str(value).replace(".", ",")
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    return cell(str(value))


def as_csv(data: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADER)
    for row in data:
        writer.writerow([_csv_text(v) for v in row])
    return out.getvalue()


def as_xlsx(data: Iterable[list[Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("answers")
    sheet.append([*HEADER[:-1], "answered_at (Europe/Amsterdam)"])

    def typed(value: Any) -> Any:
        if isinstance(value, datetime):  # a spreadsheet has no zones: the wall time there
            return _formatted(sheet, value.replace(tzinfo=None), MOMENT_FORMAT)
        if isinstance(value, date):
            return _formatted(sheet, value, DATE_FORMAT)
        if isinstance(value, Euro):
            return _formatted(sheet, Decimal(value), EURO_FORMAT)
        if isinstance(value, Decimal):
            return value
        return cell(str(value))

    for row in data:
        sheet.append([typed(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _formatted(sheet: Any, value: Any, number_format: str) -> WriteOnlyCell:
    written = WriteOnlyCell(sheet, value=value)
    written.number_format = number_format
    return written
