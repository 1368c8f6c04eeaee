"""Every dashboard route's login and CSRF behaviour, through aiohttp's test client."""
from __future__ import annotations

import pytest

from tests.support import WEB_PASSWORD, csrf_of, page_token, web_login

PAGES = ["/ledger", "/ledger?status=待认领", "/cases/1", "/stats", "/lexicon"]
DOWNLOADS = ["/ledger/export.csv", "/ledger/export.xlsx"]


@pytest.mark.parametrize("path", PAGES + DOWNLOADS)
async def test_every_dashboard_page_sends_a_stranger_to_the_login_page(web, path):
    response = await web.client.get(path, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/login?next=%2F")


async def test_after_login_the_person_lands_where_they_were_going(web):
    response = await web.client.get("/stats", allow_redirects=False)
    target = response.headers["Location"]
    page = await web.client.get(target)
    token = csrf_of(await page.text())
    done = await web.client.post("/login", data={"name": "李警官", "password": WEB_PASSWORD, "csrf_token": token, "next": "/stats"}, allow_redirects=False)
    assert (done.status, done.headers["Location"]) == (303, "/stats")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"])
async def test_login_never_redirects_off_the_site(web, target):
    token = await page_token(web.client, "/login")
    done = await web.client.post("/login", data={"name": "李警官", "password": WEB_PASSWORD, "csrf_token": token, "next": target}, allow_redirects=False)
    assert done.headers["Location"] == "/ledger"


async def test_the_session_cookie_is_httponly_samesite_and_replaced_at_login(web):
    first = await web.client.get("/login")
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    before = first.cookies["pingan_session"].value
    done = await web_login(web.client, "李警官")
    assert done.status == 303
    after = done.cookies["pingan_session"].value
    assert after != before  # no session fixation: the id seen before login is worth nothing
    assert "HttpOnly" in done.headers["Set-Cookie"]


async def test_a_wrong_password_and_an_unknown_name_read_the_same(web):
    wrong = await web_login(web.client, "李警官", "not-the-password")
    stranger = await web_login(web.client, "不存在的人", WEB_PASSWORD)
    assert wrong.status == stranger.status == 401
    assert "姓名或密码不正确" in await wrong.text()
    assert "姓名或密码不正确" in await stranger.text()
    assert (await web.client.get("/ledger", allow_redirects=False)).status == 303


async def test_a_person_without_a_password_cannot_log_in(web):
    await web.sim.app.db.write(lambda db: db.execute("delete from web_passwords where name = '王所长'"))
    assert (await web_login(web.client, "王所长", "")).status == 401
    assert (await web_login(web.client, "王所长", WEB_PASSWORD)).status == 401


async def test_login_attempts_are_limited_per_name(web):
    for _ in range(5):
        assert (await web_login(web.client, "李警官", "guess-guess")).status == 401
    blocked = await web_login(web.client, "李警官", WEB_PASSWORD)  # even the right one, for now
    assert blocked.status == 429
    assert "登录失败次数过多" in await blocked.text()


async def test_login_attempts_are_limited_per_address_across_names(web):
    for i in range(19):
        await web_login(web.client, f"猜{i}", "guess-guess")
    assert (await web_login(web.client, "陈警官")).status == 303  # 19 failures: still allowed
    await web.client.post("/logout", data={"csrf_token": await page_token(web.client)})
    await web_login(web.client, "猜19", "guess-guess")
    assert (await web_login(web.client, "陈警官")).status == 429


@pytest.mark.parametrize("path, data", [("/login", {"name": "李警官", "password": WEB_PASSWORD}), ("/lexicon", {"text": "打架"}), ("/logout", {})])
async def test_every_form_is_refused_without_its_csrf_token(web, path, data):
    await web_login(web.client, "李警官")
    missing = await web.client.post(path, data=data, allow_redirects=False)
    forged = await web.client.post(path, data={**data, "csrf_token": "forged"}, allow_redirects=False)
    assert missing.status == forged.status == 403
    assert "请刷新页面后重试" in await missing.text()
    assert (await web.client.get("/ledger", allow_redirects=False)).status == 200  # still logged in


async def test_a_token_from_before_login_is_dead_after_it(web):
    old = await page_token(web.client, "/login")
    await web_login(web.client, "李警官")
    refused = await web.client.post("/lexicon", data={"text": "打架", "csrf_token": old})
    assert refused.status == 403


async def test_logout_ends_the_session(web):
    await web_login(web.client, "李警官")
    token = await page_token(web.client)
    out = await web.client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert (out.status, out.headers["Location"]) == (303, "/login")
    assert (await web.client.get("/ledger", allow_redirects=False)).status == 303


async def test_a_form_post_without_login_is_refused_in_one_line(web):
    token = await page_token(web.client, "/login")
    response = await web.client.post("/lexicon", data={"text": "打架", "csrf_token": token})
    assert response.status == 401
    assert "请先登录" in await response.text()


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
async def test_monitors_need_no_login_and_get_no_session(web, path):
    response = await web.client.get(path)
    assert response.status == 200
    assert "Set-Cookie" not in response.headers


async def test_pages_carry_security_headers(web):
    response = await web.client.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


async def test_an_unknown_page_is_one_line_in_chinese(web):
    response = await web.client.get("/no-such-page")
    assert response.status == 404
    text = await response.text()
    assert "页面不存在" in text and "Traceback" not in text
