"""`pingan backup -o FILE`: a consistent copy of the database while the bot runs.

It does not take `pingan run`'s lock: backups are made beside the running bot.
Restore: stop the bot, copy the backup over the database, delete the database's
`-wal` and `-shm` files, start the bot (README "Backups").
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from bot.run.cli_errors import fail, os_error_words
from bot.config import ConfigError, load_config


@click.command("backup")
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path), default=Path("pingan.toml"), show_default=True, help="配置文件")
@click.option("--db", "db_path", type=click.Path(path_type=Path), default=None, help="数据库文件（默认用配置中的 database）")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="备份文件（已存在则替换）")
def backup_command(config_path: Path, db_path: Path | None, output: Path) -> None:
    """在线备份数据库（机器人运行时也可以），得到一个完整一致的副本。"""
    from storage.backup import backup_database
    from storage.db import DatabaseProblem

    if db_path is None:
        try:
            db_path = load_config(config_path).bot.database
        except ConfigError as exc:
            fail("\n".join(exc.problems))
            return
    try:
        result = backup_database(db_path, output)
    except DatabaseProblem as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"无法写入备份文件 {output}：{os_error_words(exc)}")
    except sqlite3.Error as exc:
        fail(f"备份数据库 {db_path} 出错：{' '.join(str(exc).split())}")
    else:
        click.echo(f"已备份 {db_path} 到 {result.path}（{result.cases}件案件，{result.size // 1024} KB）")
