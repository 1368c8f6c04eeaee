"""How a `pingan` command gives up: one line on stderr and exit status 2.

Every problem an operator can cause (a bad argument, a broken config, a file that
cannot be written) ends this way, never as a traceback, and never quoting a report.
`nlp/cli.py` keeps its own copy of the exit status: nlp may not import bot.
"""
from __future__ import annotations

import errno
import sys
from typing import NoReturn

import click

EXIT_BAD_INPUT = 2


def fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(EXIT_BAD_INPUT)


def os_error_words(exc: OSError) -> str:
    """An operating-system error in the words an operator uses."""
    words = {errno.ENOENT: "所在目录不存在", errno.EACCES: "没有写入权限", errno.EPERM: "没有写入权限",
             errno.EISDIR: "这是一个目录", errno.ENOSPC: "磁盘已满", errno.EROFS: "文件系统只读", errno.EPIPE: "输出管道已关闭"}
    return words.get(exc.errno or 0, exc.strerror or type(exc).__name__)
