"""File transfer over a serial console: XMODEM-1K with CRC-16, received with the `xmodem` package.

XMODEM-1K is what serial consoles have used for files since the 1980s (``sx -k``/``rx``,
minicom, Tera Term, U-Boot's ``loadx``): the sender cuts the file into 1024-byte blocks, each
framed as ``STX seq ~seq data[1024] crc16``; the receiver answers each block ACK, or NAK after a
bad CRC, a wrong sequence number or a short block, and the sender sends that block again. Noise on
the line (glitch bytes, an escape sequence someone's terminal injected) therefore costs a
retransmission, never a damaged file. The last block is padded with ``0x1A``; the caller knows the
real length from the device's manifest and cuts there.

:func:`receive_xmodem` adds what the package leaves to its caller:

* every read has a deadline, and the whole transfer one (:func:`transfer_deadline_s`);
* an EOT before the announced length with more bytes right behind it is noise in front of a
  block and is dropped (a sender that is really done waits in silence for the ACK,
  :data:`EOT_SETTLE_S`); a real early end fails the length check;
* it counts the NAKs it sent (the retransmitted blocks) and reports bytes, blocks and time;
* on failure it sends CAN CAN (abort), drains the line and raises :class:`TransferFailed`.

The receiver's PURGE after a bad block waits for one second of silence (the package follows
XMODEM's spec here), so each retransmission costs about one second on any line.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
from dataclasses import dataclass
from typing import BinaryIO

from xmodem import CAN, EOT, NAK, XMODEM1k

from ..errors import LabError, LabProtocolError
from .serial import RawLine, SerialConsole

logging.getLogger("xmodem").addHandler(logging.NullHandler())  # its per-block warnings: only if the app logs

BLOCK = 1024
XFER_RETRY = 16  # the xmodem package's default: errors in a row before either side gives up
EOT_SETTLE_S = 0.2  # project choice: at 9600 baud the byte after a stray EOT follows within 1 ms
BASE_DEADLINE_S = 30.0  # project choice: start-up and a few purges on top of the line time
DRAIN_QUIET_S = 1.0  # after an abort: the line counts as drained after this much silence
DRAIN_MAX_S = 5.0  # project choice: and drains for no longer than this
LINE_SHARE = 0.5  # project choice: allow the transfer twice the line's raw time (8N1: baud / 10 bytes/s)


class TransferFailed(LabProtocolError):
    """A console transfer did not deliver the announced file intact.

    Attributes (besides device, transport, address, detail): ``expected_sha256`` and
    ``got_sha256`` (None when nothing complete arrived), ``expected_bytes`` and ``got_bytes``.
    """

    def __init__(self, device: str, transport: str, address: str, detail: str, *, expected_sha256: str = "",
                 got_sha256: str | None = None, expected_bytes: int = 0, got_bytes: int = 0) -> None:
        super().__init__(device, transport, address, detail)
        self.expected_sha256, self.got_sha256 = expected_sha256, got_sha256
        self.expected_bytes, self.got_bytes = expected_bytes, got_bytes


@dataclass(frozen=True)
class TransferStats:
    """What one transfer took: ``bytes`` (after cutting the padding), ``blocks`` accepted,
    ``retransmitted_blocks`` (NAKs sent), ``seconds`` (first C to last ACK)."""

    bytes: int
    blocks: int
    retransmitted_blocks: int
    seconds: float


def read_timeout_s(baudrate: int) -> float:
    """Deadline for one block or header: four times a block's time on the line (8N1), at least 2 s.

    The package waits this long when a noise byte at a block boundary makes it read a block that
    is not coming, so it is kept short (project choice)."""
    return max(2.0, 4 * (BLOCK + 5) * 10 / baudrate)


def transfer_deadline_s(size_bytes: int, baudrate: int) -> float:
    """Deadline for a whole transfer of ``size_bytes`` on a line at ``baudrate`` (8N1), in seconds."""
    return BASE_DEADLINE_S + size_bytes / (baudrate / 10 * LINE_SHARE)


class _Counting(io.RawIOBase):
    def __init__(self, out: BinaryIO) -> None:
        self.out, self.n = out, 0

    def writable(self) -> bool:
        return True

    def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.n += len(b)
        return self.out.write(bytes(b))


def receive_xmodem(console: SerialConsole, out: BinaryIO, size_bytes: int, *, deadline_s: float | None = None
                   ) -> TransferStats:
    """Receive one XMODEM-1K transfer the device has just started into ``out``, cut to ``size_bytes``.

    Call it right after the device said it is sending (the receiver starts the transfer with
    ``C``). ``deadline_s`` defaults to :func:`transfer_deadline_s` of the console's baud rate.

    Raises:
        TransferFailed: the transfer was given up (too many bad blocks, a dead line, the deadline),
            or ended short of ``size_bytes``; ``expected_bytes``/``got_bytes`` say how far it got.
        LabUnreachable: the console connection dropped.
    """
    total_s = deadline_s if deadline_s is not None else transfer_deadline_s(size_bytes, console.settings.baudrate)
    counting = _Counting(out)
    state = {"naks": 0, "blocks": 0}
    t0 = time.monotonic()
    end = t0 + total_s
    with console.raw() as line:

        def getc(size: int, timeout: float = 1) -> bytes | None:
            left = end - time.monotonic()
            if left <= 0:
                return None
            data = line.read(size, min(float(timeout), left))
            while size == 1 and data == EOT and counting.n < size_bytes:  # the end, or a noise byte?
                more = line.read(1, EOT_SETTLE_S)  # a sender that is done waits for our ACK in silence
                if not more:
                    break
                data = more  # bytes right behind it: the EOT was noise in front of a block
            return data or None

        def putc(data: bytes, timeout: float = 1) -> int | None:
            if data == NAK:  # in CRC mode the start sequence sends C, so every NAK asks for a block again
                state["naks"] += 1
            return line.write(data)

        def callback(total: int, ok: int, errors: int, packet_size: int = BLOCK) -> None:
            state["blocks"] = ok

        console.transcript.event(f"xmodem-1k: receiving {size_bytes} bytes")
        got = XMODEM1k(getc, putc).recv(counting, crc_mode=1, retry=XFER_RETRY,
                                        timeout=read_timeout_s(console.settings.baudrate),
                                        quiet=True, callback=callback)
        seconds = time.monotonic() - t0
        if got is None:
            _abort(line)
    received = counting.n
    stats = TransferStats(min(received, size_bytes), state["blocks"], state["naks"], seconds)
    if got is None:
        why = "deadline passed" if time.monotonic() >= end else f"{XFER_RETRY} errors in a row"
        raise _failed(console, f"XMODEM transfer given up after {received} of {size_bytes} bytes ({why}; "
                               f"{state['naks']} blocks retransmitted)", size_bytes, received)
    if received < size_bytes:
        raise _failed(console, f"XMODEM transfer ended after {received} of {size_bytes} bytes", size_bytes, received)
    console.transcript.event(f"xmodem-1k: {stats.bytes} bytes in {stats.blocks} blocks, "
                             f"{stats.retransmitted_blocks} retransmitted, {seconds:.2f} s")
    return stats


def _abort(line: RawLine) -> None:
    """Cancel the sender (CAN CAN, as the XMODEM spec says) and drain what is still in flight.

    The transfer has failed already: a line that drops meanwhile is not a second error.
    """
    with contextlib.suppress(LabError):
        line.write(CAN * 8)
        quiet_until = time.monotonic() + DRAIN_QUIET_S
        stop = time.monotonic() + DRAIN_MAX_S
        while time.monotonic() < min(quiet_until, stop):
            if line.read(65536, 0.2):
                quiet_until = time.monotonic() + DRAIN_QUIET_S


def _failed(console: SerialConsole, detail: str, size: int, got: int) -> TransferFailed:
    console.transcript.event(f"transfer failed: {detail}")
    return TransferFailed(console.device, console.transport, console.address, detail, expected_bytes=size,
                          got_bytes=got)
