"""Serial consoles of the twin: a TCP server per device with ``console.url = socket://host:port``.

The console behaves like a getty on a serial line reached through a terminal server: when the
service starts (power on, or heal after ``down``) it prints a boot banner (the role's
``boot_banner``, else :func:`booting`) and ``edge1 login:``; then ``Password:`` (not echoed), then
the device CLI at ``edge1> `` (the same CLI as over SSH, see :func:`.shell.shell_for`). ``exit``
goes back to the login prompt. The line keeps its state across TCP connections, as real hardware
does: a new client may land at the prompt someone left logged in. Output produced while no client
is connected (the boot banner) is kept, up to :data:`BACKLOG_BYTES`, and delivered to the next
client.

Typed characters are echoed by the console (except the password); ``\\r``, ``\\n`` and ``\\r\\n``
all end a line. Sockets use ``TCP_NODELAY`` (character echo plus delayed ACK is 100x slower).
``rfc2217://`` and device-path consoles are not served by the twin.

A shell that sets ``raw`` after a command (an Edge's ``logs send``) hands the line to that file
transfer (:class:`FileSend`) until it ends. The ``console-noise`` fault (declared here, read by
:func:`console_noise`) bends everything the line writes; the ``console-eats-first-char`` fault
(declared here, read in :meth:`ConsoleService.feed`) drops the first byte typed after the line has
been quiet for :data:`EAT_IDLE_S`, as a line whose receiver wakes on the first byte does.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import random
import re
import socket
import time
from collections.abc import Callable
from typing import Protocol

from ..core.faces import Shell
from ..core.faults import declare
from ..core.twin import Service, Twin, Undo, server_factory
from .shell import shell_for

log = logging.getLogger("hil.twin.console")
BACKLOG_BYTES = 8192  # project choice: a terminal server's buffer; enough for the boot banner


class FileSend(Protocol):
    """A file transfer that owns the line (an Edge's XMODEM ``logs send``): :meth:`start` gets the
    raw writer and a callback for the end message, :meth:`feed` every byte the receiver sends."""

    def start(self, write: Callable[[bytes], None], done: Callable[[str], None]) -> None: ...

    def feed(self, data: bytes) -> None: ...

    def cancel(self) -> None: ...


def booting(device: str, model: str, firmware: str) -> str:
    """A plain boot banner: ``Booting sw1 (WS-C3850-48P) 16.12.4 ...`` and ``System ready.``"""
    return f"\nBooting {device} ({model}) {firmware} ...\nSystem ready.\n\n"


def boot_banner(twin: Twin, device: str) -> str:
    """What the device prints while it boots: its role's banner, else :func:`booting` with its platform."""
    banner = twin.roles[device].boot_banner
    if banner is not None:
        return banner(twin, device)
    return booting(device, twin.states[device].platform, "")


# --- console-noise -------------------------------------------------------------------------------------

# project choice (docs/edge-logs.md): a glitch on an idle serial line reads as a start bit followed by
# ones, i.e. bytes with the high bits set; a long low pulse reads as NUL (a break)
GLITCH_BYTES = bytes((0x00, 0x80, 0xC0, 0xE0, 0xF0, 0xF8, 0xFC, 0xFE, 0xFF))
PASTES = (b"show version\r", b"ls -la\r", b"admin", b"logs send\r", b"\x1b[A")  # someone's paste
NOISE_SMALL_WRITE = 64  # bytes: an echo, a prompt, a short line
NOISE_P_SMALL = 0.03  # chance of one noise event in a small write
NOISE_BYTES_PER_EVENT = 256 * 1024  # in larger writes: one event per 256 KiB on average
BARE_LF_P = 0.25  # share of CRLF line ends written as a bare LF
_NOISE = "console-noise"  # twin.shared key: device -> its noise generator


async def _noise_on(twin: Twin, device: str) -> Undo:
    rngs = twin.shared.setdefault(_NOISE, {})
    rngs[device] = random.Random(device)  # seeded: a test sees the same noise for the same output

    async def undo() -> None:
        rngs.pop(device, None)

    return undo


CONSOLE_NOISE = declare("console-noise", ("edge", "switch", "phone", "pstn"), "stray glitch bytes and "
                        "bracketed-paste escapes (ESC[200~ … ESC[201~) at random points of the console's output, "
                        "some CRLF line ends as bare LF", _noise_on)


def console_noise(twin: Twin, device: str, data: bytes, raw: bool = False) -> bytes:
    """``data`` as a noisy console line delivers it, while ``device`` has the ``console-noise`` fault.

    At random points (seeded per device when the fault is applied): glitch bytes
    (:data:`GLITCH_BYTES`, 1-3 of them) or a bracketed paste ``ESC[200~ … ESC[201~``; in text
    (``raw`` false) a share :data:`BARE_LF_P` of CRLF line ends comes as a bare LF. Unchanged
    without the fault.
    """
    st = twin.states.get(device)
    if st is None or not CONSOLE_NOISE.on(st) or not data:
        return data
    rng: random.Random = twin.shared.setdefault(_NOISE, {}).setdefault(device, random.Random(device))
    if not raw and b"\r\n" in data:
        parts = data.split(b"\r\n")
        data = parts[0] + b"".join((b"\n" if rng.random() < BARE_LF_P else b"\r\n") + p for p in parts[1:])
    p = NOISE_P_SMALL if len(data) <= NOISE_SMALL_WRITE else len(data) / NOISE_BYTES_PER_EVENT
    while p > 0:
        if rng.random() < min(p, 1.0):
            at = rng.randrange(len(data) + 1)
            if rng.random() < 0.6:
                junk = bytes(rng.choice(GLITCH_BYTES) for _ in range(rng.randint(1, 3)))
            else:
                junk = b"\x1b[200~" + rng.choice(PASTES) + b"\x1b[201~"
            data = data[:at] + junk + data[at:]
        p -= 1.0
    return data


# --- console-eats-first-char ---------------------------------------------------------------------------

#: project choice: quiet time after which the line loses the next byte typed (a console server or
#: USB-serial adapter that sleeps when idle wakes on that byte and does not pass it on)
EAT_IDLE_S = 0.5

CONSOLE_EATS_FIRST_CHAR = declare(
    "console-eats-first-char", ("edge", "switch", "phone", "pstn"),
    f"the console loses the first byte typed after {EAT_IDLE_S:g} s of quiet: a command comes without its "
    "first character (the device answers its unknown-command error, e.g. `Unknown command: 'cho hi'`)")


# --- the console line ----------------------------------------------------------------------------------


class ConsoleService:
    """The console line of one device: login state machine plus the device CLI."""

    name = "console"

    def __init__(self, twin: Twin, device: str, host: str, port: int) -> None:
        self.twin, self.device, self.host, self.port = twin, device, host, port
        con = twin.lab.devices[device].console
        assert con is not None
        self.username = con.username
        self.password_ref = con.password
        self.password: str | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._backlog = bytearray()
        self._raw: FileSend | None = None  # a file transfer (`logs send`) that owns the line
        self._typed_at = 0.0  # monotonic time of the last byte typed (console-eats-first-char)
        self._reset()

    def _reset(self) -> None:
        self.state = "login"  # login | password | shell | booting
        self.user = ""
        self.shell: Shell | None = None
        self._line = ""
        self._after_cr = False

    # -- output ------------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        data = console_noise(self.twin, self.device, text.replace("\r\n", "\n").replace("\n", "\r\n").encode())
        if not self._writers:
            self._backlog += data
            del self._backlog[:-BACKLOG_BYTES]
            return
        for w in list(self._writers):
            w.write(data)

    def _write_raw(self, data: bytes) -> None:
        """A file transfer's bytes: no line-end translation, no backlog (noise still applies)."""
        data = console_noise(self.twin, self.device, data, raw=True)
        for w in list(self._writers):
            w.write(data)

    def _raw_done(self, message: str) -> None:
        self._raw = None
        self._write(f"\n{message}\n" + self._current_prompt())

    def _cancel_raw(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            raw.cancel()

    def _login_prompt(self) -> str:
        return f"{self.device} login: "

    def boot(self, text: str, done: bool = False) -> None:
        """The device reboots under the line, which stays connected (an Edge's software install,
        :mod:`harness.twin.edge.software`): a logged-in session ends, ``text`` (the boot banner …) is
        printed and typed input is ignored until a call with ``done`` prints the login prompt (the
        getty starts)."""
        self._cancel_raw()
        if self.state != "booting":
            self._reset()
            self.state = "booting"
        self._write(text)
        if done:
            self._reset()
            self._write(self._login_prompt())

    # -- input -------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Process bytes typed on the line: echo, edit, and act on complete lines."""
        if self._raw is not None:  # the receiver's ACK/NAK/C of a file transfer
            self._raw.feed(data)
            return
        if self.state == "booting":  # nothing reads the line until the login prompt (see boot)
            return
        now, quiet_since = time.monotonic(), self._typed_at
        self._typed_at = now
        if now - quiet_since >= EAT_IDLE_S and CONSOLE_EATS_FIRST_CHAR.on(self.twin.states[self.device]):
            data = data[1:]
        for ch in data.decode(errors="replace"):
            if ch == "\n" and self._after_cr:
                self._after_cr = False
                continue
            self._after_cr = ch == "\r"
            if ch in "\r\n":
                line, self._line = self._line, ""
                self._write("\n")
                self._on_line(line)
            elif ch in "\x7f\x08":
                if self._line:
                    self._line = self._line[:-1]
                    if self.state != "password":
                        self._write("\b \b")
            elif ch == "\x03":
                self._line = ""
                self._write("^C\n" + self._current_prompt())
            elif ch.isprintable():
                self._line += ch
                if self.state != "password":
                    self._write(ch)

    def _current_prompt(self) -> str:
        if self.state == "login":
            return self._login_prompt()
        if self.state == "password":
            return "Password: "
        assert self.shell is not None
        return self.shell.prompt()

    def _on_line(self, line: str) -> None:
        if self.state == "login":
            if not line.strip():
                self._write(self._login_prompt())
                return
            self.user = line.strip()
            if self.password is None:
                self._check_login("")
            else:
                self.state = "password"
                self._write("Password: ")
        elif self.state == "password":
            self._check_login(line)
        else:
            assert self.shell is not None
            out, close = self.shell.handle(line)
            self._write(out)
            raw: FileSend | None = getattr(self.shell, "raw", None)  # a file transfer (`logs send`) owns the line
            if raw is not None and not close:
                self._raw = raw
                raw.start(self._write_raw, self._raw_done)
            elif close:
                log.info("%s console: %s logged out", self.device, self.user)
                self._reset()
                self._write("\n" + self._login_prompt())
            else:
                self._write(self.shell.prompt())

    def _check_login(self, password: str) -> None:
        user_ok = self.username is None or self.user == self.username
        pw_ok = self.password is None or hmac.compare_digest(password.encode(), self.password.encode())
        if user_ok and pw_ok:
            log.info("%s console: %s logged in", self.device, self.user)
            self.state = "shell"
            self.shell = shell_for(self.twin, self.device, console=True)
            self._write(f"Last login: on ttyS0\n{self.shell.prompt()}")
        else:
            self._reset()
            self._write("\nLogin incorrect\n\n" + self._login_prompt())

    # -- service -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._server is not None:
            return
        self.password = self.twin.secret(self.password_ref)
        self._reset()
        self._backlog.clear()
        self._server = await asyncio.start_server(self._client, self.host, self.port, reuse_address=True)
        self._write(boot_banner(self.twin, self.device) + self._login_prompt())

    async def stop(self) -> None:
        srv, self._server = self._server, None
        self._cancel_raw()
        if srv is not None:
            srv.close()
        for w in list(self._writers):
            w.close()
        self._writers.clear()
        if srv is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(srv.wait_closed(), 2.0)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._writers.add(writer)
        if self._backlog:
            writer.write(bytes(self._backlog))
            self._backlog.clear()
        try:
            while data := await reader.read(4096):
                self.feed(data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            if not self._writers:
                self._cancel_raw()
            writer.close()


@server_factory(rank=20)
def console_services(twin: Twin, device: str) -> list[Service]:
    """The console of ``device`` when its ``console.url`` is ``socket://host:port``."""
    con = twin.lab.devices[device].console
    if con is None:
        return []
    m = re.fullmatch(r"socket://(\S+):(\d+)", con.url)
    if not m:
        log.warning("%s: console %s is not socket://host:port; the twin does not serve it", device, con.url)
        return []
    return [ConsoleService(twin, device, m.group(1), int(m.group(2)))]
