"""A readable, chat-like rendering of a simulation for `pingan demo`."""
from __future__ import annotations

from bot.config import Config
from bot.run.simulation import Simulation
from bot.transports.simulator import SentMessage


def render(sim: Simulation, config: Config) -> str:
    bot = config.bot.name
    sent = sim.transport.sent
    lines: list[str] = []

    def reply(item: SentMessage) -> None:
        m = item.message
        target = f"群「{m.room}」" if m.room else f"私信 {m.contact}"
        mention = "".join(f"@{name} " for name in m.mentions)
        body = (m.text or f"[文件] {m.file}").replace("\n", "\n      ")
        lines.append(f"  ↳ [{item.at:%H:%M}] {bot} → {target}：{mention}{body}")

    positions = [p for p, _ in sim.inputs] + [len(sent)]
    for item in sent[: positions[0]]:  # scheduled messages before anyone spoke
        reply(item)
    for (start, event), end in zip(sim.inputs, positions[1:]):
        lines.append(f"\n[{event.at:%m-%d %H:%M}] {event.room or '私聊'} · {event.sender}：{event.text}")
        if start == end:
            lines.append("  （无回复：普通聊天不登记、不保存）")
        for item in sent[start:end]:
            reply(item)
    return "\n".join(lines).lstrip("\n")
