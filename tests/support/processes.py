"""Run `python -m bot ...` as operators do, for tests of what the command line prints.

`bot_config` writes the test config with its database (and /healthz port) where the
test wants them; `run_cli` runs a command to its end and returns code and output.
"""
from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TEST_CONFIG = REPO / "tests" / "configs" / "pingan.toml"


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


def bot_config(directory: Path, database: str = "data/pingan.db", web_port: int | None = None) -> Path:
    """The test config with its own database and a web port nobody else uses
    (8080 may be taken on a shared machine)."""
    from tests.e2e.gateway import free_port

    text = TEST_CONFIG.read_text(encoding="utf-8").replace('database = "pingan.db"', f'database = "{database}"')
    text += f'\n[web]\nhost = "127.0.0.1"\nport = {web_port or free_port()}\n'
    path = directory / "pingan.toml"
    path.write_text(text, encoding="utf-8")
    return path


def cli_env(endpoint: str | None = "127.0.0.1:9", token: str | None = "test-token") -> dict[str, str]:
    from tests.e2e.bot_process import BotProcess

    return BotProcess.environment(endpoint, token)


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60, input: str | None = None) -> Result:
    """Run `python -m bot ARGS`; `input` is its standard input (none when None)."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, env=env or cli_env(),
        capture_output=True, text=True, timeout=timeout, input=input,
        stdin=subprocess.DEVNULL if input is None else None,
    )
    return Result(done.returncode, done.stdout, done.stderr)
