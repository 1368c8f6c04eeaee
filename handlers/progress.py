"""`@平安助手 进度 12` in a contact group (SPEC.md "Contact groups").

Answers only the case's reporters (anyone whose message is in the case) and officers,
only for cases of that group, and only with the state: the group is public, so no
details of the case ever appear there.
"""
from __future__ import annotations

import re

from bot.events import Incoming, Outgoing
from handlers.base import Services
from handlers.case_text import reporter_progress
from handlers.commands_parse import CommandError, clean, command_word, parse
from storage import cases as cs

# Without an @-mention only the exact form counts: "进度 12" is a query, "进度慢" is chat.
_BARE_QUERY = re.compile(r"^进度\s*#?\s*\d+$")


def is_progress_query(msg: Incoming) -> bool:
    if command_word(msg.text) != "进度":
        return False
    return msg.mentions_bot or bool(_BARE_QUERY.match(clean(msg.text)))


async def answer_progress(services: Services, msg: Incoming) -> None:
    assert msg.room is not None
    text = await _answer(services, msg)
    await services.send(Outgoing(text=text, room=msg.room, mentions=(msg.sender,)))


async def _answer(services: Services, msg: Incoming) -> str:
    try:
        command = parse(msg.text)
    except CommandError as exc:
        return str(exc)
    assert command.case_id is not None
    case_id = command.case_id

    def load(db):
        case = cs.get_case(db, case_id)
        senders = {m["sender"] for m in cs.case_messages(db, case_id)} if case else set()
        return case, senders

    case, senders = await services.db.read(load)
    if case is None or case.room != msg.room:
        return f"本群没有#{case_id}，请核对编号。"
    if msg.sender not in senders | {case.reporter} and services.config.officer(msg.sender) is None:
        return f"{case.label}的进度只告知报告人本人。"
    return reporter_progress(case)
