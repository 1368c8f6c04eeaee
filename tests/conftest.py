"""Shared fixtures: the real detector (loaded once), configs and a scenario runner."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config, load_config
from tests.support import CONFIGS, DAY_END, run_inline
from tests.support import run_file as support_run_file



@pytest.fixture(scope="session")
def detector():
    """The lexicon alone (the detector's first stage)."""
    from nlp.detector import Detector

    return Detector.load()


@pytest.fixture(scope="session")
def classifier(detector):
    """The whole detector the bot runs: lexicon, learned model and urgency."""
    from nlp.classifier import Classifier
    from nlp.model import TextModel
    from nlp.urgency import UrgencyJudge

    return Classifier(detector, TextModel.load(), UrgencyJudge.load())


@pytest.fixture(scope="session")
def rules_only(detector):
    """The detector without its learned model: the lexicon and the urgency rules.

    Workflow scenarios (escalation, follow-ups, commands) run on this, so their
    transcripts depend on explainable rules, not on the weights of the day;
    the learned stage has scenarios of its own (tests/test_detector_desk.py).
    """
    from nlp.classifier import Classifier
    from nlp.urgency import UrgencyJudge

    return Classifier(detector, None, UrgencyJudge.load())


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(CONFIGS / "pingan.toml")


@pytest.fixture
def run_file(rules_only):
    """Run a scenario file under tests/scenarios and return its transcript."""

    def run(name: str, db_path: Path | None = None) -> list[dict]:
        return support_run_file(name, rules_only, db_path)

    return run


@pytest.fixture
def run_events(tmp_path, rules_only):
    """Run a scenario written inline: `events` is TOML text of [[events]] tables."""
    return _inline_runner(tmp_path, rules_only)


@pytest.fixture
def run_events_full(tmp_path, classifier):
    """`run_events` with the whole detector, learned model included."""
    return _inline_runner(tmp_path, classifier)


def _inline_runner(tmp_path, detector):
    def run(events: str, **kwargs) -> list[dict]:
        return run_inline(detector, events, directory=tmp_path, **kwargs)

    return run


@pytest.fixture
def run_day(run_events):
    """`run_events` that stops at 21:00 unless told otherwise."""

    def run(events: str, *, end: str = DAY_END, **kwargs) -> list[dict]:
        return run_events(events, end=end, **kwargs)

    return run


@pytest.fixture(scope="session")
def web_password_hash() -> str:
    """One scrypt hash for every test login (hashing takes tens of milliseconds)."""
    from bot.web.passwords import hash_password
    from tests.support import WEB_PASSWORD

    return hash_password(WEB_PASSWORD)


@pytest.fixture
async def web(tmp_path, rules_only, web_password_hash):
    """The demo's site (chat page and dashboard) over a fresh simulation of the bundled
    sample config, every officer with the password WEB_PASSWORD, and an aiohttp test
    client for it. Yields a SimpleNamespace: client, sim, backend, config."""
    from types import SimpleNamespace

    from aiohttp.test_utils import TestClient, TestServer

    from bot.run.demo.server import build_demo_site, start_demo_simulation
    from storage.passwords import set_hash
    from tests.support import DEMO_CONFIG

    config = load_config(DEMO_CONFIG)
    sim = await start_demo_simulation(config, rules_only, tmp_path / "web.db")
    now = sim.clock.now()
    await sim.app.db.write(lambda db: [set_hash(db, o.name, web_password_hash, now) for o in config.officers])
    site, backend = build_demo_site(sim, config, rules_only)
    try:
        async with TestClient(TestServer(site)) as client:
            yield SimpleNamespace(client=client, sim=sim, backend=backend, config=config)
    finally:
        await sim.stop()


# ---- browser tests (tests/web/test_browser*.py) ---------------------------------------
_SCREENSHOTS: list = []


@pytest.fixture(scope="session")
def screenshots():
    """The folder this run's browser screenshots go to (printed at the end of the run)."""
    from tests.web.browser import screenshot_dir

    folder = screenshot_dir()
    _SCREENSHOTS.append(folder)
    return folder


@pytest.fixture(scope="module")
def demo_server():
    """A real `pingan demo` process for the module's browser tests."""
    from tests.web.browser import DemoServer, require_chromium

    require_chromium()
    server = DemoServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    from tests.web.browser import CHROMIUM_ARGS, require_chromium

    path = require_chromium()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, demo_server):
    """A fresh browser context (no cookies) on the demo, Chinese locale."""
    from tests.web.browser import VIEWPORT

    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True, base_url=demo_server.base)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def pytest_terminal_summary(terminalreporter):
    for folder in _SCREENSHOTS:
        shots = sorted(p.name for p in folder.glob("*.png"))
        terminalreporter.write_line(f"browser screenshots ({len(shots)}): {folder}")
