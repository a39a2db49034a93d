import pytest

from portal import db
from portal.tenancy.service import BARE, host_name, practice_for_host


@pytest.mark.parametrize(("raw", "expected"), [
    ("Demo.Localhost:5000", "demo.localhost"),
    ("demo.localhost.", "demo.localhost"),
    ("portaal.kantoor.nl", "portaal.kantoor.nl"),
    ("[::1]:5000", "[::1]"),
])
def test_host_name_drops_port_case_and_trailing_dot(raw, expected):
    assert host_name(raw) == expected


def test_subdomain_custom_domain_bare_and_unknown_hosts(app, make):
    demo = make.practice("demo")
    make.domain(demo, "portaal.kantoor.nl")
    with app.app_context():
        s = db.session
        assert practice_for_host(s, "demo.localhost:5000", "localhost").id == demo.id
        assert practice_for_host(s, "portaal.kantoor.nl", "localhost").id == demo.id
        assert practice_for_host(s, "localhost:5000", "localhost") is BARE
        assert practice_for_host(s, "nobody.localhost", "localhost") is None
        assert practice_for_host(s, "a.demo.localhost", "localhost") is None
        assert practice_for_host(s, "demo.localhost.evil.example", "localhost") is None
