"""`pingan set-password NAME`: the dashboard password of a configured person.

Asked twice on a terminal (never on the command line, where it would stay in the
shell history and the process list); `--stdin` reads one line, for scripts. Stored
as a salted scrypt hash in the database, beside the running bot if need be."""
from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from bot.config import ConfigError, load_config
from bot.run.cli_errors import fail
from bot.web.passwords import hash_password, password_problem


async def _store(db_path: Path, name: str, hashed: str) -> None:
    from storage.db import Database
    from storage.marker import check_database_present
    from storage.passwords import set_hash

    check_database_present(db_path, new_database=False)  # never a fresh file in place of a lost one
    db = Database(db_path)
    try:
        await db.open()  # a new database gets its schema; an older one its migrations
        now = datetime.now(timezone.utc)
        await db.write(lambda d: set_hash(d, name, hashed, now))
    finally:
        await db.close()


@click.command("set-password")
@click.argument("name")
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path), default=Path("pingan.toml"), show_default=True, help="配置文件")
@click.option("--db", "db_path", type=click.Path(path_type=Path), default=None, help="数据库文件（默认用配置中的 database）")
@click.option("--stdin", "from_stdin", is_flag=True, help="从标准输入读一行作为密码（脚本用）")
def set_password_command(name: str, config_path: Path, db_path: Path | None, from_stdin: bool) -> None:
    """设置值班台登录密码（NAME 为配置文件 [[officers]] 中的姓名）。"""
    from storage.db import DatabaseProblem, inspect_database

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        fail("\n".join(exc.problems))
        return
    if config.officer(name) is None:
        known = "、".join(o.name for o in config.officers)
        fail(f"配置中没有名为“{name}”的民警（可设置：{known}）")
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            password = click.prompt("新密码", hide_input=True, confirmation_prompt="再输入一次", err=True)
        except click.Abort:
            fail("已取消，密码未改")
            return
    problem = password_problem(password)
    if problem:
        fail(problem)
    path = db_path or config.bot.database
    try:
        if path.exists():
            inspect_database(path)  # another program's SQLite file is refused untouched
        asyncio.run(_store(path, name, hash_password(password)))
    except DatabaseProblem as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"无法写入数据库 {path}：{exc.strerror or exc}")
    click.echo(f"已设置{name}的值班台密码。", err=True)
