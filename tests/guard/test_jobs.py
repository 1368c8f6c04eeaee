"""The guard posts' scheduled jobs: named, carrying their school and shift, rebuilt at
start; each returns its work, and a message whose moment passed more than 5 minutes
ago is dropped inside the job's transaction (quietly when it went out before)."""
from __future__ import annotations

import logging
from datetime import datetime

from bot.events import Outgoing
from bot.feature import NOTHING, Job
from storage import outbox
from tests.guard.support import YC1Z, guard_posts, memory_db, t

EVENING = {"school": "yc1z", "shift": "晚间护学岗"}
REMIND_KEY = "guard:yc1z:晚间护学岗:2026-03-02:remind"


def local(text: str) -> datetime:
    return datetime.fromisoformat(t(text))


def test_jobs_are_named_and_carry_their_school_and_shift():
    feature = guard_posts(now="2026-03-02 06:00")
    assert set(feature.jobs()) == {"guard.remind", "guard.chase", "guard.officer", "guard.close", "guard.table"}
    outcome = feature.start().transaction(memory_db())
    steps = {"guard.remind", "guard.chase", "guard.officer", "guard.close"}
    assert sorted((job.name, tuple(sorted(job.data.items()))) for job in outcome.schedule) == sorted(
        [(name, (("school", "xjxx"), ("shift", shift))) for shift in ("早间护学岗", "放学护学岗") for name in steps]
        + [(name, (("school", "yc1z"), ("shift", "晚间护学岗"))) for name in steps]
        + [("guard.table", (("school", "xjxx"),)), ("guard.table", (("school", "yc1z"),))]
    )
    assert outcome.sends == [] and outcome.cancel == []


def test_the_reminder_job_returns_the_reminder():
    feature = guard_posts(now="2026-03-02 21:15")
    work = feature.jobs()["guard.remind"](Job("guard.remind", EVENING), local("2026-03-02 21:15"))
    outcome = work.transaction(memory_db())
    text = "【护学岗提醒】今天晚间护学岗 21:30–22:10，请值班人员准时到岗，到岗后在群里回复“到岗”。"
    assert outcome.sends == [Outgoing(text=text, room=YC1Z, mentions=("张老师", "刘师傅"), key=REMIND_KEY)]


def test_no_work_on_a_day_without_school():
    feature = guard_posts(now="2026-03-07 21:15")
    assert feature.jobs()["guard.remind"](Job("guard.remind", EVENING), local("2026-03-07 21:15")) is NOTHING
    assert feature.jobs()["guard.table"](Job("guard.table", {"school": "yc1z"}), local("2026-07-12 18:00")) is NOTHING  # the summer break


def test_a_moment_missed_by_more_than_5_minutes_is_dropped_with_a_log_line(caplog):
    feature = guard_posts(now="2026-03-02 21:21")
    work = feature.jobs()["guard.remind"](Job("guard.remind", EVENING), local("2026-03-02 21:15"))
    with caplog.at_level(logging.WARNING):
        assert work.transaction(memory_db()).sends == []
    assert [r.getMessage() for r in caplog.records if REMIND_KEY in r.getMessage()]


def test_a_late_moment_already_sent_before_a_restart_is_dropped_quietly(caplog):
    feature = guard_posts(now="2026-03-02 21:21")
    db = memory_db()
    outbox.enqueue(db, Outgoing(text="（提醒）", room=YC1Z, key=REMIND_KEY), local("2026-03-02 21:15"))
    work = feature.jobs()["guard.remind"](Job("guard.remind", EVENING), local("2026-03-02 21:15"))
    with caplog.at_level(logging.WARNING):
        assert work.transaction(db).sends == []
    assert not [r for r in caplog.records if REMIND_KEY in r.getMessage()]


def test_five_minutes_late_is_still_on_time():
    feature = guard_posts(now="2026-03-02 21:20")
    work = feature.jobs()["guard.remind"](Job("guard.remind", EVENING), local("2026-03-02 21:15"))
    assert [m.key for m in work.transaction(memory_db()).sends] == [REMIND_KEY]
