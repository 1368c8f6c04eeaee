"""`pingan simulate` and `pingan demo` as a user runs them."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from bot.run.cli import main
from tests.support import CONFIGS, SCENARIOS

CST = timezone(timedelta(hours=8))


def simulate(*args: str):
    return CliRunner().invoke(main, ["simulate", *args])


def test_simulate_prints_json_lines_and_is_byte_identical_across_runs():
    first = simulate(str(SCENARIOS / "urgent_knife.toml"))
    second = simulate(str(SCENARIOS / "urgent_knife.toml"))
    assert first.exit_code == 0, first.output
    assert first.output == second.output
    lines = [json.loads(line) for line in first.output.splitlines()]
    # The 110 reply, the acknowledgement and the officer's notice; escalation of the
    # unclaimed case follows later (tests/test_escalation.py).
    assert [sorted(line) for line in lines[:3]] == [
        ["at", "mentions", "room", "text"],
        ["at", "mentions", "room", "text"],
        ["at", "contact", "mentions", "text"],
    ]


def test_simulate_keeps_the_database_with_db(tmp_path):
    db = tmp_path / "kept.db"
    result = simulate(str(SCENARIOS / "merge_within_window.toml"), "--db", str(db))
    assert result.exit_code == 0
    import sqlite_utils

    assert sqlite_utils.Database(db)["cases"].count == 1


def test_bad_scenarios_are_one_line_errors(tmp_path):
    missing = simulate(str(tmp_path / "none.toml"))
    assert missing.exit_code == 2 and missing.output.strip().endswith("场景文件不存在")
    bad = tmp_path / "bad.toml"
    bad.write_text(f'config = "{CONFIGS / "pingan.toml"}"\nstart = 2026-03-02T06:00:00+08:00\nend = 2026-03-01T06:00:00+08:00\n', encoding="utf-8")
    result = simulate(str(bad))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"{bad}: end: 结束时间应晚于开始时间"]
    outside = tmp_path / "outside.toml"
    outside.write_text(
        f'config = "{CONFIGS / "pingan.toml"}"\nstart = 2026-03-02T06:00:00+08:00\nend = 2026-03-03T06:00:00+08:00\n'
        '[[events]]\nat = 2026-03-05T09:00:00+08:00\nroom = "x"\nfrom = "y"\ntext = "z"\n',
        encoding="utf-8",
    )
    result = simulate(str(outside))
    assert result.exit_code == 2 and "events[0].at" in result.output and "Traceback" not in result.output


def test_a_30_day_scenario_with_hundreds_of_events_runs_through(tmp_path):
    """Every report opens its own case (rooms rotate, an hour apart), chat is ignored."""
    rooms = ["官园社区警民联系群1", "秀江社区警民联系群", "下浦社区警民联系群"]
    officers = {"官园社区警民联系群1": "李警官", "秀江社区警民联系群": "陈警官", "下浦社区警民联系群": "孙警官"}
    start = datetime(2026, 3, 2, 6, tzinfo=CST)
    events, reports = [], 0
    for day in range(30):
        for slot in range(12):
            at = start + timedelta(days=day, hours=2 + slot)
            room = rooms[(day + slot) % 3]
            is_report = slot % 4 == 0
            reports += is_report
            text = "楼下两个人吵起来了，快打架了" if is_report else f"今天第{slot}次说说家常，菜价又涨了"
            events.append(f'[[events]]\nat = {at.isoformat()}\nroom = "{room}"\nfrom = "居民{slot}"\ntext = "{text}"\n')
    path = tmp_path / "month.toml"
    path.write_text(
        f'config = "{CONFIGS / "pingan.toml"}"\nstart = {start.isoformat()}\nend = {(start + timedelta(days=31)).isoformat()}\n' + "\n".join(events),
        encoding="utf-8",
    )
    result = simulate(str(path))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    notices = [m for m in lines if m.get("contact") in officers.values() and "【新警情】" in m["text"]]
    assert len(events) == 360 and reports == 90
    assert len(notices) == 90
    assert notices[-1]["text"].startswith("【新警情】#90 ")


def test_demo_prints_a_readable_transcript():
    result = CliRunner().invoke(main, ["demo", "--transcript"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "张大妈：楼下两个人吵起来了，快打架了" in out
    assert "私信 李警官：【新警情】#1" in out
    assert "110" in out
    assert "（无回复：普通聊天不登记、不保存）" in out
