from tests.security.matrix import Route, everyone, staff_only


def arrange(make, world):  # type: ignore[no-untyped-def]
    world["mail"] = make.outbox(world["demo"], state="failed")


ROUTES = [
    Route("notifications.office_mail", "GET", "/office/mail", staff_only(admin_only=True)),
    Route("notifications.send_again", "POST",
          lambda w: f"/office/mail/{w['mail'].id}/send-again", staff_only(admin_only=True)),
    # development only: not served unless the app runs in debug mode
    Route("notifications.dev_mail", "GET", "/dev/mail", everyone(404)),
    Route("notifications.dev_mail_html", "GET", "/dev/mail/p1-x", everyone(404)),
]
