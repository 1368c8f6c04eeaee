"""到岗: check-in words, on time, late, twice, helpers, outside the window, and the
attendance figures written when the shift ends."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from handlers.guard.room import Ask
from storage.guard_posts import attendance_for_month, attendance_summary
from tests import support
from tests.guard.support import YC1Z, local_time, database, in_room, message, room, run, say, to_contact

MONDAY = "2026-03-02"


@pytest.mark.parametrize(
    "text",
    ["到岗", "已到岗", "到了", "到岗了", "到岗！", "已到岗。", "到了～", "到岗👍", "到岗[强]", " 到岗 ", "@平安助手 到岗", "已到岗✅", "到岗!!", "到岗 🙏🏻"],
)
def test_check_in_words(text):
    assert room().match(message(text)).ask is Ask.CHECK_IN


@pytest.mark.parametrize("text", ["到了？", "到了吗", "快到了", "我还没到岗", "到岗时间是几点", "代班 明天 晚间护学岗 王老师", "", "岗"])
def test_not_check_in_words(text):
    found = room().match(message(text))
    assert found is not None and found.ask is not Ask.CHECK_IN


def checkin_only(transcript: list[dict]) -> list[tuple[str, str]]:
    """(time, text) of the room's replies, without the scheduled messages."""
    scheduled = ("【护学岗提醒】", "【护学岗值班表】")
    return [(local_time(m), m["text"]) for m in in_room(transcript, YC1Z) if not m["text"].startswith(scheduled) and "请尽快到岗" not in m["text"]]


def test_on_time_late_twice_and_helper(tmp_path):
    transcript = run(
        tmp_path,
        say(f"{MONDAY} 21:16", "张老师", "到岗！"),
        say(f"{MONDAY} 21:18", "张老师", "到了[强]"),
        say(f"{MONDAY} 21:25", "赵老师", "已到岗"),
        say(f"{MONDAY} 21:45", "刘师傅", "到岗了"),
        start=f"{MONDAY} 06:00",
        end="2026-03-03 06:00",
    )
    assert checkin_only(transcript) == [
        (f"{MONDAY} 21:16", "张老师 21:16 到岗，已记录。"),
        (f"{MONDAY} 21:18", "张老师已于21:16登记晚间护学岗到岗，无需重复回复。"),
        (f"{MONDAY} 21:25", "赵老师 21:25 协助晚间护学岗，已记录，谢谢！"),
        (f"{MONDAY} 21:45", "刘师傅 21:45 到岗，已记录。"),
    ]
    db = database(tmp_path)
    checkins = [(r["person"], r["at"][11:16], r["on_duty"]) for r in db.query("select * from guard_checkins order by id")]
    assert checkins == [("张老师", "21:16", 1), ("赵老师", "21:25", 0), ("刘师傅", "21:45", 1)]
    attendance = {r["person"]: r["status"] for r in db.query("select * from guard_attendance where school = 'yc1z'")}
    assert attendance == {"张老师": "on_time", "刘师傅": "late", "赵老师": "helper"}
    # 刘师傅 (late, 21:45) was chased once at 21:40; by 21:50 everyone on duty had
    # checked in, so the officer hears nothing.
    chases = [m for m in in_room(transcript, YC1Z) if "请尽快到岗" in m["text"]]
    assert [(local_time(m), m["mentions"]) for m in chases] == [(f"{MONDAY} 21:40", ["刘师傅"])]
    assert to_contact(transcript, "李警官") == []


def test_check_in_at_the_edges_of_the_window(tmp_path):
    transcript = run(
        tmp_path,
        say(f"{MONDAY} 21:14", "张老师", "到岗"),  # a minute before the reminder
        say(f"{MONDAY} 21:15", "张老师", "到岗"),  # the reminder's minute: counts
        say(f"{MONDAY} 21:40", "刘师傅", "到岗"),  # the last on-time minute (start + grace)
        say(f"{MONDAY} 22:10", "王老师", "到岗"),  # the end: over
        start=f"{MONDAY} 06:00",
        end="2026-03-03 06:00",
    )
    assert checkin_only(transcript) == [
        (f"{MONDAY} 21:14", "晚间护学岗从21:15起登记到岗，届时请再回复“到岗”。"),
        (f"{MONDAY} 21:15", "张老师 21:15 到岗，已记录。"),
        (f"{MONDAY} 21:40", "刘师傅 21:40 到岗，已记录。"),
        (f"{MONDAY} 22:10", "今天的晚间护学岗已于22:10结束，不再登记到岗，辛苦了！"),
    ]
    db = database(tmp_path)
    assert {r["person"]: r["status"] for r in db.query("select * from guard_attendance where school = 'yc1z'")} == {"张老师": "on_time", "刘师傅": "on_time"}
    assert db["guard_checkins"].count_where("school = ?", ["yc1z"]) == 2


def test_check_in_on_a_day_without_school(tmp_path):
    transcript = run(tmp_path, say("2026-04-06 21:20", "王老师", "到岗"), start="2026-04-06 06:00", end="2026-04-07 00:00")
    assert checkin_only(transcript) == [("2026-04-06 21:20", "今天不是上课日，没有护学岗安排。")]
    assert database(tmp_path)["guard_checkins"].count == 0


def test_ordinary_chat_in_the_guard_room_gets_no_reply(tmp_path):
    transcript = run(
        tmp_path,
        say(f"{MONDAY} 21:20", "张老师", "今天雨大，大家注意安全"),
        say(f"{MONDAY} 21:21", "张老师", "快到了"),
        start=f"{MONDAY} 21:00",
        end=f"{MONDAY} 21:30",
    )
    assert checkin_only(transcript) == []


def test_nobody_checks_in_everyone_is_missed(tmp_path):
    run(tmp_path, start=f"{MONDAY} 06:00", end="2026-03-03 06:00")
    db = database(tmp_path)
    assert sorted((r["person"], r["status"]) for r in db.query("select * from guard_attendance where school = 'yc1z'")) == [("刘师傅", "missed"), ("张老师", "missed")]


def test_monthly_attendance_figures_per_school_shift_and_person(tmp_path):
    # Week of 2 March: Mon 张 on time, 刘 missed; Tue 王 late, 刘 on time; Wed 赵 missed;
    # Thu 张 on time; Fri 王 on time, plus a helper.
    run(
        tmp_path,
        say("2026-03-02 21:20", "张老师", "到岗"),
        say("2026-03-03 21:45", "王老师", "到岗"),
        say("2026-03-03 21:30", "刘师傅", "到岗"),
        say("2026-03-05 21:29", "张老师", "到岗"),
        say("2026-03-06 21:25", "王老师", "到岗"),
        say("2026-03-06 21:26", "陈阿姨", "到了"),
        start="2026-03-02 06:00",
        end="2026-03-07 00:00",
    )
    db = database(tmp_path)
    march = attendance_for_month(db, 2026, 3)
    rows = {(r.school, r.shift, r.person): (r.on_time, r.late, r.missed, r.helper) for r in march.rows if r.school == "yc1z"}
    assert rows == {
        ("yc1z", "晚间护学岗", "张老师"): (2, 0, 0, 0),
        ("yc1z", "晚间护学岗", "刘师傅"): (1, 0, 1, 0),
        ("yc1z", "晚间护学岗", "王老师"): (1, 1, 0, 0),
        ("yc1z", "晚间护学岗", "赵老师"): (0, 0, 1, 0),
        ("yc1z", "晚间护学岗", "陈阿姨"): (0, 0, 0, 1),
    }
    yc1z = attendance_summary(db, date(2026, 3, 1), date(2026, 3, 31), ["yc1z"])
    assert (yc1z.on_duty, yc1z.on_time, yc1z.late, yc1z.missed, yc1z.helpers) == (7, 4, 1, 2, 1)
    assert yc1z.rate_text == "57.14%"
    # 秀江小学 ran too (nobody checked in there): every one of its duties is missed.
    xjxx = attendance_summary(db, date(2026, 3, 1), date(2026, 3, 31), ["xjxx"])
    assert xjxx.on_time == 0 and xjxx.missed == xjxx.on_duty == 11
    assert attendance_summary(db, date(2026, 4, 1), date(2026, 4, 30)).rate_text == "—"
    assert attendance_summary(db, date(2026, 3, 1), date(2026, 3, 31), []).on_duty == 0


def test_a_checkin_from_another_id_with_a_bound_name_is_not_counted(tmp_path):
    """Staff are bound like officers (the simulator binds them by name): 到岗 from a
    contact showing 张老师's name with another id is not 张老师's check-in."""
    transcript = run(
        tmp_path,
        support.say("2026-03-02 21:20", "张老师", "到岗", YC1Z, sender_id="wx-fake"),
        start="2026-03-02 21:00",
        end="2026-03-02 21:25",
    )
    [reply] = [m for m in in_room(transcript, YC1Z) if not m["text"].startswith("【护学岗提醒】")]
    assert reply["text"] == "此微信号不是已绑定的张老师，到岗未登记。"
    assert database(tmp_path)["guard_checkins"].count == 0


def test_the_duty_table_warns_about_staff_not_yet_bound(tmp_path):
    from handlers.guard.table import render_table
    from tests.guard.support import guard_posts

    school = guard_posts().services.config.schools[0]
    text = render_table(school, date(2026, 3, 2), date(2026, 3, 8), [], ZoneInfo("Asia/Shanghai"), unbound=("张老师",))
    assert text.endswith("提醒：张老师尚未绑定微信，到岗暂按微信名登记；请向社区民警索取验证码，私聊本助手发送“绑定 验证码”。")
