from decimal import Decimal

import pytest

from portal import config
from portal.clients import billing, tiers


def test_a_secret_key_is_required_outside_debug(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_DEBUG", raising=False)
    with pytest.raises(config.ConfigError, match="PORTAL_SECRET_KEY"):
        config.load({"INSTANCE_PATH": str(tmp_path)})


def test_debug_keeps_a_generated_secret_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    first = config.load({"DEBUG": True, "INSTANCE_PATH": str(tmp_path)})["SECRET_KEY"]
    again = config.load({"DEBUG": True, "INSTANCE_PATH": str(tmp_path)})["SECRET_KEY"]
    assert first == again and len(first) == 64


def test_settings_come_from_portal_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_SECRET_KEY", "s")
    monkeypatch.setenv("PORTAL_BASE_DOMAIN", "Portaal.Example.NL")
    monkeypatch.setenv("PORTAL_HTTPS", "1")
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql+psycopg://db/portal")
    values = config.load({"INSTANCE_PATH": str(tmp_path)})
    assert values["BASE_DOMAIN"] == "portaal.example.nl"
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_NAME"] == "__Host-portal"
    assert values["DATABASE_URL"] == "postgresql+psycopg://db/portal"


def test_a_malformed_number_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_SECRET_KEY", "s")
    monkeypatch.setenv("PORTAL_MAIL_PORT", "twenty-five")
    with pytest.raises(config.ConfigError, match="PORTAL_MAIL_PORT"):
        config.load({"INSTANCE_PATH": str(tmp_path)})


def test_a_deployment_sets_its_own_prices_and_the_list_prices_fill_the_rest(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_SECRET_KEY", "s")
    monkeypatch.setenv("PORTAL_PRICE_COLLABORATE", "1,25")
    per_tier, extra_user = billing.prices_from(config.load({"INSTANCE_PATH": str(tmp_path)}))
    assert per_tier[tiers.COLLABORATE] == Decimal("1.25")
    assert per_tier[tiers.STANDARD] == tiers.DEFAULT_PRICES[tiers.STANDARD]
    assert extra_user == tiers.EXTRA_USER_PRICE


@pytest.mark.parametrize("value", ["gratis", "-1", "NaN"])
def test_a_price_that_is_no_amount_is_named(monkeypatch, tmp_path, value):
    monkeypatch.setenv("PORTAL_SECRET_KEY", "s")
    monkeypatch.setenv("PORTAL_PRICE_EXTRA_USER", value)
    with pytest.raises(config.ConfigError, match="PORTAL_PRICE_EXTRA_USER"):
        config.load({"INSTANCE_PATH": str(tmp_path)})
