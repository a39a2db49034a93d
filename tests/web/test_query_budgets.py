"""The office home and the portal home run a fixed number of SQL statements, whatever the
amount of data behind them: an N+1 query fails here long before a practice feels it.

(The clients overview, the client card and the engagements overview have their own such
tests in test_clients.py and test_engagements.py; `make bench` counts all of them at 1x
and 10x the reference data.)
"""

from __future__ import annotations

from datetime import timedelta

from portal import clock
from portal.clients import tiers

BUDGET = 12


def test_office_home_runs_a_fixed_number_of_queries(client, make, count_queries):
    practice = make.practice("demo")
    anna = make.staff(practice, "anna@demo.example", role="admin")
    client.login_staff(anna.email)

    def office_home_queries() -> int:
        response, count = count_queries(lambda: client.get("/office/"))
        assert response.status_code == 200
        return count

    today = clock.today()
    first = make.client(practice, tiers.STANDARD)
    make.engagement(first, deadline=today + timedelta(days=3), status="draft")
    small = office_home_queries()

    colleague = make.staff(practice, role="staff")
    statuses = ("draft", "in_preparation", "shared", "awaiting_approval", "approved",
                "rejected", "closed")
    for n in range(30):  # every tier, every status, overdue and due soon, two responsibles
        company = make.client(practice, tiers.TIERS[n % 3])
        make.engagement(company, year=2020 + n % 6, status=statuses[n % 7],
                        deadline=today + timedelta(days=n - 10),
                        responsible_id=(anna.id, colleague.id, None)[n % 3])
    assert office_home_queries() == small
    assert small <= BUDGET


def test_portal_home_runs_a_fixed_number_of_queries(client, make, count_queries):
    practice = make.practice("demo")
    first, second = (make.client(practice, tiers.COLLABORATE_PLUS) for _ in range(2))
    sanne = make.client_user(practice, first, second, email="sanne@client.example")
    client.login_client(sanne.email)

    def portal_home_queries() -> int:
        response, count = count_queries(lambda: client.get("/"))
        assert response.status_code == 200  # several companies: the chooser, no redirect
        return count

    deadline = clock.now() + timedelta(days=5)
    make.task(first, kind="approval", deadline=deadline)
    small = portal_home_queries()

    for n in range(6):  # more companies, each with open and finished work
        company = make.client(practice, tiers.COLLABORATE_PLUS)
        make.membership(sanne, company, role="member" if n % 2 else "owner")
        make.engagement(company, deadline=deadline.date())
        for m in range(4):
            make.task(company, kind="approval", deadline=deadline + timedelta(days=m),
                      state="done" if m == 3 else "open")
    make.client(practice, tiers.STANDARD)  # a company without the portal: not listed
    assert portal_home_queries() == small
    assert small <= BUDGET
