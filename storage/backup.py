"""A consistent copy of the live database, taken while the bot runs.

SQLite's online backup API copies every page inside one read transaction, so the
copy is the database as it stood at one moment, with the bot writing meanwhile (WAL
lets it). Copying the file with `cp` can miss writes still in `-wal` or catch a
page half-written. The copy is made beside the target, checked, switched out of WAL
mode (one self-contained file), and only then renamed into place: a failed backup
never leaves a half-written file where yesterday's good one was.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.db import DatabaseProblem, inspect_database


@dataclass(frozen=True)
class BackupResult:
    path: Path
    cases: int
    size: int


def backup_database(source: Path, target: Path) -> BackupResult:
    """Copy `source` to `target` (replacing it); raise DatabaseProblem or OSError."""
    inspect_database(source)
    if target.exists() and target.resolve() == source.resolve():
        raise DatabaseProblem(f"备份文件不能是数据库本身：{target}")
    if target.is_dir():
        raise IsADirectoryError(21, "是一个目录", str(target))
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    # Created owner-only before SQLite opens it: the copy holds residents' reports.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # all pages in one step: one consistent snapshot
            dst.execute("PRAGMA journal_mode = DELETE")
            verdict = dst.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise DatabaseProblem(f"备份副本校验失败：{target}（{verdict}）")
            cases = dst.execute("select count(*) from cases").fetchone()[0]
        finally:
            dst.close()
            src.close()
        with open(tmp, "rb") as copy:
            os.fsync(copy.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BackupResult(target, cases, target.stat().st_size)
