"""`pingan check-config`: every problem class, its message and exit code 2."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.run.cli import main
from tests.support import CONFIGS

BASE = (CONFIGS / "pingan.toml").read_text(encoding="utf-8")


def check(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "pingan.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["check-config", "-c", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_valid_config_prints_one_line_summary(tmp_path):
    code, out = check(tmp_path, BASE)
    assert code == 0
    # The second term runs into 2027, a year chinesecalendar has no data for: one
    # warning line (see tests/guard/test_school_days.py) comes before the summary.
    warning, summary = out.strip().splitlines()
    assert "2027" in warning
    assert summary == "配置有效：2个派出所，5名民警，3个警民联系群，1所学校（1个护学岗班次）"


@pytest.mark.parametrize(
    "old,new,expected",
    [
        ('ack_in_group = true', 'ack_in_group = true\nack_everything = 1', "bot.ack_everything: 未知的配置项"),
        ('name = "平安助手"', '', "bot.name: 缺少必填项"),
        ('ack_in_group = true', 'ack_in_group = "yes"', "bot.ack_in_group: 应为true/false"),
        ('urgent_remind_minutes = 5', 'urgent_remind_minutes = "five"', "escalation.urgent_remind_minutes: 应为整数"),
        ('at = "09:00"\noverdue_days', 'at = "9点"\noverdue_days', 'followup.at: 时间格式应为"HH:MM"'),
        ('start = "21:30"', 'start = "25:30"', 'schools[0].shifts[0].start: 时间格式应为"HH:MM"'),
        ('["2026-02-24", "2026-07-03"]', '["2026-02-30", "2026-07-03"]', "schools[0].terms[0][0]: 日期格式应为"),
        ('community = "秀江社区"\nstation = "guanyuan"\nofficer = "陈警官"', 'community = "秀江社区"\nstation = "guanyuan"\nofficer = "赵警官"', 'groups[1].officer: 没有名为"赵警官"的民警'),
        ('name = "李警官"\nstation = "guanyuan"', 'name = "李警官"\nstation = "nowhere"', 'officers[0].station: 没有 id 为"nowhere"的派出所'),
        ('room = "秀江社区警民联系群"', 'room = "官园社区警民联系群1"', 'groups[1].room: 群"官园社区警民联系群1"重复'),
        ('room = "宜春一中护学岗工作群"', 'room = "官园社区警民联系群1"', "schools[0].room: 群\"官园社区警民联系群1\"已在 groups[0].room 中作为警民联系群配置，不能同时作为护学岗群"),
        ('name = "陈警官"', 'name = "李警官"', 'officers[1].name: 民警"李警官"重复'),
        ('id = "xiujiang"', 'id = "guanyuan"', 'stations[1].id: 派出所 id"guanyuan"重复'),
        ('roster = { mon = ["张老师", "刘师傅"], tue = ["王老师", "刘师傅"], wed = ["赵老师"], thu = ["张老师"], fri = ["王老师"] }', "roster = {}", "schools[0].shifts[0].roster: 值班表为空"),
        ('["2026-09-01", "2027-01-22"]', '["2026-06-01", "2027-01-22"]', "schools[0].terms: 学期 2026-02-24～2026-07-03 与 2026-06-01～2027-01-22 重叠"),
        ('["2026-09-01", "2027-01-22"]', '["2027-01-22", "2026-09-01"]', "schools[0].terms[1]: 学期结束日期 2026-09-01 早于开始日期 2027-01-22"),
        ('end = "22:10"', 'end = "21:00"', "schools[0].shifts[0].end: 结束时间 21:00 应晚于开始时间 21:30"),
        ('role = "leader"', 'role = "boss"', 'officers[2].role: 应为 officer、leader 或 admin'),
        ('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"', 'bot.timezone: 未知的时区 "Mars/Olympus"'),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 20 else None,
)
def test_each_problem_class_is_named_with_its_key_path(tmp_path, old, new, expected):
    assert old in BASE, old
    code, out = check(tmp_path, BASE.replace(old, new, 1))
    assert code == 2
    assert expected in out, out


def test_every_problem_is_listed_at_once(tmp_path):
    text = BASE.replace('officer = "陈警官"', 'officer = "赵警官"').replace('ack_in_group = true', 'ack_in_group = 1\nfoo = 2')
    code, out = check(tmp_path, text)
    assert code == 2
    lines = out.strip().splitlines()
    assert any(line.startswith("groups[1].officer:") for line in lines)
    assert any(line.startswith("bot.ack_in_group:") for line in lines)
    assert any(line.startswith("bot.foo:") for line in lines)
    assert "Traceback" not in out


def test_empty_officer_list_and_missing_stations(tmp_path):
    code, out = check(tmp_path, '[bot]\nname = "平安助手"\nofficers = []\n')
    assert code == 2
    assert "bot.officers: 未知的配置项" in out
    assert "stations: 缺少必填项" in out
    code, out = check(tmp_path, '[bot]\nname = "平安助手"\n[[stations]]\nid="a"\nname="b"\nleader="c"\nofficers_room="d"\n')
    assert "officers: 缺少必填项" in out


def test_missing_file_is_one_clear_line(tmp_path):
    result = CliRunner().invoke(main, ["check-config", "-c", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert result.output.strip() == f"{tmp_path / 'nope.toml'}: 配置文件不存在"


def test_invalid_toml_names_file_and_line(tmp_path):
    code, out = check(tmp_path, '[bot]\nname = "平安助手"\ndatabase = \n')
    assert code == 2
    assert out.strip().startswith(f"{tmp_path / 'pingan.toml'}: TOML 格式错误：第3行")
    assert len(out.strip().splitlines()) == 1


def test_non_utf8_file(tmp_path):
    path = tmp_path / "pingan.toml"
    path.write_bytes('[bot]\nname = "平安助手"\n'.encode("gbk"))
    result = CliRunner().invoke(main, ["check-config", "-c", str(path)])
    assert result.exit_code == 2 and "UTF-8" in result.output
