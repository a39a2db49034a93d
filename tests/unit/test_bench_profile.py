import pytest

from bench import profiling
from bench.run import arguments
from portal import PACKAGE, ROOT


def test_profile_refuses_an_unknown_page_in_one_line_listing_the_pages(capsys):
    with pytest.raises(SystemExit) as refused:
        arguments(["--profile", "clientz"])
    assert refused.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "'clientz'" in error and "clients, clients_search" in error and "all" in error


def test_profile_takes_a_page_or_all_with_fifty_requests_unless_told():
    assert arguments(["--profile", "portal_home"]).profile_requests == 50
    assert arguments(["--profile", "all", "--profile-requests", "5"]).profile_requests == 5


def test_frames_are_grouped_by_the_package_their_code_is_in():
    site = "/venv/lib/python3.11/site-packages"
    assert profiling.kind_of(f"{site}/jinja2/runtime.py") == "template rendering"
    assert profiling.kind_of(f"{site}/wtforms/widgets/core.py") == "template rendering"
    assert profiling.kind_of(str(ROOT / "templates/clients/index.html")) == "template rendering"
    assert profiling.kind_of(f"{site}/sqlalchemy/orm/loading.py") == "SQL"
    assert profiling.kind_of(f"{site}/werkzeug/local.py") == "Flask/Werkzeug request handling"
    assert profiling.kind_of(str(PACKAGE / "access.py")) == profiling.OURS
    assert profiling.kind_of(f"{site}/babel/numbers.py") == profiling.OTHER
