"""`pingan backup` while the bot runs, and a restore from it: real processes, the real
gateway. Also: every file the bot creates beside its database is owner-only."""
from __future__ import annotations

import asyncio
import shutil
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from bot.run.cli import main
from tests.support.processes import cli_env, run_cli
from tests.e2e.bot_process import ROOM, BotProcess, GuardShift, gateway_fixture, write_config
from tests.e2e.gateway import PuppetGateway, free_port

TOKEN = "pingan-backup-token"
STARTUP = 40.0
SEND = 15.0
DISPUTE = "楼下两个人吵起来了，快打架了"
SECOND = "举报 小区门口天天有人占道摆摊"
THIRD = "举报 楼道里堆满了杂物，堵住了消防通道"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_backup_while_running_then_restore_and_the_bot_sees_the_cases(tmp_path: Path):
    gateway = PuppetGateway(gateway_fixture(), TOKEN)
    gateway.start()
    port = free_port()
    config = write_config(tmp_path, GuardShift.reminding_after(timedelta(hours=1)), port)
    env = BotProcess.environment(gateway.endpoint, TOKEN)
    db = tmp_path / "pingan.db"
    backup = tmp_path / "backups" / "pingan-backup.db"
    backup.parent.mkdir()
    bot = BotProcess(config, port, env)
    try:
        await bot.wait_health(200, STARTUP)
        await gateway.say("张大妈", DISPUTE, room=ROOM)
        await gateway.wait_sent(lambda r: r["contact"] == "李警官" and "#1" in r["text"], SEND)
        for name in ("pingan.db", "pingan.db-wal", "pingan.db-shm", "pingan.db.marker", "pingan.db.lock"):
            assert mode(tmp_path / name) == 0o600, name

        done = await asyncio.to_thread(run_cli, "backup", "-c", str(config), "-o", str(backup), cwd=tmp_path, env=cli_env())
        assert done.code == 0, done.stderr
        assert "1件案件" in done.stdout and mode(backup) == 0o600
        assert not Path(f"{backup}-wal").exists()  # one self-contained file
        # A case opened after the backup: it must not come back with the restore.
        await gateway.say("王大爷", SECOND, room=ROOM)
        await gateway.wait_sent(lambda r: r["contact"] == "李警官" and "#2" in r["text"], SEND)
        code, _ = await bot.terminate()
        assert code == 0

        # The disk is lost; restore as the README says: copy back, drop -wal/-shm.
        for name in ("pingan.db", "pingan.db-wal", "pingan.db-shm"):
            (tmp_path / name).unlink(missing_ok=True)
        shutil.copyfile(backup, db)
        bot = BotProcess(config, port, env)
        await bot.wait_health(200, STARTUP)
        since = len(await gateway.sent())
        await gateway.say("李警官", "详情 1")
        detail = await gateway.wait_sent(lambda r: r["seq"] > since and r["contact"] == "李警官", SEND)
        assert "#1" in detail["text"] and DISPUTE in detail["text"], detail
        await gateway.say("赵阿姨", THIRD, room=ROOM)
        notice = await gateway.wait_sent(lambda r: r["contact"] == "李警官" and THIRD[3:] in r["text"], SEND)
        assert "#2" in notice["text"]  # numbering goes on from the backup, not from #1
    finally:
        bot.kill()
        gateway.close()


def test_backup_of_a_file_that_is_not_a_database_is_one_line(tmp_path):
    notes = tmp_path / "notes.db"
    notes.write_text("不是数据库", encoding="utf-8")
    result = CliRunner().invoke(main, ["backup", "--db", str(notes), "-o", str(tmp_path / "b.db")])
    assert result.exit_code == 2 and "SQLite" in result.output and "\n" not in result.output.strip()
    assert not (tmp_path / "b.db").exists()


def test_backup_into_a_missing_directory_or_onto_itself_is_one_line(tmp_path):
    db = tmp_path / "pingan.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table cases(id integer primary key)")
    result = CliRunner().invoke(main, ["backup", "--db", str(db), "-o", str(tmp_path / "no" / "b.db")])
    assert result.exit_code == 2 and "所在目录不存在" in result.output
    result = CliRunner().invoke(main, ["backup", "--db", str(db), "-o", str(db)])
    assert result.exit_code == 2 and "不能是数据库本身" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["pingan.db"]  # no temporary left behind


async def test_a_new_database_is_owner_only(tmp_path):
    from storage.db import Database

    db = Database(tmp_path / "data" / "new.db")
    await db.open()
    await db.write(lambda d: d["outbox"].insert({"key": "k", "text": "x"}))
    assert mode(tmp_path / "data" / "new.db") == 0o600
    assert mode(tmp_path / "data" / "new.db-wal") == 0o600
    assert mode(tmp_path / "data") == 0o700
    await db.close()
