"""A case's whole life (SPEC.md "States") as the officers and the reporter see it."""
from __future__ import annotations

from tests.support import GROUP1, ROOM, in_room, to


def test_a_case_from_report_to_archive(run_file, tmp_path):
    import sqlite_utils

    db = tmp_path / "w.db"
    transcript = run_file("officer_workflow.toml", db)
    chen = [m["text"] for m in to(transcript, "陈警官") if not m["text"].startswith("【护学岗")]
    assert chen[0].startswith("【转办】王所长将#1转给您")
    assert "请跟进处理" in chen[0]
    assert chen[1].startswith("【回访提醒】#1") and "第1次" in chen[1]
    assert chen[2].startswith("已记录#1回访：反弹")
    assert chen[3].startswith("#1已办结：调解成功。将于03-17、04-09 09:00提醒您回访")
    assert chen[4].startswith("【回访提醒】#1") and "第1次" in chen[4]
    assert chen[5] == "已记录#1第1次回访：无反弹。下次回访提醒：04-09 09:00。"
    assert chen[6].startswith("【回访提醒】#1") and "第2次" in chen[6]
    assert chen[7] == "已记录#1第2次回访：无反弹。回访完毕，案件已归档。"
    assert len(chen) == 8
    # 办结 in the officers' room is answered there; on 1 April the room gets March's briefing.
    room = in_room(transcript, ROOM)
    briefing = [m for m in room if m["at"] == "2026-04-01T09:00:00+08:00"]
    assert briefing[0]["text"].startswith("【官园派出所 2026年3月通报】") and [m.get("file", "")[-4:] for m in briefing[1:]] == [".png", "xlsx"]
    room = [m for m in room if m not in briefing]
    assert [m["mentions"] for m in room] == [["陈警官"]] and room[0]["text"].startswith("#1已办结：调解成功（双方签了调解协议）")
    # The reporter heard: acknowledged, claimed, closed (twice: after each mediation), and the state.
    told = [m["text"] for m in in_room(transcript, GROUP1)]
    assert told[1:] == [
        "您反映的#1已由社区民警李警官受理。",
        "您反映的#1已办结，感谢您的反映。",
        "您反映的#1已办结，感谢您的反映。",
        "您反映的#1：已办结。",
    ]
    detail = [m["text"] for m in to(transcript, "王所长")][-1]
    for step in ("登记 张大妈", "通知民警 李警官", "认领 李警官", "转办 王所长：李警官→陈警官", "办结 陈警官：调解成功", "回访 陈警官：反弹", "反弹重办", "归档 系统"):
        assert step in detail, step
    assert sqlite_utils.Database(db)["cases"].get(1)["status"] == "已归档"
    chased = [m for m in transcript if "通报】" not in m.get("text", "") and ("逾期" in m.get("text", "") or "催办" in m.get("text", ""))]
    assert not chased
