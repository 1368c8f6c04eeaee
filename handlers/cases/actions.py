"""What each officer command does (SPEC.md "Officer commands").

Each action takes the command's context and its parsed arguments and returns the
Work: a transaction that re-reads the case, checks the officer's right to act on it
and the legal transition (storage.cases.ALLOWED_FROM), and only then changes it, so
a refusal never changes anything and two officers racing see one winner. The reply
goes back where the command came from, last; the reporter, the new officer of a
transfer and the escalation and follow-up jobs are part of the same Outcome.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import sqlite_utils

from bot.config import Officer
from bot.events import Incoming, Outgoing
from bot.feature import Outcome, Services, Work
from handlers.cases import escalation, figures, followups
from handlers.cases import wording as ct
from handlers.cases.month_text import stats_text
from handlers.cases.backfill import open_backfill
from handlers.cases.notices import ack_message, reply_to
from handlers.cases.parsing import Command
from storage import cases as case_store
from storage import followups as fs
from storage import months
from storage.cases import Case

log = logging.getLogger(__name__)

PAGE_SIZE = 10


@dataclass(frozen=True)
class Context:
    """Who asked, where, and what the action may use."""

    services: Services
    msg: Incoming
    officer: Officer

    def reply(self, text: str) -> Outgoing:
        return reply_to(self.msg, text)

    def answer(self, text: str, *before: Outgoing) -> Outcome:
        """Messages to others first, the reply to the officer last."""
        return Outcome(sends=[*before, self.reply(text)])


Action = Callable[[Context, Command], Work]
Apply = Callable[[sqlite_utils.Database, Case], Outcome]


def _denied(ctx: Context, case: Case) -> str | None:
    if ctx.officer.role == "admin" or ctx.officer.station == case.station:
        return None
    return f"{case.label}属于{ctx.services.config.station(case.station).name}，您无权操作。"


def _act(ctx: Context, case_id: int, action: str, allowed: tuple[str, ...], apply: Apply) -> Work:
    """Check and apply in one transaction; a refusal is the only reply."""

    def txn(db: sqlite_utils.Database) -> Outcome:
        case = case_store.get_case(db, case_id)
        if case is None:
            return ctx.answer(ct.not_found(case_id))
        refusal = _denied(ctx, case) or (ct.wrong_state(case, action) if case.status not in allowed else None)
        if refusal:
            return ctx.answer(refusal)
        return apply(db, case)

    return Work.transact(txn)


def _read_case(ctx: Context, case_id: int, answer: Callable[[sqlite_utils.Database, Case], str]) -> Work:
    """A query about one case the officer may see."""

    def txn(db: sqlite_utils.Database) -> Outcome:
        case = case_store.get_case(db, case_id)
        if case is None:
            return ctx.answer(ct.not_found(case_id))
        return ctx.answer(_denied(ctx, case) or answer(db, case))

    return Work.query(txn)


def _tell_reporter(ctx: Context, case: Case, text: str) -> list[Outgoing]:
    """One line in the group, @-mentioning the reporter, no details (privacy)."""
    if not ctx.services.config.bot.notify_reporter:
        return []
    return [Outgoing(text=text, room=case.room, room_id=case.room_id, mentions=(case.reporter,))]


def help_(ctx: Context, cmd: Command, *, text: str) -> Work:
    return Work.send(ctx.reply(text))


def todo(ctx: Context, cmd: Command) -> Work:
    config, officer = ctx.services.config, ctx.officer
    if officer.role == "admin":
        title, stations, mine = "全部待办", None, None
    elif officer.role == "leader":
        title, stations, mine = f"{config.station(officer.station).name}待办", (officer.station,), None
    else:
        title, stations, mine = "您的待办", (officer.station,), officer.name
    offset = (cmd.page - 1) * PAGE_SIZE

    def txn(db: sqlite_utils.Database) -> Outcome:
        found, total = case_store.list_cases(db, case_store.UNFINISHED_STATUSES, stations=stations, officer=mine, limit=PAGE_SIZE, offset=offset)
        return ctx.answer(ct.todo_text(title, found, total, cmd.page, PAGE_SIZE, config.bot.tz, show_officer=mine is None))

    return Work.query(txn)


def detail(ctx: Context, cmd: Command) -> Work:
    assert cmd.case_id is not None
    tz = ctx.services.config.bot.tz

    def answer(db: sqlite_utils.Database, case: Case) -> str:
        pages = ct.detail_pages(case, case_store.case_messages(db, case.id), case_store.case_events(db, case.id), fs.for_case(db, case.id), tz)
        return ct.detail_text(case, pages, cmd.page)

    return _read_case(ctx, cmd.case_id, answer)


def progress(ctx: Context, cmd: Command) -> Work:
    assert cmd.case_id is not None
    return _read_case(ctx, cmd.case_id, lambda db, case: ct.officer_progress(case, ctx.services.config.bot.tz))


def claim(ctx: Context, cmd: Command) -> Work:
    assert cmd.case_id is not None
    officer, at, config = ctx.officer, ctx.msg.at, ctx.services.config

    def apply(db: sqlite_utils.Database, case: Case) -> Outcome:
        if case.status == case_store.IN_PROGRESS:
            if case.officer == officer.name:
                return ctx.answer(f"您已认领{case.label}。{ct.NEXT_STEP[case_store.IN_PROGRESS].format(id=case.id)}")
            return ctx.answer(f"{case.label}已由{case.officer}认领，正在处理中。如需接手，请所长发送“转办 {case.id} 姓名”。")
        if case.status != case_store.PENDING:
            return ctx.answer(ct.wrong_state(case, "认领"))
        escalated = case_store.has_event(db, case.id, "escalated")
        case = case_store.claim(db, case.id, officer.name, at)
        station = config.station(case.station)
        others: list[Outgoing] = []
        if escalated and ctx.msg.room != station.officers_room:
            # The room was told nobody had claimed it; close that loop.
            others.append(Outgoing(text=f"{case.label}已由{officer.name}认领。", room=station.officers_room))
        others += _tell_reporter(ctx, case, f"您反映的{case.label}已由社区民警{officer.name}受理。")
        done = ctx.answer(f"已认领{case.label}（{ct.category_severity(case)}，{case.community}）。{ct.NEXT_STEP[case_store.IN_PROGRESS].format(id=case.id)}", *others)
        done.cancel += escalation.stop(case.id)
        return done

    return _act(ctx, cmd.case_id, "认领", case_store.ALLOWED_FROM["claim"] + (case_store.IN_PROGRESS,), apply)


def resolve(ctx: Context, cmd: Command) -> Work:
    assert cmd.case_id is not None and cmd.outcome is not None
    config, officer = ctx.services.config, ctx.officer
    at, outcome, note = ctx.msg.at, cmd.outcome, cmd.note
    due = followups.due_times(config, at) if outcome == case_store.MEDIATED else []

    def apply(db: sqlite_utils.Database, case: Case) -> Outcome:
        case = case_store.resolve(db, case.id, outcome, note, officer.name, at)
        planned = fs.plan(db, case.id, due) if due else []
        done = f"{case.label}已办结：{outcome}" + (f"（{note}）" if note else "") + "。"
        if planned:
            dates = "、".join(f.due_at.astimezone(config.bot.tz).strftime("%m-%d") for f in planned)
            done += f"将于{dates} {config.followup.at:%H:%M}提醒您回访。"
        answer = ctx.answer(done, *_tell_reporter(ctx, case, f"您反映的{case.label}已办结，感谢您的反映。"))
        answer.schedule += followups.plan(config, planned)
        return answer

    return _act(ctx, cmd.case_id, "办结", case_store.ALLOWED_FROM["resolve"], apply)


def false_positive(ctx: Context, cmd: Command) -> Work:
    assert cmd.case_id is not None
    officer, at = ctx.officer, ctx.msg.at

    def apply(db: sqlite_utils.Database, case: Case) -> Outcome:
        case = case_store.mark_false_positive(db, case, officer.name, at)
        words = f"已记录误报词：{'、'.join(case.keywords)}，用于改进识别。" if case.keywords else ""
        reporter = _tell_reporter(ctx, case, f"您反映的{case.label}经民警核实，无需进一步处理。如仍需帮助，请发送“举报＋情况”。")
        done = ctx.answer(f"{case.label}已标记为误报并关闭。{words}", *reporter)
        done.cancel += escalation.stop(case.id)
        return done

    return _act(ctx, cmd.case_id, "标记误报", case_store.ALLOWED_FROM["false_positive"], apply)


def verify(ctx: Context, cmd: Command) -> Work:
    """核实: a suspected report is real. It becomes an ordinary case: the group
    hears it was registered, and the escalation clock starts now."""
    assert cmd.case_id is not None
    config, officer, at = ctx.services.config, ctx.officer, ctx.msg.at

    def apply(db: sqlite_utils.Database, case: Case) -> Outcome:
        case = case_store.verify(db, case.id, officer.name, at)
        ack = [ack_message(case, case.reporter, config.bot.name)] if config.bot.ack_in_group else []
        done = ctx.answer(f"已核实{case.label}，转为待认领，已在群内回复报告人。请回复“认领 {case.id}”认领。", *ack)
        done += escalation.replan(config, case)
        return done

    return _act(ctx, cmd.case_id, "核实", case_store.ALLOWED_FROM["verify"], apply)


def backfill(ctx: Context, cmd: Command) -> Work:
    """补录: open a case for a report the bot missed, and keep its text as a
    missed example for the detector's training data."""
    assert cmd.place is not None
    config, officer, place = ctx.services.config, ctx.officer, cmd.place
    groups = [g for g in config.groups if place in (g.room, g.community)]
    if officer.role != "admin":
        groups = [g for g in groups if g.station == officer.station]
    if not groups:
        return Work.send(ctx.reply(f"没有找到“{ct.clip(place, 20)}”对应的本所警民联系群，请写群名或社区名。请发送：补录 群名或社区 情况内容"))
    return open_backfill(ctx.services, officer, groups[0], cmd.text, officer.name, ctx.msg.at, reply=ctx.reply)


def transfer(ctx: Context, cmd: Command) -> Work:
    assert cmd.case_id is not None and cmd.officer is not None
    config, officer, at = ctx.services.config, ctx.officer, ctx.msg.at
    target = config.officer(cmd.officer)
    if target is None:
        return Work.send(ctx.reply(f"没有名为“{ct.clip(cmd.officer, 12)}”的民警，请核对姓名。请发送：转办 {cmd.case_id} 民警姓名"))

    def apply(db: sqlite_utils.Database, case: Case) -> Outcome:
        if target.station != case.station:
            return ctx.answer(f"{target.name}不属于{config.station(case.station).name}，只能转给本所民警。")
        if target.name == case.officer:
            return ctx.answer(f"{case.label}已由{target.name}负责，无需转办。")
        first_text = case_store.case_messages(db, case.id)[0]["text"]
        previous = case.officer
        case = case_store.transfer(db, case, target.name, officer.name, at)
        next_step = {
            case_store.PENDING: f"请回复“认领 {case.id}”认领。",
            case_store.IN_PROGRESS: f"请跟进处理，{ct.NEXT_STEP[case_store.IN_PROGRESS].format(id=case.id)}",
            case_store.AWAITING_FOLLOWUP: "请按时回访。",
        }[case.status]
        handover = f"【转办】{officer.name}将{case.label}转给您：\n{ct.summary(case, first_text, config.bot.tz)}\n{next_step}"
        others = [Outgoing(text=handover, contact=target.name, urgent=case.severity == "urgent")]
        if previous not in (officer.name, target.name):
            others.append(Outgoing(text=f"您负责的{case.label}已由{officer.name}转给{target.name}。", contact=previous))
        done = ctx.answer(f"已将{case.label}转给{target.name}，已私信通知。", *others)
        if case.status == case_store.PENDING:
            done += escalation.replan(config, case)  # a fresh clock for the new officer
        return done

    return _act(ctx, cmd.case_id, "转办", case_store.ALLOWED_FROM["transfer"], apply)


def followup(ctx: Context, cmd: Command) -> Work:
    assert cmd.case_id is not None and cmd.outcome is not None
    officer, at, note, tz = ctx.officer, ctx.msg.at, cmd.note, ctx.services.config.bot.tz
    detail = f"：{note}" if note else ""

    def no_rebound(db: sqlite_utils.Database, case: Case) -> Outcome:
        visit = fs.next_pending(db, case.id)
        if visit is not None:
            fs.record(db, visit.id, "无反弹", note, officer.name, at)
        seq = visit.seq if visit else fs.done_count(db, case.id) + 1
        case_store.add_event(db, case.id, at, "followup", officer.name, f"第{seq}次 无反弹{detail}")
        following = fs.next_pending(db, case.id)
        if following is None:
            case = case_store.archive(db, case.id, at)
        text = f"已记录{case.label}第{seq}次回访：无反弹。"
        text += "回访完毕，案件已归档。" if following is None else f"下次回访提醒：{ct.local(following.due_at, tz)}。"
        done = ctx.answer(text)
        done.cancel += followups.stop([visit.id] if visit is not None else [])
        return done

    def rebound(db: sqlite_utils.Database, case: Case) -> Outcome:
        visit = fs.next_pending(db, case.id)
        if visit is not None:
            fs.record(db, visit.id, "反弹", note, officer.name, at)
        else:
            fs.record_extra(db, case.id, "反弹", note, officer.name, at)
        cancelled = fs.cancel_pending(db, case.id)
        case_store.add_event(db, case.id, at, "followup", officer.name, f"反弹{detail}")
        case = case_store.reopen(db, case.id, officer.name, at, note)
        done = ctx.answer(f"已记录{case.label}回访：反弹。案件已重新打开（处理中），处理后请再次发送“办结 {case.id} …”。")
        done.cancel += followups.stop(([visit.id] if visit else []) + cancelled)
        return done

    if cmd.outcome == "无反弹":
        return _act(ctx, cmd.case_id, "记录回访", case_store.ALLOWED_FROM["followup"], no_rebound)
    return _act(ctx, cmd.case_id, "记录反弹", case_store.ALLOWED_FROM["rebound"], rebound)


def reclassify(ctx: Context, cmd: Command) -> Work:
    """改类: correct a case's category; the event is its audit trail in 详情, and a
    month already briefed gets a correction for the next briefing."""
    assert cmd.case_id is not None and cmd.category is not None
    officer, at, category = ctx.officer, ctx.msg.at, cmd.category

    def apply(db: sqlite_utils.Database, case: Case) -> Outcome:
        old = ct.category_name(case.category)
        new = ct.category_name(category)
        if case.category == category:
            return ctx.answer(f"{case.label}的类别已是{new}，无需更改。")
        case_store.reclassify(db, case, category, officer.name, at)
        briefed = months.briefed_month(db, case.id)
        note = f"{int(briefed[5:])}月已通报，此更正将列入下次通报。" if briefed else "统计随之更新。"
        return ctx.answer(f"已将{case.label}的类别由{old}改为{new}（已记入档案）。{note}")

    return _act(ctx, cmd.case_id, "改类", case_store.ALLOWED_FROM["reclassify"], apply)


def stats(ctx: Context, cmd: Command) -> Work:
    """统计: the month's figures; a month already briefed as its briefing sent them,
    with the corrections since."""
    config, officer = ctx.services.config, ctx.officer
    tz = config.bot.tz
    now = ctx.msg.at.astimezone(tz)
    year, month = (cmd.month[0] or now.year, cmd.month[1]) if cmd.month else (now.year, now.month)
    if officer.role == "admin":
        title, stations = "全部派出所", tuple(s.id for s in config.stations)
    else:
        title, stations = config.station(officer.station).name, (officer.station,)
    school_names = {s.id: s.name for s in config.schools}

    def txn(db: sqlite_utils.Database) -> Outcome:
        parts = [figures.station_month(db, config, station, year, month, now) for station in stations]
        shown, current = figures.combined(parts)
        frozen = [p.frozen for p in parts if p.frozen is not None]
        # The stations were briefed together (on the same day): the first one's date stands for all.
        frozen_at = frozen[0].frozen_at if frozen and len(frozen) == len(parts) else None
        found = [c for f in frozen for c in f.corrections]
        text = stats_text(title, shown, school_names, frozen_at=frozen_at, corrections=found, current=current, tz=tz)
        return ctx.answer(text)

    return Work.query(txn)
