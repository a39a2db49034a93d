"""The back office's navigation: the daily pages in a row, the administration folded under
one entry for admins, and none of it for other staff."""

from __future__ import annotations

import re


def _nav(page: str) -> str:
    return page[page.index('<nav class="site-nav"'):page.index("</nav>")]


def test_admins_find_the_administration_pages_under_one_entry(client, make):
    practice = make.practice("demo")
    client.login_staff(make.staff(practice, "anna@demo.example", role="admin").email)
    nav = _nav(client.get("/office/audit").get_data(as_text=True))
    group = nav[nav.index("<details"):nav.index("</details>")]
    assert re.findall(r">([^<>]+)</a>", group) == [
        "Billing", "Mail", "Exports", "Audit log", "Staff", "Settings"]
    assert 'class="nav-group--current">Administration</summary>' in group
    assert 'href="/office/audit" aria-current="page">Audit log<' in group
    daily = nav[:nav.index("<details")]
    assert re.findall(r">([^<>]+)</a>", daily) == [
        "Overview", "Clients", "Engagements", "Questionnaires", "Offers"]


def test_other_staff_see_the_daily_pages_only(client, make):
    practice = make.practice("demo")
    client.login_staff(make.staff(practice, "piet@demo.example", role="member").email)
    nav = _nav(client.get("/office/clients").get_data(as_text=True))
    assert "<details" not in nav and "Administration" not in nav
    assert 'href="/office/clients" aria-current="page">Clients<' in nav
