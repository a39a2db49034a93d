"""Reports, sharing and digital approval.

Staff upload a report (a PDF) as a new version of an engagement and share it with the
client, for viewing or for approval by one or more signers. Where the client's tier has
the portal, a signer with a portal login finds the task among their open actions; everyone
else gets a temporary link: opening it (a POST, never a GET) uses it up and grants a short
session for this one task. Each decision is a single state transition on a locked share,
so two decisions at once, or a decision racing a withdrawal, leave exactly one outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, BinaryIO

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from portal import audit, notifications
from portal.accounts import links
from portal.accounts.models import SIGNING_POSITIONS, ClientUser, Membership, StaffUser
from portal.accounts.service import reply_address
from portal.audit import Actor
from portal.clients import tiers
from portal.clients.models import Client
from portal.clock import AMSTERDAM, now
from portal.db import transaction
from portal.documents.storage import EmptyFile, Storage, StoredFile, TooLarge
from portal.engagements import sealing
from portal.engagements.models import Engagement, ReportVersion, Share, Signer
from portal.notifications import tasks
from portal.notifications.reminders import DueTask

TASK_KIND = "approval"
PDF = "application/pdf"


class ApprovalError(Exception):
    """A refusal with a reason the page explains: not_pdf, too_large, empty, tier,
    no_signers, deadline, closed, decided, no_version."""

    def __init__(self, reason: str, **facts: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.facts = facts


@dataclass(frozen=True)
class SignerChoice:
    """Who should approve: a contact person, or just an e-mail address."""

    email: str
    name: str | None = None
    client_user_id: int | None = None


# --- reports ---------------------------------------------------------------------------

def upload_report(session: Session, actor: Actor, store: Storage, engagement: Engagement,
                  stream: BinaryIO, filename: str, max_bytes: int) -> ReportVersion:
    """Store a PDF as the engagement's next report version. A version uploaded while a
    share is open ends that share: the client decides on the newest report only."""
    stored = store_pdf(store, stream, max_bytes)
    try:
        version = add_version(session, actor, engagement, stored.key, sha256=stored.sha256,
                              size=stored.size, filename=filename)
    except Exception:
        store.delete(stored.key)  # nothing half-stored: no row, so no file either
        raise
    return version


def store_pdf(store: Storage, stream: BinaryIO, max_bytes: int) -> StoredFile:
    """Store an upload that is a PDF; ApprovalError (and nothing stored) if it is not."""
    try:
        stored = store.put(stream, max_bytes=max_bytes)
    except TooLarge:
        raise ApprovalError("too_large", megabytes=max_bytes // (1024 * 1024)) from None
    except EmptyFile:
        raise ApprovalError("empty") from None
    if stored.mime != PDF or not _starts_like_pdf(store, stored.key):
        store.delete(stored.key)
        raise ApprovalError("not_pdf")
    return stored


def add_version(session: Session, actor: Actor, engagement: Engagement, key: str, *,
                sha256: str, size: int, filename: str) -> ReportVersion:
    """Record a stored PDF as the engagement's next report version (in the caller's unit of
    work when there is one). An open share of an older version ends: the client decides on
    the newest report only."""
    with transaction(session):
        number = (session.scalar(select(func.max(ReportVersion.number)).where(
            ReportVersion.engagement_id == engagement.id)) or 0) + 1
        version = ReportVersion(
            practice_id=engagement.practice_id, engagement_id=engagement.id,
            number=number, storage_key=key, sha256=sha256, size=size,
            filename=_display_name(filename),
            uploaded_by_id=actor.id if actor.type == "staff" else None)
        session.add(version)
        session.flush()
        for share in _open_shares(session, engagement.id):
            _close(session, share, "superseded")
        if engagement.status == "draft":
            engagement.status = "in_preparation"
        audit.record(session, actor, "report.uploaded", engagement, version=number,
                     sha256=sha256, size=size)
    return version


def _starts_like_pdf(store: Storage, key: str) -> bool:
    with store.open(key) as handle:
        return handle.read(5) == b"%PDF-"


def _display_name(filename: str) -> str:
    """Only for display and download: path parts and control characters go."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "report.pdf"
    return name[-200:]


def versions(session: Session, engagement: Engagement) -> list[ReportVersion]:
    return list(session.scalars(
        select(ReportVersion).where(ReportVersion.engagement_id == engagement.id)
        .options(joinedload(ReportVersion.uploaded_by))
        .order_by(ReportVersion.number.desc())))


def shares_of(session: Session, engagement: Engagement) -> list[Share]:
    return list(session.scalars(
        select(Share).where(Share.engagement_id == engagement.id)
        .options(selectinload(Share.signers), joinedload(Share.version))
        .order_by(Share.id.desc())))


def approved_on(session: Session, engagement: Engagement) -> date | None:
    """The Amsterdam day the engagement's latest approval was complete, if one is."""
    closed = session.scalar(select(Share.closed_at).where(
        Share.engagement_id == engagement.id, Share.state == "approved")
        .order_by(Share.closed_at.desc()).limit(1))
    return closed.astimezone(AMSTERDAM).date() if closed else None


def _open_shares(session: Session, engagement_id: int) -> list[Share]:
    return list(session.scalars(select(Share).where(Share.engagement_id == engagement_id,
                                                    Share.state == "open")
                                .with_for_update()))


# --- sharing ---------------------------------------------------------------------------

def share_report(session: Session, actor: Actor, practice: Any, engagement: Engagement,
                 client: Client, *, mode: str, signers: list[SignerChoice],
                 deadline: datetime | None = None, message: str | None = None) -> Share:
    """Share the newest report version for viewing or for approval."""
    if not tiers.has(client, "share_reports"):
        raise ApprovalError("tier")
    if client.status != "active":
        raise ApprovalError("inactive")
    if not signers:
        raise ApprovalError("no_signers")
    if mode == "approval" and (deadline is None or deadline <= now()):
        raise ApprovalError("deadline")
    with transaction(session):
        version = session.scalar(select(ReportVersion).where(
            ReportVersion.engagement_id == engagement.id)
            .order_by(ReportVersion.number.desc()).limit(1))
        if version is None:
            raise ApprovalError("no_version")
        for previous in _open_shares(session, engagement.id):
            _close(session, previous, "superseded")
        share = Share(practice_id=engagement.practice_id, client_id=client.id,
                      engagement_id=engagement.id, report_version_id=version.id, mode=mode,
                      deadline=deadline if mode == "approval" else None, message=message,
                      created_by_id=actor.id)
        session.add(share)
        session.flush()
        users = _portal_users(session, client, [s.client_user_id for s in signers])
        positions = {user_id: position for user_id, position in session.execute(
            select(Membership.client_user_id, Membership.position)
            .where(Membership.client_id == client.id))}
        rows = []
        for choice in _unique(signers):
            user = users.get(choice.client_user_id or -1)
            rows.append(Signer(share_id=share.id, email=choice.email.lower(),
                               name=choice.name or (user.name if user else None),
                               client_user_id=choice.client_user_id,
                               position=positions.get(choice.client_user_id),
                               via_portal=bool(user and user.password_hash
                                               and tiers.has(client, "portal"))))
        session.add_all(rows)
        session.flush()
        engagement.status = "awaiting_approval" if mode == "approval" else "shared"
        if mode == "approval":
            tasks.open_task(session, practice_id=engagement.practice_id, client_id=client.id,
                            kind=TASK_KIND, subject_id=share.id,
                            title=_task_title(engagement, practice), deadline=deadline)
        for signer in rows:
            _mail_signer(session, practice, engagement, client, share, signer,
                         kind="report_shared", locale=_locale(users, signer))
        audit.record(session, actor, "report.shared", engagement, share=share.id, mode=mode,
                     version=version.number, signers=[s.email for s in rows],
                     deadline=deadline.isoformat() if deadline else None)
    return share


def proposed_signers(engagement: Engagement, contacts: list[tuple[Membership, ClientUser]]
                     ) -> list[int]:
    """Who the share form ticks: for annual accounts every director and supervisory
    director (BW 2:210 lid 2: they all sign); otherwise, or if none is known, the main
    contact."""
    if engagement.kind == "annual_accounts":
        signing = [user.id for m, user in contacts if m.position in SIGNING_POSITIONS]
        if signing:
            return signing
    return [user.id for m, user in contacts if m.role == "owner"]


def _unique(signers: list[SignerChoice]) -> list[SignerChoice]:
    seen, found = set(), []
    for choice in signers:
        key = choice.email.strip().lower()
        if key and key not in seen:
            seen.add(key)
            found.append(choice)
    return found


def _portal_users(session: Session, client: Client, ids: list[int | None]
                  ) -> dict[int, ClientUser]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(ClientUser).where(
        ClientUser.id.in_(wanted), ClientUser.practice_id == client.practice_id))}


def _locale(users: dict[int, ClientUser], signer: Signer) -> str | None:
    user = users.get(signer.client_user_id or -1)
    return user.locale if user else None


def _label(engagement: Engagement, locale: str) -> str:
    """The engagement's name in the language of the mail it goes into."""
    with force_locale(locale):
        return engagement.label


def _task_title(engagement: Engagement, practice: Any) -> str:
    with force_locale(practice.locale):
        return _("Approve %(report)s", report=engagement.label)


def _mail_signer(session: Session, practice: Any, engagement: Engagement, client: Client,
                 share: Share, signer: Signer, *, kind: str, locale: str | None,
                 extra: dict[str, Any] | None = None) -> None:
    """A mail with the way in: the portal for a portal user, else a fresh one-time link
    (which ends the signer's earlier links)."""
    if signer.via_portal:
        link = notifications.practice_url(practice, "engagements.portal_task",
                                          client_id=client.id, share_id=share.id)
    else:
        links.revoke(session, subject=("share_signers", signer.id), purpose="approval")
        token = links.issue(session, practice_id=practice.id, purpose="approval",
                            email=signer.email, subject=("share_signers", signer.id),
                            lifetime=_link_lifetime(share))
        link = notifications.practice_url(practice, "engagements.link_open", token=token)
    signer.mailed_at = now()
    notifications.enqueue(session, practice, notifications.Mail(
        to=signer.email, to_name=signer.name, kind=kind, locale=locale,
        house_style=tiers.has(client.tier, "house_style"),
        reply_to=reply_address(session, engagement.responsible_id),
        context={"report": _label(engagement, locale or practice.locale),
                 "client_name": client.name, "link": link,
                 "mode": share.mode, "deadline": share.deadline, "message": share.message,
                 "via_portal": signer.via_portal, **(extra or {})}))


def _link_lifetime(share: Share) -> timedelta:
    """A link lasts two weeks, or until a week after the deadline when that is later."""
    base = timedelta(days=14)
    if share.deadline:
        return max(base, share.deadline + timedelta(days=7) - now())
    return base


# --- the link holder -------------------------------------------------------------------

def open_link(session: Session, token: str, *, practice_id: int, ip: str | None) -> Signer:
    """Use a temporary link up (POST): returns the signer whose task it opens."""
    with transaction(session):
        link = links.consume(session, token, purpose="approval", practice_id=practice_id,
                             ip=ip)
        signer = session.get(Signer, link.subject_id)
        if signer is None:
            raise links.LinkInvalid(link)
        if signer.opened_at is None:
            signer.opened_at = now()
        signer.link_id = link.id
    return signer


def check_link(session: Session, token: str, *, practice_id: int) -> tuple[Signer, Share]:
    """What a link's confirm page (GET) may show; changes nothing but 'opened'."""
    link = links.check(session, token, purpose="approval", practice_id=practice_id)
    signer = session.get(Signer, link.subject_id)
    if signer is None:
        raise links.LinkInvalid(link)
    share = session.get(Share, signer.share_id)
    links.mark_opened(session, link)
    return signer, share


def renew_link(session: Session, token: str, *, practice: Any) -> None:
    """'Send me a new link': to the address on file, only while the task is open. Says
    nothing either way, so a link tells no one whether an address exists."""
    with transaction(session):
        link = links.identify(session, token, purpose="approval", practice_id=practice.id)
        if link is None:
            return
        signer = session.get(Signer, link.subject_id)
        share = session.get(Share, signer.share_id) if signer else None
        if share is None or signer is None or not _is_waiting(share, signer):
            return
        engagement = session.get(Engagement, share.engagement_id)
        client = session.get(Client, share.client_id)
        _mail_signer(session, practice, engagement, client, share, signer,
                     kind="report_shared", locale=None)


def _is_waiting(share: Share, signer: Signer) -> bool:
    if share.mode == "view":
        return share.state == "open"
    return share.state == "open" and signer.decision is None


# --- deciding --------------------------------------------------------------------------

@dataclass(frozen=True)
class Decider:
    """Who decides and how: a portal user, or the holder of a link (by the e-mail it
    went to), with where the request came from."""

    label: str
    through: str  # portal, link
    ip: str | None
    user_agent: str | None
    client_user_id: int | None = None


def decide(session: Session, practice: Any, signer_id: int, decision: str,
           comment: str | None, decider: Decider) -> Share:
    """Approve or reject, once. The share is locked first, so the outcome of the whole
    task (all approved, or one rejected) is settled by exactly one transaction."""
    if decision not in ("approved", "rejected"):
        raise ApprovalError("invalid")
    with transaction(session):
        signer = session.get(Signer, signer_id)
        share = session.scalar(select(Share).where(Share.id == signer.share_id)
                               .with_for_update())
        if share.mode != "approval" or share.state != "open":
            raise ApprovalError("closed", state=share.state)
        version = session.get(ReportVersion, share.report_version_id)
        engagement = session.get(Engagement, share.engagement_id)
        client = session.get(Client, share.client_id)
        statement = approval_statement(engagement.label, client.name, version.sha256,
                                       decision)
        moment = now()
        won = session.execute(
            update(Signer).where(Signer.id == signer.id, Signer.decision.is_(None))
            .values(decision=decision, decided_at=moment, comment=comment or None,
                    decided_by=decider.label, decided_through=decider.through,
                    ip=decider.ip, user_agent=(decider.user_agent or "")[:300] or None,
                    decided_version_id=version.id, decided_sha256=version.sha256,
                    statement=statement)
            .execution_options(synchronize_session=False)).rowcount
        if won != 1:
            raise ApprovalError("decided")
        session.expire(signer)
        outcome = _outcome(session, share)
        actor = Actor(practice.id, "client" if decider.through == "portal" else "link",
                      decider.client_user_id, decider.label, decider.ip, decider.user_agent)
        audit.record(session, actor, f"report.{decision}", engagement, share=share.id,
                     version=version.number, sha256=version.sha256, comment=comment,
                     through=decider.through, link=signer.link_id)
        _mail_confirmation(session, practice, engagement, client, signer, decision, moment,
                           version)
        if outcome:
            _close(session, share, outcome)
            engagement.status = outcome
            if outcome == "approved":
                sealing.queue(session, share)
            _mail_staff_outcome(session, practice, engagement, client, share, outcome,
                                comment)
    return share


def _outcome(session: Session, share: Share) -> str | None:
    """Rejected once one signer rejects; approved once every signer approved or staff
    recorded why their signature is missing (at least one must approve); else open."""
    decisions = [d for (d,) in session.execute(
        select(Signer.decision).where(Signer.share_id == share.id))]
    if "rejected" in decisions:
        return "rejected"
    if all(d in ("approved", "missing") for d in decisions) and "approved" in decisions:
        return "approved"
    return None


def record_missing(session: Session, actor: Actor, practice: Any, share: Share,
                   signer_id: int, reason: str) -> Share:
    """Staff state why a signer will not sign (BW 2:210 lid 2: a missing signature is
    stated with its reason). Their link dies; the approval may be complete after it."""
    reason = reason.strip()
    if not reason:
        raise ApprovalError("reason")
    with transaction(session):
        locked = session.scalar(select(Share).where(Share.id == share.id).with_for_update())
        if locked.mode != "approval" or locked.state != "open":
            raise ApprovalError("closed", state=locked.state)
        won = session.execute(
            update(Signer).where(Signer.id == signer_id, Signer.share_id == locked.id,
                                 Signer.decision.is_(None))
            .values(decision="missing", decided_at=now(), comment=reason[:2000],
                    decided_by=actor.label, decided_through="staff")
            .execution_options(synchronize_session=False)).rowcount
        if won != 1:
            raise ApprovalError("decided")
        links.revoke(session, subject=("share_signers", signer_id), purpose="approval")
        engagement = session.get(Engagement, locked.engagement_id)
        audit.record(session, actor, "report.signature_missing", engagement, share=locked.id,
                     signer=signer_id, reason=reason)
        outcome = _outcome(session, locked)
        if outcome:
            _close(session, locked, outcome)
            engagement.status = outcome
            if outcome == "approved":
                sealing.queue(session, locked)
    return locked


def approval_statement(report: str, client: str, sha256: str, decision: str) -> str:
    """The words a signer agrees to, kept with the decision."""
    if decision == "approved":
        return _("On behalf of %(client)s I approve %(report)s as shown to me, the PDF file "
                 "with SHA-256 fingerprint %(sha)s.", client=client, report=report,
                 sha=sha256)
    return _("On behalf of %(client)s I do not approve %(report)s (SHA-256 %(sha)s).",
             client=client, report=report, sha=sha256)


def _close(session: Session, share: Share, state: str) -> None:
    """End a share: its links die, its task leaves the open actions."""
    share.state, share.closed_at = state, now()
    for signer_id in session.scalars(select(Signer.id).where(Signer.share_id == share.id)):
        links.revoke(session, subject=("share_signers", signer_id), purpose="approval")
    if share.mode == "approval":
        tasks.close_task(session, kind=TASK_KIND, subject_id=share.id,
                         state="done" if state in ("approved", "rejected") else "cancelled")


def withdraw(session: Session, actor: Actor, share: Share) -> bool:
    """Staff take a share back: links die at once. False when it was decided first."""
    with transaction(session):
        locked = session.scalar(select(Share).where(Share.id == share.id).with_for_update())
        if locked.state != "open":
            return False
        _close(session, locked, "withdrawn")
        engagement = session.get(Engagement, locked.engagement_id)
        engagement.status = "in_preparation"
        audit.record(session, actor, "report.withdrawn", engagement, share=locked.id)
    return True


def _mail_confirmation(session: Session, practice: Any, engagement: Engagement,
                       client: Client, signer: Signer, decision: str, moment: datetime,
                       version: ReportVersion) -> None:
    notifications.enqueue(session, practice, notifications.Mail(
        to=signer.email, to_name=signer.name, kind="decision_confirmation",
        house_style=tiers.has(client.tier, "house_style"),
        reply_to=reply_address(session, engagement.responsible_id),
        context={"report": _label(engagement, practice.locale), "client_name": client.name,
                 "decision": decision, "moment": moment, "sha256": version.sha256,
                 "filename": version.filename, "version": version.number,
                 "comment": signer.comment}))


def _mail_staff_outcome(session: Session, practice: Any, engagement: Engagement,
                        client: Client, share: Share, outcome: str,
                        comment: str | None) -> None:
    ids = {i for i in (engagement.responsible_id, share.created_by_id) if i}
    for person in session.scalars(select(StaffUser).where(StaffUser.id.in_(ids),
                                                          StaffUser.active.is_(True))):
        notifications.enqueue(session, practice, notifications.Mail(
            to=person.email, to_name=person.name, kind="approval_outcome",
            locale=person.locale,
            context={"report": _label(engagement, person.locale or practice.locale),
                     "client_name": client.name,
                     "outcome": outcome, "comment": comment,
                     "link": notifications.practice_url(practice, "engagements.detail",
                                                        engagement_id=engagement.id)}))


# --- reminders -------------------------------------------------------------------------

def compose_reminders(session: Session, due: list[DueTask]) -> list[tuple[Any, Any]]:
    """For each overdue or nearly due approval: every signer who has not decided gets a
    reminder with a fresh way in (a new link, or the portal)."""
    from portal.tenancy.models import Practice

    shares = {s.id: s for s in session.scalars(
        select(Share).where(Share.id.in_([t.subject_id for t in due]), Share.state == "open")
        .options(selectinload(Share.signers), joinedload(Share.engagement)))}
    clients = {c.id: c for c in session.scalars(select(Client).where(
        Client.id.in_({s.client_id for s in shares.values()})))}
    practices = {p.id: p for p in session.scalars(select(Practice).where(
        Practice.id.in_({s.practice_id for s in shares.values()})))}
    mails = []
    for task in due:
        share = shares.get(task.subject_id)
        if share is None:
            continue
        practice, client = practices[share.practice_id], clients[share.client_id]
        for signer in share.signers:
            if signer.decision is not None:
                continue
            if signer.via_portal:
                link = notifications.practice_url(practice, "engagements.portal_task",
                                                  client_id=client.id, share_id=share.id)
            else:
                links.revoke(session, subject=("share_signers", signer.id),
                             purpose="approval")
                token = links.issue(session, practice_id=practice.id, purpose="approval",
                                    email=signer.email, subject=("share_signers", signer.id),
                                    lifetime=_link_lifetime(share))
                link = notifications.practice_url(practice, "engagements.link_open",
                                                  token=token)
            with force_locale(practice.locale):
                action, label = _("Open the report"), share.engagement.label
            styled = tiers.has(client.tier, "house_style")  # the practice's own texts too
            mails.append((practice, notifications.Mail(
                to=signer.email, to_name=signer.name, kind="reminder", house_style=styled,
                reply_to=reply_address(session, share.engagement.responsible_id),
                dedupe_key=f"reminder:approval:{share.id}:{signer.id}:{task.offset}",
                context={"task": label, "client_name": client.name,
                         "deadline": share.deadline, "link": link, "action": action,
                         "overdue": task.offset > 0,
                         "custom_text": practice.reminder_text if styled else None})))
    return mails
