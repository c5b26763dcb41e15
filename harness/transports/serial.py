"""Serial console transport (pyserial): device paths, ``socket://`` and ``rfc2217://`` URLs.

:class:`SerialConsole` opens the port with ``serial.serial_for_url`` and talks to it with a
regex :meth:`~SerialConsole.expect` loop (pyserial's ``read_until`` only knows one literal).
A console keeps its state across connections, so :meth:`~SerialConsole.login` copes with landing
at ``login:``, at ``Password:`` or already at the prompt. Prompts and the login prompt are matched
only at the end of what the device has sent so far, so stale prompts in the stream are skipped.

Errors (transport ``"serial"``, address = the console URL): LabUnreachable (the port cannot be
opened or the connection drops), LabTimeout (no expected pattern within ``console.timeout_s``),
LabAuthError (``Login incorrect``), LabProtocolError (the console never offers a login or prompt).
"""

from __future__ import annotations

import codecs
import contextlib
import re
import threading
import time
from collections.abc import Callable, Sequence

import serial

from ..errors import LabAuthError, LabError, LabProtocolError, LabTimeout, LabUnreachable
from ..inventory.models import ConsoleSettings
from .base import TransportSession
from .transcript import Transcript

Resolve = Callable[[str], str]
Pattern = str | re.Pattern[str]

PROMPT = re.compile(r"(?m)^[\w.-]+ ?[>#$] ?\Z")
LOGIN = re.compile(r"(?i)login: ?\Z")
PASSWORD = re.compile(r"(?i)password: ?\Z")
INCORRECT = re.compile(r"(?i)login incorrect")
POLL_S = 0.05  # project choice: read granularity; a socket:// round trip is ~0.4 ms on loopback
MAX_LOGIN_STEPS = 6


class SerialConsole(TransportSession):
    """An open console line.

    Args:
        device: inventory name; settings: the device's ConsoleSettings (url, baudrate,
        username, password reference, timeout_s); resolve: secret resolver (called at login);
        transcript: records what was sent and received (the password as ``*****``).
    """

    transport = "serial"

    def __init__(self, device: str, settings: ConsoleSettings, resolve: Resolve, transcript: Transcript,
                 prompt: re.Pattern[str] = PROMPT) -> None:
        self.device, self.settings, self.resolve, self.transcript = device, settings, resolve, transcript
        self.address = settings.url
        self.prompt = prompt
        self.logged_in = False
        self._buf = self._cr = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lock = threading.RLock()
        self._port: serial.SerialBase | None = None
        self._open()

    def _open(self) -> None:
        self.transcript.event(f"open {self.address}")
        try:
            self._port = serial.serial_for_url(self.address, baudrate=self.settings.baudrate, timeout=POLL_S,
                                               write_timeout=self.settings.timeout_s)
        except (serial.SerialException, OSError, ValueError) as e:
            raise self._error(LabUnreachable, f"cannot open console: {e}") from None
        self._buf = self._cr = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.logged_in = False

    def _io_port(self) -> serial.SerialBase:
        if self._port is None or not self._port.is_open:
            self._open()
        assert self._port is not None
        return self._port

    def _lost(self, e: Exception) -> LabError:
        self.close()
        return self._error(LabUnreachable, f"console connection lost: {e}")

    def expect(self, patterns: Sequence[Pattern], timeout_s: float | None = None
               ) -> tuple[int, re.Match[str], str]:
        """Read until one of ``patterns`` matches; return ``(index, match, text up to the match end)``.

        The earliest-ending match wins; what follows it stays buffered for the next call.
        Raises LabTimeout (with the tail of what arrived) after ``timeout_s``
        (default ``console.timeout_s``).
        """
        t = timeout_s or self.settings.timeout_s
        regs = [re.compile(p) if isinstance(p, str) else p for p in patterns]
        deadline = time.monotonic() + t
        with self._lock:
            port = self._io_port()
            while True:
                hits = [(m.end(), i, m) for i, r in enumerate(regs) if (m := r.search(self._buf))]
                if hits:
                    end, i, m = min(hits, key=lambda h: (h[0], h[1]))
                    text, self._buf = self._buf[:end], self._buf[end:]
                    self.transcript.received(text)
                    return i, m, text
                if time.monotonic() >= deadline:
                    tail = self._buf[-200:]
                    raise self._error(LabTimeout, f"none of {[r.pattern for r in regs]} within {t:g} s; "
                                                  f"last output {tail!r}")
                self._buf += self._read(port)

    def _read(self, port: serial.SerialBase) -> str:
        """What arrived within POLL_S, line ends normalised to ``\\n`` (a CR split off a CRLF waits)."""
        try:
            data = port.read(1)  # blocks up to POLL_S
            if data:  # then take whatever else is there without waiting (socket:// in_waiting is 0/1)
                port.timeout = 0
                try:
                    data += port.read(65536)
                finally:
                    port.timeout = POLL_S
        except (serial.SerialException, OSError) as e:
            raise self._lost(e) from None
        text = self._cr + self._decoder.decode(data)
        self._cr = "\r" if text.endswith("\r") else ""
        if self._cr:
            text = text[:-1]
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def send_line(self, text: str, secret: bool = False) -> None:
        """Send ``text`` and a carriage return. ``secret`` keeps the text out of the transcript."""
        with self._lock:
            self.transcript.sent("*****" if secret else text)
            try:
                self._io_port().write((text + "\r").encode())
                self._io_port().flush()
            except (serial.SerialException, OSError) as e:
                raise self._lost(e) from None

    def login(self) -> None:
        """Reach the device prompt from wherever the line is: login prompt, password prompt or shell.

        Raises LabAuthError when the console answers ``Login incorrect``.
        """
        s = self.settings
        with self._lock:
            self.send_line("")  # wake the line: the device repeats its current prompt
            for _ in range(MAX_LOGIN_STEPS):
                i, _, _ = self.expect([self.prompt, PASSWORD, LOGIN, INCORRECT])
                if i == 0:
                    self.logged_in = True
                    return
                if i == 1:  # someone left the line at Password: -> fail that attempt, start over
                    self.send_line("", secret=True)
                    continue
                if i == 3:  # a stale failure message; the login prompt follows
                    continue
                self.send_line(s.username or "")
                if s.password:
                    self.expect([PASSWORD])
                    self.send_line(self.resolve(s.password), secret=True)
                j, _, _ = self.expect([self.prompt, INCORRECT])
                if j == 1:
                    raise self._error(LabAuthError, f"console login for user {s.username!r} refused")
                self.logged_in = True
                return
            raise self._error(LabProtocolError, "console offers neither a login prompt nor a shell prompt")

    def command(self, cmd: str, timeout_s: float | None = None) -> str:
        """Run ``cmd`` at the device prompt (logging in first if needed); return its output.

        The echoed command line and the next prompt are removed; lines end with ``\\n``.
        """
        with self._lock:
            if not self.logged_in:
                self.login()
            for attempt in (1, 2):
                self.send_line(cmd)
                i, m, text = self.expect([self.prompt, LOGIN], timeout_s)
                if i == 0:
                    break
                self.logged_in = False  # logged out under us (another client typed exit)
                if attempt == 2:
                    raise self._error(LabProtocolError, f"console logged out while running {cmd!r}")
                self.login()
            lines = text[: m.start()].split("\n")
            if lines and lines[0].strip() == cmd.strip():
                lines = lines[1:]
            return "\n".join(lines).strip("\n") + "\n"

    def close(self) -> None:
        port, self._port = self._port, None
        self.logged_in = False
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()
            self.transcript.event("closed")
