"""The PSTN simulator's call log: what reached the carrier, for ``cat <facts.call_log>`` on its SSH shell.

In :class:`CallLog`, every request received outside a dialog (INVITE, OPTIONS, CANCEL, anything
else, and requests answered 400 as malformed) is one row, updated in place while its call lives;
rendered as CSV for ``cat <facts.call_log>`` on the simulator's SSH shell. Columns
(:data:`CALL_LOG_COLUMNS`): ``time`` ISO 8601 UTC with milliseconds (``2026-12-01T17:00:00.123Z``),
``method``, ``call_id``, ``transport`` (``udp``/``tcp``), ``source`` (``ip:port``), ``request_uri``,
``from_uri``, ``pai`` (P-Asserted-Identity URI or empty), ``status`` (final code sent, empty while
none), ``rtp_received`` (audio RTP packets, telephone-event not counted), ``dtmf_received`` (RFC
4733 digits), ``ended`` (``bye``, ``cancel`` or empty). At most :data:`CALL_LOG_MAX_ROWS` rows, the
oldest dropped first.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sipmessage import Address, Request, Response

from ...transports.sip.call import CANCELLED, ENDED, Call
from ...transports.sip.message import SipParseError, lenient_headers
from ...transports.sip.stack import Peer
from ..core.twin import Twin

CALL_LOG_MAX_ROWS = 100_000  # the oldest rows go first beyond this
CALL_LOG_COLUMNS = ("time", "method", "call_id", "transport", "source", "request_uri", "from_uri", "pai",
                    "status", "rtp_received", "dtmf_received", "ended")
_TRACKED = 10_000  # project choice: rows waiting for a final status / an INVITE's end, at most
FLUSH_POLL_S = 0.1  # project choice: a change reaches the call log file this soon (small logs)
FLUSH_INTERVAL_S = 0.5  # project choice: a live call's media counts reach the file this often
FLUSH_COST_FACTOR = 20  # project choice: writing the file takes at most 1/20 of the loop's time


def iso_ms(t: float) -> str:
    """Epoch seconds as ISO 8601 UTC with milliseconds: ``2026-12-01T17:00:00.123Z``."""
    d = datetime.fromtimestamp(t, UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


@dataclass
class CallLogRow:
    """One request received outside a dialog (columns as :data:`CALL_LOG_COLUMNS`)."""

    time: float
    method: str
    call_id: str
    transport: str
    source: str
    request_uri: str
    from_uri: str
    pai: str
    status: int | None = None
    rtp_received: int = 0
    dtmf_received: str = ""
    ended: str = ""
    call: Call | None = None  # while the call lives: media counts are read from it
    cancelled: bool = False

    def values(self) -> list[str]:
        rtp, dtmf = self.rtp_received, self.dtmf_received
        if self.call is not None:
            st = self.call.rtp.receiver.stats
            rtp, dtmf = st.audio_packets, st.digits
        return [iso_ms(self.time), self.method, self.call_id, self.transport, self.source, self.request_uri,
                self.from_uri, self.pai, "" if self.status is None else str(self.status), str(rtp), dtmf,
                self.ended]


class CallLog:
    """The simulator's call log: rows in arrival order (bounded), statuses and call ends filled in."""

    def __init__(self, max_rows: int = CALL_LOG_MAX_ROWS) -> None:
        self.rows: deque[CallLogRow] = deque(maxlen=max_rows)
        self._pending: OrderedDict[tuple[str, int, str], CallLogRow] = OrderedDict()
        self._invites: OrderedDict[str, CallLogRow] = OrderedDict()
        self.version = 0  # bumped by every change of a row (a writer of the file renders when it moved)

    @property
    def live_calls(self) -> int:
        """INVITE rows whose call has not ended yet (their media counts still grow)."""
        return len(self._invites)

    def request(self, req: Request, peer: Peer) -> CallLogRow:
        """A new request outside a dialog: append its row."""
        row = CallLogRow(time.time(), req.method, req.call_id, peer.transport, peer.address, str(req.uri),
                         _uri_of(req.headers.get("From")), _uri_of(req.headers.get("P-Asserted-Identity")))
        self.rows.append(row)
        self.version += 1
        _put(self._pending, (req.call_id, req.cseq.sequence, req.method), row)
        if req.method == "INVITE":
            _put(self._invites, req.call_id, row)
        elif req.method == "CANCEL" and (inv := self._invites.get(req.call_id)) is not None:
            inv.cancelled = True
        return row

    def malformed(self, err: SipParseError, peer: Peer, data: bytes) -> None:
        """A request answered 400 by the stack: a row with what could be read of it."""
        if err.reply is None:
            return
        self.version += 1
        first, hdrs = lenient_headers(data)
        parts = first.split(" ")
        self.rows.append(CallLogRow(time.time(), parts[0][:32], (hdrs.get("Call-ID") or "")[:200], peer.transport,
                                    peer.address, parts[1][:500] if len(parts) > 1 else "",
                                    _uri_of(hdrs.get("From")), _uri_of(hdrs.get("P-Asserted-Identity")), 400))

    def response(self, resp: Response) -> None:
        """A final response sent: the status of the request's row (the first final one counts)."""
        try:
            key = (resp.call_id, resp.cseq.sequence, resp.cseq.method)
        except (KeyError, ValueError):
            return
        row = self._pending.pop(key, None)
        if row is None or row.status is not None:
            return
        row.status = resp.code
        self.version += 1
        if row.method == "INVITE" and resp.code == 487 and row.cancelled:
            row.ended = "cancel"

    def invite(self, call_id: str) -> CallLogRow | None:
        return self._invites.get(call_id)

    def ended(self, call: Call) -> None:
        """``call`` ended: its media counts are frozen and ``ended`` set (``bye``/``cancel``)."""
        row = self._invites.pop(call.call_id, None)
        if row is None:
            return
        self.version += 1
        st = call.rtp.receiver.stats
        row.rtp_received, row.dtmf_received, row.call = st.audio_packets, st.digits, None
        if call.state == CANCELLED:
            row.ended = "cancel"
        elif call.state == ENDED:
            row.ended = "bye"

    def render(self) -> str:
        """The log as CSV: the header line, then one line per row (``\\n`` line ends)."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(CALL_LOG_COLUMNS)
        for row in list(self.rows):
            w.writerow(row.values())
        return out.getvalue()


def _put(d: OrderedDict[tuple[str, int, str], CallLogRow] | OrderedDict[str, CallLogRow], key: object,
         row: CallLogRow) -> None:
    d[key] = row  # type: ignore[index]
    d.move_to_end(key)  # type: ignore[arg-type]
    while len(d) > _TRACKED:
        d.popitem(last=False)


def _uri_of(value: str | None) -> str:
    """The URI of a name-addr header value (``"Bob" <sip:b@h>;tag=x`` → ``sip:b@h``), ``""`` without one."""
    if not value:
        return ""
    first = value.split(",")[0].strip()
    try:
        return str(Address.parse(first).uri)
    except ValueError:
        if "<" in first and ">" in first:
            return first[first.index("<") + 1:first.index(">")]
        return first.split(";")[0].strip()


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (mode 0640): a temporary file beside it, then ``os.replace``,
    so a reader never sees half a log."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


async def keep_written(call_log: CallLog, path: Path, stop: asyncio.Event) -> None:
    """Write ``call_log`` to ``path`` now, again soon after every change, and a last time when
    ``stop`` is set.

    A change is seen within :data:`FLUSH_POLL_S`; writes are at least :data:`FLUSH_POLL_S` apart,
    or :data:`FLUSH_COST_FACTOR` times as long as the last write took when that is longer (a full
    log of 100,000 rows renders in about 1 s: writing it then costs at most 5 % of a core).
    While a call lives and nothing else changes, its growing media counts are written every
    :data:`FLUSH_INTERVAL_S`.

    Raises:
        OSError: the file cannot be written.
    """
    try:
        while not stop.is_set():
            written, t0 = call_log.version, time.perf_counter()
            write_atomically(path, call_log.render())
            spacing_s = max(FLUSH_POLL_S, FLUSH_COST_FACTOR * (time.perf_counter() - t0))
            since = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), spacing_s)
            while not stop.is_set() and call_log.version == written and not (
                    call_log.live_calls and time.monotonic() - since >= FLUSH_INTERVAL_S):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), FLUSH_POLL_S)
    finally:
        write_atomically(path, call_log.render())


def call_log_for(twin: Twin, device: str) -> CallLog:
    """The call log of PSTN ``device`` (one per device for the twin's life, shared with its SSH shell)."""
    logs: dict[str, CallLog] = twin.shared.setdefault("pstn_call_logs", {})
    if device not in logs:
        logs[device] = CallLog()
    return logs[device]
