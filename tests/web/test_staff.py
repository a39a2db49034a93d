"""Admins manage the office's staff at /office/staff: invite by mail, the invitation page,
roles, deactivation; the practice always keeps an active admin."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.accounts.models import OneTimeLink, StaffUser
from portal.audit.models import AuditEvent
from portal.notifications.worker import Worker
from tests.factories import PASSWORD, Factory

HTMX = {"HX-Request": "true", "HX-Target": "div#staff_panel"}
STRONG = "paper lantern orbit meadow 77"


@pytest.fixture
def demo(make):  # type: ignore[no-untyped-def]
    return make.practice("demo", name="Bakker & Visser")


@pytest.fixture
def anna(client, make, demo):  # type: ignore[no-untyped-def]
    user = make.staff(demo, "anna@demo.example", role="admin", name="Anna Bakker")
    client.login_staff(user.email)
    return user


@pytest.fixture
def joost(make, demo):  # type: ignore[no-untyped-def]
    return make.staff(demo, "joost@demo.example", role="staff", name="Joost Visser")


def staff(db, email: str) -> StaffUser:  # type: ignore[no-untyped-def]
    with db() as s:
        return s.scalar(select(StaffUser).where(StaffUser.email == email))


def actions(db) -> list[str]:  # type: ignore[no-untyped-def]
    with db() as s:
        return list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.action.startswith("staff.")).order_by(AuditEvent.id)))


def act(client, staff_id: int, action: str, data=None, **kwargs):  # type: ignore[no-untyped-def]
    return client.submit(f"/office/staff/{staff_id}/{action}", data or {},
                         page="/office/staff", **kwargs)


# --- the list ---------------------------------------------------------------------------

def test_admin_sees_the_staff_with_role_and_status(client, anna, joost, make, demo):
    make.staff(demo, "gone@demo.example", active=False, name="Gone")
    make.invited_staff(demo, "new@demo.example")
    make.staff(make.practice("other"), "theirs@other.example")
    page = client.get("/office/staff").get_data(as_text=True)
    assert "Anna Bakker" in page and "(you)" in page and "Joost Visser" in page
    assert "deactivated" in page and "invited" in page and "new@demo.example" in page
    assert "theirs@other.example" not in page
    assert "4 staff members" in page


def test_staff_list_pages_keep_a_fixed_number_of_queries(app, client, anna, make, demo):
    from portal.db import QueryCounter, engine_of

    def count() -> int:
        with QueryCounter(engine_of(app)) as counter:
            assert client.get("/office/staff").status_code == 200
        return counter.count

    make.invited_staff(demo)
    few = count()
    for _ in range(60):
        make.invited_staff(demo)
    assert count() == few
    assert "Page 1 of 2" in client.get("/office/staff").get_data(as_text=True)
    assert "Page 2 of 2" in client.get("/office/staff?page=2").get_data(as_text=True)


# --- inviting ---------------------------------------------------------------------------

def invite(client, email: str = "sem@demo.example", role: str = "staff", **kwargs):  # type: ignore[no-untyped-def]
    return client.submit("/office/staff/invite", {"email": email, "name": "Sem", "role": role},
                         page="/office/staff", **kwargs)


def test_an_invited_colleague_joins_through_the_link_in_the_mail(mail_app, smtp):
    make = Factory(mail_app)
    demo = make.practice("demo", name="Bakker & Visser")
    make.staff(demo, "anna@demo.example", role="admin", name="Anna Bakker")
    admin = mail_app.test_client()
    admin.login_staff("anna@demo.example")

    assert invite(admin, " Sem@Demo.example ", role="admin").status_code == 303
    Worker(mail_app).run_pass()
    [mail] = smtp.to("sem@demo.example")
    assert mail["Subject"] == "Anna Bakker invites you to the office of Bakker & Visser"
    text = mail.get_body(("plain",)).get_content()
    assert "as an admin" in text
    link = re.search(r"http://demo\.localhost:5000(/office/invite/\S+)", text).group(1)
    assert f'href="http://demo.localhost:5000{link}"' in mail.get_body(("html",)).get_content()

    sem = mail_app.test_client()
    page = sem.get(link)
    assert page.status_code == 200 and "Join the office of Bakker &amp; Visser" in \
        page.get_data(as_text=True)
    response = sem.submit(link, {"name": "Sem de Vries", "password": STRONG, "repeat": STRONG})
    assert response.status_code == 303 and response.headers["Location"] == "/office/"
    home = sem.get("/office/").get_data(as_text=True)
    assert "Sem de Vries" in home and "Welcome, Sem de Vries" in home
    assert sem.get("/office/staff").status_code == 200  # invited as admin
    fresh = mail_app.test_client()
    assert fresh.login_staff("sem@demo.example", STRONG).status_code == 302


def test_invitation_creates_an_inactive_account_without_password(app, client, anna, db):
    response = invite(client)
    assert response.status_code == 303
    sem = staff(db, "sem@demo.example")
    assert (sem.active, sem.password_hash, sem.role, sem.name) == (False, None, "staff", "Sem")
    with db() as s:
        link = s.scalar(select(OneTimeLink).where(OneTimeLink.subject_id == sem.id))
    assert (link.purpose, link.subject_type) == ("staff_invite", "staff_users")
    assert "An invitation is on its way to sem@demo.example." in client.get(
        "/office/staff").get_data(as_text=True)
    assert actions(db) == ["staff.invited"]
    assert app.test_client().login_staff("sem@demo.example", "any password").status_code == 422


def test_an_address_already_on_the_staff_is_refused(client, anna, joost):
    response = invite(client, "JOOST@demo.example")
    assert response.status_code == 422
    assert "already a staff member with this address" in response.get_data(as_text=True)


def test_invitation_form_errors_come_back_beside_the_fields(client, anna):
    response = client.submit("/office/staff/invite", {"email": "not-an-address", "name": "Sem",
                                                      "role": "owner"}, page="/office/staff")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="not-an-address"' in page and 'id="email-error"' in page
    assert 'id="role-error"' in page


def test_inviting_with_htmx_swaps_the_staff_panel(client, anna):
    response = invite(client, headers=HTMX, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="staff_panel">') and "<html" not in body
    assert "sem@demo.example" in body and "on its way" in body
    refused = invite(client, headers=HTMX)
    assert refused.status_code == 422
    assert refused.get_data(as_text=True).lstrip().startswith('<div id="staff_panel">')


# --- the invitation page ----------------------------------------------------------------

def test_opening_the_link_changes_nothing(client, make, demo, db):
    _user, token = make.invited_staff(demo, "sem@demo.example")
    assert client.get(f"/office/invite/{token}").status_code == 200
    assert client.get(f"/office/invite/{token}").status_code == 200  # the scanner, then Sem
    with db() as s:
        link = s.scalar(select(OneTimeLink))
    assert (link.used_at, link.opened_at) == (None, None)
    assert staff(db, "sem@demo.example").active is False


def test_a_weak_password_is_refused_and_the_name_kept(client, make, demo, db):
    _user, token = make.invited_staff(demo, "sem@demo.example")
    response = client.submit(f"/office/invite/{token}",
                             {"name": "Sem de Vries", "password": "password1234",
                              "repeat": "password1234"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "too easy to guess" in page and 'value="Sem de Vries"' in page
    assert "password1234" not in page
    assert staff(db, "sem@demo.example").password_hash is None
    good = client.submit(f"/office/invite/{token}", {"name": "Sem", "password": STRONG,
                                                      "repeat": STRONG})
    assert good.status_code == 303  # the link still works after a refusal


def test_passwords_that_differ_are_refused(client, make, demo):
    _user, token = make.invited_staff(demo)
    response = client.submit(f"/office/invite/{token}", {"name": "Sem", "password": STRONG,
                                                          "repeat": STRONG + "x"})
    assert response.status_code == 422 and "The passwords differ." in response.get_data(
        as_text=True)


def test_a_used_link_shows_the_used_page(app, client, make, demo):
    _user, token = make.invited_staff(demo)
    client.submit(f"/office/invite/{token}", {"name": "Sem", "password": STRONG,
                                               "repeat": STRONG})
    other = app.test_client()
    response = other.get(f"/office/invite/{token}")
    assert response.status_code == 410
    assert "This link has been used already" in response.get_data(as_text=True)
    again = other.submit(f"/office/invite/{token}", {"name": "X", "password": STRONG,
                                                      "repeat": STRONG}, page="/office/login")
    assert again.status_code == 410


def test_a_withdrawn_invitation_shows_the_withdrawn_page(client, anna, make, demo):
    user, token = make.invited_staff(demo)
    assert act(client, user.id, "deactivate").status_code == 303
    response = client.get(f"/office/invite/{token}")
    assert response.status_code == 410 and "withdrawn" in response.get_data(as_text=True)


def test_an_expired_invitation_shows_the_expired_page(client, make, demo):
    from datetime import timedelta

    from portal import clock

    _user, token = make.invited_staff(demo)
    clock.freeze(clock.now() + timedelta(days=8))
    response = client.get(f"/office/invite/{token}")
    assert response.status_code == 410 and "has expired" in response.get_data(as_text=True)


def test_a_broken_link_or_one_of_another_practice_is_not_found(client, make, demo):
    _user, token = make.invited_staff(demo)
    broken = client.get(f"/office/invite/{token[:-3]}")
    assert broken.status_code == 404 and "not valid" in broken.get_data(as_text=True)
    make.practice("other")
    elsewhere = client.on("other.localhost").get(f"/office/invite/{token}")
    assert elsewhere.status_code == 404
    assert "belongs to another address" in elsewhere.get_data(as_text=True)


def test_an_invitation_link_of_another_purpose_is_not_valid(client, make, demo):
    user, _token = make.invited_staff(demo)
    token = make.link(demo, "client_invite", user.email, subject=("staff_users", user.id))
    assert client.get(f"/office/invite/{token}").status_code == 404


def test_inviting_again_replaces_the_earlier_link(mail_app, smtp):
    make = Factory(mail_app)
    demo = make.practice("demo")
    make.staff(demo, "anna@demo.example", role="admin")
    user, old_token = make.invited_staff(demo, "sem@demo.example")
    admin = mail_app.test_client()
    admin.login_staff("anna@demo.example")
    assert act(admin, user.id, "invite-again").status_code == 303
    Worker(mail_app).run_pass()
    [mail] = smtp.to("sem@demo.example")
    assert "/office/invite/" in mail.get_body(("plain",)).get_content()
    assert admin.get(f"/office/invite/{old_token}").status_code == 410


def test_someone_who_joined_is_not_invited_again(client, anna, joost):
    response = act(client, joost.id, "invite-again")
    assert response.status_code == 409
    assert "has accepted the invitation already" in response.get_data(as_text=True)


# --- roles, deactivation ------------------------------------------------------------------

def test_an_admin_changes_a_colleagues_role(client, anna, joost, db):
    response = act(client, joost.id, "role", {"role": "admin"})
    assert response.status_code == 303
    assert staff(db, joost.email).role == "admin"
    assert "Joost Visser is now admin." in client.get("/office/staff").get_data(as_text=True)
    with db() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "staff.role_changed"))
    assert (event.subject_id, event.data) == (joost.id, {"old": "staff", "new": "admin"})


def test_an_unknown_role_is_refused(client, anna, joost, db):
    assert act(client, joost.id, "role", {"role": "owner"}).status_code == 422
    assert staff(db, joost.email).role == "staff"


def test_role_change_with_htmx_swaps_the_staff_panel(client, anna, joost):
    response = act(client, joost.id, "role", {"role": "admin"}, headers=HTMX,
                   follow_redirects=True)
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="staff_panel">')
    assert "Joost Visser is now admin." in body


def test_the_last_admin_cannot_demote_or_deactivate_themselves(client, anna, joost, db):
    demoted = act(client, anna.id, "role", {"role": "staff"})
    assert demoted.status_code == 409
    assert "You are the last active admin" in demoted.get_data(as_text=True)
    deactivated = act(client, anna.id, "deactivate")
    assert deactivated.status_code == 409
    assert "You are the last active admin" in deactivated.get_data(as_text=True)
    assert (staff(db, anna.email).role, staff(db, anna.email).active) == ("admin", True)
    assert actions(db) == []


def test_an_inactive_admin_does_not_count_as_another_admin(client, anna, make, demo, db):
    make.staff(demo, "old-admin@demo.example", role="admin", active=False)
    assert act(client, anna.id, "role", {"role": "staff"}).status_code == 409


def test_with_another_admin_an_admin_may_step_down(client, anna, joost, db):
    act(client, joost.id, "role", {"role": "admin"})
    response = act(client, anna.id, "role", {"role": "staff"})
    assert response.status_code == 303 and response.headers["Location"] == "/office/"
    assert staff(db, anna.email).role == "staff"
    assert client.get("/office/staff").status_code == 403
    act_as_joost = client.application.test_client()
    act_as_joost.login_staff(joost.email)
    assert act(act_as_joost, joost.id, "role", {"role": "staff"}).status_code == 409


def test_a_deactivated_colleagues_session_dies_at_once(app, client, anna, joost, db):
    joosts = app.test_client()
    joosts.login_staff(joost.email)
    assert joosts.get("/office/").status_code == 200
    response = act(client, joost.id, "deactivate")
    assert response.status_code == 303
    assert joosts.get("/office/").status_code == 302  # sent to the login page
    assert joosts.login_staff(joost.email).status_code == 422
    stored = staff(db, joost.email)
    assert stored.active is False and stored.session_version == joost.session_version + 1
    assert "can no longer sign in" in client.get("/office/staff").get_data(as_text=True)
    assert actions(db) == ["staff.deactivated"]


def test_a_reactivated_colleague_signs_in_again_with_their_password(app, client, anna, joost,
                                                                     db):
    act(client, joost.id, "deactivate")
    assert act(client, joost.id, "reactivate").status_code == 303
    assert app.test_client().login_staff(joost.email, PASSWORD).status_code == 302
    assert actions(db) == ["staff.deactivated", "staff.reactivated"]


def test_an_invitee_is_invited_again_rather_than_reactivated(client, anna, make, demo):
    user, _token = make.invited_staff(demo)
    response = act(client, user.id, "reactivate")
    assert response.status_code == 409
    assert "send the invitation again instead" in response.get_data(as_text=True)


def test_another_practices_staff_cannot_be_touched(client, anna, make, db):
    theirs = make.staff(make.practice("other"), "theirs@other.example", role="admin")
    for action, data in (("deactivate", {}), ("reactivate", {}), ("invite-again", {}),
                         ("role", {"role": "staff"})):
        assert act(client, theirs.id, action, data).status_code == 404
    assert staff(db, theirs.email).active is True
