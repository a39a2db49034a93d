"""Staff and client login: the answers a user sees, and what happens to their session."""

import html

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.clients import tiers
from tests.factories import PASSWORD


def test_staff_signs_in_and_lands_in_the_office(client, make):
    practice = make.practice()
    anna = make.staff(practice, "anna@demo.example", name="Anna Bakker")
    response = client.login_staff(anna.email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/office/"
    assert "Anna Bakker" in client.get("/office/").get_data(as_text=True)


def test_address_is_matched_without_regard_to_case_or_spaces(client, make):
    practice = make.practice()
    make.staff(practice, "anna@demo.example")
    assert client.login_staff("  Anna@Demo.Example ").status_code == 302


def test_wrong_password_and_unknown_address_get_the_same_answer(client, make):
    practice = make.practice()
    make.staff(practice, "anna@demo.example")
    wrong = client.login_staff("anna@demo.example", "wrong password")
    unknown = client.login_staff("nobody@demo.example")
    assert wrong.status_code == unknown.status_code == 422
    message = "do not match an account here"
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_failed_login_keeps_the_address_but_not_the_password(client, make):
    make.practice()
    page = client.login_staff("typed@demo.example", "secret typed").get_data(as_text=True)
    assert 'value="typed@demo.example"' in page
    assert "secret typed" not in page


def test_inactive_staff_cannot_sign_in(client, make):
    practice = make.practice()
    make.staff(practice, "gone@demo.example", active=False)
    assert client.login_staff("gone@demo.example").status_code == 422


def test_login_is_recorded_in_the_audit_log_with_the_address_it_came_from(client, make, db):
    practice = make.practice()
    anna = make.staff(practice, "anna@demo.example")
    client.login_staff(anna.email, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    with db() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login"))
    assert (event.actor_label, event.ip, event.subject_id) == ("anna@demo.example",
                                                               "198.51.100.7", anna.id)


def test_redirect_after_login_goes_only_to_local_paths(client, make):
    practice = make.practice()
    make.staff(practice, "anna@demo.example")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example",
                   "/login\r\nX: 1", "/login\nSet-Cookie: a=b", "/ /evil",
                   "/" + "a" * 3000):
        response = client.submit("/office/login", {"email": "anna@demo.example",
                                                   "password": PASSWORD, "next": target})
        assert response.headers["Location"] == "/office/", target
        client.post("/logout", data={"csrf_token": client.csrf_token("/office/")})
    response = client.submit("/office/login", {"email": "anna@demo.example",
                                               "password": PASSWORD, "next": "/office/?x=1"})
    assert response.headers["Location"] == "/office/?x=1"


def test_a_next_with_a_line_break_in_the_query_string_signs_in_all_the_same(client, make):
    practice = make.practice()
    make.staff(practice, "anna@demo.example")
    response = client.submit("/office/login?next=/login%0d%0aX:%201",
                             {"email": "anna@demo.example", "password": PASSWORD},
                             page="/office/login")
    assert response.status_code == 302 and response.headers["Location"] == "/office/"
    assert "X" not in response.headers


def test_anonymous_visitor_of_the_office_is_sent_to_login_and_back(client, make):
    practice = make.practice()
    make.staff(practice, "anna@demo.example")
    response = client.get("/office/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/office/login?next=/office/"
    response = client.submit("/office/login?next=/office/",
                             {"email": "anna@demo.example", "password": PASSWORD,
                              "next": "/office/"})
    assert response.headers["Location"] == "/office/"


def test_client_user_of_an_extended_company_signs_in_to_the_portal(client, make):
    practice = make.practice()
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst")
    sanne = make.client_user(practice, company, email="sanne@korst.example")
    response = client.login_client(sanne.email)
    assert response.headers["Location"] == "/"
    assert "Bakkerij De Korst" in client.get("/", follow_redirects=True).get_data(as_text=True)


def test_client_user_without_a_portal_company_is_told_why_after_a_correct_password(client, make):
    practice = make.practice()
    company = make.client(practice, tiers.COLLABORATE)
    user = make.client_user(practice, company)
    response = client.login_client(user.email)
    assert response.status_code == 422
    assert "no portal to sign in to" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still anonymous


@pytest.mark.parametrize("status", ["blocked", "ended"])
@pytest.mark.parametrize("reply_to", ["info@bakker.example", None],
                         ids=["with contact address", "without"])
def test_a_contact_whose_practice_stopped_the_collaboration_is_told_whom_to_ask(
        client, make, status, reply_to):
    practice = make.practice(name="Bakker & Visser", reply_to=reply_to)
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst",
                          status=status)
    user = make.client_user(practice, company)
    response = client.login_client(user.email)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "no portal to sign in to" not in page
    assert ("Bakker & Visser has stopped the online collaboration with Bakkerij De Korst, "
            "so there is nothing to sign in to here.") in page
    if reply_to:
        assert "For questions, contact Bakker & Visser at info@bakker.example." in page
    else:
        assert "For questions, contact Bakker & Visser." in page
    assert client.get("/").status_code == 302  # still anonymous


def test_a_blocked_contact_reads_it_in_dutch(client, make):
    practice = make.practice(name="Bakker & Visser", locale="nl", reply_to="info@bakker.example")
    company = make.client(practice, tiers.COLLABORATE_PLUS, name="Bakkerij De Korst",
                          status="blocked")
    user = make.client_user(practice, company, locale="nl")
    page = html.unescape(client.login_client(user.email).get_data(as_text=True))
    assert "Bakker & Visser is gestopt met de online samenwerking met Bakkerij De Korst" in page
    assert "contact opnemen met Bakker & Visser via info@bakker.example" in page


def test_staff_and_clients_use_their_own_login_pages(client, make):
    practice = make.practice()
    anna = make.staff(practice, "anna@demo.example")
    assert client.login_client(anna.email).status_code == 422


def test_logout_is_a_post_and_ends_the_session(client, make):
    practice = make.practice()
    anna = make.staff(practice, "anna@demo.example")
    client.login_staff(anna.email)
    assert client.get("/logout").status_code == 405
    response = client.post("/logout", data={"csrf_token": client.csrf_token("/office/")})
    assert response.headers["Location"] == "/office/login"
    assert "You are signed out" in client.get("/office/login").get_data(as_text=True)
    assert client.get("/office/").status_code == 302
