"""Answers out: CSV (semicolons, what Dutch spreadsheets open) and XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.clients.billing import cell
from portal.clients.models import Client
from portal.questionnaires import content as qc
from portal.questionnaires.models import Answer, Assignment, TemplateVersion

HEADER = ["client_number", "client", "questionnaire", "section", "question", "answer",
          "not_applicable", "answered_by", "answered_at"]


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
                       question.label,
                       qc.display(question, answer.value, answer.not_applicable)
                       if answer else "",
                       "yes" if answer and answer.not_applicable else "",
                       answer.answered_by if answer else "",
                       answer.answered_at.strftime("%Y-%m-%d %H:%M") if answer else ""]


def as_csv(data: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADER)
    for row in data:
        writer.writerow([cell(str(v)) for v in row])
    return out.getvalue()


def as_xlsx(data: Iterable[list[Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("answers")
    sheet.append(HEADER)
    for row in data:
        sheet.append([cell(str(v)) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
