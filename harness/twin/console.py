"""Serial consoles of the twin: a TCP server per device with ``console.url = socket://host:port``.

The console behaves like a getty on a serial line reached through a terminal server: when the
service starts (power on, or heal after ``down``) it prints a boot banner and ``edge1 login:``;
then ``Password:`` (not echoed), then the device CLI at ``edge1> `` (the same CLI as over SSH, see
:func:`harness.twin.ssh.shell_for`). ``exit`` goes back to the login prompt. The line keeps its
state across TCP connections, as real hardware does: a new client may land at the prompt someone
left logged in. Output produced while no client is connected (the boot banner) is kept, up to
:data:`BACKLOG_BYTES`, and delivered to the next client.

Typed characters are echoed by the console (except the password); ``\\r``, ``\\n`` and ``\\r\\n``
all end a line. Sockets use ``TCP_NODELAY`` (character echo plus delayed ACK is 100x slower).
``rfc2217://`` and device-path consoles are not served by the twin.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import socket
from typing import TYPE_CHECKING

from .edge_logs import XmodemSend, console_noise
from .server import Service, service_factory
from .ssh import Shell, shell_for

if TYPE_CHECKING:
    from .server import Twin

log = logging.getLogger("hil.twin.console")
BACKLOG_BYTES = 8192  # project choice: a terminal server's buffer; enough for the boot banner


def boot_banner(twin: Twin, device: str) -> str:
    """What the device prints while it boots (an Edge's bootloader and kernel lines)."""
    st = twin.states[device]
    model = getattr(st, "model", st.platform)
    firmware = getattr(st, "firmware", getattr(st, "version", ""))
    if st.role != "edge":
        return f"\nBooting {device} ({model}) {firmware} ...\nSystem ready.\n\n"
    return (f"\nGenesys Cloud Edge bootloader 2.1\n"
            f"Booting {device} ({model}) firmware {firmware} ...\n"
            "[    0.000000] Linux version 6.1.0-edge (builder@genesys) #1 SMP\n"
            "[    1.204311] eth0: link up, 1000 Mb/s, full duplex\n"
            "Starting services: sip-trunk phone-trunk media cloud-link ... done\n\n")


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
        self._raw: XmodemSend | None = None  # a file transfer (`logs send`) that owns the line
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
        :mod:`.edge_software`): a logged-in session ends, ``text`` (the boot banner …) is printed and
        typed input is ignored until a call with ``done`` prints the login prompt (the getty starts)."""
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
            raw = getattr(self.shell, "raw", None)  # `logs send` (edge_logs.py): the transfer owns the line
            if raw is not None and not close:
                self._raw = raw
                raw.start(self._write_raw, self._raw_done)
            elif close:
                self._reset()
                self._write("\n" + self._login_prompt())
            else:
                self._write(self.shell.prompt())

    def _check_login(self, password: str) -> None:
        user_ok = self.username is None or self.user == self.username
        pw_ok = self.password is None or hmac.compare_digest(password.encode(), self.password.encode())
        if user_ok and pw_ok:
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


@service_factory
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
