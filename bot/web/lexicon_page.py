"""The lexicon tester: type a message, see what the detector would do with it and
why (tier, category, severity, the words or n-grams and the rules behind it).
Nothing is stored: the text lives only for this request."""
from __future__ import annotations

import asyncio

from aiohttp import web

from bot.events import bounded_text
from bot.web.access import login_required
from bot.web.deps import deps
from bot.web.render import page
from nlp.detection import CATEGORIES, SEVERITIES, Detection

MAX_CHARS = 5000  # a tester, not a bulk tool: `pingan classify` takes files


def verdict(found: Detection) -> str:
    if not found.flagged:
        return "不登记（普通聊天）"
    if found.suspected:
        return "疑似（待核实：只私信民警，群里不回复）"
    if found.urgent:
        return "紧急：立即回复报警电话，并立案通知民警"
    return "登记立案，通知责任民警"


@login_required
async def lexicon_form(request: web.Request) -> web.StreamResponse:
    return page(request, "lexicon.html", title="词库测试", text="", result=None, error=None)


@login_required
async def lexicon_try(request: web.Request) -> web.StreamResponse:
    d = deps(request)
    form = await request.post()
    text = str(form.get("text", "")).strip()
    if not text:
        return page(request, "lexicon.html", title="词库测试", text="", result=None, error="请输入一条消息。", status=400)
    if len(text) > MAX_CHARS:
        return page(request, "lexicon.html", title="词库测试", text=text[:MAX_CHARS], result=None, error=f"消息太长（{len(text)}字），测试页最多{MAX_CHARS}字；整批测试请用 pingan classify。", status=400)
    # The detector is CPU work (jieba, the model): off the event loop.
    found = await asyncio.get_running_loop().run_in_executor(None, d.detector.detect, bounded_text(text))
    result = {
        "verdict": verdict(found),
        "tier": {"flagged": "flagged（词库命中）", "suspected": "suspected（模型疑似）"}.get(found.tier or "", "—"),
        "category": CATEGORIES.get(found.category or "", "—") if found.flagged else "—",
        "severity": SEVERITIES.get(found.severity or "", "—") if found.flagged else "—",
        "keywords": list(found.keywords),
        "rules": list(found.rules),
        "numbers": list(found.reply_numbers) if found.urgent else [],
        "flagged": found.flagged,
    }
    return page(request, "lexicon.html", title="词库测试", text=text, result=result, error=None)
