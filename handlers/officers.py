"""Officer commands (SPEC.md "Officer commands"), in a private chat with the bot or
in a station's officers' room.

Each command is parsed (handlers/commands_parse.py), then checked and applied in one
write transaction: the case is re-read, the officer's right to act on it and the
legal transition (storage.cases.ALLOWED_FROM) are checked, and only then changed,
so a refusal never changes anything and two officers racing see one winner.
Replies go back where the command came from; the reporter, the new officer of a
transfer and the escalation and follow-up clocks are told afterwards.
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

import sqlite_utils

from bot.config import Officer
from bot.events import Incoming, Outgoing
from handlers import case_text as ct
from handlers.base import Services
from handlers.commands_parse import Command, CommandError, command_word, parse
from handlers.escalation import EscalationClock
from handlers.followups import FollowupReminders
from handlers.backfill import backfill
from handlers.reports import ack_message
from handlers.stats_text import stats_text
from storage import cases as cs
from storage import followups as fs
from storage.cases import Case
from storage.stats import monthly_figures

log = logging.getLogger(__name__)

PAGE_SIZE = 10
REFUSAL = "您好，这些命令仅供社区民警使用。反映情况请在本社区警民联系群发送“举报＋情况”，紧急情况请拨打110。"

Apply = Callable[[sqlite_utils.Database, Case], Any]


class OfficerCommands:
    def __init__(self, services: Services, escalation: EscalationClock, followups: FollowupReminders):
        self.s = services
        self.escalation = escalation
        self.followups = followups
        self._commands: dict[str, Callable[[Incoming, Officer, Command], Awaitable[str]]] = {
            "待办": self._todo,
            "详情": self._detail,
            "认领": self._claim,
            "办结": self._resolve,
            "误报": self._false_positive,
            "转办": self._transfer,
            "回访": self._followup,
            "统计": self._stats,
            "帮助": self._help,
            "进度": self._progress,
            "核实": self._verify,
            "补录": self._backfill,
        }

    def handlers(self) -> list["OfficerCommands"]:
        return [self]

    async def start(self) -> None:
        """Nothing to rebuild: the escalation and follow-up features own the jobs."""

    # -- routing ------------------------------------------------------------------

    def matches(self, msg: Incoming) -> bool:
        config = self.s.config
        if msg.room is None:
            # Officers' private messages are all for us; others only when they try a command.
            return config.officer(msg.sender) is not None or command_word(msg.text) is not None
        if config.station_by_officers_room(msg.room) is not None:
            # The officers' room is also where officers talk: only commands and @-mentions.
            return command_word(msg.text) is not None or msg.mentions_bot
        return False

    async def handle(self, msg: Incoming) -> None:
        officer = self.s.config.officer(msg.sender)
        if officer is None:
            await self._reply(msg, REFUSAL)
            return
        try:
            command = parse(msg.text)
        except CommandError as exc:
            await self._reply(msg, str(exc))
            return
        reply = await self._commands[command.name](msg, officer, command)
        log.info("%s 执行命令 %s %s", officer.name, command.name, command.case_id or "")
        await self._reply(msg, reply)

    async def _reply(self, msg: Incoming, text: str) -> None:
        if msg.room is not None:
            await self.s.send(Outgoing(text=text, room=msg.room, mentions=(msg.sender,)))
        else:
            await self.s.send(Outgoing(text=text, contact=msg.sender))

    # -- shared checks ----------------------------------------------------------------

    def _denied(self, officer: Officer, case: Case) -> str | None:
        if officer.role == "admin" or officer.station == case.station:
            return None
        return f"{case.label}属于{self.s.config.station(case.station).name}，您无权操作。"

    async def _act(self, case_id: int, officer: Officer, action: str, allowed: tuple[str, ...], apply: Apply) -> Any:
        """Check and apply in one transaction; a str result is a refusal to reply with."""

        def txn(db: sqlite_utils.Database) -> Any:
            case = cs.get_case(db, case_id)
            if case is None:
                return ct.not_found(case_id)
            denied = self._denied(officer, case)
            if denied:
                return denied
            if case.status not in allowed:
                return ct.wrong_state(case, action)
            return apply(db, case)

        return await self.s.db.write(txn)

    async def _read_case(self, case_id: int, officer: Officer) -> Case | str:
        case = await self.s.db.read(lambda db: cs.get_case(db, case_id))
        if case is None:
            return ct.not_found(case_id)
        return self._denied(officer, case) or case

    async def _tell_reporter(self, case: Case, text: str) -> None:
        """One line in the group, @-mentioning the reporter, no details (privacy)."""
        if self.s.config.bot.notify_reporter:
            await self.s.send(Outgoing(text=text, room=case.room, mentions=(case.reporter,)))

    # -- commands ----------------------------------------------------------------------

    async def _help(self, msg: Incoming, officer: Officer, cmd: Command) -> str:
        return ct.HELP

    async def _todo(self, msg: Incoming, officer: Officer, cmd: Command) -> str:
        config = self.s.config
        if officer.role == "admin":
            title, stations, mine = "全部待办", None, None
        elif officer.role == "leader":
            title, stations, mine = f"{config.station(officer.station).name}待办", (officer.station,), None
        else:
            title, stations, mine = "您的待办", (officer.station,), officer.name
        offset = (cmd.page - 1) * PAGE_SIZE
        found, total = await self.s.db.read(
            lambda db: cs.list_cases(db, cs.UNFINISHED_STATUSES, stations=stations, officer=mine, limit=PAGE_SIZE, offset=offset)
        )
        return ct.todo_text(title, found, total, cmd.page, PAGE_SIZE, config.bot.tz, show_officer=mine is None)

    async def _detail(self, msg: Incoming, officer: Officer, cmd: Command) -> str:
        assert cmd.case_id is not None
        case = await self._read_case(cmd.case_id, officer)
        if isinstance(case, str):
            return case
        messages, events, visits = await self.s.db.read(
            lambda db: (cs.case_messages(db, case.id), cs.case_events(db, case.id), fs.for_case(db, case.id))
        )
        pages = ct.detail_pages(case, messages, events, visits, self.s.config.bot.tz)
        return ct.detail_text(case, pages, cmd.page)

    async def _progress(self, msg: Incoming, officer: Officer, cmd: Command) -> str:
        assert cmd.case_id is not None
        case = await self._read_case(cmd.case_id, officer)
        return case if isinstance(case, str) else ct.officer_progress(case, self.s.config.bot.tz)

    async def _claim(self, msg: Incoming, officer: Officer, cmd: Command) -> str:
        assert cmd.case_id is not None
        at = msg.at

        def apply(db: sqlite_utils.Database, case: Case) -> Any:
            if case.status == cs.IN_PROGRESS:
                if case.officer == officer.name:
                    return f"您已认领{case.label}。{ct.NEXT_STEP[cs.IN_PROGRESS].format(id=case.id)}"
                return f"{case.label}已由{case.officer}认领，正在处理中。如需接手，请所长发送“转办 {case.id} 姓名”。"
            if case.status != cs.PENDING:
                return ct.wrong_state(case, "认领")
            return cs.claim(db, case.id, officer.name, at), cs.has_event(db, case.id, "escalated")

        result = await self._act(cmd.case_id, officer, "认领", cs.ALLOWED_FROM["claim"] + (cs.IN_PROGRESS,), apply)
        if isinstance(result, str):
            return result
        case, escalated = result
        self.escalation.cancel(case.id)
        station = self.s.config.station(case.station)
        if escalated and msg.room != station.officers_room:
            # The room was told nobody had claimed it; close that loop.
            await self.s.send(Outgoing(text=f"{case.label}已由{officer.name}认领。", room=station.officers_room))
        await self._tell_reporter(case, f"您反映的{case.label}已由社区民警{officer.name}受理。")
        return f"已认领{case.label}（{ct.kind(case)}，{case.community}）。{ct.NEXT_STEP[cs.IN_PROGRESS].format(id=case.id)}"

    async def _resolve(self, msg: Incoming, officer: Officer, cmd: Command) -> str:
        assert cmd.case_id is not None and cmd.outcome is not None
        at, outcome, note = msg.at, cmd.outcome, cmd.note
        due = self.followups.due_times(at) if outcome == cs.MEDIATED else []

        def apply(db: sqlite_utils.Database, case: Case) -> Any:
            resolved = cs.resolve(db, case.id, outcome, note, officer.name, at)
            return resolved, fs.plan(db, case.id, due) if due else []

        result = await self._act(cmd.case_id, officer, "办结", cs.ALLOWED_FROM["resolve"], apply)
        if isinstance(result, str):
            return result
        case, planned = result
        self.followups.schedule(planned)
        await self._tell_reporter(case, f"您反映的{case.label}已办结，感谢您的反映。")
        done = f"{case.label}已办结：{outcome}" + (f"（{note}）" if note else "") + "。"
        if planned:
            tz = self.s.config.bot.tz
            dates = "、".join(f.due_at.astimezone(tz).strftime("%m-%d") for f in planned)
            return done + f"将于{dates} {self.s.config.followup.at:%H:%M}提醒您回访。"
        return done

    async def _false_positive(self, msg: Incoming, officer: Officer, cmd: Command) -> str:
        assert cmd.case_id is not None
        at = msg.at
        result = await self._act(
            cmd.case_id, officer, "标记误报", cs.ALLOWED_FROM["false_positive"], lambda db, case: cs.mark_false_positive(db, case, officer.name, at)
        )
        if isinstance(result, str):
            return result
        case: Case = result
        self.escalation.cancel(case.id)
        await self._tell_reporter(case, f"您反映的{case.label}经民警核实，无需进一步处理。如仍需帮助，请发送“举报＋情况”。")
        words = f"已记录误报词：{'、'.join(case.keywords)}，用于改进识别。" if case.keywords else ""
        return f"{case.label}已标记为误报并关闭。{words}"

    async def _verify(self, msg: Incoming, officer: Officer, cmd: Command) -> str:
        """核实: a suspected report is real. It becomes an ordinary case: the group
        hears it was registered, and the escalation clock starts now."""
        assert cmd.case_id is not None
        at = msg.at
        result = await self._act(
            cmd.case_id, officer, "核实", cs.ALLOWED_FROM["verify"], lambda db, case: cs.verify(db, case.id, officer.name, at)
        )
        if isinstance(result, str):
            return result
        case: Case = result
        self.escalation.schedule(case)
        if self.s.config.bot.ack_in_group:
            await self.s.send(ack_message(case, case.reporter, self.s.config.bot.name))
        return f"已核实{case.label}，转为待认领，已在群内回复报告人。请回复“认领 {case.id}”认领。"

    async def _backfill(self, msg: Incoming, officer: Officer, cmd: Command) -> str:
        """补录: open a case for a report the bot missed, and keep its text as a
        missed example for the detector's training data."""
        assert cmd.place is not None
        config = self.s.config
        place = cmd.place
        groups = [g for g in config.groups if place in (g.room, g.community)]
        if officer.role != "admin":
            groups = [g for g in groups if g.station == officer.station]
        if not groups:
            return f"没有找到“{ct.clip(place, 20)}”对应的本所警民联系群，请写群名或社区名。请发送：补录 群名或社区 情况内容"
        case, reply = await backfill(self.s, officer, groups[0], cmd.text, officer.name, msg.at)
        self.escalation.schedule(case)
        log.info("%s 补录案件 %s", officer.name, case.label)
        return reply

    async def _transfer(self, msg: Incoming, officer: Officer, cmd: Command) -> str:
        assert cmd.case_id is not None and cmd.officer is not None
        config = self.s.config
        target = config.officer(cmd.officer)
        if target is None:
            return f"没有名为“{ct.clip(cmd.officer, 12)}”的民警，请核对姓名。请发送：转办 {cmd.case_id} 民警姓名"
        at = msg.at

        def apply(db: sqlite_utils.Database, case: Case) -> Any:
            if target.station != case.station:
                return f"{target.name}不属于{config.station(case.station).name}，只能转给本所民警。"
            if target.name == case.officer:
                return f"{case.label}已由{target.name}负责，无需转办。"
            first = cs.case_messages(db, case.id)[0]["text"]
            return cs.transfer(db, case, target.name, officer.name, at), case.officer, first

        result = await self._act(cmd.case_id, officer, "转办", cs.ALLOWED_FROM["transfer"], apply)
        if isinstance(result, str):
            return result
        case, previous, first_text = result
        if case.status == cs.PENDING:
            self.escalation.schedule(case)  # a fresh clock for the new officer
        next_step = {
            cs.PENDING: f"请回复“认领 {case.id}”认领。",
            cs.IN_PROGRESS: f"请跟进处理，{ct.NEXT_STEP[cs.IN_PROGRESS].format(id=case.id)}",
            cs.AWAITING_FOLLOWUP: "请按时回访。",
        }[case.status]
        handover = f"【转办】{officer.name}将{case.label}转给您：\n{ct.summary(case, first_text, config.bot.tz)}\n{next_step}"
        await self.s.send(Outgoing(text=handover, contact=target.name, urgent=case.severity == "urgent"))
        if previous not in (officer.name, target.name):
            await self.s.send(Outgoing(text=f"您负责的{case.label}已由{officer.name}转给{target.name}。", contact=previous))
        return f"已将{case.label}转给{target.name}，已私信通知。"

    async def _followup(self, msg: Incoming, officer: Officer, cmd: Command) -> str:
        assert cmd.case_id is not None and cmd.outcome is not None
        at, note = msg.at, cmd.note
        detail = f"：{note}" if note else ""

        if cmd.outcome == "无反弹":

            def no_rebound(db: sqlite_utils.Database, case: Case) -> Any:
                visit = fs.next_pending(db, case.id)
                if visit is not None:
                    fs.record(db, visit.id, "无反弹", note, officer.name, at)
                seq = visit.seq if visit else fs.done_count(db, case.id) + 1
                cs.add_event(db, case.id, at, "followup", officer.name, f"第{seq}次 无反弹{detail}")
                following = fs.next_pending(db, case.id)
                if following is None:
                    case = cs.archive(db, case.id, at)
                return case, visit, seq, following

            result = await self._act(cmd.case_id, officer, "记录回访", cs.ALLOWED_FROM["followup"], no_rebound)
            if isinstance(result, str):
                return result
            case, visit, seq, following = result
            if visit is not None:
                self.followups.cancel([visit.id])
            done = f"已记录{case.label}第{seq}次回访：无反弹。"
            if following is None:
                return done + "回访完毕，案件已归档。"
            return done + f"下次回访提醒：{ct.local(following.due_at, self.s.config.bot.tz)}。"

        def rebound(db: sqlite_utils.Database, case: Case) -> Any:
            visit = fs.next_pending(db, case.id)
            if visit is not None:
                fs.record(db, visit.id, "反弹", note, officer.name, at)
            else:
                fs.record_extra(db, case.id, "反弹", note, officer.name, at)
            cancelled = fs.cancel_pending(db, case.id)
            cs.add_event(db, case.id, at, "followup", officer.name, f"反弹{detail}")
            return cs.reopen(db, case.id, officer.name, at, note), ([visit.id] if visit else []) + cancelled

        result = await self._act(cmd.case_id, officer, "记录反弹", cs.ALLOWED_FROM["rebound"], rebound)
        if isinstance(result, str):
            return result
        case, stale = result
        self.followups.cancel(stale)
        return f"已记录{case.label}回访：反弹。案件已重新打开（处理中），处理后请再次发送“办结 {case.id} …”。"

    async def _stats(self, msg: Incoming, officer: Officer, cmd: Command) -> str:
        config = self.s.config
        tz = config.bot.tz
        now = msg.at.astimezone(tz)
        year, month = (cmd.month[0] or now.year, cmd.month[1]) if cmd.month else (now.year, now.month)
        if officer.role == "admin":
            title, stations = "全部派出所", tuple(s.id for s in config.stations)
        else:
            title, stations = config.station(officer.station).name, (officer.station,)
        figures = await self.s.db.read(
            lambda db: monthly_figures(db, stations=stations, year=year, month=month, tz=tz, now=now, overdue_days=config.followup.overdue_days)
        )
        return stats_text(title, figures)
