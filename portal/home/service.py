"""The client portal's rules that are not a feature of their own: accepting an invitation."""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal import audit
from portal.accounts import links
from portal.accounts.models import ClientUser
from portal.accounts.passwords import hash_password
from portal.db import transaction


def accept_invitation(session: Session, *, practice_id: int, token: str, password: str,
                      ip: str | None, user_agent: str | None) -> ClientUser:
    """Use the invitation link up and set the contact person's password (LinkError when the
    link cannot be used)."""
    with transaction(session):
        link = links.consume(session, token, purpose="client_invite", practice_id=practice_id,
                             ip=ip)
        user = session.get(ClientUser, link.subject_id)
        if user is None or user.practice_id != practice_id:
            raise links.LinkInvalid(link)
        user.password_hash = hash_password(password)
        user.session_version += 1
        user.active = True
        audit.record(session, audit.Actor(practice_id, "client", user.id, user.email, ip,
                                          user_agent), "auth.invitation_accepted", user)
    return user
