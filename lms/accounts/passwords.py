"""Password rules and hashing (a slow hash, scrypt by default)."""

from __future__ import annotations

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 10
MAX_LENGTH = 256

# The most common leaked passwords that pass a length check; refusing them stops the easiest guesses.
COMMON = frozenset(
    [
        "1234567890",
        "12345678910",
        "0123456789",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "qwertyuiop",
        "qwerty1234",
        "qwerty12345",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "iloveyou123",
        "abcdefghij",
        "abc1234567",
        "aaaaaaaaaa",
        "1111111111",
        "0000000000",
        "letmein123",
        "welcome123",
        "welcome1234",
        "administrator",
        "changeme123",
        "trustno1234",
        "football123",
        "baseball123",
        "superman123",
        "sunshine123",
        "princess123",
        "dragon1234",
        "monkey1234",
        "starwars123",
        "whatever123",
        "qazwsxedcrfv",
        "zaq12wsxcde",
        "9876543210",
        "987654321a",
        "michael123",
        "computer123",
        "internet123",
        "asdfghjkl1",
        "asdfghjkl;",
        "passwordpassword",
    ]
)


def password_problem(password: str, *, email: str = "", full_name: str = "") -> str | None:
    """Why this password is refused, in words for the person typing it; None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters (you typed {len(password)})."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in COMMON or len(set(lowered)) < 5:
        return "This password is too easy to guess. Try a few unrelated words together."
    local_part = email.split("@")[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        return "Do not build your password from your email address."
    if full_name and any(len(part) >= 4 and part.lower() in lowered for part in full_name.split()):
        return "Do not build your password from your name."
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)
