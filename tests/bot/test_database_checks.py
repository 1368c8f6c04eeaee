"""The database is checked before the bot relies on it: damaged files and missing
databases with a history stop `pingan run` with one line naming the file, exit 2."""
from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.support.processes import bot_config, run_cli
from storage import cases as case_store
from storage.db import Database, DatabaseProblem
from storage.marker import check_database_present, marker_path, write_marker

CST = timezone(timedelta(hours=8))
AT = datetime(2026, 3, 2, 9, 0, tzinfo=CST)


def make_database(path: Path, cases: int) -> None:
    async def build() -> None:
        db = Database(path)
        await db.open()
        for i in range(cases):
            await db.write(lambda d, i=i: case_store.open_case(
                d, at=AT + timedelta(minutes=i), room="官园社区警民联系群1", community="官园社区", station="guanyuan",
                officer="李警官", category="dispute", severity="normal", reporter="张大妈",
                text=f"第{i}件：楼下两户人家为停车位吵起来了" * 3, keywords=("吵起来",), rules=(), explicit=False))
        await db.close()

    asyncio.run(build())


def damage(path: Path, offset: int, length: int) -> None:
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(b"\xff" * length)


def one_line_error(result, *must_contain: str) -> str:
    assert result.code == 2, result
    assert "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert "\n" not in line, line
    for text in must_contain:
        assert text in line
    return line


def test_damaged_header_stops_run_with_one_line_naming_the_file(tmp_path):
    config = bot_config(tmp_path)
    db_path = tmp_path / "data" / "pingan.db"
    make_database(db_path, 3)
    damage(db_path, 0, 100)
    line = one_line_error(run_cli("run", "-c", str(config), "--login-timeout", "1", cwd=tmp_path), str(db_path))
    assert "SQLite" in line


def test_database_damaged_in_its_middle_pages_is_caught_at_start(tmp_path):
    config = bot_config(tmp_path)
    db_path = tmp_path / "data" / "pingan.db"
    make_database(db_path, 300)
    # A page in the middle of the reports' messages (which tables sit in the file's
    # middle changes as migrations add tables): its b-tree header is overwritten.
    with sqlite3.connect(db_path) as conn:
        pages = [n for (n,) in conn.execute("select pageno from dbstat where name = 'case_messages' and pagetype = 'leaf' order by pageno")]
    damage(db_path, 4096 * (pages[len(pages) // 2] - 1), 1500)
    # Precondition: ordinary reads still work, which is why this used to start "healthy".
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("select count(*) from cases").fetchone()[0] == 300
    line = one_line_error(run_cli("run", "-c", str(config), "--login-timeout", "1", cwd=tmp_path), str(db_path))
    # quick_check either lists the damage or stops at it ("malformed"): both are one line.
    assert "已损坏" in line and ("quick_check" in line or "malformed" in line)


async def test_a_file_that_is_not_sqlite_is_refused_in_process(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("这不是数据库，是一份会议记录。\n" * 200, encoding="utf-8")
    db = Database(path)
    with pytest.raises(DatabaseProblem, match=str(path)):
        await db.open()
    await db.close()


def test_missing_database_with_a_history_needs_new_database(tmp_path):
    config = bot_config(tmp_path)
    db_path = tmp_path / "data" / "pingan.db"
    make_database(db_path, 2)
    # The first run records the database beside it (login fails here: no gateway).
    first = run_cli("run", "-c", str(config), "--login-timeout", "1", cwd=tmp_path)
    assert first.code == 2 and "Traceback" not in first.stderr
    marker = marker_path(db_path)
    facts = json.loads(marker.read_text(encoding="utf-8"))
    assert (facts["cases"], facts["last_case_id"]) == (2, 2)
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600

    for leftover in db_path.parent.glob("pingan.db*"):
        if leftover != marker:
            leftover.unlink()
    refused = run_cli("run", "-c", str(config), "--login-timeout", "1", cwd=tmp_path)
    one_line_error(refused, str(db_path), "2件案件", "#2", "--new-database")
    assert not db_path.exists()  # refusing changed nothing

    fresh = run_cli("run", "-c", str(config), "--login-timeout", "1", "--new-database", cwd=tmp_path)
    assert fresh.code == 2 and "--new-database" not in fresh.stderr and "Traceback" not in fresh.stderr
    assert db_path.exists()
    assert json.loads(marker.read_text(encoding="utf-8"))["cases"] == 0


def test_marker_rules_in_process(tmp_path):
    db_path = tmp_path / "pingan.db"
    check_database_present(db_path, new_database=False)  # first start: nothing to protect
    write_marker(db_path, 5, 7, AT)
    with pytest.raises(DatabaseProblem, match="5件案件"):
        check_database_present(db_path, new_database=False)
    check_database_present(db_path, new_database=True)
    db_path.touch()
    check_database_present(db_path, new_database=False)  # present: the marker is not in the way
    write_marker(db_path, 6, 8, AT + timedelta(days=1))
    facts = json.loads(marker_path(db_path).read_text(encoding="utf-8"))
    assert facts["created_at"] == AT.isoformat() and facts["last_case_id"] == 8


def test_invite_people_and_set_password_refuse_a_lost_database(tmp_path):
    """The marker says the database held cases and it is gone: the commands that work
    beside the bot must not create a fresh empty one in its place (which `pingan run`
    would then take for the real one)."""
    from storage.marker import write_marker

    config = bot_config(tmp_path)
    db_path = tmp_path / "data" / "pingan.db"
    db_path.parent.mkdir(parents=True)
    write_marker(db_path, 12, 12, AT)
    for args in (("invite", "-c", str(config), "李警官"), ("people", "-c", str(config))):
        line = one_line_error(run_cli(*args, cwd=tmp_path), str(db_path))
        assert "不存在" in line and "--new-database" in line
    result = run_cli("set-password", "李警官", "-c", str(config), "--stdin", cwd=tmp_path, input="a-long-password\n")
    one_line_error(result, str(db_path))
    assert not db_path.exists()
