"""Questionnaire templates (versioned), sends, assignments and answers; loose questions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.clock import now
from portal.db import Base

ASSIGNMENT_STATES = {
    "not_started": _l("Not started"),
    "in_progress": _l("In progress"),
    "submitted": _l("Submitted"),
    "reviewed": _l("Reviewed"),
}


class QuestionnaireTemplate(Base):
    """A questionnaire staff send to clients, e.g. "Jaarrekening eenmanszaak 2025"."""

    __tablename__ = "questionnaire_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"),
                                             index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=now)

    versions: Mapped[list[TemplateVersion]] = relationship(
        back_populates="template", lazy="raise", order_by="TemplateVersion.number")


class TemplateVersion(Base):
    """The sections and questions of a template as they were at one moment. A version that
    has been sent is never changed: editing it makes the next version."""

    __tablename__ = "questionnaire_versions"
    __table_args__ = (UniqueConstraint("template_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_templates.id",
                                                        ondelete="CASCADE"))
    number: Mapped[int]
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    sent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=now)

    template: Mapped[QuestionnaireTemplate] = relationship(back_populates="versions",
                                                           lazy="raise")


class QuestionnaireBatch(Base):
    """One send of a template version to many clients at once."""

    __tablename__ = "questionnaire_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"),
                                             index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id",
                                                       ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[datetime | None]
    message: Mapped[str | None] = mapped_column(Text)
    client_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(10), default="queued")  # queued, done
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)
    done_at: Mapped[datetime | None]

    version: Mapped[TemplateVersion] = relationship(lazy="raise")


class Assignment(Base):
    """One client's copy of a sent questionnaire, answered by its contact persons."""

    __tablename__ = "questionnaire_assignments"
    __table_args__ = (
        UniqueConstraint("batch_id", "client_id"),
        Index("ix_questionnaire_assignments_client", "client_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_batches.id",
                                                     ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_versions.id",
                                                       ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(12), default="not_started")
    # Sections staff reopened after submission: {section key: {"comment", "by", "at"}}
    reopened: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[str | None] = mapped_column(String(254))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=now)

    version: Mapped[TemplateVersion] = relationship(lazy="raise")
    batch: Mapped[QuestionnaireBatch] = relationship(lazy="raise")


class Answer(Base):
    """The answer to one question: the last one given wins, with who gave it and when."""

    __tablename__ = "questionnaire_answers"
    __table_args__ = (UniqueConstraint("assignment_id", "question_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_assignments.id",
                                                          ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(20))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    not_applicable: Mapped[bool] = mapped_column(default=False)
    answered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("client_users.id", ondelete="SET NULL"))
    answered_by: Mapped[str] = mapped_column(String(200))
    answered_at: Mapped[datetime] = mapped_column(default=now)


QUESTION_STATES = {
    "draft": _l("Not sent yet"),
    "open": _l("Waiting for an answer"),
    "answered": _l("Answered"),
    "done": _l("Done"),
}


class QuestionList(Base):
    """Loose questions sent to a client in one go: one mail, one open action."""

    __tablename__ = "question_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"),
                                           index=True)
    deadline: Mapped[datetime | None]
    message: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="open")  # open, answered
    sent_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(default=now)

    questions: Mapped[list[Question]] = relationship(back_populates="question_list",
                                                     lazy="raise", order_by="Question.id")


class Question(Base):
    """A loose question for a client about one engagement, collected until sent."""

    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_client_state", "client_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practices.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    engagement_id: Mapped[int | None] = mapped_column(
        ForeignKey("engagements.id", ondelete="SET NULL"))
    list_id: Mapped[int | None] = mapped_column(ForeignKey("question_lists.id",
                                                           ondelete="SET NULL"))
    follow_up_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="draft")
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(200))
    answered_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=now)

    question_list: Mapped[QuestionList | None] = relationship(back_populates="questions",
                                                              lazy="raise")
