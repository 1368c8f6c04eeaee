"""The duplicate rules: same id twice; same sender+room (by id)+text within the window."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.dedup import Deduplicator
from bot.events import Incoming

T0 = datetime(2026, 3, 2, 9, 15, tzinfo=timezone(timedelta(hours=8)))
ROOM = "官园社区警民联系群1"


def msg(id: str, at: datetime = T0, text: str = "楼下两个人吵起来了", sender: str = "张大妈",
        room: str | None = ROOM, sender_id: str = "", room_id: str | None = None) -> Incoming:
    return Incoming(id=id, at=at, sender=sender, text=text, room=room, sender_id=sender_id, room_id=room_id)


def test_first_message_is_not_a_duplicate() -> None:
    assert not Deduplicator().is_duplicate(msg("m1"))


def test_same_id_twice_is_a_duplicate_even_much_later() -> None:
    dedup = Deduplicator()
    assert not dedup.is_duplicate(msg("m1"))
    assert dedup.is_duplicate(msg("m1", at=T0 + timedelta(hours=5), text="另一句"))


def test_resend_under_new_id_within_window_is_a_duplicate() -> None:
    dedup = Deduplicator()
    assert not dedup.is_duplicate(msg("m1"))
    assert dedup.is_duplicate(msg("m2", at=T0 + timedelta(seconds=119)))


def test_resend_ignores_surrounding_whitespace() -> None:
    dedup = Deduplicator()
    assert not dedup.is_duplicate(msg("m1", text="救命"))
    assert dedup.is_duplicate(msg("m2", text=" 救命\n", at=T0 + timedelta(seconds=5)))


def test_same_text_after_window_is_new() -> None:
    dedup = Deduplicator()
    assert not dedup.is_duplicate(msg("m1"))
    assert not dedup.is_duplicate(msg("m2", at=T0 + timedelta(minutes=2)))


def test_window_is_measured_from_the_last_message_let_through() -> None:
    # A text repeated every 90 s: the 2nd is a resend, the 3rd (180 s after the 1st) is new.
    dedup = Deduplicator()
    assert not dedup.is_duplicate(msg("m1"))
    assert dedup.is_duplicate(msg("m2", at=T0 + timedelta(seconds=90)))
    assert not dedup.is_duplicate(msg("m3", at=T0 + timedelta(seconds=180)))


@pytest.mark.parametrize("other", [
    {"sender": "王大爷"},
    {"room": "官园社区警民联系群2"},
    {"room": None},
    {"text": "楼下两个人打起来了"},
])
def test_different_sender_room_or_text_is_not_a_duplicate(other: dict) -> None:
    dedup = Deduplicator()
    assert not dedup.is_duplicate(msg("m1"))
    assert not dedup.is_duplicate(msg("m2", at=T0 + timedelta(seconds=10), **other))


@pytest.mark.parametrize("first, second", [
    # An impostor showing the officer's name: the officer's own command still counts.
    ({"room": None, "sender": "李警官", "sender_id": "wxid_impostor"},
     {"room": None, "sender": "李警官", "sender_id": "wxid_li"}),
    # A room with a copied topic: the same words there are another report.
    ({"room_id": "copy@chatroom", "sender_id": "wxid_zhang"},
     {"room_id": "real@chatroom", "sender_id": "wxid_zhang"}),
])
def test_same_names_under_other_ids_are_not_duplicates(first: dict, second: dict) -> None:
    dedup = Deduplicator()
    assert not dedup.is_duplicate(msg("m1", text="认领 12", **first))
    assert not dedup.is_duplicate(msg("m2", text="认领 12", at=T0 + timedelta(seconds=3), **second))
    assert dedup.is_duplicate(msg("m3", text="认领 12", at=T0 + timedelta(seconds=4), **second))


def test_private_resends_are_duplicates_too() -> None:
    dedup = Deduplicator()
    assert not dedup.is_duplicate(msg("m1", room=None, sender="李警官", text="认领 12"))
    assert dedup.is_duplicate(msg("m2", room=None, sender="李警官", text="认领 12",
                                  at=T0 + timedelta(seconds=3)))


def test_custom_window() -> None:
    dedup = Deduplicator(window=timedelta(seconds=10))
    assert not dedup.is_duplicate(msg("m1"))
    assert dedup.is_duplicate(msg("m2", at=T0 + timedelta(seconds=9)))
    assert not dedup.is_duplicate(msg("m3", at=T0 + timedelta(seconds=20)))


def test_memory_is_bounded_by_max_entries() -> None:
    dedup = Deduplicator(max_entries=100)
    for i in range(1_000):  # all within the window: only the bound can forget them
        assert not dedup.is_duplicate(msg(f"m{i}", text=f"消息{i}", at=T0 + timedelta(milliseconds=i)))
    assert len(dedup._ids) <= 100 and len(dedup._texts) <= 100
    assert dedup.is_duplicate(msg("m999"))  # the newest are still remembered
    assert not dedup.is_duplicate(msg("m0", text="消息0", at=T0 + timedelta(seconds=1)))


def test_old_texts_are_forgotten_as_time_passes() -> None:
    dedup = Deduplicator()
    for i in range(50):
        dedup.is_duplicate(msg(f"m{i}", text=f"消息{i}"))
    dedup.is_duplicate(msg("later", text="新消息", at=T0 + timedelta(minutes=10)))
    assert len(dedup._texts) == 1


@pytest.mark.parametrize("kwargs", [{"window": timedelta(0)}, {"max_entries": 0}])
def test_rejects_nonsense_settings(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Deduplicator(**kwargs)
