"""Serial console transport (pyserial): device paths, ``socket://`` and ``rfc2217://`` URLs.

:class:`SerialConsole` opens the port with ``serial.serial_for_url`` and talks to it with a
regex :meth:`~SerialConsole.expect` loop (pyserial's ``read_until`` only knows one literal).
A console keeps its state across connections, so :meth:`~SerialConsole.login` copes with landing
at ``login:``, at ``Password:`` or already at the prompt. Prompts and the login prompt are matched
only at the end of what the device has sent so far, so stale prompts in the stream are skipped.

Real console lines are noisy; what arrives goes through :class:`ConsoleText` before any pattern
sees it:

* ANSI escape sequences are dropped (CSI such as ``ESC[?2004h``, OSC titles, two-byte escapes), and
  a bracketed paste ``ESC[200~ … ESC[201~`` is dropped with its content: it is someone's paste
  echoed back, not the device's output;
* other control characters and bytes that are not UTF-8 (line glitches) are dropped; ``\\r\\n``,
  a bare ``\\r`` and a bare ``\\n`` all end a line (``\\n`` in the text);
* prompts survive a lost first character (``dge1>``, ``ogin:``, ``assword:``); a login prompt
  that comes again (a getty that restarted, a line someone else woke) is answered again, once the
  line has been quiet for :data:`SETTLE_S`, so a prompt still in flight is not answered twice.

Binary garbage, which is what a console at the wrong baud rate reads, is reported instead of
being matched as text: when at least :data:`BAUD_MIN_BYTES` bytes arrived during an
:meth:`~SerialConsole.expect` and :data:`BAUD_BAD_SHARE` of them or more were not printable,
it raises LabProtocolError ``console output looks like a baud-rate mismatch: 71 % of 512 bytes
received are not printable text …`` (at once after :data:`BAUD_EARLY_BYTES` such bytes, else when a
pattern matched or the deadline passed).

File transfers (XMODEM, :mod:`harness.transports.console_xfer`) use :meth:`SerialConsole.raw`:
8-bit access to the line with per-read deadlines, the text path set aside.

Closing a session logs it out first (:meth:`SerialConsole.logout`: ``exit``, then the login prompt),
so a run never leaves a console logged in for whoever opens it next.

Errors (transport ``"serial"``, address = the console URL): LabUnreachable (the port cannot be
opened or the connection drops), LabTimeout (no expected pattern within ``console.timeout_s``),
LabAuthError (``Login incorrect``), LabProtocolError (the console never offers a login or prompt;
a baud-rate mismatch).
"""

from __future__ import annotations

import codecs
import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import serial

from ..errors import LabAuthError, LabError, LabProtocolError, LabTimeout, LabUnreachable
from ..inventory.models import ConsoleSettings
from .base import TransportSession
from .transcript import Transcript

Resolve = Callable[[str], str]
Pattern = str | re.Pattern[str]

#: The default shell prompt, at the end of what the device sent (project choice, from the prompts of
#: the shells and network OSes consoles land in): ``host> ``, ``host# ``, ``host(config)# ``
#: (Cisco IOS, Genesys Edge), ``user@host> `` (Junos), ``user@host:~# ``/``user@host:/var/log$ ``
#: (Debian/Ubuntu bash), ``[user@host ~]$ `` (RHEL bash). A lost first character still matches.
#: A device with another prompt sets ``console.prompt`` in the inventory.
PROMPT = re.compile(r"(?m)^(?:\[?[\w.-]+@[\w.-]+(?: [^\]\n]*)?\]"  # [user@host ~]$
                    r"|(?:[\w.-]+@)?[\w.-]+(?::[^\s>#$]*)?(?:\([\w./-]+\))?)"  # user@host:~# / host(config)#
                    r" ?[>#$] ?\Z")
LOGIN = re.compile(r"(?i)(?:l?ogin|username): ?\Z")  # "ogin:": the line lost the first character
PASSWORD = re.compile(r"(?i)p?assword: ?\Z")
INCORRECT = re.compile(r"(?i)ogin incorrect")
POLL_S = 0.05  # project choice: read granularity; a socket:// round trip is ~0.4 ms on loopback
SETTLE_S = 0.15  # project choice: quiet time before a login step is answered (a loopback echo is < 5 ms)
MAX_LOGIN_STEPS = 8
WAKE_S = 1.0  # project choice: a line that answers nothing to the wake-up CR this long is woken again
#: What a device answers to a command it did not understand (bash/sh, Genesys Edge, Cisco IOS/NX-OS,
#: Junos, BusyBox): with the command's first word short of its first character in it, or after an
#: echo short of it, the line lost that character (project choice, from these shells' messages).
UNKNOWN_COMMAND = re.compile(r"(?i)unknown command|command not found|: not found|invalid input|"
                             r"unrecognized command|invalid command|bad command|syntax error")
BAUD_MIN_BYTES = 64  # project choice: fewer bytes prove nothing (one glitch burst is 1-3 bytes)
BAUD_EARLY_BYTES = 1024  # project choice: this much garbage needs no deadline to be judged
BAUD_BAD_SHARE = 0.25  # project choice: text at the right speed has < 5 % even on a noisy line
PASTE_MAX_CHARS = 4096  # project choice: a paste that never closes stops being dropped after this
LOGOUT_TIMEOUT_S = 2.0  # project choice: a console answers `exit` in milliseconds; a close must not hang

_OK_CONTROLS = "\t\n\r\b\x07\x1b"  # tab, line ends, backspace, bell, escape: terminal text, not garbage
_ESC_SEQ = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_ESC_PARTIAL = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*\x1b?)?")
_PASTE_START, _PASTE_END = "\x1b[200~", "\x1b[201~"
_ESC_HOLD_MAX = 64


def prompt_pattern(settings: ConsoleSettings, default: re.Pattern[str] = PROMPT) -> re.Pattern[str]:
    """The prompt a console waits for: the inventory's ``console.prompt`` (a regular expression,
    matched at the end of what the device sent), else ``default``."""
    if settings.prompt is None:
        return default
    return re.compile(rf"(?m)(?:{settings.prompt})\Z")


def lost_first_character(cmd: str, output: str) -> str | None:
    """The device's complaint when ``output`` says the device got ``cmd`` without its first
    character (``Unknown command 'cho'`` for ``echo hi``; or an echo ``cho hi`` and an error); None
    when it did not. ``output`` is what came before the next prompt, the echo line included."""
    words = cmd.split()
    if not words or len(words[0]) < 2:
        return None
    short = words[0][1:]
    lines = [ln.strip() for ln in output.split("\n") if ln.strip()]
    echoed_short = bool(lines) and lines[0] == cmd.strip()[1:]
    word = re.compile(rf"(?<![\w.-]){re.escape(short)}(?![\w.-])")
    for ln in lines[1:4] if lines and lines[0] in (cmd.strip(), cmd.strip()[1:]) else lines[:3]:
        if UNKNOWN_COMMAND.search(ln) and (echoed_short or (word.search(ln) and not re.search(
                rf"(?<![\w.-]){re.escape(words[0])}(?![\w.-])", ln))):
            return ln
    return None


def _partial_suffix(s: str, marker: str) -> str:
    """The longest end of ``s`` that is a beginning of ``marker`` (kept until more text comes)."""
    for n in range(min(len(s), len(marker) - 1), 0, -1):
        if marker.startswith(s[-n:]):
            return s[-n:]
    return ""


class ConsoleText:
    """Bytes from a console line in, clean text out, incrementally (see the module docstring).

    ``seen_bytes`` and ``bad_bytes`` count what was fed: a byte is bad when it is a control
    character other than tab, CR, LF, backspace, bell and ESC, or not valid UTF-8 (an invalid
    sequence counts once).
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""
        self._paste = False
        self._pasted = 0
        self._cr = False
        self.seen_bytes = 0
        self.bad_bytes = 0

    def _count(self, text: str) -> None:
        if text.isascii() and text.isprintable():
            self.seen_bytes += len(text)
            return
        for ch in text:
            if ch == "\ufffd" or not (ch.isprintable() or ch in _OK_CONTROLS):
                self.bad_bytes += 1
                self.seen_bytes += 1
            else:
                self.seen_bytes += len(ch.encode())

    def _strip_escapes(self, s: str) -> str:
        out: list[str] = []
        i = 0
        while i < len(s):
            if self._paste:
                j = s.find(_PASTE_END, i)
                if j < 0:
                    keep = _partial_suffix(s[i:], _PASTE_END)
                    self._pasted += len(s) - i - len(keep)
                    self._held = keep
                    if self._pasted > PASTE_MAX_CHARS:  # never closed: stop dropping
                        self._paste, self._held = False, ""
                    return "".join(out)
                self._paste = False
                i = j + len(_PASTE_END)
                continue
            j = s.find("\x1b", i)
            if j < 0:
                out.append(s[i:])
                break
            out.append(s[i:j])
            if s.startswith(_PASTE_START, j):
                self._paste, self._pasted = True, 0
                i = j + len(_PASTE_START)
                continue
            m = _ESC_SEQ.match(s, j)
            if m:
                i = m.end()
                continue
            rest = s[j:]
            if len(rest) < _ESC_HOLD_MAX and _ESC_PARTIAL.fullmatch(rest):
                self._held = rest  # an escape sequence cut by the read: wait for its end
                break
            i = j + 1  # a lone ESC
        return "".join(out)

    def feed(self, data: bytes) -> str:
        """Clean text for ``data`` (may hold back the start of an escape sequence or a CR)."""
        text = self._decoder.decode(data)
        self._count(text)
        s, self._held = self._held + text, ""
        s = self._strip_escapes(s)
        if not (s.isascii() and s.isprintable()):
            s = "".join(ch for ch in s if ch in "\t\n\r" or (ch.isprintable() and ch != "\ufffd"))
        if self._cr:
            s = "\r" + s
        self._cr = s.endswith("\r")
        if self._cr:
            s = s[:-1]
        return s.replace("\r\n", "\n").replace("\r", "\n")


class RawLine:
    """8-bit access to an open console line (from :meth:`SerialConsole.raw`)."""

    def __init__(self, console: SerialConsole, port: serial.SerialBase) -> None:
        self.console, self.port = console, port

    def read(self, size: int, timeout_s: float) -> bytes:
        """Up to ``size`` bytes, returning early only when ``timeout_s`` passed (b"" if nothing came)."""
        try:
            self.port.timeout = max(0.0, timeout_s)
            return bytes(self.port.read(size))
        except (serial.SerialException, OSError) as e:
            raise self.console._lost(e) from None

    def write(self, data: bytes) -> int:
        try:
            n = self.port.write(data)
            self.port.flush()
            return int(n or len(data))
        except (serial.SerialException, OSError) as e:
            raise self.console._lost(e) from None


class SerialConsole(TransportSession):
    """An open console line.

    Args:
        device: inventory name; settings: the device's ConsoleSettings (url, baudrate,
        username, password reference, timeout_s); resolve: secret resolver (called at login);
        transcript: records what was sent and received (the password as ``*****``).
    """

    transport = "serial"
    #: what ends a shell session at the device prompt (Genesys Edge, Linux, Cisco IOS all take it)
    logout_command = "exit"

    def __init__(self, device: str, settings: ConsoleSettings, resolve: Resolve, transcript: Transcript,
                 prompt: re.Pattern[str] | None = None) -> None:
        self.device, self.settings, self.resolve, self.transcript = device, settings, resolve, transcript
        self.address = settings.url
        self.prompt = prompt_pattern(settings, prompt or PROMPT)
        self.logged_in = False
        self._buf = ""
        self._text = ConsoleText()
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
        self._buf = ""
        self._text.reset()
        self.logged_in = False

    def _io_port(self) -> serial.SerialBase:
        if self._port is None or not self._port.is_open:
            self._open()
        assert self._port is not None
        return self._port

    def _lost(self, e: Exception) -> LabError:
        self._close_port()  # no logout over a line that is gone
        return self._error(LabUnreachable, f"console connection lost: {e}")

    def _baud_check(self, seen0: int, bad0: int, at_least: int) -> None:
        seen, bad = self._text.seen_bytes - seen0, self._text.bad_bytes - bad0
        if seen >= at_least and bad >= BAUD_BAD_SHARE * seen:
            raise self._error(LabProtocolError,
                              f"console output looks like a baud-rate mismatch: {100 * bad / seen:.0f} % of {seen} "
                              f"bytes received are not printable text (console.baudrate {self.settings.baudrate}); "
                              "check the speed the device's console runs at")

    def expect(self, patterns: Sequence[Pattern], timeout_s: float | None = None, settle_s: float = 0.0,
               check_baud: bool = True) -> tuple[int, re.Match[str], str]:
        """Read until one of ``patterns`` matches; return ``(index, match, text up to the match end)``.

        The earliest-ending match wins; what follows it stays buffered for the next call. With
        ``settle_s`` a match counts only once nothing more arrived for that long (the line is
        quiet), so a pattern anchored at the end (``\\Z``) sees the device's last word.
        Raises LabTimeout (with the tail of what arrived) after ``timeout_s`` (default
        ``console.timeout_s``), LabProtocolError when what arrived looks like a baud-rate mismatch
        (unless ``check_baud`` is false).
        """
        t = timeout_s or self.settings.timeout_s
        regs = [re.compile(p) if isinstance(p, str) else p for p in patterns]
        deadline = time.monotonic() + t
        seen0, bad0 = self._text.seen_bytes, self._text.bad_bytes
        with self._lock:
            port = self._io_port()
            while True:
                hits = [(m.end(), i, m) for i, r in enumerate(regs) if (m := r.search(self._buf))]
                if hits and settle_s and time.monotonic() < deadline:
                    more = self._read(port, settle_s)
                    if more:
                        self._buf += more
                        continue
                if hits:
                    if check_baud:
                        self._baud_check(seen0, bad0, BAUD_MIN_BYTES)
                    end, i, m = min(hits, key=lambda h: (h[0], h[1]))
                    text, self._buf = self._buf[:end], self._buf[end:]
                    self.transcript.received(text)
                    return i, m, text
                if time.monotonic() >= deadline:
                    if check_baud:
                        self._baud_check(seen0, bad0, BAUD_MIN_BYTES)
                    tail = self._buf[-200:]
                    raise self._error(LabTimeout, f"none of {[r.pattern for r in regs]} within {t:g} s; "
                                                  f"last output {tail!r}")
                self._buf += self._read(port)
                if check_baud:
                    self._baud_check(seen0, bad0, BAUD_EARLY_BYTES)

    def _read(self, port: serial.SerialBase, wait_s: float = POLL_S) -> str:
        """Clean text of what arrived within ``wait_s`` (see :class:`ConsoleText`)."""
        try:
            port.timeout = wait_s
            data = port.read(1)  # blocks up to wait_s
            if data:  # then take whatever else is there without waiting (socket:// in_waiting is 0/1)
                port.timeout = 0
                data += port.read(65536)
        except (serial.SerialException, OSError) as e:
            raise self._lost(e) from None
        finally:
            if self._port is not None:
                port.timeout = POLL_S
        return self._text.feed(data) if data else ""

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

        Each step waits for the line to settle (:data:`SETTLE_S`) and answers what the device said
        last: the username at a login prompt (again if the prompt comes again), the password at
        ``Password:`` when the username was just sent (an empty line at a stale one, to start over).
        Raises LabAuthError when the console answers ``Login incorrect`` to the credentials,
        LabProtocolError when no shell prompt comes within :data:`MAX_LOGIN_STEPS` steps.
        """
        s = self.settings
        with self._lock:
            self.send_line("")  # wake the line: the device repeats its current prompt
            sent_user = sent_password = False
            woken = False
            for _ in range(MAX_LOGIN_STEPS):
                patterns = [self.prompt, PASSWORD, LOGIN, INCORRECT]
                if not woken:  # a line that lost the wake-up CR (it ate the first byte) is woken again
                    woken = True
                    try:
                        i, _, _ = self.expect(patterns, timeout_s=min(WAKE_S, s.timeout_s), settle_s=SETTLE_S)
                    except LabTimeout:
                        self.send_line("")
                        i, _, _ = self.expect(patterns, settle_s=SETTLE_S)
                else:
                    i, _, _ = self.expect(patterns, settle_s=SETTLE_S)
                if i == 0:
                    self.logged_in = True
                    return
                if i == 3:
                    if sent_password:
                        raise self._error(LabAuthError, f"console login for user {s.username!r} refused")
                    continue  # a stale failure message; the login prompt follows
                if i == 1 and sent_user and s.password:
                    self.send_line(self.resolve(s.password), secret=True)
                    sent_user, sent_password = False, True
                elif i == 1:  # someone left the line at Password: -> fail that attempt, start over
                    self.send_line("", secret=True)
                    sent_user = sent_password = False
                else:
                    self.send_line(s.username or "")
                    sent_user, sent_password = True, not s.password
            raise self._error(LabProtocolError, "console offers neither a login prompt nor a shell prompt")

    def _run(self, cmd: str, timeout_s: float | None) -> tuple[str, re.Match[str]]:
        """Send ``cmd`` and read up to the next prompt (logging in again, once, when the line was
        logged out under us); the text read and the prompt's match."""
        for attempt in (1, 2):
            self.send_line(cmd)
            i, m, text = self.expect([self.prompt, LOGIN], timeout_s)
            if i == 0:
                return text, m
            self.logged_in = False  # logged out under us (another client typed exit)
            if attempt == 2:
                break
            self.login()
        raise self._error(LabProtocolError, f"console logged out while running {cmd!r}")

    @staticmethod
    def _is_echo(line: str, cmd: str) -> bool:
        """``line`` is the echo of ``cmd``, perhaps without its first character (a lossy line)."""
        got, want = line.strip(), cmd.strip()
        return got == want or (len(got) >= len(want) - 1 > 0 and want.endswith(got))

    def command(self, cmd: str, timeout_s: float | None = None) -> str:
        """Run ``cmd`` at the device prompt (logging in first if needed); return its output.

        The echoed command line and the next prompt are removed; lines end with ``\\n``. When the
        device got the command without its first character (a line that drops the first byte after
        idling: it answers ``Unknown command 'cho'`` or ``-bash: cho: command not found``, see
        :func:`lost_first_character`) the command is sent once more.

        Raises LabProtocolError (naming the command and the device's answer) when the first
        character is lost twice, or the console logs out twice while the command runs; LabTimeout
        when no prompt comes within ``timeout_s`` (default ``console.timeout_s``).
        """
        with self._lock:
            if not self.logged_in:
                self.login()
            lost: str | None = None
            for _ in (1, 2):
                text, m = self._run(cmd, timeout_s)
                lost = lost_first_character(cmd, text[: m.start()])
                if lost is None:
                    break
                self.transcript.event(f"the device lost the first character of {cmd!r} ({lost!r}); sending it again")
            if lost is not None:
                raise self._error(LabProtocolError, f"the console lost the first character of {cmd!r} twice; "
                                                    f"the device answered {lost!r}")
            lines = text[: m.start()].split("\n")
            if lines and self._is_echo(lines[0], cmd):
                lines = lines[1:]
            return "\n".join(lines).strip("\n") + "\n"

    @contextlib.contextmanager
    def raw(self) -> Iterator[RawLine]:
        """8-bit access to the line for a file transfer; text read so far is dropped before and after.

        Hold it only while the device sends binary: the console's lock is held meanwhile.
        """
        with self._lock:
            port = self._io_port()
            self._buf = ""
            self._text.reset()
            try:
                yield RawLine(self, port)
            finally:
                if self._port is not None:
                    self._port.timeout = POLL_S
                self._buf = ""
                self._text.reset()

    def logout(self) -> bool:
        """Leave the device's shell (:attr:`logout_command` at its prompt) and wait for the login
        prompt, so that the console line is not left logged in for whoever comes next (a console
        keeps its session across connections). True when the login prompt came; a line that is
        not logged in, gone or silent is left as it is (False, noted in the transcript), never an
        error: this runs when a session closes."""
        with self._lock:
            if not self.logged_in or self._port is None or not self._port.is_open:
                return False
            try:
                self.send_line(self.logout_command)
                self.expect([LOGIN], timeout_s=min(LOGOUT_TIMEOUT_S, self.settings.timeout_s), check_baud=False)
            except LabError as e:
                self.transcript.event(f"logout: no login prompt after {self.logout_command!r}: {e.detail}")
                return False
            self.logged_in = False
            return True

    def close(self, logout: bool = True) -> None:
        """Log out (:meth:`logout`) when logged in, then close the line; ``logout=False`` leaves the
        line as it is (as a dropped connection would)."""
        if logout and self.logged_in:
            self.logout()
        self._close_port()

    def _close_port(self) -> None:
        port, self._port = self._port, None
        self.logged_in = False
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()
            self.transcript.event("closed")
