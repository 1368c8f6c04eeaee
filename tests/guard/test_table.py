"""The weekly duty table: Sunday 18:00, next week's school days, shifts and names."""
from __future__ import annotations

import pytest

from handlers.guard.room import Ask
from tests.guard.support import XJXX, YC1Z, local_time, in_room, message, room, run, say


def tables(transcript: list[dict], room: str = YC1Z) -> list[dict]:
    return [m for m in in_room(transcript, room) if m["text"].startswith("【护学岗值班表】")]


@pytest.mark.parametrize(
    "text,ask",
    [
        ("值班表", Ask.THIS_WEEK),
        ("@平安助手 本周值班表。", Ask.THIS_WEEK),
        ("查值班表？", Ask.THIS_WEEK),
        ("下周值班表", Ask.NEXT_WEEK),
        ("下周值班", Ask.NEXT_WEEK),
        ("值班表在哪看", Ask.OTHER),
    ],
)
def test_which_words_ask_for_the_table(text, ask):
    assert room().match(message(text)).ask is ask


def test_sunday_table_for_a_normal_week(tmp_path):
    transcript = run(tmp_path, start="2026-03-08 12:00", end="2026-03-08 23:00")
    [table] = tables(transcript)
    assert local_time(table) == "2026-03-08 18:00" and table["mentions"] == []
    assert table["text"] == "\n".join(
        [
            "【护学岗值班表】宜春一中 3月9日–3月15日",
            "晚间护学岗 21:30–22:10",
            "3月9日 周一：张老师、刘师傅",
            "3月10日 周二：王老师、刘师傅",
            "3月11日 周三：赵老师",
            "3月12日 周四：张老师",
            "3月13日 周五：王老师",
            "到岗后请在群里回复“到岗”；需要换班请发：代班 日期 班次 代班人",
        ]
    )
    # Short lines for a phone screen.
    assert max(len(line) for line in table["text"].splitlines()) <= 40


def test_two_shift_school_with_a_closed_and_an_open_date(tmp_path):
    transcript = run(tmp_path, start="2026-03-08 12:00", end="2026-03-08 23:00")
    [table] = tables(transcript, XJXX)
    lines = table["text"].splitlines()
    assert lines[0] == "【护学岗值班表】秀江小学 3月9日–3月15日"
    assert lines[1:4] == ["3月9日 周一", "  早间护学岗 07:10–07:50：孙老师", "  放学护学岗 16:30–17:10：郑老师、冯义警"]
    assert "3月12日 周四：不上课（停课）" in lines
    i = lines.index("3月14日 周六（补课）")
    assert lines[i + 1 : i + 3] == ["  早间护学岗 07:10–07:50：吴老师", "  放学护学岗 16:30–17:10：郑老师"]


def test_make_up_saturday_in_the_table(tmp_path):
    # The week of 23 February 2026: term starts Tuesday 24th; Saturday 28th is a 调休
    # working day with nobody on 宜春一中's weekday roster.
    transcript = run(tmp_path, start="2026-02-22 12:00", end="2026-02-22 23:00")
    [table] = tables(transcript)
    lines = table["text"].splitlines()
    assert lines[2] == "2月24日 周二：王老师、刘师傅"
    assert "2月28日 周六（调休上课）：（无人排班）" in lines
    assert not any(line.startswith("2月23日") for line in lines)  # before the term


def test_table_on_request_shows_this_week(tmp_path):
    transcript = run(tmp_path, say("2026-03-04 12:00", "赵老师", "值班表"), start="2026-03-04 11:00", end="2026-03-04 13:00")
    [table] = tables(transcript)
    assert table["text"].startswith("【护学岗值班表】宜春一中 3月2日–3月8日")


def test_help_when_the_bot_is_mentioned_with_something_else(tmp_path):
    event = say("2026-03-04 12:00", "赵老师", "@平安助手 怎么用", mentions=("平安助手",))
    transcript = run(tmp_path, event, start="2026-03-04 11:00", end="2026-03-04 13:00")
    [reply] = in_room(transcript, YC1Z)
    assert reply["mentions"] == ["赵老师"] and "到岗" in reply["text"] and "代班" in reply["text"] and "值班表" in reply["text"]


def test_next_weeks_table_on_request(tmp_path):
    transcript = run(tmp_path, say("2026-04-01 12:00", "赵老师", "下周值班表"), start="2026-04-01 11:00", end="2026-04-01 13:00")
    [table] = tables(transcript)
    assert table["text"].startswith("【护学岗值班表】宜春一中 4月6日–4月12日")
    assert "4月6日 周一：不上课（清明节）" in table["text"]
