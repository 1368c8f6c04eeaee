"""Drive python-wechaty against a gateway at the WECHATY_LOG level the caller set:
connect, log in, send one message, disconnect. Run as a separate process by
tests/test_log_secrets.py, because the library reads WECHATY_LOG once, at import."""
from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timezone

from bot.events import Incoming, Outgoing
from bot.transports.wechaty import WechatyTransport


async def probe(endpoint: str, token: str) -> None:
    transport = WechatyTransport(endpoint, token, "平安助手", lambda: datetime.now(timezone.utc), 15.0, heartbeat_interval=None)

    async def ignore(_: Incoming) -> None:
        return None

    await transport.start(ignore)
    await transport.send(Outgoing(text="日志测试", contact="李警官"))
    await transport.stop()
    print("probe done", flush=True)


if __name__ == "__main__":
    asyncio.run(probe(sys.argv[1], sys.argv[2]))
