"""The index.html of a client's export: the client's data to read offline, in the client's
language, with the list of files and their SHA-256 fingerprints as its last section.

One self-contained page (its style inline, no scripts, nothing fetched), rendered by Jinja
with autoescaping, so every text a user typed is escaped. Links point to the files beside
it in the ZIP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.accounts.models import ClientUser, Membership
from portal.clients.models import Client
from portal.clock import now
from portal.documents.models import DIRECTIONS, Document
from portal.engagements.models import (
    SHARE_MODES,
    SHARE_STATES,
    STATUSES,
    Engagement,
    ReportVersion,
    Share,
    Signer,
)
from portal.insights import rgs
from portal.insights.dashboard import annual_years, years_with_figures
from portal.insights.models import SERIES_KINDS, Figure, Series
from portal.questionnaires import content as qc
from portal.questionnaires.models import (
    ASSIGNMENT_STATES,
    QUESTION_STATES,
    Answer,
    Assignment,
    Question,
    TemplateVersion,
)
from portal.tenancy.models import Practice


def locale_for(session: Session, client: Client, practice: Practice) -> str:
    """The client's language: its main contact's own choice, else the practice's, else
    Dutch."""
    languages = current_app.config["LANGUAGES"]
    owner = session.scalar(
        select(ClientUser.locale).join(Membership, Membership.client_user_id == ClientUser.id)
        .where(Membership.client_id == client.id, Membership.role == "owner",
               ClientUser.locale.is_not(None))
        .order_by(Membership.id).limit(1))
    for choice in (owner, practice.locale):
        if choice in languages:
            return choice
    return "nl"


@dataclass
class ReportSection:
    engagement: Engagement
    versions: list[tuple[ReportVersion, str | None]] = field(default_factory=list)
    shares: list[tuple[Share, int, list[Signer]]] = field(default_factory=list)


@dataclass
class QuestionnaireSection:
    assignment: Assignment
    # (section title, [(question, the answer as read, the Answer or None)])
    sections: list[tuple[str, list[tuple[str, str, Answer | None]]]] = field(
        default_factory=list)


@dataclass
class KeyFigures:
    years: list[int]
    rows: list[tuple[Any, list[Decimal]]]  # (label, amount per year)


def index_html(session: Session, client: Client, entries: Iterable[Any],
               report_paths: Mapping[int, str], document_path: Any) -> str:
    """The page, rendered in the client's language. `entries` are the ZIP's files (path,
    size, sha256); `report_paths` where each report version went; `document_path(doc)`
    where a document went."""
    practice = session.get(Practice, client.practice_id)
    entries = list(entries)
    in_zip = {e.path for e in entries}
    with force_locale(locale_for(session, client, practice)):
        return render_template(
            "collaboration/export_index.html", client=client, practice=practice,
            made_at=now(), entries=entries,
            reports=_reports(session, client, report_paths),
            documents=[(d, p if p in in_zip else None) for d, p in
                       ((d, document_path(d)) for d in _documents(session, client))],
            questionnaires=_questionnaires(session, client),
            questions=list(session.scalars(select(Question).where(
                Question.client_id == client.id, Question.state != "draft")
                .order_by(Question.id))),
            key_figures=_key_figures(session, client),
            series=_series(session, client), engagement_statuses=STATUSES,
            share_modes=SHARE_MODES, share_states=SHARE_STATES, directions=DIRECTIONS,
            assignment_states=ASSIGNMENT_STATES, question_states=QUESTION_STATES,
            series_kinds=SERIES_KINDS)


def _reports(session: Session, client: Client, paths: Mapping[int, str]
             ) -> list[ReportSection]:
    found = {e.id: ReportSection(e) for e in session.scalars(
        select(Engagement).where(Engagement.client_id == client.id)
        .order_by(Engagement.year.desc(), Engagement.id))}
    numbers: dict[int, int] = {}
    for version in session.scalars(select(ReportVersion).where(
            ReportVersion.engagement_id.in_(list(found))).order_by(ReportVersion.id)):
        found[version.engagement_id].versions.append((version, paths.get(version.id)))
        numbers[version.id] = version.number
    shares = list(session.scalars(select(Share).where(Share.client_id == client.id)
                                  .order_by(Share.id)))
    signers: dict[int, list[Signer]] = {s.id: [] for s in shares}
    if shares:
        for signer in session.scalars(select(Signer).where(
                Signer.share_id.in_(list(signers))).order_by(Signer.id)):
            signers[signer.share_id].append(signer)
    for share in shares:
        if share.engagement_id in found:
            found[share.engagement_id].shares.append(
                (share, numbers.get(share.report_version_id, 0), signers[share.id]))
    return [section for section in found.values() if section.versions or section.shares]


def _documents(session: Session, client: Client) -> list[Document]:
    return list(session.scalars(select(Document).where(
        Document.client_id == client.id, Document.deleted_at.is_(None))
        .order_by(Document.year.desc(), Document.id)))


def _questionnaires(session: Session, client: Client) -> list[QuestionnaireSection]:
    """Each questionnaire with the questions that show and their answers as the review page
    reads them, in the current language (yes/ja, € 1.234,56)."""
    assignments = list(session.scalars(select(Assignment).where(
        Assignment.client_id == client.id).order_by(Assignment.id)))
    if not assignments:
        return []
    contents = {v.id: v.content for v in session.scalars(select(TemplateVersion).where(
        TemplateVersion.id.in_({a.version_id for a in assignments})))}
    given: dict[int, dict[str, Answer]] = {a.id: {} for a in assignments}
    for answer in session.scalars(select(Answer).where(
            Answer.assignment_id.in_(list(given)))):
        given[answer.assignment_id][answer.question_key] = answer
    found = []
    for assignment in assignments:
        content, answers = contents[assignment.version_id], given[assignment.id]
        shown = qc.visible(content, {k: a.value for k, a in answers.items()
                                     if not a.not_applicable})
        part = QuestionnaireSection(assignment)
        for section in qc.sections(content):
            lines = []
            for question in section.questions:
                if question.key in shown:
                    answer = answers.get(question.key)
                    lines.append((question.label, qc.display(
                        question, answer.value, answer.not_applicable) if answer else "",
                        answer))
            if lines:
                part.sections.append((section.title, lines))
        found.append(part)
    return found


def _key_figures(session: Session, client: Client) -> dict[str, KeyFigures]:
    """The annual key figures, newest year first: profit and loss, and balance sheet."""
    annual = annual_years(session, client.id, years_with_figures(session, client.id))
    years = sorted((y for y, found in annual.items() if found.has_figures), reverse=True)
    if not years:
        return {}
    return {name: KeyFigures(years, [(f.label, [annual[y][f] for y in years]) for f in figures])
            for name, figures in (("profit_and_loss", rgs.PROFIT_AND_LOSS_FIGURES),
                                  ("balance", rgs.BALANCE_FIGURES))}


def _series(session: Session, client: Client) -> list[tuple[Series, list[tuple[date, Decimal]]]]:
    """The client's own series (till, webshop): the amount of each month, newest first."""
    series = {s.id: (s, []) for s in session.scalars(select(Series).where(
        Series.client_id == client.id).order_by(Series.name))}
    if not series:
        return []
    months: dict[int, list[tuple[date, Decimal]]] = {key: [] for key in series}
    for series_id, year, month, amount in session.execute(
            select(Figure.series_id, Figure.year, Figure.month, func.sum(Figure.amount))
            .where(Figure.client_id == client.id, Figure.series_id.in_(list(series)),
                   Figure.month.is_not(None))
            .group_by(Figure.series_id, Figure.year, Figure.month)
            .order_by(Figure.year.desc(), Figure.month.desc())):
        months[series_id].append((date(year, month, 1), Decimal(amount)))
    return [(s, months[key]) for key, (s, _empty) in series.items() if months[key]]
