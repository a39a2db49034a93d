"""Sealed values (an authenticator's key): unreadable in the database, bound to their row,
and still open after PORTAL_SECRET_KEY changes while the old key is a fallback."""

from __future__ import annotations

from portal.security import SEALED, seal, unseal

KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_a_sealed_value_hides_the_value_and_opens_for_its_own_row(app):
    with app.app_context():
        stored = seal(KEY, "totp:staff:7")
        assert stored.startswith(SEALED) and KEY not in stored
        assert stored != seal(KEY, "totp:staff:7")  # a fresh nonce each time
        assert unseal(stored, "totp:staff:7") == KEY
        assert unseal(stored, "totp:staff:8") is None  # moved to another row: nothing
        assert unseal(stored, "totp:client:7") is None


def test_a_changed_sealed_value_opens_nothing(app):
    with app.app_context():
        stored = seal(KEY, "totp:staff:7")
        flipped = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
        assert unseal(flipped, "totp:staff:7") is None


def test_after_a_key_change_the_old_key_opens_only_as_a_fallback(app_with):
    with app_with(SECRET_KEY="old-key").app_context():
        stored = seal(KEY, "totp:staff:7")
    with app_with(SECRET_KEY="new-key").app_context():
        assert unseal(stored, "totp:staff:7") is None
    with app_with(SECRET_KEY="new-key", SECRET_KEY_FALLBACKS=["old-key"]).app_context():
        assert unseal(stored, "totp:staff:7") == KEY
        assert unseal(seal(KEY, "totp:staff:7"), "totp:staff:7") == KEY


def test_a_value_stored_before_sealing_comes_back_as_it_is(app):
    with app.app_context():
        assert unseal(KEY, "totp:staff:7") == KEY
