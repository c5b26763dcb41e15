"""Consoles that log in to real prompts: the default prompt pattern, ``console.prompt`` from the
inventory, and a command whose first character the line lost (sent again once, then a lab error).

Crafted lines on a socket:// console (the device end scripted here), and the twin's console of a
Linux host (the PSTN simulator, prompt ``root@pstn1:~$ ``) with the ``console-eats-first-char``
fault. No public console capture is in ../shared/realworld; the prompts below are those of the
shells and network OSes named beside them.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from harness.errors import LabProtocolError, LabTimeout
from harness.inventory.models import ConsoleSettings
from harness.transports.serial import PROMPT, SerialConsole, lost_first_character
from harness.transports.transcript import Transcript
from tests.conftest import TEST_NET

HOST = f"{TEST_NET}.9.2"
PASSWORD = "s3cret-console"


@pytest.mark.parametrize("prompt", [
    "root@pstn9:~# ",  # Debian/Ubuntu bash as root
    "admin@edge9:/var/log$ ",  # bash in another directory
    "[admin@edge9 ~]$ ",  # RHEL bash
    "edge9> ", "sw9# ", "sw9(config-if)# ",  # Genesys Edge, Cisco IOS
    "admin@mx9> ",  # Junos
    "oot@pstn9:~# ",  # the line lost the first character
])
def test_default_prompt_accepts_shell_and_network_os_prompts(prompt: str) -> None:
    assert PROMPT.search("Last login: on ttyS0\n" + prompt)


@pytest.mark.parametrize("text", ["edge9 login: ", "Password: ", "Progress 100% ", "Status: ok "])
def test_default_prompt_is_not_a_login_prompt_or_output(text: str) -> None:
    assert not PROMPT.search("\n" + text)


class Line:
    """The device end of a console line."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn, self.buf = conn, b""

    def send(self, data: bytes) -> None:
        self.conn.sendall(data)

    def line(self, timeout_s: float = 5.0) -> str | None:
        self.conn.settimeout(timeout_s)
        while b"\r" not in self.buf:
            try:
                data = self.conn.recv(4096)
            except OSError:
                return None
            if not data:
                return None
            self.buf += data
        raw, self.buf = self.buf.split(b"\r", 1)
        return raw.decode(errors="replace").lstrip("\n")


@pytest.fixture
def device() -> Iterator[Callable[..., ConsoleSettings]]:
    """``device(script, **settings)`` serves one connection with ``script(line)`` in a thread and
    returns console settings that reach it."""
    servers: list[socket.socket] = []
    errors: list[BaseException] = []

    def start(script: Callable[[Line], None], **settings: Any) -> ConsoleSettings:
        srv = socket.create_server((HOST, 0))
        servers.append(srv)

        def run() -> None:
            conn, _ = srv.accept()
            try:
                script(Line(conn))
            except OSError:
                pass
            except BaseException as e:
                errors.append(e)
            finally:
                time.sleep(0.1)
                conn.close()

        threading.Thread(target=run, daemon=True).start()
        return ConsoleSettings(url=f"socket://{HOST}:{srv.getsockname()[1]}", username="root",
                               password="env:HIL_TEST_CONSOLE_PW", timeout_s=2.0, **settings)

    yield start
    for s in servers:
        s.close()
    if errors:
        raise errors[0]


def _open(settings: ConsoleSettings, monkeypatch: pytest.MonkeyPatch) -> SerialConsole:
    monkeypatch.setenv("HIL_TEST_CONSOLE_PW", PASSWORD)
    return SerialConsole("pstn9", settings, lambda ref: PASSWORD, Transcript("pstn9 serial"))


def _login_then(prompt: bytes, outputs: Callable[[str], tuple[bytes, bytes]]) -> Callable[[Line], None]:
    """A getty and shell: login, password, then each command echoed, its output and ``prompt``,
    with bash 5.1's bracketed-paste mode escapes as it sends them (``ESC[?2004l CR`` after the
    echo, ``ESC[?2004h`` before the prompt)."""
    def script(ln: Line) -> None:
        ln.line()  # the wake-up CR
        ln.send(b"\r\npstn9 login: ")
        assert ln.line() == "root"
        ln.send(b"root\r\nPassword: ")
        assert ln.line() == PASSWORD
        ln.send(b"\r\nLast login: on ttyS0\r\n\x1b[?2004h" + prompt)
        while (cmd := ln.line()) is not None:
            echo, out = outputs(cmd)
            ln.send(echo + b"\r\n\x1b[?2004l\r" + out + b"\x1b[?2004h" + prompt)
    return script


def _echo(cmd: str) -> tuple[bytes, bytes]:
    return cmd.encode(), (b"hi\r\n" if cmd == "echo hi" else b"")


def test_login_at_a_user_at_host_prompt(device, monkeypatch: pytest.MonkeyPatch) -> None:
    c = _open(device(_login_then(b"root@pstn9:~# ", _echo)), monkeypatch)
    try:
        assert c.command("echo hi") == "hi\n"
    finally:
        c.close(logout=False)


def test_inventory_prompt_is_used(device, monkeypatch: pytest.MonkeyPatch) -> None:
    # U-Boot's prompt "=> ": not a shell prompt, so the default pattern waits for it in vain
    c = _open(device(_login_then(b"=> ", _echo)), monkeypatch)
    try:
        with pytest.raises(LabTimeout):
            c.login()
    finally:
        c.close(logout=False)
    c = _open(device(_login_then(b"=> ", _echo), prompt=r"=> ?"), monkeypatch)
    try:
        assert c.command("echo hi") == "hi\n"
    finally:
        c.close(logout=False)


def _eats(times: int) -> Callable[[str], tuple[bytes, bytes]]:
    """bash on a line that loses the first character of the next ``times`` commands."""
    left = [times]

    def outputs(cmd: str) -> tuple[bytes, bytes]:
        if left[0] > 0:
            left[0] -= 1
            short = cmd[1:]
            return short.encode(), f"-bash: {short.split()[0]}: command not found\r\n".encode()
        return _echo(cmd)
    return outputs


def test_lost_first_character_is_sent_again_once(device, monkeypatch: pytest.MonkeyPatch) -> None:
    c = _open(device(_login_then(b"root@pstn9:~# ", _eats(1))), monkeypatch)
    try:
        assert c.command("echo hi") == "hi\n"
        assert "lost the first character of 'echo hi'" in c.transcript.render()
    finally:
        c.close(logout=False)


def test_lost_first_character_twice_is_a_lab_error(device, monkeypatch: pytest.MonkeyPatch) -> None:
    c = _open(device(_login_then(b"root@pstn9:~# ", _eats(2))), monkeypatch)
    try:
        with pytest.raises(LabProtocolError) as info:
            c.command("echo hi")
    finally:
        c.close(logout=False)
    e = info.value
    assert e.device == "pstn9" and e.transport == "serial"
    assert "'echo hi'" in e.detail and "-bash: cho: command not found" in e.detail


@pytest.mark.parametrize(("cmd", "output", "lost"), [
    ("echo hi", "echo hi\n% Unknown command: 'cho hi'. Type 'help' for a list of commands.", True),  # Edge
    ("echo hi", "cho hi\n-sh: cho: not found", True),  # BusyBox
    ("show version", "how version\n% Invalid input detected at '^' marker.", True),  # IOS, echo short
    ("show version", "show version\nCisco IOS Software", False),
    ("ls /x", "ls /x\nls: cannot access '/x': No such file or directory", False),
    ("frob", "frob\n-bash: frob: command not found", False),  # the whole command is unknown
])
def test_lost_first_character_is_told_from_other_errors(cmd: str, output: str, lost: bool) -> None:
    assert (lost_first_character(cmd, output) is not None) is lost
