"""Safe exports: hostile cells, every way of writing a personal number, and every
operator mistake answered with one line and exit 2."""
from __future__ import annotations

import asyncio
import csv
import io
import re
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.run.cli import main
from tests.support.processes import bot_config, run_cli
from bot.masking import mask_pii
from storage import cases as case_store
from storage.db import Database
from tests.support import CONFIGS

CONFIG = str(CONFIGS / "pingan.toml")
CST = timezone(timedelta(hours=8))
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("电话１３８１２３４５６７８", "电话138****5678"),
        ("电话138.1234.5678", "电话138****5678"),
        ("电话138 1234 5678", "电话138****5678"),
        ("电话138-1234-5678", "电话138****5678"),
        ("电话１３８－１２３４－５６７８", "电话138****5678"),
        ("座机0795-1234567", "座机0795-****567"),
        ("座机(0795)1234567", "座机(0795)****567"),
        ("座机（０７９５）１２３４５６７", "座机(0795)****567"),
        ("座机010-12345678", "座机010-*****678"),
        ("身份证110101199003071234", "身份证110101********1234"),
        ("身份证110101 19900307 123X", "身份证110101********123X"),
        ("身份证110101-1990-0307-123x", "身份证110101********123x"),
        ("身份证１１０１０１１９９００３０７１２３Ｘ", "身份证110101********123X"),
        ("老身份证110101900307123", "老身份证110101******123"),
        ("老身份证110101 900307 123", "老身份证110101******123"),
        # Not personal numbers: dates, times, money, a bank card, short numbers.
        ("2026-03-05 13:45 在3号楼", "2026-03-05 13:45 在3号楼"),
        ("赔了12.5万元", "赔了12.5万元"),
        ("卡号6222021234567890123", "卡号6222021234567890123"),
        ("门牌号0795号，房间1381", "门牌号0795号，房间1381"),
    ],
)
def test_every_way_of_writing_a_number_is_masked(raw, expected):
    assert mask_pii(raw) == expected


HOSTILE_TEXTS = [
    "=HYPERLINK(\"http://evil\",\"点我\") 楼下吵架",
    "+1+cmd|' /C calc'!A0 楼下吵架",
    "-2+3 楼下吵架",
    "@SUM(1+1)*cmd 楼下吵架",
    "\t=1+1 楼下吵架",
    "\r=1+1 楼下吵架",
    "  =1+1 楼下吵架（前面有空格）",
    "报警\x07铃声\x00空字符\x1b[31m终端颜色\x7f 楼下吵架",
    "电话１３８．１２３４．５６７８，座机(0795)1234567，身份证110101 19900307 123X",
]
HOSTILE_REPORTER = "=cmd|' /C calc'!A0"


@pytest.fixture
def hostile_db(tmp_path) -> Path:
    path = tmp_path / "hostile.db"

    async def build() -> None:
        db = Database(path)
        await db.open()
        at = datetime(2026, 3, 2, 9, 0, tzinfo=CST)
        for i, text in enumerate(HOSTILE_TEXTS):
            await db.write(lambda d, i=i, text=text: case_store.open_case(
                d, at=at + timedelta(minutes=i), room="官园社区警民联系群1", community="官园社区", station="guanyuan",
                officer="李警官", category="dispute", severity="normal", reporter=HOSTILE_REPORTER if i == 0 else "张大妈",
                text=text, keywords=(), rules=(), explicit=True))
        await db.close()

    asyncio.run(build())
    return path


def export(*args: str):
    return CliRunner().invoke(main, ["export", "-c", CONFIG, *args])


def test_csv_with_every_hostile_cell_is_plain_text(hostile_db):
    result = export("--db", str(hostile_db), "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert len(rows) == 1 + len(HOSTILE_TEXTS)
    for row in rows[1:]:
        for cell in row:
            assert not CONTROL.search(cell), cell
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), cell
    summaries = [r[-1] for r in rows[1:]]
    assert summaries[0].startswith("'=HYPERLINK") and rows[1][7] == "'" + HOSTILE_REPORTER
    assert summaries[2] == "'-2+3 楼下吵架"
    assert summaries[7] == "报警铃声空字符[31m终端颜色 楼下吵架"
    assert summaries[8] == "电话138****5678，座机(0795)****567，身份证110101********123X"


def test_xlsx_with_every_hostile_cell_is_written_and_holds_no_formula(hostile_db, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "台账.xlsx"
    result = export("--db", str(hostile_db), "-o", str(out))
    assert result.exit_code == 0, result.output
    ws = load_workbook(out).active
    assert ws.max_row == 1 + len(HOSTILE_TEXTS)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                assert cell.data_type == "s" and not CONTROL.search(cell.value), cell.value
    assert ws["O2"].value.startswith("=HYPERLINK") and ws["H2"].value == HOSTILE_REPORTER
    assert ws["O9"].value == "报警铃声空字符[31m终端颜色 楼下吵架"


def one_line(result) -> str:
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    line = result.output.strip()
    assert "\n" not in line and "Traceback" not in line
    return line


@pytest.mark.parametrize("name", ["x.csv", "x.xlsx"])
def test_output_into_a_missing_directory_is_one_line(hostile_db, tmp_path, name):
    target = tmp_path / "missing" / "dir" / name
    line = one_line(export("--db", str(hostile_db), "-o", str(target)))
    assert str(target) in line and "无法写入" in line
    assert not target.parent.exists()


def test_output_onto_a_directory_is_one_line(hostile_db, tmp_path):
    assert "无法写入" in one_line(export("--db", str(hostile_db), "--format", "csv", "-o", str(tmp_path)))


def test_db_that_is_not_sqlite_is_one_line(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("会议记录\n" * 100, encoding="utf-8")
    line = one_line(export("--db", str(notes), "--format", "csv"))
    assert str(notes) in line and "SQLite" in line


def test_db_of_another_program_is_refused_and_left_untouched(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("create table contacts(name text)")
        conn.execute("insert into contacts values ('张三')")
    before = other.read_bytes()
    line = one_line(export("--db", str(other), "--format", "csv"))
    assert "不是平安助手的数据库" in line and str(other) in line
    assert other.read_bytes() == before


def test_damaged_db_is_one_line(hostile_db):
    with hostile_db.open("r+b") as f:
        f.write(b"\x00" * 100)
    assert "SQLite" in one_line(export("--db", str(hostile_db), "--format", "csv"))


def test_feedback_on_a_bad_db_is_one_line(tmp_path):
    notes = tmp_path / "notes.db"
    notes.write_text("不是数据库", encoding="utf-8")
    result = CliRunner().invoke(main, ["feedback", "-c", CONFIG, "--db", str(notes)])
    assert "SQLite" in one_line(result)


def test_a_real_process_prints_no_traceback(tmp_path):
    config = bot_config(tmp_path)
    done = run_cli("export", "-c", str(config), "--db", str(config), "--format", "csv", "-o", "/missing/dir/x.csv", cwd=tmp_path)
    assert done.code == 2 and "Traceback" not in done.stderr and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
