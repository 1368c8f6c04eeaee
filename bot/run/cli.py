"""The `pingan` command line (SPEC.md "Command line")."""
from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import date, datetime
from importlib import resources
from pathlib import Path

import click

from bot.run.cli_errors import fail
from bot.config import Config, ConfigError, load_config
from bot.run.scenario import ScenarioError, load_scenario
from storage.db import DatabaseProblem


def _load_config_or_exit(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        fail("\n".join(exc.problems))
        raise  # unreachable; keeps type checkers content


def _load_detector(lexicon: Path | None):
    """The whole detector (lexicon, learned model, urgency); one line and exit 2 if a file is broken."""
    from nlp.classifier import Classifier
    from nlp.lexicon import LexiconError
    from nlp.model import ModelError
    from nlp.urgency import UrgencyError

    try:
        return Classifier.load(lexicon)
    except (LexiconError, ModelError, UrgencyError) as exc:
        fail(str(exc))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """平安群助手：警民联系群与护学岗群的值守机器人。"""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # jieba logs its dictionary loading at DEBUG through a handler of its own.
    logging.getLogger("jieba").setLevel(logging.WARNING)


@main.command("check-config")
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path), default=Path("pingan.toml"), show_default=True, help="配置文件")
def check_config(config_path: Path) -> None:
    """检查配置文件：全部问题一次列出。"""
    from bot.config.checks import shift_warnings
    from handlers.guard.calendar import calendar_warnings

    config = _load_config_or_exit(config_path)
    # Warnings, not errors: the exit code stays 0.
    for warning in calendar_warnings(config, today(config)) + shift_warnings(config.schools):
        click.echo(warning)
    click.echo(config.summary())


def today(config: Config) -> date:
    """The operator's date, in the config's time zone (the next-year calendar warning
    starts on 1 December)."""
    return datetime.now(config.bot.tz).date()


@main.command()
@click.argument("scenario_path", metavar="SCENARIO.toml", type=click.Path(path_type=Path))
@click.option("--db", "db_path", type=click.Path(path_type=Path), default=None, help="保留数据库到此文件（默认用临时文件）")
def simulate(scenario_path: Path, db_path: Path | None) -> None:
    """在虚拟时钟上运行场景，逐行输出机器人发出的消息（JSON）。"""
    from bot.run.simulation import run_scenario

    try:
        scenario = load_scenario(scenario_path)
    except ScenarioError as exc:
        fail(str(exc))
    config = _load_config_or_exit(scenario.config_path)
    detector = _load_detector(config.bot.lexicon)
    try:
        lines = asyncio.run(run_scenario(scenario, config, detector, db_path))
    except DatabaseProblem as exc:
        fail(str(exc))
    for line in lines:
        click.echo(json.dumps(line, ensure_ascii=False))


@main.command()
@click.option("-c", "--config", "config_path", type=click.Path(path_type=Path), default=Path("pingan.toml"), show_default=True, help="配置文件")
@click.option("--login-timeout", type=float, default=60.0, show_default=True, help="等待微信登录的秒数")
@click.option("--new-database", is_flag=True, help="数据库不存在但曾有数据时，确认从空库重新开始")
def run(config_path: Path, login_timeout: float, new_database: bool) -> None:
    """接入真实微信运行（网关地址和 token 来自环境变量）。"""
    import os

    from bot.config import wechaty_connection
    from bot.run.live import run_live

    config = _load_config_or_exit(config_path)
    try:
        connection = wechaty_connection(os.environ)
    except ConfigError as exc:
        fail(exc.problems[0])
    logging.getLogger().setLevel(logging.INFO)
    detector = _load_detector(config.bot.lexicon)
    try:
        code = asyncio.run(run_live(config, connection, detector, login_timeout=login_timeout, new_database=new_database))
    except DatabaseProblem as exc:
        fail(str(exc))
    sys.exit(code)


@main.command()
@click.option("--transcript", is_flag=True, help="不开网页，把示例场景的对话打印到终端")
@click.option("--host", default="127.0.0.1", show_default=True, help="网页监听地址")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="网页端口（0 表示任选一个空闲端口）")
def demo(transcript: bool, host: str, port: int) -> None:
    """用内置模拟器和示例配置演示：打开网页聊天、看机器人回复，并试用值班台。"""
    # The demo shows the chat; operators' warnings (calendar data, missed jobs) are noise here.
    logging.getLogger().setLevel(logging.ERROR)
    if transcript:
        _demo_transcript()
        return
    from bot.run.demo.server import serve_demo

    with resources.as_file(resources.files("bot.run.demo") / "pingan.toml") as config_path:
        config = _load_config_or_exit(config_path)
        detector = _load_detector(config.bot.lexicon)
        try:
            asyncio.run(serve_demo(config, detector, host, port, lambda line: click.echo(line)))
        except OSError as exc:
            fail(f"无法在 {host}:{port} 上启动网页（{exc.strerror or exc}）：端口可能已被占用，请用 --port 换一个")


def _demo_transcript() -> None:
    from bot.run.demo.transcript import render
    from bot.run.simulation import simulate as run

    with resources.as_file(resources.files("bot.run.demo") / "scenario.toml") as scenario_path:
        scenario = load_scenario(scenario_path)
        config = _load_config_or_exit(scenario.config_path)
        detector = _load_detector(config.bot.lexicon)
        sim = asyncio.run(run(scenario, config, detector))
    click.echo(render(sim, config))


def _register_optional_commands() -> None:
    """Commands whose modules are built by other features register themselves here."""
    from bot.run.backup_cli import backup_command
    from bot.run.password_cli import set_password_command

    main.add_command(set_password_command, "set-password")
    from bot.run.export_cli import export_command, feedback_command
    from bot.run.people_cli import invite_command, people_command

    main.add_command(backup_command, "backup")
    main.add_command(export_command, "export")
    main.add_command(feedback_command, "feedback")
    main.add_command(invite_command, "invite")
    main.add_command(people_command, "people")
    from nlp.cli import classify_command, eval_command, train_command

    main.add_command(classify_command, "classify")
    main.add_command(eval_command, "eval")
    main.add_command(train_command, "train")


_register_optional_commands()
