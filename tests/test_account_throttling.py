"""The sign-in throttle slows a guesser without locking the owner out: failures count per account and address in
growing tiers, and per account from anywhere up to a ceiling that browsers which signed in before pass."""

from __future__ import annotations

import re

import pytest

from lms.accounts import throttling
from tests.conftest import PASSWORD

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}
LIMITS_ON = pytest.mark.app_config(RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_ADDRESS="1000 per minute")


def attempt(client, email, password, address, **data):
    return client.post("/login", data={"email": email, "password": password, **data}, environ_base=address)


@LIMITS_ON
def test_an_attacker_failing_twenty_times_does_not_stop_the_owner_from_elsewhere(app, student):
    attacker = app.test_client()
    answers = [attempt(attacker, student.email, f"guess-number-{n}", ATTACKER).status_code for n in range(20)]
    assert answers[:5] == [422] * 5 and set(answers[5:]) == {429}  # slowed from the sixth guess on

    owner = app.test_client()
    response = attempt(owner, student.email, PASSWORD, OWNER)
    assert response.status_code == 302 and response.location.endswith("/dashboard")
    assert "Stella Student" in owner.get("/dashboard").get_data(as_text=True)

    again = attempt(attacker, student.email, PASSWORD, ATTACKER)  # even the right password waits there
    assert again.status_code == 429


@LIMITS_ON
def test_a_throttled_attempt_says_when_to_try_again(app, student):
    client = app.test_client()
    for n in range(5):
        assert attempt(client, student.email, f"guess-number-{n}", ATTACKER).status_code == 422
    blocked = attempt(client, student.email, "guess-number-6", ATTACKER)
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    text = blocked.get_data(as_text=True)
    assert "Too many attempts to sign in to this account from your network" in text
    assert re.search(r"Try again in \d+ seconds \(at \d\d:\d\d UTC\)", text), text


@LIMITS_ON
@pytest.mark.app_config(LOGIN_LIMIT_PER_ACCOUNT_ADDRESS="2 per minute; 3 per hour")
def test_the_delay_grows_with_each_tier(app, student):
    client = app.test_client()
    for n in range(2):
        attempt(client, student.email, f"guess-number-{n}", ATTACKER)
    first = int(attempt(client, student.email, "x-wrong-password", ATTACKER).headers["Retry-After"])
    assert first <= 60
    # The minute's window over (its counters cleared here), the hour's tier is next: a longer wait.
    items = throttling._limits("LOGIN_LIMIT_PER_ACCOUNT_ADDRESS")
    _, pair = throttling._keys(student.email, ATTACKER["REMOTE_ADDR"])
    throttling._strategy().clear(items[0], *pair)
    assert attempt(client, student.email, "guess-number-3", ATTACKER).status_code == 422
    throttling._strategy().clear(items[0], *pair)
    later = attempt(client, student.email, "guess-number-4", ATTACKER)
    assert later.status_code == 429 and int(later.headers["Retry-After"]) > 60
    assert "minutes" in later.get_data(as_text=True)


@LIMITS_ON
@pytest.mark.app_config(
    LOGIN_LIMIT_PER_ACCOUNT_ADDRESS="100 per minute", LOGIN_LIMIT_PER_ACCOUNT="10 per hour"
)
def test_past_the_account_ceiling_only_a_known_browser_gets_in(app, student):
    owner = app.test_client()
    assert attempt(owner, student.email, PASSWORD, OWNER).status_code == 302  # signed in here before
    owner.post("/logout")
    assert owner.get_cookie(throttling.DEVICE_COOKIE) is not None

    for n in range(10):  # guesses spread over many addresses
        address = {"REMOTE_ADDR": f"203.0.113.{n + 1}"}
        assert attempt(app.test_client(), student.email, f"guess-number-{n}", address).status_code == 422
    stranger = attempt(app.test_client(), student.email, PASSWORD, {"REMOTE_ADDR": "192.0.2.200"})
    assert stranger.status_code == 429
    assert "from browsers it has not been used on before" in stranger.get_data(as_text=True)

    response = attempt(owner, student.email, PASSWORD, {"REMOTE_ADDR": "192.0.2.201"})  # a new network
    assert response.status_code == 302


@LIMITS_ON
@pytest.mark.app_config(LOGIN_LIMIT_PER_ACCOUNT="3 per hour")
def test_a_forged_or_foreign_device_cookie_does_not_pass_the_ceiling(app, student, make_user):
    other = make_user(email="other@example.org")
    client = app.test_client()
    assert attempt(client, other.email, PASSWORD, OWNER).status_code == 302  # this browser knows *other*
    client.post("/logout")
    for n in range(3):
        attempt(app.test_client(), student.email, f"guess-number-{n}", {"REMOTE_ADDR": f"203.0.113.{n + 1}"})
    assert attempt(client, student.email, PASSWORD, OWNER).status_code == 429
    forged = app.test_client()
    forged.set_cookie(throttling.DEVICE_COOKIE, "not-signed-by-us")
    assert attempt(forged, student.email, PASSWORD, OWNER).status_code == 429


@LIMITS_ON
def test_the_owners_success_clears_their_own_typos(app, student):
    client = app.test_client()
    for n in range(4):
        attempt(client, student.email, f"typo-number-{n}", OWNER)
    assert attempt(client, student.email, PASSWORD, OWNER).status_code == 302
    client.post("/logout")
    for n in range(5):  # a fresh allowance, not one left
        assert attempt(client, student.email, f"typo-again-{n}", OWNER).status_code == 422


@LIMITS_ON
def test_an_unknown_account_is_throttled_the_same_way(app):
    client = app.test_client()
    answers = [attempt(client, "nobody@example.org", f"guess-{n}-xx", ATTACKER).status_code for n in range(6)]
    assert answers == [422] * 5 + [429]


def test_with_rate_limits_off_nothing_is_counted(app, client, student):
    for n in range(12):
        assert attempt(client, student.email, f"guess-number-{n}", ATTACKER).status_code == 422
    assert attempt(client, student.email, PASSWORD, ATTACKER).status_code == 302
