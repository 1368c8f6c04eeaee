"""One `pingan run` per database.

Two bots on one database (say, an old one left running and a new one on another
port) answer every message twice and take turns knocking each other off the
gateway. `pingan run` holds an exclusive `flock` on `pingan.db.lock` for its whole
life; a second one is refused with one line. The kernel drops the lock when the
process dies, however it dies, so a crash never leaves a stale lock behind. Other
commands (export, backup, check-config) do not take the lock and work beside it.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from storage.db import DatabaseProblem

SUFFIX = ".lock"


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + SUFFIX)


class RunLock:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.path = lock_path(db_path)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise DatabaseProblem naming the database and the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise DatabaseProblem(
                f"数据库 {self.db_path} 已由另一个 pingan run 使用（进程 {holder}，锁文件 {self.path.name}）："
                "同一数据库只能运行一个机器人，请先停止它"
            ) from None
        # The holder's pid, for the message above and for operators; not the lock itself.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd

    def release(self) -> None:
        # The file stays: removing it would let a third process lock a new inode
        # while a second still waits on the old one.
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
