"""The demo chat page's API: speaking as someone, the clock control, the live
stream, and refusals of bad or cross-site requests."""
from __future__ import annotations

import asyncio
import json

import pytest

from tests.support import page_token

GROUP = "官园社区警民联系群1"
DISPUTE = "楼下两个人吵起来了，快打架了"


async def _say(web, body: dict, token: str | None = None):
    headers = {} if token is None else {"X-CSRF-Token": token}
    return await web.client.post("/api/chat/say", data=json.dumps(body, ensure_ascii=False), headers={"Content-Type": "application/json", **headers})


async def test_the_page_loads_with_rooms_people_samples_and_the_clock(web):
    page = await web.client.get("/")
    assert page.status == 200 and "/static/chat.js" in await page.text()
    state = await (await web.client.get("/api/chat/state")).json()
    assert state["clock"]["label"] == "2026年3月2日 周一 09:00"
    assert state["clock"]["next"]["label"].endswith("护学岗提醒")
    assert {"room": GROUP, "kind": "contact", "note": "官园社区"} in state["rooms"]
    roles = {p["name"]: p["role"] for p in state["people"]}
    assert roles["张大妈"] == "居民" and roles["李警官"] == "民警" and roles["王所长"] == "所长" and roles["张老师"] == "护学岗"
    assert [s["id"] for s in state["samples"]] == ["dispute", "fire", "scam", "checkin"]


async def test_a_resident_reports_and_the_replies_come_back(web):
    token = await page_token(web.client, "/")
    response = await _say(web, {"sender": "张大妈", "room": GROUP, "text": DISPUTE}, token)
    assert response.status == 200
    entries = (await (await web.client.get("/api/chat/state")).json())["entries"]
    assert entries[0]["sender"] == "张大妈" and entries[0]["chat"] == f"room:{GROUP}"
    ack = [e for e in entries if e["from_bot"] and e["chat"] == f"room:{GROUP}"]
    notice = [e for e in entries if e["chat"] == "dm:李警官"]
    assert ack and ack[0]["mentions"] == ["张大妈"]
    assert notice and "#1" in notice[0]["text"]


async def test_the_stream_pushes_messages_and_the_clock(web):
    token = await page_token(web.client, "/")
    async with web.client.ws_connect("/api/chat/stream") as ws:
        await _say(web, {"sender": "张大妈", "room": GROUP, "text": DISPUTE}, token)
        seen = []
        while not any(e["type"] == "clock" for e in seen):
            seen.append(json.loads((await asyncio.wait_for(ws.receive(), 5)).data))
    kinds = [e["type"] for e in seen]
    assert kinds[0] == "entry" and seen[0]["entry"]["text"] == DISPUTE
    assert any(e["type"] == "entry" and e["entry"]["chat"] == "dm:李警官" for e in seen)


async def test_jumping_the_clock_runs_the_escalation(web):
    token = await page_token(web.client, "/")
    await _say(web, {"sender": "张大妈", "room": GROUP, "text": DISPUTE}, token)
    before = len(web.backend.entries)
    response = await web.client.post("/api/chat/jump", json={"to": "next"}, headers={"X-CSRF-Token": token})
    assert response.status == 200
    state = await (await web.client.get("/api/chat/state")).json()
    assert state["clock"]["label"] == "2026年3月2日 周一 09:10"  # high severity: the officer is reminded after 10 minutes
    reminder = web.backend.entries[before:]
    assert reminder and all(e["chat"] == "dm:李警官" for e in reminder)


@pytest.mark.parametrize("how, label", [("hour", "2026年3月2日 周一 10:00"), ("day", "2026年3月3日 周二 09:00"), ("month", "2026年4月1日 周三 09:00")])
async def test_the_clock_jumps_by_an_hour_a_day_or_to_next_month(web, how, label):
    token = await page_token(web.client, "/")
    await web.client.post("/api/chat/jump", json={"to": how}, headers={"X-CSRF-Token": token})
    assert (await (await web.client.get("/api/chat/state")).json())["clock"]["label"] == label


async def test_a_sample_message_is_one_click(web):
    token = await page_token(web.client, "/")
    response = await web.client.post("/api/chat/sample", json={"id": "fire"}, headers={"X-CSRF-Token": token})
    assert response.status == 200
    texts = [e["text"] for e in web.backend.entries if e["from_bot"]]
    assert any("119" in t for t in texts)


async def test_the_checkin_sample_is_acknowledged(web):
    token = await page_token(web.client, "/")
    await web.client.post("/api/chat/jump", json={"to": "next"}, headers={"X-CSRF-Token": token})  # the 21:15 reminder
    await web.client.post("/api/chat/sample", json={"id": "checkin"}, headers={"X-CSRF-Token": token})
    school = [e for e in web.backend.entries if e["chat"] == "room:宜春一中护学岗工作群"]
    assert school[-2]["text"] == "到岗" and school[-1]["from_bot"]


async def test_a_private_message_to_the_bot_is_answered_privately(web):
    token = await page_token(web.client, "/")
    await _say(web, {"sender": "李警官", "room": None, "text": "帮助"}, token)
    chats = {e["chat"] for e in web.backend.entries}
    assert chats == {"dm:李警官"}
    assert web.backend.entries[-1]["from_bot"]


async def test_every_action_needs_the_pages_csrf_token(web):
    await web.client.get("/")
    for path, body in (("/api/chat/say", {"sender": "张大妈", "room": GROUP, "text": DISPUTE}), ("/api/chat/jump", {"to": "hour"}), ("/api/chat/sample", {"id": "fire"})):
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            response = await web.client.post(path, json=body, headers=headers)
            assert response.status == 403, path
            assert "请刷新页面后重试" in (await response.json())["error"]
    assert web.backend.entries == []


@pytest.mark.parametrize(
    "body, words",
    [
        ({"sender": "", "room": GROUP, "text": "你好"}, "请先选择"),
        ({"sender": "张大妈", "room": "不存在的群", "text": "你好"}, "没有这个群"),
        ({"sender": "张大妈", "room": GROUP, "text": "   "}, "消息不能为空"),
        ({"sender": "张大妈", "room": GROUP, "text": "长" * 2001}, "消息太长"),
        ({"sender": "张@大妈", "room": GROUP, "text": "你好"}, "名字不对"),
        ({"sender": "张大妈", "room": 3, "text": "你好"}, "群名不对"),
        ([1, 2], "应为 JSON 对象"),
    ],
)
async def test_bad_input_gets_one_clear_line(web, body, words):
    token = await page_token(web.client, "/")
    response = await _say(web, body, token)
    assert response.status == 400
    assert words in (await response.json())["error"]


async def test_not_json_and_unknown_jumps_are_refused(web):
    token = await page_token(web.client, "/")
    garbage = await web.client.post("/api/chat/say", data=b"\xff\xfe not json", headers={"X-CSRF-Token": token, "Content-Type": "application/json"})
    assert garbage.status == 400 and "JSON" in (await garbage.json())["error"]
    jump = await web.client.post("/api/chat/jump", json={"to": "yesterday"}, headers={"X-CSRF-Token": token})
    assert jump.status == 400 and "不认识的时间跳转" in (await jump.json())["error"]


async def test_a_cross_site_websocket_is_refused(web):
    response = await web.client.get("/api/chat/stream", headers={"Origin": "https://evil.example", "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert response.status == 403


async def test_only_files_the_bot_sent_are_served(web):
    assert (await web.client.get("/api/chat/files/1")).status == 404
    assert (await web.client.get("/api/chat/files/..%2F..%2Fetc%2Fpasswd")).status == 404


async def test_files_and_images_the_bot_sends_are_shown_and_served(web, tmp_path):
    from bot.events import Outgoing
    from bot.transports.simulator import SentMessage

    chart = tmp_path / "统计图.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 16)
    ledger = tmp_path / "台账.xlsx"
    ledger.write_bytes(b"PK\x03\x04")
    now = web.sim.clock.now()
    web.backend._sent(SentMessage(now, Outgoing(room="官园派出所工作群", file=str(chart), text="3月统计")))
    web.backend._sent(SentMessage(now, Outgoing(room="官园派出所工作群", file=str(ledger))))
    image, document = web.backend.entries[-2:]
    assert image["image"] and image["file"] == "统计图.png" and image["text"] == "3月统计"
    assert not document["image"] and document["file"] == "台账.xlsx"
    served = await web.client.get(image["file_url"])
    assert served.status == 200 and (await served.read()).startswith(b"\x89PNG")
    download = await web.client.get(document["file_url"])
    assert download.status == 200 and download.headers["Content-Disposition"] == "attachment"


async def test_a_photo_is_shown_but_never_read_by_the_bot(web):
    token = await page_token(web.client, "/")
    response = await web.client.post("/api/chat/picture", json={"sender": "张大妈", "room": GROUP}, headers={"X-CSRF-Token": token})
    assert response.status == 200
    (entry,) = web.backend.entries
    assert entry["image"] and entry["file_url"] == "/static/photo.svg" and entry["sender"] == "张大妈"
    assert web.sim.app.metrics.messages_in == 0  # WeChat's images never reach the bot's handlers
    assert (await web.client.get("/static/photo.svg")).status == 200
    refused = await web.client.post("/api/chat/picture", json={"sender": "张大妈", "room": "不存在的群"}, headers={"X-CSRF-Token": token})
    assert refused.status == 400
