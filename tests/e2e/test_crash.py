"""`pingan run` SIGKILLed over and over, against the real puppet-service gateway.

Issue 13 item 7. One gateway (tests/e2e/puppet-server.js) and one database live for the
whole test; the bot process on top of them is killed at least MIN_KILLS times at seeded
moments and started again on the same files, until everything has been delivered.

The schedule is drawn from random.Random(SEED), so CI sends the same messages in the
same rounds every time: residents of five contact groups post reports (distinct texts,
one per room and category, so that each opens a case of its own), ordinary chat (some
of it @-mentioning the bot) and officers send commands (认领, 待办, 帮助). Each round ends
with a kill of one of three kinds: during start-up (a seeded delay after exec), a seeded
delay after the round's last message (the bot may be classifying, committing or
sending), or the moment the gateway has recorded the round's n-th new send (the bot is
mid-send). The kill moments still vary with timing; the assertions hold for any of them.

Escalation reminders (催办) fall due during the run: the config's escalation minutes are
10 and 20, and while the bot is dead the test moves a few unclaimed cases' escalation
clocks (`cases.escalate_from`) back by 10 or 20 minutes less a few seconds, so that
their steps fall due at start-up or a few seconds after it (the live bot has no faster
clock, and 1 minute, the shortest escalation the config takes, would make the test wait
a minute for its first reminder).

What a kill may cost and what it may not:
- A message the bot was handed but had not committed when it died is gone from the bot:
  the puppet service has no acknowledgements, and the gateway does not buffer events
  while no client is connected. The test plays a gateway that redelivers (the same
  message id) what was not stored; `cut_off` counts these. (It redelivers nothing that
  was stored: the bot's deduplication lives in memory, so a message delivered again
  after a restart would be stored again. This gateway never delivers anything twice.)
- A committed case always has its notice in the outbox (one transaction), and every
  outbox row is sent after a restart: nothing is lost.
- A message handed to the gateway whose row was not yet marked sent is sent again after
  the restart: at-least-once. At most one message per kill (the outbox sends one at a
  time and marks each before the next), counted per process lifetime below.
"""
from __future__ import annotations

import asyncio
import json
import random
import re
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.bot_process import BOT, BotProcess, poll
from tests.e2e.gateway import PuppetGateway, contact_id, free_port

SEED = 13_7
TOKEN = "pingan-crash-token"
MIN_KILLS = 20
# Kill rounds: the first start-up, 6 more during start-up (cheap), 13 after messages.
KILLS = {"startup": 6, "after_say": 7, "while_sending": 6}
ROUNDS = 1 + sum(KILLS.values())
STARTUP = 40.0  # exec to /healthz 200 on a slow CI machine
SETTLE = 45.0  # after the last restart: everything stored, due and sent
ESCALATION = (10, 20)  # minutes: reminder to the officer, then the leader and officers' room

OFFICERS_ROOM = "官园派出所工作群"
LEADER = "王所长"
# room -> (community, officer, residents)
GROUPS: dict[str, tuple[str, str, tuple[str, str]]] = {
    "官园社区警民联系群1": ("官园社区", "李警官", ("张大妈", "王大爷")),
    "秀江社区警民联系群": ("秀江社区", "陈警官", ("赵阿姨", "孙师傅")),
    "下浦社区警民联系群": ("下浦社区", "李警官", ("钱奶奶", "周叔")),
    "城北社区警民联系群": ("城北社区", "陈警官", ("吴姐", "郑伯")),
    "湖田社区警民联系群": ("湖田社区", "李警官", ("冯阿姨", "蒋大哥")),
}
OFFICERS = ("李警官", "陈警官")
# Five texts per category, one for each room that draws the category: the detector
# flags every one of them (tier "flagged") in that category.
REPORTS: dict[str, tuple[str, ...]] = {
    "dispute": ("1栋楼下两个人吵起来了，快打架了", "2号楼两口子又在吵架，吵得很凶",
                "菜市场门口两个摊主吵起来了，快打架了", "4单元两个邻居吵起来了，快打架了",
                "停车场两个司机吵起来了，快打架了"),
    "fraud": ("刚才有人冒充公安打电话，让我把钱转到安全账户", "有人加我微信说刷单返利，让我先垫钱",
              "我妈接到电话说是法院的，要她转到安全账户", "有人在群里发刷单返利的广告，让大家先垫钱",
              "有人冒充客服打电话说退款，让我转到安全账户"),
    "fire": ("三楼楼道里着火了，冒了好多烟", "5栋楼道里堆满了电动车在充电，消防通道都堵死了",
             "2单元楼道里着火了，冒了好多烟", "地下车库电动车着火了，冒了好多烟",
             "7栋楼道里堆满了杂物，消防通道都堵死了"),
    "traffic": ("路口红绿灯坏了，车子乱开差点撞到人", "小区门口有人酒后开车", "学校门口的红绿灯坏了，差点撞到人",
                "菜市场那边有人酒后开车，开得歪歪扭扭", "东门路口有辆货车差点撞到人，红绿灯坏了"),
    "missing": ("我家老人走丢了，穿灰色外套，有人看到吗", "孩子放学没回家，找不到了",
                "隔壁王奶奶走丢了，穿红色毛衣，有人看到吗", "我儿子放学没回家，找不到了，穿蓝色校服",
                "我爷爷走丢了，拄着拐杖，有人看到吗"),
    "campus": ("学校门口有人拦住学生要钱", "有学生在厕所被几个高年级的欺负了", "中学后门有人拦住学生要钱",
               "有学生在操场被几个高年级的欺负了", "小学门口有人拦住学生要钱，还推了一个孩子"),
    "security": ("晚上有人撬电动车的锁，已经丢了两辆", "楼下有陌生人挨家挨户敲门看有没有人在家",
                 "昨晚有人撬车库的锁，丢了一辆电动车", "3栋有陌生人挨家挨户敲门推销，看有没有人在家",
                 "车棚里有人撬电动车的锁，被我撞见跑了"),
    "drowning": ("水库边有几个学生下水游泳", "河边有几个小孩下水游泳，没有大人看着", "池塘边有几个学生下水游泳",
                 "江边有几个初中生下水游泳", "鱼塘边有几个小孩下水游泳"),
}
CATEGORIES_PER_ROOM = 5
# Ordinary chat: never flagged, never written to disk.
CHAT = (
    "大家周末好，今天天气不错", "谁家的快递放错了，在我家门口", "今晚广场舞几点开始", "明天社区有免费量血压的活动",
    "物业说下周三停水半天", "楼下新开了一家包子铺，味道还行", "有没有人拼车去高铁站", "小区的桂花开了，真香",
    "请问社区居委会几点上班", "谁家的猫跑到我家阳台上了", "菜市场今天的白菜很便宜", "下午三点社区有书法课",
    "有人知道哪家修鞋的还开着吗", "电梯今天在保养，大家走楼梯", "感谢物业师傅帮忙修好了路灯",
    "周六社区组织包饺子，欢迎参加", "谁有多余的纸箱子，我搬家要用", "今年的供暖什么时候开始",
    "孩子的作业本落在小区花园了，谁捡到了", "晚饭吃了吗各位", "明早八点社区门口发放宣传册",
    "有人要二手自行车吗，九成新", "群里有会修电脑的吗", "今天的快递柜又满了", "小区门口的银杏叶黄了，拍照很好看",
    "社区图书室新到了一批书", "谁家有梯子借我用一下", "下雨了，晾衣服的赶紧收", "周末一起去公园爬山吗",
)


# ---- the world: the gateway's fixture and the bot's pingan.toml ------------------------

def fixture() -> dict[str, Any]:
    rooms = [{"topic": room, "members": [*residents, officer]} for room, (_, officer, residents) in GROUPS.items()]
    rooms.append({"topic": OFFICERS_ROOM, "members": [*OFFICERS, LEADER]})
    return {"self": BOT, "contacts": [*OFFICERS, LEADER], "rooms": rooms}


def write_config(directory: Path, web_port: int) -> Path:
    s = lambda text: json.dumps(text, ensure_ascii=False)  # noqa: E731 - a TOML basic string
    remind, leader = ESCALATION
    escalation = "\n".join(f"{sev}_remind_minutes = {remind}\n{sev}_leader_minutes = {leader}"
                           for sev in ("urgent", "high", "normal"))
    groups = "".join(f"""
[[groups]]
room = {s(room)}
community = {s(community)}
station = "guanyuan"
officer = {s(officer)}
""" for room, (community, officer, _) in GROUPS.items())
    path = directory / "pingan.toml"
    path.write_text(f"""
[bot]
name = {s(BOT)}
timezone = "Asia/Shanghai"
database = "pingan.db"
ack_in_group = true

[web]
host = "127.0.0.1"
port = {web_port}

[escalation]
{escalation}

# Fast enough that a backlog drains in a second or two, slow enough (per room) that a
# kill often finds messages still queued.
[outbox]
room_interval_seconds = 0.2
per_minute = 1000
daily_cap = 10000

[[stations]]
id = "guanyuan"
name = "官园派出所"
leader = {s(LEADER)}
officers_room = {s(OFFICERS_ROOM)}

[[officers]]
name = "李警官"
station = "guanyuan"
wechat_id = {s(contact_id("李警官"))}

[[officers]]
name = "陈警官"
station = "guanyuan"
wechat_id = {s(contact_id("陈警官"))}

[[officers]]
name = {s(LEADER)}
station = "guanyuan"
role = "leader"
wechat_id = {s(contact_id(LEADER))}
{groups}""", encoding="utf-8")
    return path


# ---- the seeded schedule --------------------------------------------------------------

@dataclass(eq=False)
class Report:
    room: str
    sender: str
    text: str
    category: str
    id: str | None = None  # the gateway's message id, once said
    case: int | None = None  # once stored

    @property
    def officer(self) -> str:
        return GROUPS[self.room][1]


@dataclass(eq=False)
class Claim:
    """`认领 N` from the report's officer; N is known only once the report is stored."""

    report: Report
    id: str | None = None
    text: str = ""


@dataclass(frozen=True)
class Chat:
    room: str
    sender: str
    text: str
    mention: bool  # @平安助手: the bot answers with its help


@dataclass(frozen=True)
class Query:
    officer: str
    text: str  # 待办 / 帮助: read-only, answered privately


Step = Report | Claim | Chat | Query


@dataclass(eq=False)
class Round:
    kill: str  # "startup" | "after_say" | "while_sending"
    delay: float  # startup: seconds after exec; after_say: seconds after the last message
    nth: int  # while_sending: kill when the gateway has recorded this many new sends
    steps: list[Step] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    # Before the bot starts: move these cases' escalation clocks so a step falls due.
    backdate: list[tuple[Report, str, float]] = field(default_factory=list)


@dataclass
class Plan:
    rounds: list[Round]
    reports: list[Report]
    claims: list[Claim]


def make_plan(rng: random.Random) -> Plan:
    reports: list[Report] = []
    used = Counter[str]()
    for room, (_, _, residents) in GROUPS.items():
        for i, category in enumerate(rng.sample(sorted(REPORTS), CATEGORIES_PER_ROOM)):
            reports.append(Report(room, residents[i % 2], REPORTS[category][used[category]], category))
            used[category] += 1
    rng.shuffle(reports)

    # The first round kills the very first start-up (fresh database, migrations).
    kinds = [kind for kind, n in KILLS.items() for _ in range(n)]
    rng.shuffle(kinds)
    kinds = ["startup"] + kinds
    # A start-up kill lands anywhere from the imports to the first seconds online (the
    # login and the catch-up: the backlog, reminders that fell due while it was down).
    rounds = [Round(kind, rng.uniform(0.5, 3.2) if kind == "startup" else rng.uniform(0.0, 0.5), rng.randint(1, 3))
              for kind in kinds]
    talking = [r for r in rounds if r.kill != "startup"]
    for i, report in enumerate(reports):
        talking[i % len(talking)].steps.append(report)
    chat = list(CHAT)
    rng.shuffle(chat)
    for text in chat:
        room = rng.choice(sorted(GROUPS))
        rng.choice(talking).steps.append(Chat(room, rng.choice(GROUPS[room][2]), text, rng.random() < 0.3))
    for _ in range(4):
        rng.choice(talking).steps.append(Query(rng.choice([*OFFICERS, LEADER]), rng.choice(["待办", "帮助"])))

    said_in = {id(step): i for i, r in enumerate(rounds) for step in r.steps}
    # Reminders for some reports, claims for others: a claimed case is never reminded.
    picked = rng.sample([r for r in reports if said_in[id(r)] < ROUNDS - 6], 10)
    for i, report in enumerate(picked[:6]):
        # Due a few seconds before or after the next start; two go on to the leader.
        at = rng.randint(said_in[id(report)] + 1, ROUNDS - 4)
        rounds[at].backdate.append((report, "leader" if i < 2 else "remind", rng.uniform(-3.0, 5.0)))
    claims = [Claim(r) for r in picked[6:]]
    for claim in claims:
        later = [r for r in talking if rounds.index(r) > said_in[id(claim.report)]]
        rng.choice(later or talking[-1:]).steps.append(claim)
    for r in rounds:
        rng.shuffle(r.steps)
        r.gaps = [rng.uniform(0.0, 0.15) for _ in r.steps]
    return Plan(rounds, reports, claims)


# ---- the database, read and (while the bot is dead) moved in time ----------------------

class Store:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        if not self.path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        try:
            if not conn.execute("select 1 from sqlite_master where name = 'cases'").fetchone():
                return []
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def stored(self) -> dict[str, list[int]]:
        """Report text -> the cases holding it (one per message stored)."""
        found: dict[str, list[int]] = {}
        for text, case in self._query("select text, case_id from case_messages order by id"):
            found.setdefault(text, []).append(case)
        return found

    def claimed(self) -> set[int]:
        return {row[0] for row in self._query("select id from cases where claimed_by is not null")}

    def outbox(self) -> list[dict[str, Any]]:
        cols = ("id", "key", "room", "contact", "text", "mentions", "urgent", "sent_at", "failed")
        return [dict(zip(cols, row)) for row in self._query(f"select {', '.join(cols)} from outbox order by id")]

    def events(self) -> list[tuple[int, str]]:
        return list(self._query("select case_id, kind from case_events"))

    def cases(self) -> list[tuple[int, str, int, str]]:
        return list(self._query("select id, room, message_count, severity from cases"))

    def backdate(self, case: int, minutes: int, due_in: float) -> None:
        """The case's escalation clock started `minutes` ago, less `due_in` seconds:
        the step at `minutes` falls due `due_in` seconds from now (the bot is dead)."""
        start = datetime.now().astimezone() - timedelta(minutes=minutes) + timedelta(seconds=due_in)
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            with conn:
                conn.execute("update cases set escalate_from = ? where id = ?", [start.isoformat(), case])
        finally:
            conn.close()


# ---- one process lifetime --------------------------------------------------------------

LOGIN_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) WARNING bot\.run\.live: 已登录微信", re.M)


@dataclass
class Life:
    """One `pingan run` from exec to its death."""

    number: int
    kill: str  # how its round ends: "startup" | "after_say" | "while_sending" | "catch-up" | "final"
    log: str = ""
    login: float | None = None  # wall-clock time of the login line: nothing is sent before it
    ended_by: str = "kill"
    cut_off: int = 0  # messages handed to it and not stored when it died (redelivered)
    unsent_at_death: int = 0  # outbox rows it left unsent

    def read(self, bot: BotProcess) -> None:
        self.log = bot.log()
        found = LOGIN_LINE.search(self.log)
        if found:
            self.login = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()


def content(room: str | None, contact: str | None, text: str, mentions: list[str]) -> tuple:
    return (room, contact, text, tuple(mentions))


def row_content(row: dict[str, Any]) -> tuple:
    return content(row["room"], row["contact"], row["text"], json.loads(row["mentions"] or "[]"))


def record_content(record: dict[str, Any]) -> tuple:
    """A gateway record as the row it came from: Wechaty's Room.say writes the
    @-mentions in front of the text."""
    text = record["text"]
    for name in record["mentions"]:
        text = text.removeprefix(f"@{name} ")
    return content(record["room"], record["contact"], text, record["mentions"])


# ---- the test ------------------------------------------------------------------------

class CrashRun:
    def __init__(self, directory: Path, gateway: PuppetGateway, plan: Plan) -> None:
        self.gw = gateway
        self.plan = plan
        self.port = free_port()
        self.config = write_config(directory, self.port)
        self.env = BotProcess.environment(gateway.endpoint, TOKEN)
        self.store = Store(directory / "pingan.db")
        self.lives: list[Life] = []
        self.bot: BotProcess | None = None
        self.redeliver: list[Report | Claim] = []
        self.backdated: list[tuple[Report, str]] = []
        self.kills = 0
        self._said_since_last_death: list[Step] = []

    # process lifetimes

    def start(self, kill: str) -> BotProcess:
        self.bot = BotProcess(self.config, self.port, self.env)
        self.lives.append(Life(len(self.lives) + 1, kill))
        return self.bot

    def kill(self) -> None:
        bot = self.bot
        assert bot is not None
        if bot.process.poll() is not None:
            raise AssertionError(f"pingan run exited by itself with {bot.process.returncode}:\n{bot.log()[-4000:]}")
        bot.kill()
        assert bot.process.returncode == -9, bot.process.returncode
        self.kills += 1
        life = self.lives[-1]
        life.read(bot)
        # What the dead process was handed and never stored: a gateway with
        # acknowledgements would deliver it again, and so does this test.
        stored, claimed = self.store.stored(), self.store.claimed()
        for step in self._said_since_last_death:
            lost = (isinstance(step, Report) and step.text not in stored
                    or isinstance(step, Claim) and step.report.case not in claimed)
            if lost and step not in self.redeliver:
                self.redeliver.append(step)
                life.cut_off += 1
        life.unsent_at_death = sum(1 for row in self.store.outbox() if row["sent_at"] is None)
        self._said_since_last_death = []

    # what residents and officers say

    def _case_of(self, report: Report) -> int | None:
        if report.case is None:
            cases = self.store.stored().get(report.text)
            report.case = cases[0] if cases else None
        return report.case

    async def say(self, step: Step) -> bool:
        """Say it; False when it has to wait (a claim of a case not stored yet)."""
        gw = self.gw
        if isinstance(step, Report):
            step.id = await gw.say(step.sender, step.text, room=step.room, id=step.id)
        elif isinstance(step, Claim):
            case = self._case_of(step.report)
            if case is None:
                return False
            step.text = step.text or f"认领 {case}"
            step.id = await gw.say(step.report.officer, step.text, id=step.id)
        elif isinstance(step, Chat):
            if step.mention:
                await gw.say(step.sender, f"@{BOT}\u2005{step.text}", room=step.room, mentions=[BOT])
            else:
                await gw.say(step.sender, step.text, room=step.room)
        else:
            await gw.say(step.officer, step.text)
        self._said_since_last_death.append(step)
        return True

    async def redeliver_cut_off(self) -> None:
        waiting, self.redeliver = self.redeliver, []
        for step in waiting:
            await self.say(step)

    def apply_backdates(self, wanted: list[tuple[Report, str, float]]) -> list[tuple[Report, str, float]]:
        """Move the escalation clocks of stored cases; returns those not stored yet."""
        later = []
        for report, step, due_in in wanted:
            case = self._case_of(report)
            if case is None:
                later.append((report, step, due_in))
                continue
            self.store.backdate(case, ESCALATION[0 if step == "remind" else 1], due_in)
            self.backdated.append((report, step))
        return later

    # the rounds

    async def run_round(self, rnd: Round, postponed: list[Step]) -> list[Step]:
        bot = self.start(rnd.kill)
        if rnd.kill == "startup":
            await asyncio.sleep(rnd.delay)  # a seeded moment of the start-up, not a wait for it
            self.kill()
            return postponed + rnd.steps
        await bot.wait_health(200, STARTUP)
        await self.redeliver_cut_off()
        waiting = []
        for step, gap in zip(postponed + rnd.steps, [0.0] * len(postponed) + rnd.gaps):
            if not await self.say(step):
                waiting.append(step)
            await asyncio.sleep(gap)  # seeded spacing of the residents' messages
        if rnd.kill == "after_say":
            await asyncio.sleep(rnd.delay)
        else:
            # Look as fast as the gateway answers (a few ms), so that the kill often lands
            # between the gateway taking a message and the bot marking its row sent.
            seen = len(await self.gw.sent())
            deadline = time.monotonic() + 1.0  # nothing (more) to send: kill anyway
            while len(await self.gw.sent()) < seen + rnd.nth and time.monotonic() < deadline:
                pass
        self.kill()
        return waiting

    def settled(self) -> bool:
        stored, claimed = self.store.stored(), self.store.claimed()
        if any(r.text not in stored for r in self.plan.reports):
            return False
        if any(c.report.case not in claimed for c in self.plan.claims):
            return False
        keys = {row["key"]: row["sent_at"] for row in self.store.outbox()}
        if any(keys.get(k) is None for k in self.expected_keys()):
            return False
        return all(sent is not None for sent in keys.values())

    def expected_keys(self) -> list[str]:
        keys = []
        for report, step in self.backdated:
            keys.append(f"case:{report.case}:remind")
            if step == "leader":
                keys += [f"case:{report.case}:leader", f"case:{report.case}:leader:room"]
        return keys

    async def run(self) -> None:
        postponed: list[Step] = []
        backdates: list[tuple[Report, str, float]] = []
        for rnd in self.plan.rounds:
            backdates = self.apply_backdates(backdates + rnd.backdate)
            postponed = await self.run_round(rnd, postponed)
        if backdates:
            # Reports cut off in the last lives (more of them on a slow, loaded machine)
            # are not stored yet: one more life takes them in and dies, so that every
            # planned reminder can fall due while the bot is down.
            await self.start("catch-up").wait_health(200, STARTUP)
            await self.redeliver_cut_off()
            await poll(lambda: all(self._case_of(r) is not None for r, _, _ in backdates), SETTLE,
                       "the reports due a reminder to be stored")
            self.kill()
            backdates = self.apply_backdates(backdates)
        assert not backdates, backdates
        # The last life: everything said, stored, due and sent; then a clean stop.
        bot = self.start("final")
        await bot.wait_health(200, STARTUP)
        await self.redeliver_cut_off()
        for step in postponed:  # (a claim waits for its report, redelivered just above)
            await poll(lambda: self.say(step), SETTLE, f"{step} to be said")
        try:
            await poll(self.settled, SETTLE, "every report stored, every claim applied, every message sent")
            await poll(lambda: self._outbox_empty(bot), 10, "/healthz to show an empty outbox")
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- bot log ---\n{bot.log()[-4000:]}") from None
        code, _ = await bot.terminate()
        assert code == 0, bot.log()
        self.lives[-1].read(bot)
        self.lives[-1].ended_by = "SIGTERM"

    async def _outbox_empty(self, bot: BotProcess) -> bool:
        health = await bot.health()
        return health is not None and health.body.get("outbox_pending") == 0


async def test_sigkills_lose_nothing_and_store_nothing_twice(tmp_path: Path) -> None:
    began = time.monotonic()
    plan = make_plan(random.Random(SEED))
    gateway = PuppetGateway(fixture(), TOKEN)
    gateway.start()
    home = tmp_path / "bot"  # the bot's files: config, database, logs
    home.mkdir()
    crash = CrashRun(home, gateway, plan)
    try:
        await crash.run()
        sent = await gateway.sent()
    finally:
        if crash.bot is not None:
            crash.bot.kill()
        gateway.close()
    store = crash.store
    # The evidence, for a failure's post-mortem (pytest keeps the last runs' tmp_path).
    (tmp_path / "evidence.json").write_text(json.dumps(
        {"sent": sent, "outbox": store.outbox(), "lives": [vars(life) for life in crash.lives]},
        ensure_ascii=False, indent=1), encoding="utf-8")
    assert crash.kills >= MIN_KILLS

    # Every flagged message stored exactly once, each in a case of its own.
    stored = store.stored()
    for report in plan.reports:
        assert len(stored.get(report.text, [])) == 1, (report.text, stored.get(report.text))
    cases = store.cases()
    assert len(cases) == len(plan.reports), cases
    assert all(count == 1 for _, _, count, _ in cases), cases
    assert len({stored[r.text][0] for r in plan.reports}) == len(plan.reports)

    # Every case's officer notice and group acknowledgement reached the gateway (at
    # least once).
    rows = store.outbox()
    keys = Counter(row["key"] for row in rows)
    for report in plan.reports:
        case = stored[report.text][0]
        assert keys[f"case:{case}:notice"] == keys[f"case:{case}:ack"] == 1, case
        assert any(r["room"] == report.room and f"#{case}并" in r["text"] and r["mentions"] == [report.sender]
                   for r in sent), f"no acknowledgement of #{case} in {report.room}"
        assert any(r["contact"] == report.officer and f"#{case} " in r["text"] and report.text in r["text"]
                   for r in sent), f"no notice of #{case} to {report.officer}"

    # Every urgent report got its 110/119/120 reply: once per delivery that reached the
    # bot (queued before the case is written, so a report cut off after it and
    # redelivered gets it again).
    urgent_cases = sum(1 for _, _, _, severity in cases if severity == "urgent")
    urgent_replies = sum(1 for row in rows if row["urgent"] and row["key"].startswith("auto:"))
    cut_off = sum(life.cut_off for life in crash.lives)
    assert urgent_cases <= urgent_replies <= urgent_cases + cut_off, (urgent_cases, urgent_replies, cut_off)

    # Outbox keys are unique; every notice and reminder was decided once.
    assert not [k for k, n in keys.items() if n > 1]
    events = Counter(store.events())
    assert all(n == 1 for (_, kind), n in events.items() if kind in ("notified", "reminded", "escalated")), events
    reminded = {case for case, kind in events if kind == "reminded"}
    escalated = {case for case, kind in events if kind == "escalated"}
    assert len(crash.backdated) >= 3, crash.backdated  # enough reminders fell due to mean something
    assert {r.case for r, _ in crash.backdated} == reminded
    assert {r.case for r, step in crash.backdated if step == "leader"} == escalated
    assert {c.report.case for c in plan.claims}.isdisjoint(reminded)
    # ...and reached the gateway: the officer, then the leader and the officers' room.
    for report, step in crash.backdated:
        assert any(r["contact"] == report.officer and r["text"].startswith(f"【催办】#{report.case} ") for r in sent)
        if step == "leader":
            assert any(r["contact"] == LEADER and f"#{report.case} " in r["text"] for r in sent)
            assert any(r["room"] == OFFICERS_ROOM and f"#{report.case} " in r["text"] for r in sent)

    # Nothing lost: every row sent, and the gateway has every sent row (at least once).
    assert all(row["sent_at"] is not None and row["failed"] is None for row in rows), \
        [row for row in rows if row["sent_at"] is None or row["failed"]]
    delivered = Counter(record_content(r) for r in sent)
    marked = Counter(row_content(row) for row in rows)
    assert not marked - delivered, marked - delivered

    # Sent twice: only a message the gateway had when its process died but whose row
    # was not marked sent yet; at most one per death, none at the clean stop.
    duplicates = delivered - marked
    per_life = unmarked_per_life(crash.lives, sent, rows)
    for life, extra in zip(crash.lives, per_life):
        assert sum(extra.values()) <= (1 if life.ended_by == "kill" else 0), (life.number, extra)
    assert sum(per_life, Counter()) == duplicates

    # Ordinary chat never reaches the disk (database, its WAL, logs, anything).
    on_disk = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    on_disk += "".join(life.log for life in crash.lives).encode("utf-8")
    leaked = [text for text in CHAT if text.encode("utf-8") in on_disk]
    assert not leaked, leaked

    # No process left a traceback or an error behind.
    for life in crash.lives:
        bad = [line for line in life.log.splitlines() if "Traceback" in line or " ERROR " in line]
        assert not bad, (life.number, bad, life.log[-3000:])

    took = time.monotonic() - began
    by_kind = Counter(life.kill for life in crash.lives if life.ended_by == "kill")
    twice_by_kind = Counter(life.kill for life, extra in zip(crash.lives, per_life) for _ in extra.elements())
    print(f"\ncrash test: {crash.kills} SIGKILLs ({dict(by_kind)}) over {len(crash.lives)} processes "
          f"in {took:.1f}s; {len(plan.reports)} reports, {len(rows)} outbox rows, {len(sent)} messages "
          f"at the gateway; {cut_off} messages cut off and redelivered; "
          f"{sum(duplicates.values())} sent twice ({dict(twice_by_kind)}); reminders for "
          f"{len(reminded)} cases, {len(escalated)} of them up to the leader")


def unmarked_per_life(lives: list[Life], sent: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[Counter]:
    """For each process: what the gateway received from it that it did not mark sent.

    A process sends nothing before its login line, and the next process logs in
    seconds after this one died, so a gateway record belongs to the last process
    that logged in before it was made; a row's sent_at is its sender's clock."""
    starts = [life.login for life in lives]

    def owner(at: float) -> int | None:
        found = None
        for i, start in enumerate(starts):
            if start is not None and start <= at + 0.001:  # the log line has millisecond resolution
                found = i
        return found

    got = [Counter[tuple]() for _ in lives]
    marked = [Counter[tuple]() for _ in lives]
    for record in sent:
        i = owner(record["at"] / 1000)
        assert i is not None, record
        got[i][record_content(record)] += 1
    for row in rows:
        i = owner(datetime.fromisoformat(row["sent_at"]).timestamp())
        assert i is not None, row
        marked[i][row_content(row)] += 1
    for i in range(len(lives)):
        assert not marked[i] - got[i], (lives[i].number, marked[i] - got[i])
    return [got[i] - marked[i] for i in range(len(lives))]
