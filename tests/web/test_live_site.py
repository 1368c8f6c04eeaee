"""The site `pingan run` serves: the dashboard, /healthz and /metrics, and no chat
page (only the demo may speak for people)."""
from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.run.web import live_site
from tests.support import WEB_PASSWORD, csrf_of, web_login


@pytest.fixture
async def live(web, rules_only):
    async with TestClient(TestServer(live_site(web.sim.app, web.config, rules_only))) as client:
        yield client


async def test_the_live_site_has_no_chat_page(live):
    home = await live.get("/", allow_redirects=False)
    assert (home.status, home.headers["Location"]) == (303, "/ledger")
    for path in ("/api/chat/state", "/api/chat/stream", "/api/chat/files/1"):
        assert (await live.get(path)).status == 404, path


async def test_the_live_site_logs_in_and_serves_the_ledger_health_and_metrics(live):
    assert (await web_login(live, "李警官")).status == 303
    assert (await live.get("/ledger")).status == 200
    assert (await live.get("/healthz")).status == 200
    assert "pingan_messages_received_total" in await (await live.get("/metrics")).text()


async def test_secure_cookies_makes_the_session_cookie_https_only(web, rules_only):
    import dataclasses

    from bot.config.model import WebSettings

    config = dataclasses.replace(web.config, web=WebSettings(secure_cookies=True))
    async with TestClient(TestServer(live_site(web.sim.app, config, rules_only))) as client:
        response = await client.get("/login")
        assert "Secure" in response.headers["Set-Cookie"]


def test_the_web_section_reads_secure_cookies(tmp_path):
    from bot.config import load_config
    from tests.support import CONFIGS

    text = (CONFIGS / "pingan.toml").read_text(encoding="utf-8") + '\n[web]\nport = 8090\nsecure_cookies = true\ntrust_proxy = true\n'
    path = tmp_path / "pingan.toml"
    path.write_text(text, encoding="utf-8")
    settings = load_config(path).web
    assert (settings.host, settings.port, settings.secure_cookies, settings.trust_proxy) == ("127.0.0.1", 8090, True, True)


async def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(web, rules_only):
    import dataclasses

    from bot.config.model import WebSettings

    config = dataclasses.replace(web.config, web=WebSettings(trust_proxy=True))
    async with TestClient(TestServer(live_site(web.sim.app, config, rules_only))) as client:
        async def attempt(address: str, name: str, password: str):
            token = csrf_of(await (await client.get("/login")).text())
            return await client.post("/login", data={"name": name, "password": password, "csrf_token": token},
                                     headers={"X-Forwarded-For": f"198.51.100.1, {address}"}, allow_redirects=False)

        for i in range(20):
            await attempt("203.0.113.7", f"猜{i}", "guess-guess")
        assert (await attempt("203.0.113.7", "陈警官", WEB_PASSWORD)).status == 429
        assert (await attempt("203.0.113.8", "陈警官", WEB_PASSWORD)).status == 303  # another client behind the same proxy
