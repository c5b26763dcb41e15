"""The serial-console reader against the noise of real consoles, with crafted bytes on a socket://
line: bracketed-paste escapes, a lost first character, repeated login prompts, bare LF line ends,
glitch bytes, and binary garbage from a wrong baud rate (reported as such, never matched as text)."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from harness.errors import LabAuthError, LabProtocolError
from harness.inventory.models import ConsoleSettings
from harness.transports.serial import BAUD_BAD_SHARE, ConsoleText, SerialConsole
from harness.transports.transcript import Transcript
from tests.conftest import TEST_NET

HOST = f"{TEST_NET}.9.1"
PASSWORD = "s3cret-console"


class Line:
    """The device end of a console line: what the harness typed, and bytes to send back."""

    def __init__(self, conn: socket.socket | None) -> None:
        self.conn: Any = conn
        self.buf = b""
        self.typed: list[str] = []

    def send(self, data: bytes, chunk: int = 0) -> None:
        if not chunk:
            self.conn.sendall(data)
            return
        for i in range(0, len(data), chunk):  # a slow line: the reader sees pieces
            self.conn.sendall(data[i:i + chunk])
            time.sleep(0.002)

    def line(self, timeout_s: float = 5.0) -> str | None:
        """The next line the harness typed (without its CR), None when it hung up."""
        self.conn.settimeout(timeout_s)
        while b"\r" not in self.buf:
            try:
                data = self.conn.recv(4096)
            except (TimeoutError, OSError):
                return None
            if not data:
                return None
            self.buf += data
        raw, self.buf = self.buf.split(b"\r", 1)
        text = raw.decode(errors="replace").lstrip("\n")
        self.typed.append(text)
        return text


@pytest.fixture
def device() -> Iterator[Callable[[Callable[[Line], None]], tuple[ConsoleSettings, Line]]]:
    """``device(script)`` serves one connection with ``script(line)`` in a thread; returns the
    console settings to reach it and the :class:`Line` (for what the harness typed)."""
    servers: list[socket.socket] = []
    threads: list[threading.Thread] = []
    errors: list[BaseException] = []  # an assertion in a device script fails the test

    def start(script: Callable[[Line], None]) -> tuple[ConsoleSettings, Line]:
        srv = socket.create_server((HOST, 0))
        servers.append(srv)
        line = Line(None)

        def run() -> None:
            conn, _ = srv.accept()
            line.conn = conn
            try:
                script(line)
            except OSError:
                pass
            except BaseException as e:
                errors.append(e)
            finally:
                time.sleep(0.2)
                conn.close()

        t = threading.Thread(target=run, daemon=True)
        t.start()
        threads.append(t)
        settings = ConsoleSettings(url=f"socket://{HOST}:{srv.getsockname()[1]}", username="admin",
                                   password="env:HIL_TEST_CONSOLE_PW", timeout_s=3.0)
        return settings, line

    yield start
    for s in servers:
        s.close()
    for t in threads:
        t.join(5)
    if errors:
        raise errors[0]


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_TEST_CONSOLE_PW", PASSWORD)


def _open(settings: ConsoleSettings) -> SerialConsole:
    import os

    return SerialConsole("edge9", settings, lambda ref: os.environ[ref.removeprefix("env:")],
                         Transcript("edge9 serial"))


def _shell(line: Line, outputs: dict[str, bytes], prompt: bytes = b"edge9> ", eol: bytes = b"\r\n") -> None:
    """A device already logged in: echo each command, send its output and the prompt."""
    while (cmd := line.line()) is not None:
        line.send(cmd.encode() + eol + outputs.get(cmd, b"") + prompt)


VERSION = b"Genesys Cloud Edge\r\nHostname         : edge9\r\nFirmware Version : 2026.11.1\r\n"


# --- ConsoleText, the filter ----------------------------------------------------------------------


def test_filter_drops_csi_osc_and_bracketed_paste_with_its_content() -> None:
    f = ConsoleText()
    raw = (b"\x1b[?2004hedge9> \x1b[?2004l\r\nline one\x1b[200~ls -la\rrm -rf x\x1b[201~ still one\r\n"
           b"\x1b]0;edge9: ~\x07\x1b[1;32mgreen\x1b[0m\r\n")
    assert f.feed(raw) == "edge9> \nline one still one\ngreen\n"
    assert f.bad_bytes == 0


def test_filter_holds_escapes_and_pastes_cut_by_a_read() -> None:
    f = ConsoleText()
    raw = b"a\x1b[200~pasted text\x1b[201~b\x1b[?2004hc\r\nd"
    out = "".join(f.feed(raw[i:i + 1]) for i in range(len(raw)))  # one byte per read
    assert out == "abc\nd"


def test_filter_drops_glitch_bytes_and_normalises_line_ends() -> None:
    f = ConsoleText()
    assert f.feed(b"one\x00\xff\r\ntwo\nthree\rfour\xf0\xe0\r") == "one\ntwo\nthree\nfour"
    assert f.feed(b"\nfive\n") == "\nfive\n"  # the CR LF split across reads is one line end
    assert f.bad_bytes == 4


def test_filter_keeps_utf8_text_and_counts_it_good() -> None:
    f = ConsoleText()
    text = "Standort: München — Port ✓ 100 %\n"
    assert f.feed(text.encode()) == text
    assert f.bad_bytes == 0 and f.seen_bytes == len(text.encode())


def test_a_paste_that_never_closes_stops_being_dropped() -> None:
    f = ConsoleText()
    assert f.feed(b"x\x1b[200~" + b"y" * 5000) == "x"
    assert f.feed(b"after\n") == "after\n"


# --- the reader on a line --------------------------------------------------------------------------


def test_bracketed_paste_escapes_around_output_and_prompt(device) -> None:
    out = (b"\x1b[?2004l" + VERSION[:30] + b"\x1b[200~show status\r\x1b[201~" + VERSION[30:] + b"\x1b[?2004h")
    settings, _ = device(lambda ln: _shell(ln, {"show version": out}, prompt=b"edge9> \x1b[?2004h"))
    c = _open(settings)
    try:
        c.logged_in = True
        assert c.command("show version") == VERSION.decode().replace("\r\n", "\n")
    finally:
        c.close()


def test_paste_split_over_many_small_reads(device) -> None:
    out = VERSION[:10] + b"\x1b[200~junk\x1b[201~" + VERSION[10:]

    def script(ln: Line) -> None:
        while (cmd := ln.line()) is not None:
            ln.send(cmd.encode() + b"\r\n" + out + b"edge9> ", chunk=3)

    settings, _ = device(script)
    c = _open(settings)
    try:
        c.logged_in = True
        assert c.command("show version") == VERSION.decode().replace("\r\n", "\n")
    finally:
        c.close()


def test_lost_first_character_of_prompts_and_echo(device) -> None:
    def script(ln: Line) -> None:
        ln.send(b"\r\nogin: ")  # "edge9 login: " lost its first characters
        while (typed := ln.line()) == "":
            ln.send(b"\r\nogin: ")
        assert typed == "admin"
        ln.send(b"dmin\r\nassword: ")  # echo and prompt each lost a character
        if ln.line() != PASSWORD:
            ln.send(b"\r\nLogin incorrect\r\n\r\nedge9 login: ")
            return
        ln.send(b"\r\ndge9> ")
        _shell(ln, {"show version": VERSION}, prompt=b"\r\ndge9> ")

    settings, _ = device(script)
    c = _open(settings)
    try:
        c.login()
        assert c.command("show version").startswith("Genesys Cloud Edge\n")
    finally:
        c.close()


def test_repeated_login_prompts_are_answered_once_each(device) -> None:
    def script(ln: Line) -> None:
        ln.send(b"edge9 login: \r\nedge9 login: \r\nedge9 login: ")  # a getty that respawned
        ln.line()  # the wake-up CR
        ln.send(b"\r\nedge9 login: ")
        assert ln.line() == "admin"
        ln.send(b"admin\r\n\r\nedge9 login: ")  # restarted again before asking the password
        assert ln.line() == "admin"
        ln.send(b"admin\r\nPassword: ")
        assert ln.line() == PASSWORD
        ln.send(b"\r\nLast login: on ttyS0\r\nedge9> ")
        _shell(ln, {})

    settings, line = device(script)
    c = _open(settings)
    try:
        c.login()
        assert c.logged_in
        assert line.typed[:4] == ["", "admin", "admin", PASSWORD]
        assert "*****" in c.transcript.render() and PASSWORD not in c.transcript.render()
    finally:
        c.close()


def test_repeated_prompt_still_in_flight_is_not_answered_twice(device) -> None:
    """The device echoes the wake-up CR with a second login prompt a little late: one username only."""
    def script(ln: Line) -> None:
        ln.send(b"edge9 login: ")
        ln.line()
        time.sleep(0.05)
        ln.send(b"\r\nedge9 login: ")
        assert ln.line() == "admin"
        ln.send(b"admin\r\nPassword: ")
        assert ln.line() == PASSWORD
        ln.send(b"\r\nedge9> ")
        _shell(ln, {})

    settings, line = device(script)
    c = _open(settings)
    try:
        c.login()
        assert line.typed[:3] == ["", "admin", PASSWORD]
    finally:
        c.close()


def test_wrong_password_still_reported_as_refused(device) -> None:
    def script(ln: Line) -> None:
        ln.send(b"edge9 login: ")
        while ln.line() == "":
            ln.send(b"\r\nedge9 login: ")
        ln.send(b"admin\r\nPassword: ")
        ln.line()
        ln.send(b"\r\n\r\nLogin incorrect\r\n\r\nedge9 login: ")
        ln.line()

    settings, _ = device(script)
    c = _open(settings.model_copy(update={"password": "env:HIL_TEST_OTHER_PW"}))
    import os

    os.environ["HIL_TEST_OTHER_PW"] = "wrong"
    try:
        with pytest.raises(LabAuthError, match="refused"):
            c.login()
    finally:
        c.close()
        del os.environ["HIL_TEST_OTHER_PW"]


def test_bare_lf_and_lf_cr_line_ends(device) -> None:
    out = b"Genesys Cloud Edge\nHostname         : edge9\n\rFirmware Version : 2026.11.1\n"
    settings, _ = device(lambda ln: _shell(ln, {"show version": out}, prompt=b"edge9> ", eol=b"\n"))
    c = _open(settings)
    try:
        c.logged_in = True
        got = c.command("show version")
        assert [x for x in got.split("\n") if x] == ["Genesys Cloud Edge", "Hostname         : edge9",
                                                      "Firmware Version : 2026.11.1"]
    finally:
        c.close()


def test_glitch_bytes_in_text_are_dropped_not_called_a_baud_mismatch(device) -> None:
    out = VERSION[:20] + b"\xff\xfe\x00" + VERSION[20:40] + b"\xf0" + VERSION[40:]
    settings, _ = device(lambda ln: _shell(ln, {"show version": out}))
    c = _open(settings)
    try:
        c.logged_in = True
        assert c.command("show version") == VERSION.decode().replace("\r\n", "\n")
    finally:
        c.close()


# --- wrong baud rate --------------------------------------------------------------------------------


def uart_resample(data: bytes, tx_baud: int, rx_baud: int) -> bytes:
    """What a UART at ``rx_baud`` reads from 8N1 frames sent at ``tx_baud`` (16x oversampling)."""
    bits: list[int] = []
    for b in data:
        bits += [0] + [(b >> i) & 1 for i in range(8)] + [1]
    bits += [1] * 20

    def level(t: float) -> int:
        i = int(t * tx_baud)
        return bits[i] if i < len(bits) else 1

    out = bytearray()
    end = len(bits) / tx_baud
    t, step = 0.0, 1 / (16 * rx_baud)
    while t < end:
        if level(t) == 1:
            t += step
            continue
        byte = sum(level(t + (1.5 + k) / rx_baud) << k for k in range(8))
        out.append(byte)
        t += 9.5 / rx_baud  # to the stop bit, then hunt for the next start bit
    return bytes(out)


TEXT = (b"\r\nGenesys Cloud Edge bootloader 2.1\r\nBooting edge9 (Genesys Edge (virtual)) firmware 2026.11.1 ...\r\n"
        b"[    0.000000] Linux version 6.1.0-edge (builder@genesys) #1 SMP\r\n"
        b"Starting services: sip-trunk phone-trunk media cloud-link ... done\r\n\r\nedge9 login: ") * 6


@pytest.mark.parametrize(("tx", "rx"), [(115200, 9600), (9600, 115200), (115200, 57600), (57600, 115200)])
def test_wrong_baud_rate_is_reported_as_such(device, tx: int, rx: int) -> None:
    garbage = uart_resample(TEXT, tx, rx)
    assert len(garbage) >= 64

    def script(ln: Line) -> None:
        ln.send(garbage)
        while ln.line() is not None:
            ln.send(garbage)

    settings, _ = device(script)
    c = _open(settings.model_copy(update={"baudrate": rx}))
    try:
        with pytest.raises(LabProtocolError, match="baud-rate mismatch") as e:
            c.login()
        pct = int(str(e.value).split("mismatch: ")[1].split(" %")[0])
        assert pct >= BAUD_BAD_SHARE * 100 and f"console.baudrate {rx}" in str(e.value), str(e.value)
    finally:
        c.close()


def test_garbage_ending_like_a_prompt_is_not_matched_as_text(device) -> None:
    rng = random.Random(5)
    garbage = bytes(rng.choice(b"\x00\x80\xc0\xe0\xf0\xf8\xfc\xfe\xff\x1f\x9c") for _ in range(300))
    def script(ln: Line) -> None:
        ln.line()  # the wake-up CR: pyserial's open() drops what arrived before it (reset_input_buffer)
        ln.send(garbage + b"\r\nx> ")
        time.sleep(2.0)  # hold the line: a close racing the read would be "connection lost" instead

    settings, _ = device(script)
    c = _open(settings)
    try:
        c.send_line("")
        with pytest.raises(LabProtocolError, match=r"baud-rate mismatch: \d+ % of \d+ bytes"):
            c.expect([c.prompt])
    finally:
        c.close()


def test_right_speed_text_with_resampling_identity_is_clean() -> None:
    """The UART model reads its own speed back unchanged (so the garbage above is the model's, not a bug)."""
    assert uart_resample(TEXT[:200], 115200, 115200) == TEXT[:200]
