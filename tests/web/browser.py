"""What the browser tests share: Debian's chromium driven by Playwright, the demo
served by a real `python -m bot demo` process, and the folder for screenshots.

Playwright's own browser download cannot work here (and is not wanted): it is
pointed at the system chromium. As root, chromium needs --no-sandbox; the
background-networking flags keep it from calling home on a closed network.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1280, "height": 800}
STARTUP_SECONDS = 60.0  # the demo loads the detector first: a few seconds here, more on a slow machine


def chromium_path() -> str | None:
    return os.environ.get("PINGAN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """The chromium to drive. Missing, the browser tests fail (never skip): .ci/run
    and the README's test instructions install Debian's chromium."""
    path = chromium_path()
    if path is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (as .ci/run does)")
    return path


def screenshot_dir() -> Path:
    """Where this run's screenshots go: PINGAN_SCREENSHOTS, else build/screenshots/<time>."""
    chosen = os.environ.get("PINGAN_SCREENSHOTS")
    folder = Path(chosen) if chosen else ROOT / "build" / "screenshots" / datetime.now().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DemoServer:
    """`python -m bot demo --port N` until stopped."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(os.devnull, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "demo", "--port", str(self.port)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.address = self.process.stdout.readline().strip()  # printed once it listens
        self._wait_ready()

    def _wait_ready(self) -> None:
        # The address line is printed only once the site listens (bot/run/demo/server.py):
        # one request confirms it, no polling needed.
        if not self.address or self.process.poll() is not None:
            raise RuntimeError(f"pingan demo did not start (exit {self.process.poll()})")
        with urllib.request.urlopen(self.base + "/healthz", timeout=STARTUP_SECONDS):
            return

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.log.close()
