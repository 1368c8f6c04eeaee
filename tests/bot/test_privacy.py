"""Residents' ordinary chat never reaches the disk or the logs."""
from __future__ import annotations

import logging
import uuid

from tests.support import say

GROUP1 = "官园社区警民联系群1"


def test_ordinary_message_never_reaches_database_files_or_logs(run_events, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    canary = f"今天去公园散步看到{uuid.uuid4().hex}号风筝"
    db_path = tmp_path / "db" / "pingan.db"
    transcript = run_events(
        say("09:00", "刘阿姨", canary, GROUP1)
        + say("09:01", "刘阿姨", f"@平安助手 {canary}", GROUP1, mentions=("平安助手",))
        + say("09:15", "张大妈", "楼下两个人吵起来了，快打架了", GROUP1),
        db_path=db_path,
    )
    # The flagged report was stored (so the files are the real, used database)...
    files = list(db_path.parent.iterdir())
    assert any(f.name == "pingan.db" for f in files)
    raw = b"".join(f.read_bytes() for f in files)
    assert "楼下两个人吵起来了".encode() in raw
    # ...but the canary is in no database file (main, -wal, -shm), no log line and no reply.
    marker = canary.encode()
    for f in files:
        assert marker not in f.read_bytes(), f.name
    assert canary not in caplog.text
    assert all(canary not in m["text"] for m in transcript)
