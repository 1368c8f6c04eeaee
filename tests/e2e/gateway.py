"""Start and stop the real Wechaty puppet-service gateway (tests/e2e/puppet-server.js).

The gateway is a Node process: npm `wechaty-puppet-service`'s PuppetServer over
`wechaty-puppet-mock`, populated from a fixture. Tests make its contacts speak and
read what the bot sent through its HTTP control port. CI installs it with
`npm ci --prefix tests/e2e`.

Impostors and copied rooms: `add_contact("陈警官")` makes a second person of that
name (a new id) and `add_room(topic, members)` a second room with a configured
topic; both return the new id, which `say(...)` takes in place of a name or topic
(a name or topic that several share is refused by the gateway: say which one).
`sent()` records carry `roomId` / `contactId`, so a test sees which of two
same-named recipients got a message. Additions are written into the fixture too:
after `kill()` and `start()` the gateway presents the same world, same ids.
"""
from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

E2E_DIR = Path(__file__).parent


def contact_id(name: str) -> str:
    """The id the mock puppet gives a contact of this name (puppet-server.js `stableId`)."""
    return "wxid_" + hashlib.sha1(name.encode()).hexdigest()[:12]
SERVER_SCRIPT = E2E_DIR / "puppet-server.js"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _room_id(topic: str) -> str:
    """The id the gateway derives from a fixture room's topic (puppet-server.js stableId)."""
    return hashlib.sha1(topic.encode("utf-8")).hexdigest()[:12] + "@chatroom"


def _check_installed() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed: the Wechaty end-to-end tests need Node 20")
    if not (E2E_DIR / "node_modules" / "wechaty-puppet-service").is_dir():
        raise RuntimeError(f"the gateway's npm packages are missing: run `npm ci --prefix {E2E_DIR}`")
    return node


# How often a wait for the gateway's records looks again (a poll, not a fixed sleep).
POLL_INTERVAL = 0.02

class PuppetGateway:
    """One gateway process on a fixed gRPC port; `kill` and `start` again reuse the port."""

    def __init__(self, fixture: dict[str, Any], token: str, port: int | None = None) -> None:
        self.token = token
        self.port = port or free_port()
        self._workdir = Path(tempfile.mkdtemp(prefix="pingan-gateway-"))
        self._fixture_path = self._workdir / "fixture.json"
        self.fixture = copy.deepcopy(fixture)
        self._save_fixture()
        self.log_path = self._workdir / "gateway.log"
        self._process: subprocess.Popen[str] | None = None
        self.control_port: int | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start the process and wait until both its ports listen."""
        node = _check_installed()
        log_file = self.log_path.open("a", encoding="utf-8")
        self._process = subprocess.Popen(
            [node, str(SERVER_SCRIPT), "--fixture", str(self._fixture_path),
             "--port", str(self.port), "--token", self.token],
            cwd=self._workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=log_file, text=True, encoding="utf-8",
            env={**os.environ, "WECHATY_LOG": os.environ.get("GATEWAY_LOG", "warn")},
        )
        log_file.close()
        line = self._first_line(timeout)
        try:
            announced = json.loads(line)
        except json.JSONDecodeError:
            announced = {}
        if announced.get("event") != "listening":
            self.kill()
            raise RuntimeError(f"gateway did not start (said {line!r}); log:\n{self.read_log()}")
        self.control_port = int(announced["controlPort"])

    def _first_line(self, timeout: float) -> str:
        """Read the "listening" line without hanging forever if the process wedges."""
        assert self._process is not None and self._process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        stdout = self._process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            return lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise RuntimeError(f"gateway silent for {timeout}s; log:\n{self.read_log()}") from None

    def kill(self) -> None:
        """SIGKILL: a crash, with no goodbye on the gRPC stream."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def freeze(self) -> None:
        """SIGSTOP: the gateway hangs with its sockets open (a dead link, no TCP reset)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def _end(self, sig: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(sig)
            process.send_signal(signal.SIGCONT)  # a frozen process must wake to handle SIGTERM
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def read_log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def _save_fixture(self) -> None:
        self._fixture_path.write_text(json.dumps(self.fixture, ensure_ascii=False), encoding="utf-8")

    # ---- control API (async: the bot under test shares the event loop) --------------

    async def say(self, sender: str, text: str | None = None, room: str | None = None,
                  mentions: tuple[str, ...] | list[str] = (), type: str = "text",
                  id: str | None = None) -> str:
        """Make `sender` say `text` in `room` (or privately to the bot); returns the message id."""
        body: dict[str, Any] = {"from": sender, "room": room, "mentions": list(mentions), "type": type}
        if text is not None:
            body["text"] = text
        if id is not None:
            body["id"] = id
        return str((await self._call("POST", "/say", body))["messageId"])

    async def add_contact(self, name: str, *, id: str | None = None, friend: bool = True,
                          rooms: tuple[str, ...] | list[str] = ()) -> str:
        """A new person called `name`, even if someone already is (an impostor: a new
        id), a friend of the bot unless `friend=False`, and a member of `rooms`
        (topics or ids). Returns their id."""
        body: dict[str, Any] = {"name": name, "friend": friend, "rooms": list(rooms)}
        if id is not None:
            body["id"] = id
        added = await self._call("POST", "/contact", body)
        person = {"name": name, "id": added["id"]}
        self.fixture.setdefault("contacts", []).append({**person, "friend": friend})
        world = await self.world()
        for room in world["rooms"]:
            if added["id"] in room["members"]:
                self._fixture_room(room["id"]).setdefault("members", []).append(person)
        self._save_fixture()
        return str(added["id"])

    async def add_room(self, topic: str, members: tuple[Any, ...] | list[Any] = (), *,
                       id: str | None = None) -> str:
        """A new room with `topic`, even one another room has (a copy: a new id).
        Members are names (the first person of that name), ids, or {"id": ...}.
        Returns the room's id."""
        body: dict[str, Any] = {"topic": topic, "members": list(members)}
        if id is not None:
            body["id"] = id
        added = await self._call("POST", "/room", body)
        self.fixture.setdefault("rooms", []).append({
            "topic": topic, "id": added["id"],
            "members": [{"name": m["name"], "id": m["id"]} for m in added["members"]],
        })
        self._save_fixture()
        return str(added["id"])

    def _fixture_room(self, room_id: str) -> dict[str, Any]:
        """The fixture's entry of a room, its id written in so a restart keeps it."""
        for room in self.fixture.get("rooms", []):
            if room.get("id") == room_id:
                return room
        for room in self.fixture.get("rooms", []):
            if "id" not in room and _room_id(room["topic"]) == room_id:
                room["id"] = room_id
                return room
        raise KeyError(room_id)

    async def world(self) -> dict[str, Any]:
        """Who and what the gateway holds: {"self": id, "contacts": [{"id", "name",
        "friend"}], "rooms": [{"id", "topic", "members": [ids]}]}."""
        return dict(await self._call("GET", "/world"))

    async def contact_ids(self, name: str) -> list[str]:
        """The ids of everyone called `name` (the original first, impostors after)."""
        return [c["id"] for c in (await self.world())["contacts"] if c["name"] == name]

    async def room_ids(self, topic: str) -> list[str]:
        """The ids of every room with `topic` (the original first, copies after)."""
        return [r["id"] for r in (await self.world())["rooms"] if r["topic"] == topic]

    async def rename_room(self, room: str, topic: str) -> None:
        await self._call("POST", "/topic", {"room": room, "topic": topic})

    async def logout(self) -> None:
        """Log the account out (it logs in again when the bot reconnects)."""
        await self._call("POST", "/logout", {})

    async def sent(self) -> list[dict[str, Any]]:
        """Everything the bot sent since this process started, oldest first."""
        return list(await self._call("GET", "/sent"))

    async def wait_sent(self, predicate: Callable[[dict[str, Any]], bool],
                        timeout: float = 10.0) -> dict[str, Any]:
        """Poll until a sent message matches, and return it."""
        deadline = time.monotonic() + timeout
        while True:
            for record in await self.sent():
                if predicate(record):
                    return record
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching message sent within {timeout}s: {await self.sent()}")
            await asyncio.sleep(POLL_INTERVAL)

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if self.control_port is None:
            raise RuntimeError("gateway not started")
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.control_port}{path}", method=method,
            data=json.dumps(body).encode("utf-8") if body is not None else None,
            headers={"content-type": "application/json"},
        )

        def call() -> Any:
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as error:
                raise AssertionError(f"gateway {method} {path}: {error.read().decode()}") from error

        # In a thread: the transport under test runs on this event loop and must keep going.
        return await asyncio.to_thread(call)
