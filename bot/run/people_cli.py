"""`pingan invite NAME` and `pingan people` (SPEC.md "Identity").

Both work beside a running `pingan run` on the same database: they take no lock and
write through SQLite's own locking (WAL), like `pingan backup`.
"""
from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from pathlib import Path

import click

from bot.config import Config, ConfigError, load_config
from bot.identity import configured_people
from bot.run.cli_errors import fail
from storage import people as people_store
from storage.db import Database, DatabaseProblem
from storage.marker import check_database_present

INVITE_VALID = timedelta(hours=24)
ROLE_NAMES = {"officer": "民警", "leader": "所领导", "admin": "管理员"}

config_option = click.option("-c", "--config", "config_path", type=click.Path(path_type=Path), default=Path("pingan.toml"), show_default=True, help="配置文件")


def _config(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        fail("\n".join(exc.problems))
        raise


async def _with_db(path: Path, work):
    # A missing database whose marker says it held cases is an operator's mistake to
    # fix (restore it), not something to paper over with a fresh empty file.
    check_database_present(path, new_database=False)
    db = Database(path)
    try:
        await db.open()
        return await work(db)
    finally:
        await db.close()


@click.command("invite")
@config_option
@click.argument("name")
def invite_command(config_path: Path, name: str) -> None:
    """生成一次性六位绑定验证码（24小时内有效）：本人私聊机器人发送“绑定 验证码”即可绑定微信号。"""
    config = _config(config_path)
    people = configured_people(config)
    if name not in people:
        known = "、".join(people) or "（无）"
        fail(f"配置中没有“{name[:20]}”：只能为配置中的民警和护学岗值班人员生成验证码（{known}）")
    now = datetime.now(config.bot.tz)
    code = f"{secrets.randbelow(10**6):06d}"

    async def write(db: Database) -> None:
        await db.write(lambda d: people_store.add_invite(d, name, code, now, now + INVITE_VALID))

    try:
        asyncio.run(_with_db(config.bot.database, write))
    except DatabaseProblem as exc:
        fail(str(exc))
    until = (now + INVITE_VALID).strftime("%Y-%m-%d %H:%M")
    click.echo(f"{name}的绑定验证码：{code}（{until}前有效，只能用一次）")
    click.echo(f"请{name}用本人微信私聊“{config.bot.name}”发送：绑定 {code}")


@click.command("people")
@config_option
def people_command(config_path: Path) -> None:
    """列出配置中的每个人：角色、所属派出所、微信号绑定情况。"""
    config = _config(config_path)

    async def read(db: Database) -> list[people_store.Binding]:
        return await db.read(people_store.bindings)

    try:
        stored = {b.name: b for b in asyncio.run(_with_db(config.bot.database, read))}
    except DatabaseProblem as exc:
        fail(str(exc))
    unbound = 0
    for person in configured_people(config).values():
        role = ROLE_NAMES.get(person.officer.role, "民警") if person.officer else "护学岗值班"
        station = config.station(person.station).name
        binding = stored.get(person.name)
        if binding is not None:
            state = f"已绑定 {binding.wechat_id}（{binding.bound_at.astimezone(config.bot.tz):%Y-%m-%d %H:%M} 绑定）"
        elif person.officer and person.officer.wechat_id:
            state = f"已绑定 {person.officer.wechat_id}（配置 wechat_id）"
        else:
            state = "未绑定"
            unbound += 1
        click.echo(f"{person.name}\t{role}\t{station}\t{state}")
    click.echo(f"共{len(configured_people(config))}人，未绑定{unbound}人。")
