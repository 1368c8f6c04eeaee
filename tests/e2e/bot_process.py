"""`pingan run` as a real process against the real puppet-service gateway.

Helpers for the e2e tests (tests/e2e/test_run.py, test_identity.py): one description
of the test world (rooms, people, a guard-post shift about to begin) written out
twice, as the gateway's fixture JSON and as the bot's pingan.toml, so the two always
match; a `BotProcess` that starts `python -m bot run` with the endpoint and token in
its environment and reads its `/healthz`; `start_world` for both at once (a `World`,
whose bot can be killed and restarted); and `poll`, the only way these tests wait.
"""
from __future__ import annotations

import asyncio
import inspect
import json
import os
import signal
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, TypeVar
from zoneinfo import ZoneInfo

from handlers.guard.calendar import is_state_workday

from tests.e2e.gateway import PuppetGateway, contact_id, free_port

REPO = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
# Every wait in the e2e tests polls at this interval, up to a timeout.
POLL_INTERVAL = 0.05
STARTUP = 40.0  # seconds a bot may take from exec to /healthz 200 on a slow CI machine
SEND = 15.0  # seconds from an event to the bot's message at the gateway (3 s rate limits)

BOT = "平安助手"
ROOM = "官园社区警民联系群1"          # 李警官's contact group
URGENT_ROOM = "秀江社区警民联系群"     # 陈警官's; only the urgent test speaks here
OFFICERS_ROOM = "官园派出所工作群"
GUARD_ROOM = "宜春一中护学岗工作群"
SHIFT = "晚间护学岗"
ON_DUTY = ("张老师", "刘师傅")
ROOMS = {
    ROOM: ["张大妈", "王大爷", "李警官"],
    URGENT_ROOM: ["赵阿姨", "陈警官"],
    OFFICERS_ROOM: ["李警官", "陈警官", "王所长"],
    GUARD_ROOM: [*ON_DUTY, "李警官"],
}
OFFICERS = ("李警官", "陈警官", "王所长")
FRIENDS = list(OFFICERS)  # officers talk to the bot privately

T = TypeVar("T")


async def poll(check: Callable[[], T | Awaitable[T]], timeout: float, what: str) -> T:
    """Call `check` every POLL_INTERVAL until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(POLL_INTERVAL)


def gateway_fixture() -> dict[str, Any]:
    return {
        "self": BOT,
        "contacts": FRIENDS,
        "rooms": [{"topic": topic, "members": members} for topic, members in ROOMS.items()],
    }


@dataclass(frozen=True)
class GuardShift:
    """A guard-post shift whose reminder falls due at `reminder_at`, on a school day."""

    reminder_at: datetime
    start: datetime
    remind_before_minutes: int

    @classmethod
    def reminding_after(cls, lead: timedelta, now: datetime | None = None) -> "GuardShift":
        """The reminder at the first whole minute at least `lead` from now (config
        times are HH:MM), the shift a couple of minutes later, still ending today."""
        now = now or datetime.now(TZ)
        reminder = (now + lead).replace(second=0, microsecond=0) + timedelta(minutes=1)
        remind_before = 2
        start = reminder + timedelta(minutes=remind_before)
        if start.time() >= datetime.strptime("23:50", "%H:%M").time():
            # No room for the shift's end before midnight: start just after it instead
            # (the reminder then falls on the evening before, which the bot handles).
            start = datetime.combine(start.date() + timedelta(days=1), datetime.min.time(), TZ)
            start += timedelta(minutes=5)
            remind_before = int((start - reminder).total_seconds() // 60)
        return cls(reminder, start, remind_before)

    @property
    def day(self) -> date:
        return self.start.date()

    def toml(self) -> str:
        weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[self.day.weekday()]
        end = self.start + timedelta(minutes=10)
        term = [self.day - timedelta(days=30), self.day + timedelta(days=30)]
        # A weekend or a holiday is made a school day the way an operator would: `open`.
        opened = [] if is_state_workday(self.day) else [self.day]
        return f"""
[[schools]]
id = "yc1z"
name = "宜春一中"
room = {_s(GUARD_ROOM)}
station = "guanyuan"
officer = "李警官"
terms = [[{_s(term[0].isoformat())}, {_s(term[1].isoformat())}]]
closed = []
open = {json.dumps([d.isoformat() for d in opened])}

[[schools.shifts]]
name = {_s(SHIFT)}
start = "{self.start:%H:%M}"
end = "{end:%H:%M}"
remind_before_minutes = {self.remind_before_minutes}
checkin_grace_minutes = 10
roster = {{ {weekday} = {json.dumps(list(ON_DUTY), ensure_ascii=False)} }}
"""


def _s(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def write_config(directory: Path, shift: GuardShift, web_port: int, outbox: str = "",
                 bound: Iterable[str] = OFFICERS) -> Path:
    """pingan.toml for the world above; its database is a fresh file next to it. The
    officers named in `bound` are bound by `wechat_id` to the gateway's contacts of
    their names; the others are left to bind by code (`pingan invite`)."""
    path = directory / "pingan.toml"
    bound = frozenset(bound)

    def wechat_id(name: str) -> str:
        return f"wechat_id = {_s(contact_id(name))}" if name in bound else ""
    path.write_text(f"""
[bot]
name = {_s(BOT)}
timezone = "Asia/Shanghai"
database = "pingan.db"
ack_in_group = true

[web]
host = "127.0.0.1"
port = {web_port}
{outbox}
[[stations]]
id = "guanyuan"
name = "官园派出所"
leader = "王所长"
officers_room = {_s(OFFICERS_ROOM)}

[[officers]]
name = "李警官"
station = "guanyuan"
{wechat_id("李警官")}

[[officers]]
name = "陈警官"
station = "guanyuan"
{wechat_id("陈警官")}

[[officers]]
name = "王所长"
station = "guanyuan"
role = "leader"
{wechat_id("王所长")}

[[groups]]
room = {_s(ROOM)}
community = "官园社区"
station = "guanyuan"
officer = "李警官"

[[groups]]
room = {_s(URGENT_ROOM)}
community = "秀江社区"
station = "guanyuan"
officer = "陈警官"
{shift.toml()}""", encoding="utf-8")
    return path


@dataclass(frozen=True)
class Health:
    status: int
    body: dict[str, Any]


class BotProcess:
    """`python -m bot run -c CONFIG` in a subprocess; its output goes to a log file."""

    def __init__(self, config: Path, web_port: int, env: dict[str, str],
                 login_timeout: float = 20.0) -> None:
        self.config = config
        self.web_port = web_port
        self.log_path = config.parent / "bot.log"
        with self.log_path.open("w", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "-c", str(config),
                 "--login-timeout", f"{login_timeout:g}"],
                cwd=config.parent, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env,
            )
        self.started = time.monotonic()

    @staticmethod
    def environment(endpoint: str | None, token: str | None) -> dict[str, str]:
        """This environment with the puppet-service variables set (None: unset)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("WECHATY_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        if endpoint is not None:
            env["WECHATY_PUPPET_SERVICE_ENDPOINT"] = endpoint
        if token is not None:
            env["WECHATY_PUPPET_SERVICE_TOKEN"] = token
        return env

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def health(self) -> Health | None:
        """/healthz now; None while nothing answers on the port."""
        def get() -> Health | None:
            url = f"http://127.0.0.1:{self.web_port}/healthz"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    return Health(response.status, json.loads(response.read()))
            except urllib.error.HTTPError as error:
                with error:
                    body = error.read().decode("utf-8", "replace")
                try:
                    return Health(error.code, json.loads(body))
                except json.JSONDecodeError:
                    raise AssertionError(f"/healthz answered {error.code}: {body}") from None
            except (urllib.error.URLError, ConnectionError):
                return None

        return await asyncio.to_thread(get)

    async def wait_health(self, status: int, timeout: float,
                          until: Callable[[dict[str, Any]], bool] = lambda body: True) -> Health:
        """Poll /healthz until it answers `status` with a body that satisfies `until`;
        fail at once if the bot exits."""
        async def check() -> Health | None:
            if self.process.poll() is not None:
                raise AssertionError(f"pingan run exited with {self.process.returncode}:\n{self.log()}")
            health = await self.health()
            return health if health is not None and health.status == status and until(health.body) else None

        try:
            return await poll(check, timeout, f"/healthz to answer {status}")
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- bot log ---\n{self.log()[-4000:]}") from None

    async def wait_exit(self, timeout: float) -> int:
        try:
            await poll(lambda: self.process.poll() is not None, timeout, "pingan run to exit")
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- bot log ---\n{self.log()[-4000:]}") from None
        return self.process.returncode

    async def terminate(self, timeout: float = 10.0) -> tuple[int, float]:
        """SIGTERM; returns the exit code and how long the exit took."""
        sent = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = await self.wait_exit(timeout)
        return code, time.monotonic() - sent

    def kill(self) -> None:
        """Teardown: never leave a bot running, whatever the test did."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


@dataclass
class World:
    """A gateway and a bot connected to it (see `start_world`)."""

    gateway: PuppetGateway
    bot: BotProcess
    shift: GuardShift
    token: str

    @property
    def config(self) -> Path:
        return self.bot.config

    async def restart_bot(self) -> None:
        """SIGKILL the bot and start it again: same config, database and gateway. The
        old process's log is kept beside the new one (bot.log.1, .2, ...)."""
        self.bot.kill()
        log = self.bot.log_path
        n = 1
        while log.with_name(f"{log.name}.{n}").exists():
            n += 1
        log.rename(log.with_name(f"{log.name}.{n}"))
        self.bot = BotProcess(self.bot.config, self.bot.web_port,
                              BotProcess.environment(self.gateway.endpoint, self.token))
        await self.bot.wait_health(200, STARTUP)

    def end(self) -> None:
        self.bot.kill()
        self.gateway.close()


def start_world(directory: Path, token: str, shift: GuardShift | None = None, **config: Any) -> World:
    """A gateway with the fixture above and a bot connected to it, /healthz already
    200; `config` goes to `write_config` (an outbox section, who is bound)."""
    shift = shift or GuardShift.reminding_after(timedelta(hours=1))
    gateway = PuppetGateway(gateway_fixture(), token)
    gateway.start()
    port = free_port()
    bot = BotProcess(write_config(directory, shift, port, **config), port,
                     BotProcess.environment(gateway.endpoint, token))
    try:
        asyncio.run(bot.wait_health(200, STARTUP))
    except BaseException:
        bot.kill()
        gateway.close()
        raise
    print(f"\npingan run online {time.monotonic() - bot.started:.1f}s after exec")
    return World(gateway, bot, shift, token)


def after(record: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """A predicate for gateway records: sent after `record`."""
    return lambda r: r["seq"] > record["seq"]


def case_id(text: str) -> int:
    """The case number (#N) a message names."""
    found = re.search(r"#(\d+)", text)
    assert found, text
    return int(found.group(1))


async def quiet(bot: BotProcess) -> None:
    """Until everything queued has been sent (rate limits hold messages back a while)."""
    async def empty() -> bool:
        health = await bot.health()
        return health is not None and health.body.get("outbox_pending") == 0

    await poll(empty, SEND, "the outbox to empty")
