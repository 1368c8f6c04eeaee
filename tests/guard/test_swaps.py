"""代班: dates in every accepted form, the swap's effect on reminders and the table, and
each refusal with its reason."""
from __future__ import annotations

from datetime import date

import pytest

from handlers.guard.dates import parse_day
from handlers.guard.room import Ask
from handlers.guard.swaps import USAGE
from tests.guard.support import XJXX, YC1Z, local_time, database, in_room, message, reminders, room, run, say

MONDAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    "word,today,expected",
    [
        ("2026-03-05", MONDAY, date(2026, 3, 5)),
        ("2026/3/5", MONDAY, date(2026, 3, 5)),
        ("2026年3月5日", MONDAY, date(2026, 3, 5)),
        ("3月5日", MONDAY, date(2026, 3, 5)),
        ("3月5号", MONDAY, date(2026, 3, 5)),
        ("３月５日", MONDAY, date(2026, 3, 5)),  # full-width digits from a phone keyboard
        ("今天", MONDAY, MONDAY),
        ("明天", MONDAY, date(2026, 3, 3)),
        ("后天", MONDAY, date(2026, 3, 4)),
        ("周三", MONDAY, date(2026, 3, 4)),
        ("星期三", MONDAY, date(2026, 3, 4)),
        ("礼拜三", MONDAY, date(2026, 3, 4)),
        ("周日", MONDAY, date(2026, 3, 8)),
        ("星期天", MONDAY, date(2026, 3, 8)),
        ("周一", MONDAY, MONDAY),  # said on a Monday: today
        ("周一", date(2026, 3, 3), date(2026, 3, 9)),  # said on Tuesday: the coming one
        ("周三", date(2026, 3, 5), date(2026, 3, 11)),
        ("下周三", MONDAY, date(2026, 3, 11)),
        ("本周五", date(2026, 3, 4), date(2026, 3, 6)),
        ("1月5日", date(2026, 12, 20), date(2027, 1, 5)),  # December's "January" is next year's
        ("3月1日", MONDAY, date(2026, 3, 1)),  # yesterday stays yesterday (refused as past)
        ("2月30日", MONDAY, None),
        ("2026-13-01", MONDAY, None),
        ("下下周", MONDAY, None),
        ("王老师", MONDAY, None),
        ("", MONDAY, None),
    ],
)
def test_parse_day(word, today, expected):
    assert parse_day(word, today) == expected


def confirmations(transcript: list[dict], room: str = YC1Z) -> list[tuple[str, str, list[str]]]:
    return [(local_time(m), m["text"], m["mentions"]) for m in in_room(transcript, room) if m["text"].startswith("代班已登记")]


def test_swaps_in_each_date_format_change_reminders_and_the_table(tmp_path):
    transcript = run(
        tmp_path,
        say("2026-03-02 12:00", "张老师", "代班 2026-03-05 晚间护学岗 王老师"),
        say("2026-03-02 12:01", "刘师傅", "代班 明天 晚间护学岗 陈老师"),
        say("2026-03-02 12:02", "赵老师", "代班 后天 晚间护学岗 孙老师"),
        say("2026-03-02 12:03", "王老师", "代班 3月6日 晚间护学岗 李老师"),
        # Tuesday: the replacements hand on again, with weekday names (and a shortened
        # shift name, and an @-mention for the replacement).
        say("2026-03-03 12:00", "孙老师", "代班 周三 晚间护学岗 周老师"),
        say("2026-03-03 12:01", "王老师", "代班：星期四 晚间 @吴老师"),
        say("2026-03-03 12:02", "赵老师", "值班表"),
        start="2026-03-02 06:00",
        end="2026-03-07 00:00",
    )
    assert confirmations(transcript) == [
        ("2026-03-02 12:00", "代班已登记：3月5日（周四）晚间护学岗 21:30–22:10 由王老师代替张老师。", ["王老师"]),
        ("2026-03-02 12:01", "代班已登记：3月3日（周二）晚间护学岗 21:30–22:10 由陈老师代替刘师傅。", ["陈老师"]),
        ("2026-03-02 12:02", "代班已登记：3月4日（周三）晚间护学岗 21:30–22:10 由孙老师代替赵老师。", ["孙老师"]),
        ("2026-03-02 12:03", "代班已登记：3月6日（周五）晚间护学岗 21:30–22:10 由李老师代替王老师。", ["李老师"]),
        ("2026-03-03 12:00", "代班已登记：3月4日（周三）晚间护学岗 21:30–22:10 由周老师代替孙老师。", ["周老师"]),
        ("2026-03-03 12:01", "代班已登记：3月5日（周四）晚间护学岗 21:30–22:10 由吴老师代替王老师。", ["吴老师"]),
    ]
    assert [(local_time(m)[:10], m["mentions"]) for m in reminders(transcript)] == [
        ("2026-03-02", ["张老师", "刘师傅"]),
        ("2026-03-03", ["王老师", "陈老师"]),
        ("2026-03-04", ["周老师"]),
        ("2026-03-05", ["吴老师"]),
        ("2026-03-06", ["李老师"]),
    ]
    [table] = [m["text"] for m in in_room(transcript, YC1Z) if m["text"].startswith("【护学岗值班表】")]
    assert table.splitlines()[2:7] == [
        "3月2日 周一：张老师、刘师傅",
        "3月3日 周二：王老师、陈老师（代刘师傅）",
        "3月4日 周三：周老师（代赵老师）",
        "3月5日 周四：吴老师（代张老师）",
        "3月6日 周五：李老师（代王老师）",
    ]


def test_a_swap_on_the_day_changes_the_chase_and_attendance(tmp_path):
    transcript = run(
        tmp_path,
        say("2026-03-02 21:20", "刘师傅", "代班 今天 晚间护学岗 陈老师"),
        say("2026-03-02 21:25", "张老师", "到岗"),
        start="2026-03-02 21:00",
        end="2026-03-02 23:00",
    )
    chase = [m for m in in_room(transcript, YC1Z) if "请尽快到岗" in m["text"]]
    assert [m["mentions"] for m in chase] == [["陈老师"]]
    status = {r["person"]: r["status"] for r in database(tmp_path).query("select * from guard_attendance where school = 'yc1z'")}
    assert status == {"张老师": "on_time", "陈老师": "missed"}


def test_a_school_with_two_shifts_needs_the_shift_name(tmp_path):
    transcript = run(
        tmp_path,
        say("2026-03-02 12:00", "郑老师", "代班 明天 钱老师", room=XJXX),
        say("2026-03-02 12:01", "郑老师", "代班 明天 放学 钱老师", room=XJXX),
        say("2026-03-02 12:02", "郑老师", "代班 明天 护学岗 钱老师", room=XJXX),
        start="2026-03-02 06:00",
        end="2026-03-02 13:00",
    )
    replies = [m["text"] for m in in_room(transcript, XJXX) if local_time(m) >= "2026-03-02 12:00"]
    assert replies == [
        USAGE,
        "代班已登记：3月3日（周二）放学护学岗 16:30–17:10 由钱老师代替郑老师。",
        "秀江小学没有“护学岗”这个班次，可选：早间护学岗、放学护学岗。",
    ]


REFUSALS = [
    # (when, sender, command, reply)
    ("2026-03-02 12:00", "张老师", "代班 4月6日 晚间护学岗 王老师", "4月6日（周一）不是上课日（清明节），没有护学岗，无需代班。"),
    ("2026-03-02 12:00", "张老师", "代班 周六 晚间护学岗 王老师", "3月7日（周六）不是上课日，没有护学岗，无需代班。"),
    ("2026-03-02 12:00", "张老师", "代班 2026-07-06 晚间护学岗 王老师", "7月6日（周一）不是上课日（不在学期内），没有护学岗，无需代班。"),
    ("2026-03-02 12:00", "王老师", "代班 明天 早间护学岗 李老师", "宜春一中没有“早间护学岗”这个班次，可选：晚间护学岗。"),
    ("2026-03-02 12:00", "赵老师", "代班 明天 晚间护学岗 李老师", "赵老师不在3月3日（周二）晚间护学岗的值班名单上（当班：王老师、刘师傅），只有当班人员可以找人代班。"),
    ("2026-03-02 12:00", "张老师", "代班 2026-02-27 晚间护学岗 王老师", "2月27日（周五）已经过去，不能再登记代班。"),
    ("2026-03-02 12:00", "张老师", "代班 3月1日 晚间护学岗 王老师", "3月1日（周日）已经过去，不能再登记代班。"),
    ("2026-03-02 22:15", "张老师", "代班 今天 晚间护学岗 王老师", "今天的晚间护学岗已于22:10结束，不能再登记代班。"),
    ("2026-03-02 12:00", "张老师", "代班 下下周 晚间护学岗 王老师", f"没看懂日期“下下周”。{USAGE}"),
    ("2026-03-02 12:00", "张老师", "代班 2月30日 晚间护学岗 王老师", f"没看懂日期“2月30日”。{USAGE}"),
    ("2026-03-02 12:00", "张老师", "代班 明天", USAGE),
    ("2026-03-02 12:00", "张老师", "代班", USAGE),
    ("2026-03-02 12:00", "张老师", "代班 周四 晚间护学岗 张老师", "代班人不能是自己。"),
    ("2026-03-02 12:00", "王老师", "代班 明天 晚间护学岗 刘师傅", "刘师傅已在3月3日（周二）晚间护学岗值班。"),
]


@pytest.mark.parametrize("when,sender,command,reply", REFUSALS, ids=[r[3][:12] for r in REFUSALS])
def test_refusals_say_why_in_one_line(tmp_path, when, sender, command, reply):
    transcript = run(tmp_path, say(when, sender, command), start=when, end="2026-03-02 23:59")
    [answer] = [m for m in in_room(transcript, YC1Z) if local_time(m) == when]
    assert answer["text"] == reply
    assert answer["mentions"] == [sender]
    assert "\n" not in answer["text"] or answer["text"] == USAGE
    assert database(tmp_path)["guard_swaps"].count == 0


@pytest.mark.parametrize(
    "text,expected",
    [
        ("代班 明天 晚间护学岗 王老师", True),
        ("代班3月5日 晚间护学岗 王老师", True),
        ("代班：周三 晚间护学岗 王老师", True),
        ("@平安助手 代班 明天 晚间护学岗 王老师", True),
        ("代班", True),
        ("代班的事明天再说", False),
        ("谁能帮我代班", False),
    ],
)
def test_what_counts_as_a_swap_command(text, expected):
    assert (room().match(message(text)).ask is Ask.SWAP) is expected


def test_refusals_for_a_closed_day_and_a_holiday_outside_the_term(tmp_path):
    transcript = run(
        tmp_path,
        say("2026-03-02 12:00", "周老师", "代班 3月12日 早间护学岗 钱老师", room=XJXX),
        say("2026-03-02 12:01", "周老师", "代班 2026-10-01 早间护学岗 钱老师", room=XJXX),
        start="2026-03-02 11:00",
        end="2026-03-02 13:00",
    )
    assert [(m["text"], m["mentions"]) for m in in_room(transcript, XJXX)] == [
        ("3月12日（周四）不是上课日（学校停课），没有护学岗，无需代班。", ["周老师"]),
        ("10月1日（周四）不是上课日（国庆节），没有护学岗，无需代班。", ["周老师"]),
    ]


def test_swap_with_the_date_glued_to_the_command(tmp_path):
    transcript = run(tmp_path, say("2026-03-02 12:00", "张老师", "代班3月5日 晚间护学岗 王老师"), start="2026-03-02 11:00", end="2026-03-02 13:00")
    assert confirmations(transcript) == [("2026-03-02 12:00", "代班已登记：3月5日（周四）晚间护学岗 21:30–22:10 由王老师代替张老师。", ["王老师"])]


def test_a_huge_replacement_name_is_refused_in_one_short_line(tmp_path):
    """Nothing a user typed is echoed back beyond a short limit (issue: identity, echo bounds)."""
    name = "王" * 20_000
    transcript = run(tmp_path, say("2026-03-02 12:00", "张老师", f"代班 3月5日 晚间护学岗 {name}"), start="2026-03-02 11:00", end="2026-03-02 13:00")
    [reply] = in_room(transcript, YC1Z)
    assert "太长" in reply["text"] and len(reply["text"]) < 80 and "\n" not in reply["text"]
