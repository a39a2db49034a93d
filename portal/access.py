"""THE place for authorization: who may call which view, and who may load which row.

Every view declares its callers with one of the decorators below; `enforce` runs before
every request and denies a view that declares nothing. Loading a tenant row by id goes
through a helper here that answers 404 unless the actor may see it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal import clock, db
from portal.accounts.models import ClientUser, Membership, StaffUser
from portal.audit import Actor
from portal.clients import tiers
from portal.clients.models import Client, ClientImport
from portal.collaboration.models import ClientExport, Offer
from portal.engagements.models import (
    BulkEngagementBatch,
    BulkReportBatch,
    Engagement,
    ReportVersion,
    Share,
    Signer,
)
from portal.notifications.models import OutboxMessage
from portal.questionnaires.models import (
    Assignment,
    Question,
    QuestionList,
    QuestionnaireBatch,
    QuestionnaireTemplate,
)
from portal.web import this_page

View = TypeVar("View", bound=Callable[..., Any])
# A company in these states is in its users' portal; one its client left stays readable
# (history and export) until its data is deleted.
PORTAL_STATUSES = ("active", "left")


@dataclass(frozen=True)
class Rule:
    """Who may call a view: 'public', 'staff' (optionally admins only), 'client', 'link'."""

    kind: str
    role: str | None = None


def _declare(rule: Rule) -> Callable[[View], View]:
    def mark(view: View) -> View:
        view.access = rule  # type: ignore[attr-defined]
        return view

    return mark


public = _declare(Rule("public"))
client_user = _declare(Rule("client"))
link_holder = _declare(Rule("link"))


def staff(role: str | None = None) -> Callable[[View], View]:
    """Staff of this practice; role="admin" for admins only."""
    return _declare(Rule("staff", role))


def rule_of(endpoint: str | None) -> Rule | None:
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "access", None)


def init_app(app: Flask) -> None:
    app.view_functions["static"].access = Rule("public")  # type: ignore[attr-defined]
    app.before_request(enforce)


def enforce():  # type: ignore[no-untyped-def]
    """Default deny: a view without a declaration is not served."""
    if request.endpoint is None:
        return None  # no route matched: the 404 handler answers
    rule = rule_of(request.endpoint)
    if rule is None:
        abort(404)
    if rule.kind == "public":
        return None
    user = current_user
    if rule.kind == "staff":
        if isinstance(user, StaffUser):
            if rule.role and user.role != rule.role:
                abort(403)
            return None
        if user.is_authenticated:
            abort(404)  # a client user has no back office to find
        return redirect(url_for("accounts.staff_login", next=this_page()))
    if rule.kind == "client":
        if isinstance(user, ClientUser):
            return None
        if user.is_authenticated:
            abort(404)
        return redirect(url_for("accounts.client_login", next=this_page()))
    if rule.kind == "link":
        signer_id = (request.view_args or {}).get("signer_id")
        if signer_id is not None and has_grant(signer_id):
            return None
        return render_template("accounts/link_error.html", reason="grant"), 403
    abort(404)


# --- the holder of a one-time link ------------------------------------------------------

def grant(signer_id: int) -> None:
    """Using a temporary link gives its holder a short grant for that one task."""
    minutes = current_app.config["LINK_GRANT_MINUTES"]
    grants = {k: v for k, v in session.get("grants", {}).items() if v > clock.now().timestamp()}
    grants[str(signer_id)] = clock.now().timestamp() + minutes * 60
    session["grants"] = grants


def has_grant(signer_id: int) -> bool:
    return session.get("grants", {}).get(str(signer_id), 0) > clock.now().timestamp()


def end_grant(signer_id: int) -> None:
    grants = dict(session.get("grants", {}))
    grants.pop(str(signer_id), None)
    session["grants"] = grants


# A path on this host: one slash, then no second slash or backslash (which browsers read as
# another host), and no space or control character (a line break would end the Location
# header; Werkzeug refuses it with a 500). What browsers send is percent-encoded anyway.
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\x00-\x20\x7f\\]*")
_LONGEST_NEXT = 2000


def safe_next(target: str | None, fallback: str) -> str:
    """A redirect target only when it is a plain local path of this host."""
    if not target or len(target) > _LONGEST_NEXT or not _LOCAL_PATH.fullmatch(target):
        return fallback
    return target


def actor() -> Actor:
    """The acting user and where the request came from, for services and the audit log."""
    user = current_user
    return Actor(
        practice_id=g.practice.id,
        type=user.kind,
        id=user.id,
        label=user.email,
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
    )


# --- loading rows for an actor -------------------------------------------------------

def _found(statement: Any) -> Any:
    """The one row a statement selects, or 404: not found and not yours look the same."""
    row = db.session.scalar(statement)
    if row is None:
        abort(404)
    return row


def client_for_staff(user: StaffUser, client_id: int) -> Client:
    """A client of the staff user's practice, or 404."""
    return _found(
        select(Client).where(Client.id == client_id, Client.practice_id == user.practice_id)
    )


def report_batch_for_staff(user: StaffUser, batch_id: int) -> BulkReportBatch:
    """PDFs dropped at once by staff of this practice, or 404."""
    return _found(select(BulkReportBatch).where(BulkReportBatch.id == batch_id,
                                                BulkReportBatch.practice_id == user.practice_id))


def engagement_batch_for_staff(user: StaffUser, batch_id: int) -> BulkEngagementBatch:
    """Engagements made for many clients by the worker, in this staff user's practice, or
    404."""
    return _found(select(BulkEngagementBatch).where(
        BulkEngagementBatch.id == batch_id, BulkEngagementBatch.practice_id == user.practice_id))


def client_import_for_staff(user: StaffUser, import_id: int) -> ClientImport:
    """An import of clients of the staff user's practice, or 404."""
    return _found(select(ClientImport).where(ClientImport.id == import_id,
                                             ClientImport.practice_id == user.practice_id))


def membership_for_staff(user: StaffUser, client: Client, membership_id: int) -> Membership:
    """A contact person's membership of this client (already checked), or 404."""
    membership = db.session.scalar(select(Membership).where(
        Membership.id == membership_id, Membership.client_id == client.id))
    if membership is None or client.practice_id != user.practice_id:
        abort(404)
    return membership


def engagement_for_staff(user: StaffUser, engagement_id: int) -> Engagement:
    """An engagement of the staff user's practice (with its client), or 404."""
    return _found(
        select(Engagement).where(Engagement.id == engagement_id,
                                 Engagement.practice_id == user.practice_id)
        .options(joinedload(Engagement.client), joinedload(Engagement.responsible)))


def version_for_staff(user: StaffUser, engagement: Engagement, version_id: int
                      ) -> ReportVersion:
    """A report version of this (already checked) engagement, or 404."""
    version = db.session.scalar(select(ReportVersion).where(
        ReportVersion.id == version_id, ReportVersion.engagement_id == engagement.id))
    if version is None or engagement.practice_id != user.practice_id:
        abort(404)
    return version


def share_for_staff(user: StaffUser, engagement: Engagement, share_id: int) -> Share:
    """A share of this (already checked) engagement, with its signers, or 404."""
    share = db.session.scalar(
        select(Share).where(Share.id == share_id, Share.engagement_id == engagement.id)
        .options(selectinload(Share.signers), joinedload(Share.version)))
    if share is None or engagement.practice_id != user.practice_id:
        abort(404)
    return share


def signer_for_link_holder(signer_id: int) -> tuple[Signer, Share, Engagement, Client]:
    """The task a link holder was granted, on this practice's host, or 404."""
    signer = db.session.get(Signer, signer_id)
    share = db.session.scalar(select(Share).where(Share.id == signer.share_id)
                              .options(joinedload(Share.version))) if signer else None
    if share is None or share.practice_id != g.practice.id:
        abort(404)
    engagement = db.session.get(Engagement, share.engagement_id)
    client = db.session.get(Client, share.client_id)
    return signer, share, engagement, client


def share_for_member(user: ClientUser, client_id: int, share_id: int
                     ) -> tuple[Share, Signer | None, Engagement, Client]:
    """A share of one of the user's portal companies, and the user's place in it, or 404."""
    client = company_for_member(user, client_id)
    share = db.session.scalar(
        select(Share).where(Share.id == share_id, Share.client_id == client.id)
        .options(joinedload(Share.version)))
    if share is None:
        abort(404)
    signer = db.session.scalar(select(Signer).where(Signer.share_id == share.id,
                                                    Signer.client_user_id == user.id))
    engagement = db.session.get(Engagement, share.engagement_id)
    return share, signer, engagement, client


def mail_for_staff(user: StaffUser, message_id: int) -> OutboxMessage:
    """A message of the staff user's practice's outbox, or 404."""
    return _found(select(OutboxMessage).where(
        OutboxMessage.id == message_id, OutboxMessage.practice_id == user.practice_id))


def require_active(client: Client) -> None:
    """Changing anything needs a collaboration that is on; after an end it is read-only."""
    if client.status != "active":
        abort(403)


def is_owner(user: ClientUser, client: Client) -> bool:
    """Whether the user is the main contact (owner) of this (already checked) company."""
    return db.session.scalar(select(Membership.role).where(
        Membership.client_user_id == user.id, Membership.client_id == client.id)) == "owner"


def membership_of_company(client: Client, membership_id: int) -> Membership:
    """A membership of this (already checked) company, or 404."""
    return _found(select(Membership).where(
        Membership.id == membership_id, Membership.client_id == client.id))


def portal_companies(user: ClientUser) -> list[Client]:
    """The companies this client user reaches in the portal: member, portal tier, active.
    Kept for the request: the page and its company switcher both ask."""
    cached = g.get("portal_companies")
    if cached is not None and cached[0] == user.id:
        return cached[1]
    companies = list(db.session.scalars(
        select(Client)
        .join(Membership, Membership.client_id == Client.id)
        .where(
            Membership.client_user_id == user.id,
            Client.practice_id == user.practice_id,
            Client.tier.in_(tiers.tiers_with("portal")),
            Client.status.in_(PORTAL_STATUSES),
        )
        .order_by(Client.name)
    ))
    g.portal_companies = (user.id, companies)
    return companies


def company_for_member(user: ClientUser, client_id: int) -> Client:
    """One of the user's portal companies, or 404 (also when its tier lost the portal)."""
    return _found(
        select(Client)
        .join(Membership, Membership.client_id == Client.id)
        .where(
            Client.id == client_id,
            Membership.client_user_id == user.id,
            Client.practice_id == user.practice_id,
            Client.tier.in_(tiers.tiers_with("portal")),
            Client.status.in_(PORTAL_STATUSES),
        )
    )


def staff_for_admin(user: StaffUser, staff_id: int) -> StaffUser:
    """A staff member of the admin's practice, or 404."""
    return _found(select(StaffUser).where(StaffUser.id == staff_id,
                                                       StaffUser.practice_id == user.practice_id))


def domain_for_admin(user: StaffUser, domain_id: int):  # type: ignore[no-untyped-def]
    """A custom domain of the admin's practice, or 404."""
    from portal.tenancy.models import CustomDomain  # imported here: appended to this module

    return _found(select(CustomDomain).where(
        CustomDomain.id == domain_id, CustomDomain.practice_id == user.practice_id))


# --- questionnaires and questions ----------------------------------------------------

def template_for_staff(user: StaffUser, template_id: int) -> QuestionnaireTemplate:
    return _found(select(QuestionnaireTemplate).where(
        QuestionnaireTemplate.id == template_id,
        QuestionnaireTemplate.practice_id == user.practice_id))


def batch_for_staff(user: StaffUser, batch_id: int) -> QuestionnaireBatch:
    return _found(select(QuestionnaireBatch).where(
        QuestionnaireBatch.id == batch_id, QuestionnaireBatch.practice_id == user.practice_id))


def assignment_for_staff(user: StaffUser, assignment_id: int) -> tuple[Assignment, Client]:
    found = db.session.execute(
        select(Assignment, Client).join(Client, Client.id == Assignment.client_id)
        .where(Assignment.id == assignment_id, Assignment.practice_id == user.practice_id)
    ).first()
    if found is None:
        abort(404)
    return found[0], found[1]


def question_for_staff(user: StaffUser, question_id: int) -> Question:
    return _found(select(Question).where(
        Question.id == question_id, Question.practice_id == user.practice_id))


def assignment_for_member(user: ClientUser, client_id: int, assignment_id: int
                          ) -> tuple[Assignment, Client]:
    """A questionnaire of one of the user's portal companies, or 404."""
    client = company_for_member(user, client_id)
    assignment = db.session.scalar(select(Assignment).where(
        Assignment.id == assignment_id, Assignment.client_id == client.id))
    if assignment is None:
        abort(404)
    return assignment, client


def question_list_for_member(user: ClientUser, client_id: int, list_id: int
                             ) -> tuple[QuestionList, Client]:
    client = company_for_member(user, client_id)
    question_list = db.session.scalar(select(QuestionList).where(
        QuestionList.id == list_id, QuestionList.client_id == client.id))
    if question_list is None:
        abort(404)
    return question_list, client


def question_of_list(question_list: QuestionList, question_id: int) -> Question:
    return _found(select(Question).where(
        Question.id == question_id, Question.list_id == question_list.id))


# --- documents ---------------------------------------------------------------------------

def documents_company_for_member(user: ClientUser, client_id: int) -> Client:
    """One of the user's portal companies whose tier exchanges documents, or 404."""
    client = company_for_member(user, client_id)
    if not tiers.has(client, "documents"):
        abort(404)
    return client


def document_for_member(user: ClientUser, client: Client, document_id: int):  # type: ignore[no-untyped-def]
    """A document of this (already checked) company that this contact person may see:
    not deleted, and sent by the company or shared with them. Else 404."""
    from portal.documents.models import Document  # imported here: appended to this module
    from portal.documents.service import visible_to

    return _found(select(Document).where(
        Document.id == document_id, Document.client_id == client.id,
        Document.practice_id == user.practice_id, Document.deleted_at.is_(None),
        visible_to(user.id)))


def document_for_staff(user: StaffUser, client: Client, document_id: int, *,
                       deleted: bool = False):  # type: ignore[no-untyped-def]
    """A document of this (already checked) client of the staff user's practice, or 404;
    a deleted one only where deleted=True (restoring it)."""
    from portal.documents.models import Document

    query = select(Document).where(Document.id == document_id,
                                   Document.client_id == client.id,
                                   Document.practice_id == user.practice_id)
    if not deleted:
        query = query.where(Document.deleted_at.is_(None))
    document = db.session.scalar(query.options(joinedload(Document.engagement)))
    if document is None or client.practice_id != user.practice_id:
        abort(404)
    return document


def document_request_for_staff(user: StaffUser, client: Client, request_id: int):  # type: ignore[no-untyped-def]
    """A document request of this (already checked) client, or 404."""
    from portal.documents.models import DocumentRequest

    return _found(select(DocumentRequest).where(
        DocumentRequest.id == request_id, DocumentRequest.client_id == client.id,
        DocumentRequest.practice_id == user.practice_id))


# --- offers and exports --------------------------------------------------------------

def offer_for_staff(user: StaffUser, offer_id: int) -> Offer:
    return _found(select(Offer).where(Offer.id == offer_id,
                                                  Offer.practice_id == user.practice_id))


def export_for_staff(user: StaffUser, export_id: int) -> ClientExport:
    return _found(select(ClientExport).where(
        ClientExport.id == export_id, ClientExport.practice_id == user.practice_id))


def export_for_member(client: Client, export_id: int) -> ClientExport:
    """An export the company itself asked for (already checked company), or 404."""
    return _found(select(ClientExport).where(
        ClientExport.id == export_id, ClientExport.client_id == client.id,
        ClientExport.practice_id == client.practice_id, ClientExport.for_client.is_(True)))


# --- key figures, dashboards and insights --------------------------------------------------

def dashboard_engagement_for_member(user: ClientUser, client_id: int, engagement_id: int
                                    ) -> tuple[Engagement, Client]:
    """An annual-accounts engagement of one of the user's portal companies, or 404. Whether
    its dashboard is shared is the insights package's rule."""
    client = company_for_member(user, client_id)
    engagement = db.session.scalar(select(Engagement).where(
        Engagement.id == engagement_id, Engagement.client_id == client.id,
        Engagement.kind == "annual_accounts"))
    if engagement is None:
        abort(404)
    return engagement, client


def insights_company_for_member(user: ClientUser, client_id: int) -> Client:
    """One of the user's portal companies whose tier has client insights, or 404."""
    client = company_for_member(user, client_id)
    if not tiers.has(client, "client_insights"):
        abort(404)
    return client


def pending_import_for(user: StaffUser | ClientUser, client_id: int, pending_id: int,
                       kind: str, engagement_id: int | None = None):  # type: ignore[no-untyped-def]
    """An upload waiting for its next step that this user made for this (already checked)
    client, of this kind, not expired, or 404."""
    from portal.insights.models import PendingImport  # imported here: appended to this module

    pending = db.session.scalar(select(PendingImport).where(
        PendingImport.id == pending_id, PendingImport.client_id == client_id,
        PendingImport.practice_id == user.practice_id, PendingImport.kind == kind,
        PendingImport.owner == f"{user.kind}:{user.id}",
        PendingImport.expires_at > clock.now()))
    if pending is None or pending.engagement_id != engagement_id:
        abort(404)
    return pending
