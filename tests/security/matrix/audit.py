from tests.security.matrix import Route, staff_only

ROUTES = [
    Route("audit.events", "GET", "/office/audit", staff_only(admin_only=True)),
]
