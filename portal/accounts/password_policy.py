"""What makes a password acceptable: at least 12 characters and not easy to guess.

zxcvbn estimates how guessable a password is from the word lists it ships (common
passwords, names, words, keyboard patterns), also taking the person's own name and address
into account. A score of 3 ("safely unguessable") or more is required.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 200
MIN_SCORE = 3


def problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why this password will not do, in the user's language; None when it is fine."""
    if len(password) < MIN_LENGTH:
        return str(_l("Use at least %(count)d characters.", count=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        return str(_l("Use at most %(count)d characters.", count=MAX_LENGTH))
    personal = [part for part in [email, email.split("@")[0], *name.split()] if len(part) > 2]
    lowered = password.lower()
    if any(part.lower() in lowered for part in personal):
        return str(_l("Do not use your name or e-mail address in your password."))
    result = zxcvbn(password[:100], user_inputs=personal)
    if result["score"] < MIN_SCORE:
        return str(_l("This password is too easy to guess. A few unrelated words together "
                      "make a strong password that is easy to remember."))
    return None
