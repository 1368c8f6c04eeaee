"""`@平安助手 进度 12` in a contact group (SPEC.md "Contact groups").

Answers only the case's reporters (anyone whose message is in the case) and officers,
only for cases of that group, and only with the state: the group is public, so no
details of the case ever appear there.
"""
from __future__ import annotations

import re

import sqlite_utils

from bot.events import Incoming, Outgoing
from bot.feature import Outcome, Services, Work
from handlers.cases.commands import command_word, parse
from handlers.cases.parsing import CommandError, clean
from handlers.cases.wording import reporter_progress
from storage import cases as case_store

# Without an @-mention only the exact form counts: "进度 12" is a query, "进度慢" is chat.
_BARE_QUERY = re.compile(r"^进度\s*#?\s*\d+$")


def is_progress_query(msg: Incoming) -> bool:
    if command_word(msg.text) != "进度":
        return False
    return msg.mentions_bot or bool(_BARE_QUERY.match(clean(msg.text)))


def answer_progress(services: Services, msg: Incoming) -> Work:
    room = msg.room
    assert room is not None

    def reply(text: str) -> Outcome:
        return Outcome(sends=[Outgoing(text=text, room=room, mentions=(msg.sender,))])

    try:
        _, command = parse(msg.text)
    except CommandError as exc:
        return Work(outcome=reply(str(exc)))
    case_id = command.case_id
    assert case_id is not None

    def answer(db: sqlite_utils.Database) -> Outcome:
        case = case_store.get_case(db, case_id)
        if case is None or (case.room_id or case.room) != msg.room_id:
            return reply(f"本群没有#{case_id}，请核对编号。")
        senders = {m["sender"] for m in case_store.case_messages(db, case_id)}
        if msg.sender not in senders | {case.reporter} and services.people.officer(msg) is None:
            return reply(f"{case.label}的进度只告知报告人本人。")
        return reply(reporter_progress(case))

    return Work.query(answer)
