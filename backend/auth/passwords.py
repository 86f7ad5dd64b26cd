"""Password hashing with argon2id (argon2-cffi's defaults sit above OWASP's floor).

OWASP Password Storage Cheat Sheet: argon2id with at least 19 MiB of memory,
2 iterations and 1 degree of parallelism. argon2-cffi's RFC 9106 "low memory"
profile uses 64 MiB, 3 iterations, 4 lanes.
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

_hasher = PasswordHasher()
# Verified against when the email is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("rapport-dummy-password-for-timing")

MIN_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


#: zxcvbn's estimate (Wheeler 2016): 3 is "safely unguessable: moderate protection from
#: an offline slow-hash attack" (about 10^8 guesses or more); below that a password falls
#: to a few days of guessing against a stolen argon2id hash, or to online guessing
#: spread over many addresses. zxcvbn reads at most 72 characters.
MIN_ZXCVBN_SCORE = 3
_ZXCVBN_MAX_LENGTH = 72
_REPEATS = re.compile(r"(.{1,4}?)\1+", re.DOTALL)


def password_problem(
    password: str, *, email: str = "", name: str = "", team: str = ""
) -> str | None:
    """Why a new password is refused, or None (NIST 800-63B: length and guessability,
    no composition rules). ``email``, ``name`` and ``team`` are the account's own words."""
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters."
    folded = "".join(password.lower().split())
    if not folded or _REPEATS.fullmatch(folded):
        return "That password only repeats a few characters; choose a phrase of your own."
    if password.lower() in _COMMON_PASSWORDS or folded in _COMMON_PASSWORDS:
        return "That password is too common; choose a longer phrase of your own."
    own_words = {
        "your email address": email.lower(),
        "the first part of your email address": email.lower().split("@")[0],
        "your name": "".join(name.lower().split()),
        "your team's name": "".join(team.lower().split()),
    }
    for what, word in own_words.items():
        if len(word) >= 3 and word in folded:
            return f"The password must not contain {what}."
    guessable = zxcvbn(
        password[:_ZXCVBN_MAX_LENGTH], user_inputs=[w for w in own_words.values() if w]
    )
    if guessable["score"] < MIN_ZXCVBN_SCORE:
        hint = guessable["feedback"].get("warning") or "It would be guessed quickly."
        return f"That password is too easy to guess. {hint} Try a longer phrase of your own."
    return None


#: zxcvbn's 30,000 most common leaked passwords (Wheeler 2016), plus clinic-flavoured ones.
_COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"]) | frozenset(
    [
        "123456789012",
        "1234567890123",
        "password1234",
        "password12345",
        "passwordpassword",
        "qwertyuiopas",
        "qwertyuiop12",
        "qwerty123456",
        "iloveyou1234",
        "abc123456789",
        "111111111111",
        "000000000000",
        "123123123123",
        "letmein12345",
        "welcome12345",
        "administrator",
        "changeme1234",
        "1q2w3e4r5t6y",
        "aaaaaaaaaaaa",
        "monkey123456",
        "dragon123456",
        "football1234",
        "baseball1234",
        "superman1234",
        "trustno1trustno1",
        "sunshine1234",
        "princess1234",
        "passw0rd1234",
        "p@ssw0rd1234",
        "mypassword12",
        "qazwsxedcrfv",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "asdfghjkl123",
        "zxcvbnm12345",
        "correcthorse",
        "correcthorsebatterystaple",
        "therapist123",
        "therapy12345",
        "rapport12345",
        "rapportrapport",
    ]
)
