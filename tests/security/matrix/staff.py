from tests.security.matrix import OK, Route, everyone, staff_only


def arrange(make, world):  # type: ignore[no-untyped-def]
    world["colleague"] = make.staff(world["demo"], role="staff")
    world["invitee"], world["invite_token"] = make.invited_staff(world["demo"])


ADMINS = staff_only(admin_only=True)


def _colleague(action: str):  # type: ignore[no-untyped-def]
    return lambda w: f"/office/staff/{w['colleague'].id}/{action}"


ROUTES = [
    Route("accounts.staff_list", "GET", "/office/staff", ADMINS),
    Route("accounts.invite_staff", "POST", "/office/staff/invite", ADMINS,
          {"email": "nieuw@demo.example", "role": "staff"}),
    Route("accounts.change_staff_role", "POST", _colleague("role"), ADMINS, {"role": "admin"}),
    Route("accounts.deactivate_staff", "POST", _colleague("deactivate"), ADMINS),
    Route("accounts.reactivate_staff", "POST", _colleague("reactivate"), ADMINS),
    Route("accounts.reset_staff_two_factor", "POST", _colleague("reset-two-factor"), ADMINS),
    # The invitation link is for whoever holds it; this POST sends nothing valid (422), so
    # the link stays unused for the GET row. Inviting again (below) revokes it.
    Route("accounts.accept_invite", "GET", lambda w: f"/office/invite/{w['invite_token']}",
          everyone(OK)),
    Route("accounts.accept_invite", "POST", lambda w: f"/office/invite/{w['invite_token']}",
          everyone(OK)),
    Route("accounts.reinvite_staff", "POST",
          lambda w: f"/office/staff/{w['invitee'].id}/invite-again", ADMINS),
]
