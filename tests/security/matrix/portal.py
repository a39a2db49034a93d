from tests.security.matrix import Route, client_only


def arrange(make, world):  # type: ignore[no-untyped-def]
    colleague = make.client_user(world["demo"], email="colleague@company.example")
    world["colleague_membership"] = make.membership(colleague, world["company"])


ROUTES = [
    Route("home.company", "GET", lambda w: f"/c/{w['company'].id}/", client_only()),
    Route("home.history", "GET", lambda w: f"/c/{w['company'].id}/history", client_only()),
    Route("home.people", "GET", lambda w: f"/c/{w['company'].id}/people", client_only()),
    Route("home.invite_person", "POST", lambda w: f"/c/{w['company'].id}/people",
          client_only(), {"email": ""}),
    Route("home.remove_person", "POST",
          lambda w: f"/c/{w['company'].id}/people/{w['colleague_membership'].id}/remove",
          client_only()),
]
