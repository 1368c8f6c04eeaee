"""The demo page and the dashboard in a real headless chromium (Debian's), against a
real `pingan demo` process. Each test leaves a screenshot in the folder the run
prints at its end.

The tests share one demo (its bot and its clock) and so never assume a case number:
each finds its own case by what it wrote.
"""
from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from bot.run.demo.server import DEMO_PASSWORD

GROUP = "官园社区警民联系群1"
OTHER_STATION_GROUP = "下浦社区警民联系群"


def open_chat(page: Page, chat: str) -> None:
    page.locator(f'li.chat-item[data-chat="{chat}"]').click()
    expect(page.locator("#conv-title")).to_contain_text(chat.split(":", 1)[1])


def say(page: Page, sender: str, room: str, text: str) -> None:
    """`sender` says `text` in `room`, an hour after whatever happened before: a report
    within 30 minutes of another of its room and category would join that case."""
    page.goto("/")
    label = page.locator("#clock-now")
    expect(label).not_to_have_text("—")
    before = label.inner_text()
    page.click('button[data-jump="hour"]')
    expect(label).not_to_have_text(before)
    open_chat(page, f"room:{room}")
    page.select_option("#sender", sender)
    page.fill("#text", text)
    page.press("#text", "Enter")
    expect(page.locator(".msg.mine .bubble").filter(has_text=text)).to_be_visible()


def login(page: Page, name: str) -> None:
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".topbar .who")).to_contain_text(name)


def case_link(page: Page, text: str) -> str:
    """The ledger link of the case whose summary holds `text`."""
    row = page.locator("table.ledger tbody tr").filter(has_text=text).first
    return row.locator("a").first.get_attribute("href")


def test_a_residents_dispute_is_acknowledged_and_the_officer_told(page: Page, screenshots):
    text = "楼下两个人吵起来了，快打架了"
    say(page, "张大妈", GROUP, text)
    ack = page.locator(".msg.from-bot .bubble").filter(has_text="社区民警")
    expect(ack.last).to_be_visible()
    expect(ack.last).to_contain_text("@张大妈")
    page.click("#send-photo")  # a photo shows in the chat; the bot reads only text
    expect(page.locator(".msg.mine img.sent-image").last).to_be_visible()
    page.screenshot(path=screenshots / "chat-dispute.png")
    # The notice to the officer arrives in his private chat with the bot.
    expect(page.locator('li.chat-item[data-chat="dm:李警官"] .badge')).to_be_visible()
    open_chat(page, "dm:李警官")
    notice = page.locator(".msg.from-bot .bubble").filter(has_text="【新警情】")
    expect(notice.last).to_contain_text(text)
    page.screenshot(path=screenshots / "chat-officer-notice.png")


def test_jumping_the_clock_shows_the_escalation(page: Page, screenshots):
    say(page, "赵大爷", "秀江社区警民联系群", "隔壁两家为了漏水的事吵起来了，要打架了")
    page.goto("/")
    open_chat(page, "dm:陈警官")
    notice = page.locator(".msg.from-bot .bubble").filter(has_text="赵大爷").last
    number = re.search(r"#(\d+)", notice.inner_text()).group(1)
    reminder = page.locator(".msg.from-bot .bubble").filter(has_text=f"【催办】#{number} ")
    label = page.locator("#clock-now").inner_text()
    for _ in range(5):  # the next events until this case's reminder (other tests' cases may come first)
        page.click("#jump-next")
        expect(page.locator("#clock-now")).not_to_have_text(label)
        label = page.locator("#clock-now").inner_text()
        if reminder.count():
            break
    expect(reminder).to_contain_text("无人认领")
    page.screenshot(path=screenshots / "chat-escalation.png")


def test_an_officer_finds_the_case_reads_its_timeline_and_downloads_the_xlsx(page: Page, screenshots, tmp_path):
    text = "举报 6栋楼下有人为了停车位吵架，电话13912345678"
    say(page, "吴先生", GROUP, text)
    page.goto("/ledger")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.screenshot(path=screenshots / "login.png")
    login(page, "李警官")
    expect(page.locator("h1")).to_have_text("案件台账")
    page.select_option("select[name=category]", "dispute")
    page.click(".filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"category=dispute"))
    masked = "139****5678"
    expect(page.locator("table.ledger")).to_contain_text(masked)
    assert "13912345678" not in page.content()
    page.screenshot(path=screenshots / "ledger.png")
    href = case_link(page, "停车位")
    page.click(f'a[href="{href}"]')
    expect(page.locator("#timeline")).to_contain_text("登记")
    expect(page.locator("#timeline")).to_contain_text("吴先生")
    page.screenshot(path=screenshots / "case.png", full_page=True)
    page.goto("/ledger?category=dispute")
    with page.expect_download() as download:
        page.click("#export-xlsx")
    saved = tmp_path / "ledger.xlsx"
    download.value.save_as(saved)
    rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(saved.read_bytes())).active.iter_rows()]
    assert rows[0][0] == "编号"
    mine = [r for r in rows[1:] if "停车位" in (r[-1] or "")]
    assert mine and masked in mine[0][-1] and "13912345678" not in mine[0][-1]


def test_an_officer_is_refused_another_stations_case(page: Page, screenshots):
    say(page, "周女士", OTHER_STATION_GROUP, "举报 下浦菜场门口有人打架")
    login(page, "孙警官")  # xiujiang: finds the case in his ledger
    page.goto("/ledger")
    href = case_link(page, "下浦菜场")
    page.click("form.inline button")  # 退出
    login(page, "李警官")  # guanyuan
    page.goto(href)
    expect(page.locator("#error-message")).to_contain_text("不属于您的派出所")
    assert "下浦菜场" not in page.content()
    page.screenshot(path=screenshots / "refused.png")


def test_a_script_tag_shows_as_text(page: Page, screenshots):
    script = "<script>alert(1)</script>"
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    say(page, "张大妈", GROUP, f"举报 {script} 楼道里有人打架")
    expect(page.locator(".msg.mine .bubble").filter(has_text=script).last).to_be_visible()
    page.screenshot(path=screenshots / "chat-script-as-text.png")
    login(page, "李警官")
    page.goto("/ledger")
    href = case_link(page, script)
    page.goto(href)
    expect(page.locator("#timeline")).to_contain_text(script)
    page.screenshot(path=screenshots / "case-script-as-text.png")
    assert dialogs == []


def test_the_figures_and_the_lexicon_tester(page: Page, screenshots):
    say(page, "刘阿姨", GROUP, "有人冒充公安打电话，让我把钱转到安全账户")
    login(page, "王所长")
    page.goto("/stats?month=2026-03")
    expect(page.locator("h1")).to_contain_text("官园派出所 2026年3月")
    expect(page.locator("svg.chart").first).to_be_visible()
    page.screenshot(path=screenshots / "stats.png", full_page=True)
    page.goto("/lexicon")
    page.fill("textarea[name=text]", "楼下两个人吵起来了，快打架了")
    page.click("form.stack button[type=submit]")
    expect(page.locator("#verdict")).to_contain_text("立案")
    expect(page.locator("#verdict")).to_contain_text("打架")
    page.screenshot(path=screenshots / "lexicon.png")
