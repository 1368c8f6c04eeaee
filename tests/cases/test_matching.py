"""Which cases handler takes a message, decided by `match` alone: pure, from the
message and the config, no database and no event loop."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.clock import VirtualClock
from bot.events import Incoming
from bot.feature import Services
from bot.identity import People
from handlers.cases.officers import OfficerCommands
from handlers.cases.private import PrivateReports
from handlers.cases.reports import ContactGroupReports
from tests.support import GROUP1, ROOM

START = datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture
def services(config, rules_only) -> Services:
    return Services(config, VirtualClock(START), rules_only, People(config, names_are_ids=True))


def message(text: str, sender: str = "张大妈", room: str | None = GROUP1, mentions_bot: bool = False) -> Incoming:
    return Incoming(id="m", at=START, sender=sender, text=text, room=room, mentions_bot=mentions_bot)


@pytest.mark.parametrize(
    "msg, kind",
    [
        (message("楼下两个人吵起来了"), "resident"),
        (message("今天天气不错"), "resident"),  # judged in handle: chat is answered by nobody
        (message("进度 1"), "progress"),
        (message("进度慢死了"), "resident"),  # without @ only the exact form is a query
        (message("认领 1", sender="李警官"), "officer"),  # a misplaced command: hinted
        (message("辛苦了大家", sender="李警官"), None),  # officers chatting: not ours
        (message("楼下两个人吵起来了", room="别的群"), None),
        (message("楼下两个人吵起来了", room=None), None),
    ],
)
def test_contact_group_match_says_what_kind_of_message_it_is(services, msg, kind):
    found = ContactGroupReports(services).match(msg)
    if kind is None:
        assert found is None
        return
    assert found is not None and found.group.room == GROUP1
    assert ("progress" if found.progress else "officer" if found.officer else "resident") == kind


@pytest.mark.parametrize(
    "msg, officer",
    [
        (message("待办", sender="李警官", room=None), "李警官"),
        (message("你好", sender="李警官", room=None), "李警官"),  # officers' private chat is all ours
        (message("认领 3", sender="陈警官", room=ROOM), "陈警官"),
        (message("认领 3", sender="张大妈", room=None), None),  # a resident trying a command: refused
    ],
)
def test_officer_commands_match_officers_and_command_attempts(services, msg, officer):
    found = OfficerCommands(services).match(msg)
    assert found is not None
    assert (found.officer.name if found.officer else None) == officer


@pytest.mark.parametrize(
    "msg",
    [
        message("办结了吗？今天", sender="陈警官", room=ROOM),  # chat in the officers' room
        message("你好", sender="张大妈", room=None),  # a resident's private chat: PrivateReports
    ],
)
def test_officer_commands_leave_other_messages_alone(services, msg):
    assert OfficerCommands(services).match(msg) is None


def test_private_reports_find_the_named_community_once(services):
    found = PrivateReports(services).match(message("举报 官园社区 楼下有人占道摆摊", room=None))
    assert found is not None and found.group is not None and found.group.community == "官园社区"
    assert found.report == "举报 楼下有人占道摆摊"
    assert PrivateReports(services).match(message("待办", sender="李警官", room=None)) is None
