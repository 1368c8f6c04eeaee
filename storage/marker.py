"""A small file beside the database that remembers the database existed.

A deleted or mis-pathed database used to start empty without a word, and case
numbers began again at #1. `pingan run` writes `pingan.db.marker` on start and on
stop with the number of cases and the highest case id; when the database is missing
but its marker is there, the bot refuses to start unless told `--new-database`.
"""
from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from storage.db import DatabaseProblem

SUFFIX = ".marker"


def marker_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + SUFFIX)


def check_database_present(db_path: Path, new_database: bool) -> None:
    """Raise DatabaseProblem when the database is gone but its marker says it had data."""
    marker = marker_path(db_path)
    if db_path.exists() or new_database or not marker.exists():
        return
    try:
        facts = json.loads(marker.read_text(encoding="utf-8"))
        history = f"{int(facts.get('cases', 0))}件案件，最大编号 #{int(facts.get('last_case_id', 0))}"
    except (OSError, ValueError, TypeError, AttributeError):
        history = "内容无法读取"
    raise DatabaseProblem(
        f"数据库 {db_path} 不存在，但 {marker.name} 表明这里曾有数据（{history}）："
        "请从备份恢复或改正配置中的 database；确需从空库重新开始，请加 --new-database"
    )


def write_marker(db_path: Path, cases: int, last_case_id: int, now: datetime) -> None:
    """Record what the database holds now (atomically, owner-only like the database)."""
    marker = marker_path(db_path)
    created = now.isoformat()
    try:
        created = json.loads(marker.read_text(encoding="utf-8")).get("created_at", created)
    except (OSError, ValueError, AttributeError):
        pass
    body = {
        "database": db_path.name,
        "created_at": created,
        "updated_at": now.isoformat(),
        "cases": cases,
        "last_case_id": last_case_id,
    }
    tmp = marker.with_name(marker.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(body, out, ensure_ascii=False)
        out.write("\n")
    os.replace(tmp, marker)
