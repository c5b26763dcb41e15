"""The switch's interactive SSH sessions: raw keyboard input, IOS-style type-ahead echo, ``--More--`` paging.

The SSH server (:mod:`harness.twin.servers.ssh`) switches its line editor off and hands the session
to :class:`IosTerminal`, which runs one :class:`~harness.twin.switch.ios.IosSession` the way a
Catalyst's terminal does: characters typed at the prompt are echoed at once, a burst of lines sent
without waiting is echoed line by line as each is read (every echoed line followed by its output
and the next prompt), output longer than the session's ``screen_length`` is paged, and the
``cli-hang`` fault makes the session swallow everything until the client goes away.
"""

from __future__ import annotations

import asyncio
import re

from ..core.faces import Read, Write
from .ios import IosSession

MORE = " --More-- "
ERASE_MORE = "\b" * len(MORE) + " " * len(MORE) + "\b" * len(MORE)  # what IOS sends to wipe the prompt
_EOL = re.compile(r"\r\n?|\n")
_ERASE_CHARS = "\x7f\b"


class _Keys:
    """Raw input of one IOS shell (asyncssh's line editor switched to character mode).

    Characters typed while the shell waits at its prompt are echoed at once; lines that arrive
    together (a burst of config lines sent without waiting) stay buffered and are echoed one at a
    time when the shell reads each, so every echoed line is followed by its output and the next
    prompt, as on IOS. ``\r``, ``\n`` and ``\r\n`` end a line; DEL/BS erase a character.
    """

    def __init__(self, read: Read, write: Write, echo: bool) -> None:
        self.read, self.write, self.echo = read, write, echo
        self.buf = ""
        self.echoed = 0  # characters of the pending line already echoed
        self.after_cr = False
        self.eof = False

    async def _more(self) -> None:
        data = await self.read()
        self.eof = not data
        self.buf += data

    def _skip_lf(self) -> None:
        if self.after_cr and self.buf:
            self.buf = self.buf[1:] if self.buf[0] == "\n" else self.buf
            self.after_cr = False

    async def line(self, echo: bool = True) -> str | None:
        """The next line (edited), echoing it when ``echo``; None at end of input."""
        echo = echo and self.echo
        while True:
            self._skip_lf()
            m = _EOL.search(self.buf)
            end = m.start() if m else len(self.buf)
            if echo and end > self.echoed:
                seen = self.buf[self.echoed:end]
                self.write("".join("\b \b" if c in _ERASE_CHARS else c for c in seen
                                   if c.isprintable() or c in _ERASE_CHARS))
                self.echoed = end
            if m:
                raw, self.buf, self.echoed = self.buf[:end], self.buf[m.end():], 0
                self.after_cr = m.group() == "\r"
                if echo:
                    self.write("\n")
                out: list[str] = []
                for c in raw:
                    if c in _ERASE_CHARS:
                        out = out[:-1]
                    elif c.isprintable():
                        out.append(c)
                return "".join(out)
            if self.eof:
                return None
            await self._more()

    async def key(self) -> str | None:
        """The next character, not echoed; None at end of input."""
        while True:
            self._skip_lf()
            if self.buf:
                ch, self.buf = self.buf[0], self.buf[1:]
                self.after_cr = ch == "\r"
                return ch
            if self.eof:
                return None
            await self._more()


async def _paged(write: Write, keys: _Keys, text: str, length: int) -> None:
    """Write ``text`` ``length`` lines at a time with `` --More-- `` between pages (0: no paging).

    At the prompt: space = next page, Enter = one more line, anything else (``q``) = stop.
    """
    lines = text.splitlines(keepends=True)
    if length <= 0 or len(lines) <= length:
        write(text)
        return
    i, n = 0, length
    while True:
        write("".join(lines[i:i + n]))
        i += n
        if i >= len(lines):
            return
        write(MORE)
        k = await keys.key()
        write(ERASE_MORE)
        if k == " ":
            n = length
        elif k in ("\r", "\n"):
            n = 1
        else:
            return


class IosTerminal:
    """One interactive SSH session on a switch. A ``show`` command's output comes ``show_delay_s``
    late (the inventory's ``twin.cli_show_ms``): the time a switch CPU takes to build a 48-port table."""

    def __init__(self, shell: IosSession, show_delay_s: float) -> None:
        self.shell, self.show_delay_s = shell, show_delay_s

    async def run(self, read: Read, write: Write, pty: bool) -> None:
        shell = self.shell
        keys = _Keys(read, write, echo=pty)
        write(shell.banner() + shell.prompt())
        while True:
            line = await keys.line(echo=not shell.hide_input)
            if line is None:
                return
            out, close = shell.handle(line)
            if shell.hung:  # the cli-hang fault: swallow everything until the client goes away
                while await keys.line(echo=False) is not None:
                    pass
                return
            if out:
                if self.show_delay_s and line.split()[:1] and "show".startswith(line.split()[0].lower()):
                    await asyncio.sleep(self.show_delay_s)
                await _paged(write, keys, out, shell.screen_length)
            if close:
                return
            write(shell.prompt())
