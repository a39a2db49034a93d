"""`portal demo` loads two practices whose printed logins work, and can run again."""

import json

from portal.cli import cli


def _demo_json(app) -> dict:
    result = app.test_cli_runner().invoke(cli, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_demo_prints_its_logins_as_json_and_is_idempotent(app):
    first = _demo_json(app)
    second = _demo_json(app)
    assert first == second
    slugs = [p["slug"] for p in first["practices"]]
    assert slugs == ["demo", "other"]
    demo = first["practices"][0]
    assert {s["role"] for s in demo["staff"]} == {"admin", "staff"}
    assert {c["tier"] for c in demo["clients"]} == {"standard", "collaborate",
                                                     "collaborate_plus"}
    assert set(demo) == {"slug", "name", "staff", "clients", "client_users"}


def test_demo_has_a_client_user_with_two_extended_companies_and_one_other(app):
    demo = _demo_json(app)["practices"][0]
    tier_of = {c["name"]: c["tier"] for c in demo["clients"]}
    multi = next(u for u in demo["client_users"] if len(u["companies"]) == 3)
    tiers_of_user = sorted(tier_of[name] for name in multi["companies"])
    assert tiers_of_user == ["collaborate", "collaborate_plus", "collaborate_plus"]


def test_every_printed_login_works_on_its_own_host(app):
    data = _demo_json(app)
    for practice in data["practices"]:
        host = f"{practice['slug']}.localhost"
        for user in practice["staff"]:
            client = app.test_client().on(host)
            assert client.login_staff(user["email"], user["password"]).status_code == 302
        for user in practice["client_users"]:
            client = app.test_client().on(host)
            response = client.login_client(user["email"], user["password"])
            tiers = {c["name"]: c["tier"] for c in practice["clients"]}
            has_portal = any(tiers[n] == "collaborate_plus" for n in user["companies"])
            assert response.status_code == (302 if has_portal else 422), user["email"]
