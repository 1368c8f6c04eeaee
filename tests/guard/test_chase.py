"""Chasing: at start + grace one @-mention of everyone on duty not checked in; at
start + 2×grace (at the end at the latest) a private message to the supervising
officer; nobody is chased in the room after the end."""
from __future__ import annotations

from pathlib import Path

from tests.guard.support import GUARD_CONFIG, XJXX, YC1Z, local_time, in_room, run, say, to_contact

MONDAY = "2026-03-02"


def chases(transcript: list[dict], room: str = YC1Z) -> list[dict]:
    return [m for m in in_room(transcript, room) if "请尽快到岗" in m["text"]]


def test_chase_then_officer_notice_name_only_who_is_missing(tmp_path):
    transcript = run(
        tmp_path,
        say(f"{MONDAY} 21:20", "张老师", "到岗"),
        start=f"{MONDAY} 21:00",
        end=f"{MONDAY} 23:00",
    )
    [chase] = chases(transcript)
    assert local_time(chase) == f"{MONDAY} 21:40" and chase["mentions"] == ["刘师傅"]
    assert chase["text"] == "晚间护学岗已于21:30开始，还没有收到以上人员的“到岗”，请尽快到岗并回复。"
    [notice] = to_contact(transcript, "李警官")
    assert local_time(notice) == f"{MONDAY} 21:50"
    assert notice["text"] == "【护学岗未到岗】宜春一中 3月2日（周一）晚间护学岗 21:30–22:10\n到21:50仍未回复到岗：刘师傅\n已到岗：张老师"
    # Nothing after the officer notice: the end of the shift is silent.
    assert transcript[-1] == notice


def test_a_check_in_after_the_chase_spares_the_officer_notice(tmp_path):
    transcript = run(
        tmp_path,
        say(f"{MONDAY} 21:41", "刘师傅", "到了！"),
        say(f"{MONDAY} 21:45", "张老师", "已到岗"),
        start=f"{MONDAY} 21:00",
        end=f"{MONDAY} 23:00",
    )
    [chase] = chases(transcript)
    assert chase["mentions"] == ["张老师", "刘师傅"]
    assert to_contact(transcript, "李警官") == []


def test_everyone_on_time_means_no_chase_at_all(tmp_path):
    transcript = run(
        tmp_path,
        say(f"{MONDAY} 21:15", "张老师", "到岗"),
        say(f"{MONDAY} 21:31", "刘师傅", "到岗"),
        start=f"{MONDAY} 21:00",
        end=f"{MONDAY} 23:00",
    )
    assert chases(transcript) == [] and to_contact(transcript, "李警官") == []


def test_morning_shift_chase_timings_and_its_own_officer(tmp_path):
    transcript = run(tmp_path, start=f"{MONDAY} 06:00", end=f"{MONDAY} 08:00")
    assert [(local_time(m), m["mentions"]) for m in in_room(transcript, XJXX)] == [
        (f"{MONDAY} 06:50", ["孙老师"]),  # reminder, 20 minutes before 07:10
        (f"{MONDAY} 07:15", ["孙老师"]),  # chase, grace 5
    ]
    [notice] = to_contact(transcript, "陈警官")
    assert local_time(notice) == f"{MONDAY} 07:20" and "孙老师" in notice["text"] and "秀江小学" in notice["text"]


def with_grace(tmp_path: Path, minutes: int) -> Path:
    path = tmp_path / f"grace{minutes}.toml"
    text = GUARD_CONFIG.read_text(encoding="utf-8").replace("checkin_grace_minutes = 10\nroster = { mon = [\"张老师\"", f"checkin_grace_minutes = {minutes}\nroster = {{ mon = [\"张老师\"", 1)
    assert f"checkin_grace_minutes = {minutes}" in text
    path.write_text(text, encoding="utf-8")
    return path


def test_a_shift_shorter_than_twice_the_grace_still_tells_the_officer_at_its_end(tmp_path):
    # Grace 25 in a 40-minute shift: the chase (21:55) is inside the shift; the notice
    # due at 22:20 comes at the end (22:10) instead of never (issue 14, point 5).
    transcript = run(tmp_path, say(f"{MONDAY} 22:00", "张老师", "到岗"), start=f"{MONDAY} 21:00", end=f"{MONDAY} 23:59", config=with_grace(tmp_path, 25))
    assert [local_time(m) for m in chases(transcript)] == [f"{MONDAY} 21:55"]
    [notice] = to_contact(transcript, "李警官")
    assert local_time(notice) == f"{MONDAY} 22:10"
    assert notice["text"] == "【护学岗未到岗】宜春一中 3月2日（周一）晚间护学岗 21:30–22:10\n到22:10仍未回复到岗：刘师傅\n已到岗：张老师"
    # Grace 40 ends exactly with the shift: nobody is chased after the end, and the officer still hears.
    transcript = run(tmp_path, start=f"{MONDAY} 21:00", end=f"{MONDAY} 23:59", config=with_grace(tmp_path, 40), db="grace40.db")
    assert chases(transcript) == []
    assert len(in_room(transcript, YC1Z)) == 1  # the reminder only
    [notice] = to_contact(transcript, "李警官")
    assert local_time(notice) == f"{MONDAY} 22:10" and "到22:10仍未回复到岗：张老师、刘师傅" in notice["text"]


def test_check_config_warns_about_a_shift_shorter_than_twice_its_grace(tmp_path):
    from click.testing import CliRunner

    from bot.run.cli import main

    result = CliRunner().invoke(main, ["check-config", "-c", str(with_grace(tmp_path, 25))])
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.output.splitlines() if "2倍签到宽限" in line]
    assert warning.startswith("警告：schools[0].shifts[0]: 宜春一中“晚间护学岗”只有40分钟，短于2倍签到宽限（2×25分钟）")
    assert "班次结束时（22:10）通知李警官" in warning and "群里不会催到岗" not in warning
    result = CliRunner().invoke(main, ["check-config", "-c", str(with_grace(tmp_path, 40))])
    assert "群里不会催到岗" in result.output
    result = CliRunner().invoke(main, ["check-config", "-c", str(GUARD_CONFIG)])
    assert "2倍签到宽限" not in result.output


def test_the_on_time_limit_follows_the_grace(tmp_path):
    from tests.guard.support import database

    run(tmp_path, say(f"{MONDAY} 21:50", "张老师", "到岗"), start=f"{MONDAY} 21:00", end=f"{MONDAY} 23:59", config=with_grace(tmp_path, 25))
    status = {r["person"]: r["status"] for r in database(tmp_path).query("select * from guard_attendance where school = 'yc1z'")}
    assert status == {"张老师": "on_time", "刘师傅": "missed"}
