"""`pingan export`: the ledger (台账) as CSV or XLSX (SPEC.md "`pingan export`").

Every problem an operator can cause (a missing directory for -o, a --db that is not
a pingan database, a database the bot holds busy) is one line on stderr and exit 2,
never a traceback, and never the text of a report.
"""
from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import click

from bot.run.cli_errors import fail, os_error_words
from bot.config import Config, ConfigError, load_config
from bot.months import parse_month


def _month(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    year, number = parse_month(value.strip()) or (None, 0)
    if year is None:  # not a month, or "3月": an export needs the year written out
        fail(f"--month 应写成 YYYY-MM，如 2026-03，实际是 {value!r}")
    return year, number


async def _cases(config: Config, db_path: Path, month: tuple[int, int] | None) -> list:
    from storage.db import Database
    from storage.ledger import ledger_cases
    from storage.stats import month_bounds

    opened = month_bounds(month[0], month[1], config.bot.tz) if month else None
    db = Database(db_path)
    try:
        await db.open()  # brings an older database up to the current schema first
        return await db.read(lambda d: ledger_cases(d, opened=opened))
    finally:
        await db.close()


@click.command("export")
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path), default=Path("pingan.toml"), show_default=True, help="配置文件")
@click.option("--db", "db_path", type=click.Path(path_type=Path), default=None, help="数据库文件（默认用配置中的 database）")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default=None, help="csv 或 xlsx（省略时按 -o 的扩展名）")
@click.option("--month", default=None, metavar="YYYY-MM", help="只导出这个月登记的案件")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, help="输出文件（csv 默认输出到屏幕）")
@click.option("--unmasked", is_flag=True, help="不遮盖手机号和身份证号（仅限内部使用）")
def export_command(config_path: Path, db_path: Path | None, fmt: str | None, month: str | None, output: Path | None, unmasked: bool) -> None:
    """导出案件台账：CSV（UTF-8，Excel 可直接打开）或 XLSX。"""
    from bot.ledger.files import csv_bytes, write_csv, write_xlsx
    from bot.ledger.rows import ledger_rows

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        fail("\n".join(exc.problems))
        return
    if fmt is None:
        suffix = output.suffix.lower().lstrip(".") if output else ""
        if suffix not in ("csv", "xlsx"):
            fail("请用 --format csv 或 --format xlsx 指定格式")
        fmt = suffix
    wanted = _month(month)
    path = db_path or config.bot.database
    cases = _read_or_exit(path, lambda: _cases(config, path, wanted))
    names = {s.id: s.name for s in config.stations}
    rows = ledger_rows(cases, tz=config.bot.tz, station_names=names, unmasked=unmasked)
    label = f"{wanted[0]}-{wanted[1]:02d}" if wanted else "全部"
    try:
        if fmt == "csv":
            if output is None:
                sys.stdout.buffer.write(csv_bytes(rows))
                sys.stdout.buffer.flush()
                return
            write_csv(rows, output)
        else:
            output = output or Path(f"台账-{label}.xlsx")
            write_xlsx(rows, output, title=f"台账 {label}")
    except OSError as exc:
        fail(f"无法写入输出文件 {output or '标准输出'}：{os_error_words(exc)}")
    except Exception as exc:  # noqa: BLE001 - its message could quote a report
        fail(f"导出失败（{type(exc).__name__}），未写入任何文件")
    click.echo(f"已导出{len(rows)}件案件（{label}）到 {output}", err=True)


def _read_or_exit(path: Path, read):
    """Check the database, then run the read; any problem is one line and exit 2."""
    from storage.db import DatabaseProblem, inspect_database

    try:
        inspect_database(path)
        return asyncio.run(read())
    except DatabaseProblem as exc:
        fail(str(exc))
    except sqlite3.Error as exc:  # e.g. locked by a long write beyond the busy timeout
        fail(f"读取数据库 {path} 出错：{' '.join(str(exc).split())}")


async def _feedback(db_path: Path, limit: int) -> tuple[list[dict], list[dict]]:
    from storage.cases import feedback_rows
    from storage.db import Database
    from storage.stats import keyword_feedback

    db = Database(db_path)
    try:
        await db.open()
        return (await db.read(keyword_feedback))[:limit], await db.read(feedback_rows)
    finally:
        await db.close()


@click.command("feedback")
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path), default=Path("pingan.toml"), show_default=True, help="配置文件")
@click.option("--db", "db_path", type=click.Path(path_type=Path), default=None, help="数据库文件（默认用配置中的 database）")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000), help="最多列出多少个词")
def feedback_command(config_path: Path, db_path: Path | None, limit: int) -> None:
    """列出民警标记“误报”最多的词库词，以及补录的漏报和误报原文（pingan train 会用到）。"""
    from bot.masking import mask_pii
    from storage.stats import percent

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        fail("\n".join(exc.problems))
        return
    path = db_path or config.bot.database
    words, examples = _read_or_exit(path, lambda: _feedback(path, 100000))
    rows = [r for r in words if r["false_positives"]][:limit]
    if not rows:
        click.echo("还没有被标记为误报的词。")
    else:
        click.echo("词\t误报\t触发案件\t误报率")
        for r in rows:
            click.echo(f"{r['keyword']}\t{r['false_positives']}\t{r['cases']}\t{percent(r['false_positives'], r['cases'])}")
    for kind, title in (("missed", "漏报样本（补录）"), ("false_alarm", "误报样本")):
        picked = [e for e in examples if e["kind"] == kind]
        click.echo(f"\n{title}：{len(picked)} 条")
        for e in picked[-limit:]:
            text = " ".join(mask_pii(e["text"]).split())
            click.echo(f"#{e['case_id']}\t{e['category'] or ''}\t{e['at'][:16]}\t{text[:80]}")
