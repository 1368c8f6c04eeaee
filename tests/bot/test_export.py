"""`pingan export` (SPEC.md "`pingan export`"): the ledger as CSV and XLSX, read back
with the csv module and openpyxl as a clerk's spreadsheet would."""
from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from click.testing import CliRunner

from bot.run.cli import main
from bot.ledger.rows import HEADERS
from tests.support import CONFIGS
from tests.support import GROUP1, GROUP2, XIAPU, report, say  # noqa: F401

CONFIG = str(CONFIGS / "pingan.toml")
PHONE = "13812345678"
ID_CARD = "110101199003071234"
EVENTS = (
    report("09:15", text=f"楼下两个人吵起来了，快打架了，我电话{PHONE}")
    + say("09:20", "李警官", "认领 1")
    + say("10:00", "李警官", "办结 1 调解成功 签了协议")
    + say("03-09 15:00", "李警官", "回访 1 无反弹")
    + report("03-03 10:00", "吴先生", f"举报 有人冒用我的身份证{ID_CARD}办了手机卡", GROUP2)
    + report("04-02 10:00", "郑阿姨", "求助：我家门口的路灯坏了一个月了", XIAPU)
)


@pytest.fixture
def ledger_db(run_day, tmp_path):
    db = tmp_path / "ledger.db"
    run_day(EVENTS, end="2026-04-03T00:00:00+08:00", db_path=db)
    return db


def export(*args: str):
    return CliRunner().invoke(main, ["export", "-c", CONFIG, *args])


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_has_the_spec_headers_rows_local_times_and_masking(ledger_db, tmp_path):
    out = tmp_path / "台账.csv"
    result = export("--db", str(ledger_db), "--format", "csv", "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = read_csv(out.read_bytes())
    assert rows[0] == list(HEADERS) == ["编号", "登记时间", "类别", "等级", "来源群", "社区", "派出所", "报告人", "责任民警", "状态", "认领时间", "办结时间", "办结结果", "回访次数", "内容摘要"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    first = dict(zip(rows[0], rows[1]))
    assert first == {
        "编号": "1",
        "登记时间": "2026-03-02 09:15",
        "类别": "矛盾纠纷",
        "等级": "高",
        "来源群": GROUP1,
        "社区": "官园社区",
        "派出所": "官园派出所",
        "报告人": "张大妈",
        "责任民警": "李警官",
        "状态": "待回访",
        "认领时间": "2026-03-02 09:20",
        "办结时间": "2026-03-02 10:00",
        "办结结果": "调解成功（签了协议）",
        "回访次数": "1",
        "内容摘要": "楼下两个人吵起来了，快打架了，我电话138****5678",
    }
    second = dict(zip(rows[0], rows[2]))
    assert ID_CARD not in second["内容摘要"] and "110101********1234" in second["内容摘要"]
    assert (second["状态"], second["认领时间"], second["办结时间"]) == ("待认领", "", "")
    assert dict(zip(rows[0], rows[3]))["派出所"] == "秀江派出所"
    assert PHONE not in out.read_text(encoding="utf-8-sig")


def test_unmasked_keeps_the_numbers(ledger_db):
    result = export("--db", str(ledger_db), "--format", "csv", "--unmasked")
    assert result.exit_code == 0
    text = result.stdout_bytes.decode("utf-8-sig")
    assert PHONE in text and ID_CARD in text


def test_month_selects_cases_registered_that_month(ledger_db):
    result = export("--db", str(ledger_db), "--format", "csv", "--month", "2026-04")
    rows = read_csv(result.stdout_bytes)
    assert [r[0] for r in rows[1:]] == ["3"]
    march = read_csv(export("--db", str(ledger_db), "--format", "csv", "--month", "2026-03").stdout_bytes)
    assert [r[0] for r in march[1:]] == ["1", "2"]


def test_xlsx_has_frozen_header_widths_and_real_dates(ledger_db, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "台账.xlsx"
    result = export("--db", str(ledger_db), "--format", "xlsx", "--month", "2026-03", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "2件" in result.output
    ws = load_workbook(out).active
    assert [c.value for c in ws[1]] == list(HEADERS)
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["B"].width >= 16 and ws.column_dimensions["O"].width >= 40
    assert ws["B2"].value == datetime(2026, 3, 2, 9, 15)
    assert ws["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["K2"].value == datetime(2026, 3, 2, 9, 20) and ws["K3"].value is None
    assert ws["A2"].value == 1 and ws["N2"].value == 1
    assert ws["O2"].value.endswith("138****5678")
    assert ws.max_row == 3


def test_format_is_taken_from_the_output_name(ledger_db, tmp_path):
    out = tmp_path / "x.xlsx"
    assert export("--db", str(ledger_db), "-o", str(out)).exit_code == 0
    assert out.read_bytes().startswith(b"PK")


@pytest.mark.parametrize(
    "args,message",
    [
        (["--format", "csv", "--month", "2026-13"], "--month 应写成 YYYY-MM"),
        (["--format", "csv", "--month", "三月"], "--month 应写成 YYYY-MM"),
        (["--format", "csv", "--month", "3月"], "--month 应写成 YYYY-MM"),  # the year is needed
        (["--month", "2026-03"], "--format"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(ledger_db, args, message):
    result = export("--db", str(ledger_db), *args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_missing_database_is_an_error_not_a_new_file(tmp_path):
    missing = tmp_path / "none.db"
    result = export("--db", str(missing), "--format", "csv")
    assert result.exit_code == 2 and "数据库文件不存在" in result.output
    assert not missing.exists()


def test_text_that_looks_like_a_formula_stays_text(run_day, tmp_path):
    from openpyxl import load_workbook

    db = tmp_path / "f.db"
    run_day(say("09:15", "张大妈", "=HYPERLINK(\"http://x\") 楼下两个人吵起来了，快打架了", GROUP1), db_path=db)
    out = tmp_path / "f.xlsx"
    assert export("--db", str(db), "-o", str(out)).exit_code == 0
    cell = load_workbook(out).active["O2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    rows = read_csv(export("--db", str(db), "--format", "csv").stdout_bytes)
    assert rows[1][-1].startswith("'=HYPERLINK")


def test_feedback_lists_the_words_officers_marked_noisy(run_day, tmp_path):
    db = tmp_path / "fb.db"
    events = report("09:15") + say("09:20", "李警官", "误报 1") + report("10:15", "赵大爷", "隔壁邻居为了漏水的事吵起来了")
    run_day(events, db_path=db)
    result = CliRunner().invoke(main, ["feedback", "-c", CONFIG, "--db", str(db)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "词\t误报\t触发案件\t误报率"
    assert lines[1:3] == ["吵起来\t1\t2\t50.00%", "打架\t1\t1\t100.00%"]
    # The 误报 text is kept as a training example; nothing was 补录'd.
    assert "漏报样本（补录）：0 条" in lines and "误报样本：1 条" in lines
    assert any(line.startswith("#1\tdispute\t") and "楼下两个人吵起来了" in line for line in lines)
