"""The permission matrix (issue: identity): every officer command × every kind of
sender. Each pair runs on its own database prepared so that the command would be
legal for the case's own officer; a denied command must change nothing and say so
in one line, an allowed one must do its work."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from storage import cases as case_store
from storage import followups as followup_store
from storage.migrations import apply_migrations
from tests.support import CONFIGS, GROUP1, run_inline, say, sent_at

AT = datetime.fromisoformat("2026-03-02T08:00:00+08:00")
BOUND = {"李警官": "wx-li", "王所长": "wx-wang", "孙警官": "wx-sun", "钱所长": "wx-qian"}

# (who is shown, their id): 陈警官 has no id anywhere (unbound); 张老师 is guard staff.
SENDERS = {
    "resident": ("张大妈", "wx-zhang"),
    "impostor": ("李警官", "wx-fake"),
    "unbound officer": ("陈警官", "陈警官"),
    "officer": ("李警官", "wx-li"),
    "other station": ("孙警官", "wx-sun"),
    "leader": ("王所长", "wx-wang"),
    "admin": ("赵主任", "wx-zhao"),
    "guard staff": ("张老师", "张老师"),
}
# command -> (state case #1 must be in, whether it writes)
COMMANDS = {
    "待办": (case_store.PENDING, False),
    "详情 1": (case_store.PENDING, False),
    "进度 1": (case_store.PENDING, False),
    "统计": (case_store.PENDING, False),
    "帮助": (case_store.PENDING, False),
    "认领 1": (case_store.PENDING, True),
    "办结 1 已处置": (case_store.IN_PROGRESS, True),
    "误报 1": (case_store.PENDING, True),
    "转办 1 陈警官": (case_store.IN_PROGRESS, True),
    "回访 1 无反弹": (case_store.AWAITING_FOLLOWUP, True),
    "核实 1": (case_store.UNVERIFIED, True),
    "补录 官园社区 小区门口有人打架": (case_store.PENDING, True),
}
# Station-free commands: an officer of another station may run them (on their own station).
OWN_STATION_ONLY = {c for c in COMMANDS if c not in ("待办", "统计", "帮助")}
REFUSALS = ("仅供社区民警使用", "尚未绑定", "无权操作", "没有找到", "无权使用")


def allowed(role: str, command: str) -> bool:
    if role in ("officer", "leader", "admin"):
        return True
    return role == "other station" and command not in OWN_STATION_ONLY


def config_text() -> str:
    text = (CONFIGS / "pingan.toml").read_text(encoding="utf-8")
    for name, wechat_id in BOUND.items():
        marker = f'name = "{name}"\n'
        assert marker in text
        text = text.replace(marker, f'{marker}wechat_id = "{wechat_id}"\n', 1)
    return text + '\n[[officers]]\nname = "赵主任"\nstation = "guanyuan"\nrole = "admin"\nwechat_id = "wx-zhao"\n'


def prepare(path: Path, state: str) -> None:
    """Case #1 of 官园 (李警官's), in `state`, as the workflow would have left it."""
    db = sqlite_utils.Database(path)
    apply_migrations(db)
    case = case_store.open_case(
        db, at=AT, room=GROUP1, room_id=GROUP1, community="官园社区", station="guanyuan", officer="李警官", category="dispute",
        severity="normal", reporter="张大妈", text="隔壁邻居为了漏水的事吵起来了", keywords=("吵起来",), rules=("test",), explicit=False,
        status=case_store.UNVERIFIED if state == case_store.UNVERIFIED else case_store.PENDING,
    )
    if state in (case_store.IN_PROGRESS, case_store.AWAITING_FOLLOWUP):
        case_store.claim(db, case.id, "李警官", AT)
    if state == case_store.AWAITING_FOLLOWUP:
        case_store.resolve(db, case.id, case_store.MEDIATED, "", "李警官", AT)
        followup_store.plan(db, case.id, [AT + timedelta(days=7)])
    db.conn.commit()
    db.conn.close()


def snapshot(path: Path) -> dict[str, list]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"select * from {t} order by 1").fetchall() for t in ("cases", "case_events", "case_messages", "followups", "bindings")}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("role", list(SENDERS))
def test_permission_matrix(rules_only, tmp_path, role, command):
    state, writes = COMMANDS[command]
    db = tmp_path / "p.db"
    prepare(db, state)
    before = snapshot(db)
    name, wechat_id = SENDERS[role]
    transcript = run_inline(
        rules_only, say("09:00", name, command, sender_id=wechat_id), directory=tmp_path, config_text=config_text(),
        start="2026-03-02T08:30:00+08:00", end="2026-03-02T09:01:00+08:00", db_path=db, bind_by_name=False,
    )
    # (At 08:30 the admin is told who is unbound: not a reply.)
    replies = [m for m in sent_at(transcript, "09:00") if m.get("contact") == name and m.get("contact_id", m.get("contact")) == wechat_id]
    assert len(replies) == 1, transcript
    reply = replies[0]["text"]
    refused = any(word in reply for word in REFUSALS)
    if allowed(role, command):
        assert not refused, reply
        if writes:
            assert snapshot(db) != before
    else:
        assert refused, reply
        assert snapshot(db) == before  # a refusal changes nothing
