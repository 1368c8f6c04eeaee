"""The dashboard's pages: who sees which cases, filters and paging, the case file,
the figures, the lexicon tester, the exports, and escaping of residents' text."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.support import page_token, web_login

GUANYUAN = "官园社区警民联系群1"
XIAPU = "下浦社区警民联系群"  # the other station (xiujiang)
DISPUTE = "楼下两个人吵起来了，快打架了"
PHONE_REPORT = "举报 楼下天天有人打架，我电话13812345678"
SCRIPT = "举报 <script>alert(1)</script> 有人在楼道打架"


async def _report(web, room: str, text: str, sender: str = "张大妈") -> None:
    await web.backend.say(sender, room, text)


async def _case_ids(web) -> dict[str, int]:
    rows = await web.sim.app.db.read(lambda db: list(db.query("select id, room from cases order by id")))
    return {r["room"]: r["id"] for r in rows}


async def test_an_officer_sees_only_their_stations_cases(web):
    await _report(web, GUANYUAN, DISPUTE)
    await _report(web, XIAPU, DISPUTE, "赵大爷")
    ids = await _case_ids(web)
    await web_login(web.client, "李警官")
    ledger = await (await web.client.get("/ledger")).text()
    assert f'href="/cases/{ids[GUANYUAN]}"' in ledger
    assert f'href="/cases/{ids[XIAPU]}"' not in ledger
    refused = await web.client.get(f"/cases/{ids[XIAPU]}")
    text = await refused.text()
    assert refused.status == 403
    assert "不属于您的派出所" in text and "赵大爷" not in text and "吵起来" not in text


async def test_asking_for_another_station_in_the_filters_shows_nothing_of_it(web):
    await _report(web, XIAPU, DISPUTE, "赵大爷")
    await web_login(web.client, "王所长")  # leader of guanyuan
    page = await (await web.client.get("/ledger?station=xiujiang")).text()
    assert "没有这个派出所" in page and "赵大爷" not in page
    exported = await (await web.client.get("/ledger/export.csv?station=xiujiang")).text()
    assert "赵大爷" not in exported


async def test_a_leader_sees_the_station_and_an_admin_every_station(web):
    await _report(web, GUANYUAN, DISPUTE)
    await _report(web, XIAPU, DISPUTE, "赵大爷")
    ids = await _case_ids(web)
    await web_login(web.client, "钱所长")  # leader of xiujiang
    assert (await web.client.get(f"/cases/{ids[XIAPU]}")).status == 200
    assert (await web.client.get(f"/cases/{ids[GUANYUAN]}")).status == 403
    await web_login(web.client, "何主任")  # admin
    for case_id in ids.values():
        assert (await web.client.get(f"/cases/{case_id}")).status == 200


async def test_the_case_page_shows_the_whole_timeline(web):
    await _report(web, GUANYUAN, DISPUTE)
    await web.backend.say("李警官", None, "认领 1")
    await web.backend.say("李警官", None, "办结 1 调解成功 双方和好")
    await web_login(web.client, "李警官")
    page = await (await web.client.get("/cases/1")).text()
    for expected in ("案件#1", "张大妈", DISPUTE, "登记", "认领", "办结", "调解成功：双方和好", "第1轮第1次回访", "待回访"):
        assert expected in page, expected
    assert page.index("登记") < page.index("认领") < page.index("办结")


@pytest.mark.parametrize("path, words", [("/cases/999", "没有找到案件#999"), ("/cases/abc", "案件编号应为数字")])
async def test_a_missing_or_malformed_case_is_one_line(web, path, words):
    await web_login(web.client, "李警官")
    response = await web.client.get(path)
    assert response.status == 404
    assert words in await response.text()


async def test_residents_text_is_escaped_everywhere(web):
    await _report(web, GUANYUAN, SCRIPT)
    await web_login(web.client, "李警官")
    for path in ("/ledger", "/cases/1"):
        page = await (await web.client.get(path)).text()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    token = await page_token(web.client, "/lexicon")
    tried = await (await web.client.post("/lexicon", data={"text": "<img src=x onerror=alert(1)> 打架", "csrf_token": token})).text()
    assert "<img src=x" not in tried and "&lt;img src=x onerror=alert(1)&gt;" in tried


async def test_filters_and_paging(web):
    for i in range(23):  # 23 separate cases: one per room and category would merge, so vary the room and time
        await web.backend.jump("hour")
        await _report(web, GUANYUAN, f"举报 第{i}号楼有人打架")
    await _report(web, GUANYUAN, "有人打电话说我涉嫌洗钱，让我转账到安全账户", "吴先生")
    await web_login(web.client, "李警官")
    first = await (await web.client.get("/ledger")).text()
    assert "共 24 件，第 1/2 页" in first and 'id="next-page"' in first
    second = await (await web.client.get("/ledger?page=2")).text()
    assert "第 2/2 页" in second
    fraud = await (await web.client.get("/ledger?category=fraud")).text()
    assert "共 1 件" in fraud and "吴先生" in fraud
    by_status = await (await web.client.get("/ledger?status=已办结")).text()
    assert "共 0 件" in by_status and "没有符合条件的案件" in by_status
    month = await (await web.client.get("/ledger?month=2026-03&community=官园社区")).text()
    assert "共 24 件" in month
    other_month = await (await web.client.get("/ledger?month=2026-04")).text()
    assert "共 0 件" in other_month


async def test_bad_filter_values_are_dropped_with_a_notice(web):
    await web_login(web.client, "李警官")
    page = await (await web.client.get("/ledger?month=March&category=nope&page=x")).text()
    assert "月份应写成 YYYY-MM" in page and "没有这个类别：nope" in page


async def test_exports_are_masked_and_follow_the_filters(web):
    await _report(web, GUANYUAN, PHONE_REPORT)
    await _report(web, XIAPU, DISPUTE, "赵大爷")
    await web_login(web.client, "李警官")
    response = await web.client.get("/ledger/export.csv?month=2026-03")
    assert response.status == 200
    assert "attachment" in response.headers["Content-Disposition"] and "ledger-2026-03.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert rows[0][0] == "编号" and len(rows) == 2  # the header and the one case of this station
    assert "138****5678" in rows[1][-1] and "13812345678" not in rows[1][-1]
    xlsx = await web.client.get("/ledger/export.xlsx")
    sheet = load_workbook(io.BytesIO(await xlsx.read())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "编号" and len(values) == 2
    assert "138****5678" in values[1][-1]


async def test_the_stats_page_counts_the_month_with_charts(web):
    await _report(web, GUANYUAN, DISPUTE)
    await web_login(web.client, "李警官")
    page = await (await web.client.get("/stats?month=2026-03")).text()
    assert "官园派出所 2026年3月" in page
    assert "<svg" in page and "矛盾纠纷" in page and "官园社区" in page
    bad = await (await web.client.get("/stats?month=garbage")).text()
    assert "月份应写成 YYYY-MM" in bad


async def test_the_lexicon_tester_shows_verdict_tier_and_words(web):
    await web_login(web.client, "李警官")
    token = await page_token(web.client, "/lexicon")
    page = await (await web.client.post("/lexicon", data={"text": DISPUTE, "csrf_token": token})).text()
    assert "登记立案" in page and "flagged" in page and "矛盾纠纷" in page and "打架" in page
    calm = await (await web.client.post("/lexicon", data={"text": "今天菜市场的青菜好便宜", "csrf_token": token})).text()
    assert "不登记" in calm
    empty = await web.client.post("/lexicon", data={"text": "  ", "csrf_token": token})
    assert empty.status == 400 and "请输入一条消息" in await empty.text()


async def test_the_lexicon_tester_stores_nothing_and_counts_nothing(web):
    await web_login(web.client, "李警官")
    token = await page_token(web.client, "/lexicon")
    await web.client.post("/lexicon", data={"text": DISPUTE, "csrf_token": token})
    assert await web.sim.app.db.read(lambda db: db.execute("select count(*) from cases").fetchone()[0]) == 0
    assert web.sim.app.metrics.flagged == 0


async def test_the_stats_page_shows_guard_post_attendance_per_school(web):
    """Attendance settled at a shift's end (one on time, one missed) appears on the
    figures page of the station that supervises the school."""
    rows = [("yc1z", "晚间护学岗", "2026-03-02", "张老师", "on_time", "2026-03-02T21:25:00+08:00"),
            ("yc1z", "晚间护学岗", "2026-03-02", "刘师傅", "missed", None)]
    await web.sim.app.db.write(lambda db: db["guard_attendance"].insert_all(
        [dict(zip(("school", "shift", "day", "person", "status", "checked_in_at"), r)) for r in rows]))
    await web_login(web.client, "李警官")
    page = await (await web.client.get("/stats?month=2026-03")).text()
    assert "护学岗到岗率" in page and "宜春一中" in page and "50.00%" in page
