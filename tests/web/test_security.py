"""Sessions, the login throttle and password hashes, without a server."""
from __future__ import annotations

from bot.web.auth import safe_next
from bot.web.passwords import hash_password, password_problem, verify_password
from bot.web.security import LoginThrottle, Sessions, Viewer

LI = Viewer("李警官", "officer", "guanyuan")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sessions_expire_after_being_idle():
    clock = Clock()
    sessions = Sessions(clock, idle_seconds=60)
    session = sessions.new(LI)
    clock.now += 59
    assert sessions.get(session.id) is session  # and seeing it renews it
    clock.now += 59
    assert sessions.get(session.id) is session
    clock.now += 61
    assert sessions.get(session.id) is None


def test_a_flood_of_anonymous_visits_does_not_log_officers_out():
    sessions = Sessions(limit=10)
    officer = sessions.new(LI)
    for _ in range(100):
        sessions.new()
    assert sessions.get(officer.id) is officer
    assert len(sessions) == 10


def test_login_and_logout_replace_the_session_id_and_token():
    sessions = Sessions()
    anonymous = sessions.new()
    logged_in = sessions.login(anonymous, LI)
    assert (logged_in.id, logged_in.csrf) != (anonymous.id, anonymous.csrf)
    assert sessions.get(anonymous.id) is None
    out = sessions.logout(logged_in)
    assert sessions.get(logged_in.id) is None and out.viewer is None


def test_the_throttle_counts_failures_in_a_sliding_window():
    clock = Clock()
    throttle = LoginThrottle(limit=3, address_limit=3, window=600, clock=clock)
    for _ in range(3):
        assert throttle.wait_seconds("name:李警官") == 0
        throttle.failed("name:李警官", "addr:1.2.3.4")
    assert throttle.wait_seconds("name:李警官") == 600
    assert throttle.wait_seconds("addr:1.2.3.4") == 600
    assert throttle.wait_seconds("name:陈警官") == 0
    clock.now += 601
    assert throttle.wait_seconds("name:李警官", "addr:1.2.3.4") == 0


def test_a_success_clears_the_names_failures_but_not_the_addresss():
    throttle = LoginThrottle(limit=2, address_limit=2)
    throttle.failed("name:a", "addr:x")
    throttle.failed("name:a", "addr:x")
    throttle.succeeded("name:a")
    assert throttle.wait_seconds("name:a") == 0 and throttle.wait_seconds("addr:x") > 0


def test_password_hashes_are_salted_and_checked_in_constant_form():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$")
    assert verify_password("correct horse", first) and verify_password("correct horse", second)
    assert not verify_password("Correct horse", first)
    assert not verify_password("x", None) and not verify_password("x", "garbage") and not verify_password("x", "md5$1$2$3$4$5")
    assert not verify_password("a" * 300, first)


def test_password_rules_are_one_line_each():
    assert password_problem("short") == "密码至少需要8个字符"
    assert password_problem(" padded password ") == "密码首尾不能有空格"
    assert password_problem("long enough") is None


def test_next_stays_on_the_site():
    assert safe_next("/cases/3?x=1") == "/cases/3?x=1"
    for bad in (None, "", "//evil", "https://evil", "evil", "/\\evil", "http:/evil"):
        assert safe_next(bad) == "/ledger"


def test_an_address_gets_more_tries_than_a_name():
    throttle = LoginThrottle(limit=2, address_limit=4)
    for _ in range(2):
        throttle.failed("name:a", "addr:x")
    assert throttle.wait_seconds("name:a") > 0 and throttle.wait_seconds("addr:x") == 0
