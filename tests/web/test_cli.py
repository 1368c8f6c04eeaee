"""`pingan set-password` and `pingan demo` from the command line."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import urllib.request

from click.testing import CliRunner

from bot.run.cli import main
from bot.web.passwords import verify_password
from storage.db import Database
from storage.passwords import get_hash
from tests.support import CONFIGS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def set_password(tmp_path, *args: str, stdin: str = ""):
    db = tmp_path / "p.db"
    return CliRunner().invoke(main, ["set-password", *args, "-c", str(CONFIGS / "pingan.toml"), "--db", str(db)], input=stdin), db


def stored(db_path, name: str) -> str | None:
    async def read():
        db = Database(db_path)
        try:
            await db.open()
            return await db.read(lambda d: get_hash(d, name))
        finally:
            await db.close()

    return asyncio.run(read())


def test_set_password_stores_a_salted_scrypt_hash(tmp_path):
    result, db = set_password(tmp_path, "李警官", "--stdin", stdin="correct horse\n")
    assert result.exit_code == 0, result.output
    hashed = stored(db, "李警官")
    assert hashed.startswith("scrypt$16384$8$1$") and "correct horse" not in hashed
    assert verify_password("correct horse", hashed) and not verify_password("correct horsE", hashed)
    again, _ = set_password(tmp_path, "李警官", "--stdin", stdin="correct horse\n")
    assert again.exit_code == 0 and stored(db, "李警官") != hashed  # a new salt each time


def test_set_password_asks_twice_on_a_terminal(tmp_path):
    result, db = set_password(tmp_path, "王所长", stdin="battery staple\nbattery staple\n")
    assert result.exit_code == 0, result.output
    assert verify_password("battery staple", stored(db, "王所长"))


def test_set_password_refuses_unknown_names_and_short_passwords_in_one_line(tmp_path):
    unknown, _ = set_password(tmp_path, "赵警官", "--stdin", stdin="long enough\n")
    assert unknown.exit_code == 2 and "配置中没有名为“赵警官”的民警" in unknown.output
    short, db = set_password(tmp_path, "李警官", "--stdin", stdin="short\n")
    assert short.exit_code == 2 and "密码至少需要8个字符" in short.output
    assert "Traceback" not in unknown.output + short.output


def test_set_password_refuses_a_database_that_is_not_the_bots(tmp_path):
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("create table notes (x)")
    result = CliRunner().invoke(main, ["set-password", "李警官", "-c", str(CONFIGS / "pingan.toml"), "--db", str(other), "--stdin"], input="long enough\n")
    assert result.exit_code == 2 and "不是平安助手的数据库" in result.output
    with sqlite3.connect(other) as conn:
        assert [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")] == ["notes"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_serves_the_page_and_prints_the_address():
    port = _free_port()
    with subprocess.Popen([sys.executable, "-m", "bot", "demo", "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            line = proc.stdout.readline()
            assert line.strip() == f"平安群助手演示已启动：http://127.0.0.1:{port}/"
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
                assert "平安群助手 · 演示" in page.read().decode("utf-8")
        finally:
            proc.send_signal(signal.SIGINT)
            _, errors = proc.communicate(timeout=20)
    assert proc.returncode == 0, errors


def test_demo_on_a_busy_port_says_so_in_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "bot", "demo", "--port", str(port)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"无法在 127.0.0.1:{port} 上启动网页")
    assert "Traceback" not in result.stderr
