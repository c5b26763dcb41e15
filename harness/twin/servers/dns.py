"""DNS over UDP and TCP for the twin's resolvers (the site's, :mod:`harness.twin.netsvc.dns`, and the
internet's, :mod:`harness.twin.internet.dns`): sockets, RFC 1035 §4.2 framing (over TCP each message
after a 2-byte length) and their life. What is answered is the unit's own :data:`Answer`; what its
firewall drops, its own :data:`Dropped`.

A dropped UDP query gets nothing back (the client times out); a dropped TCP query is read and never
answered, and the connection is held until the client gives up or :data:`TCP_IDLE_S` passes, as a
firewall that drops the segments after the handshake would look.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Callable
from typing import cast

from .tcp import TcpListener

Answer = Callable[[bytes, str], "bytes | None"]
"""``(query in wire format, client address) -> answer in wire format``; ``None``: no answer (garbage)."""
Dropped = Callable[[bool, int], bool]
"""``(udp, client's port) -> True`` when the unit's firewall drops a query over that transport, from
that source port, now."""

TCP_IDLE_S = 10.0  # project choice: a TCP client silent this long is closed (RFC 7766 §6.2.3 suggests seconds)


def _never(udp: bool, client_port: int) -> bool:
    return False


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, answer: Answer, dropped: Dropped) -> None:
        self.answer, self.dropped = answer, dropped
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is None or self.dropped(True, addr[1]):
            return
        out = self.answer(data, addr[0])
        if out is not None:
            self.transport.sendto(out, addr)


class DnsUdpServer:
    """A resolver's UDP ``host:port``.

    Args:
        host / port: where it binds (port 53 for a resolver).
        answer: the unit's :data:`Answer`. dropped: the unit's :data:`Dropped` (default: never).
    Raises:
        OSError: from :meth:`start` when the address cannot be bound.
    """

    name = "dns-udp"

    def __init__(self, host: str, port: int, answer: Answer, dropped: Dropped = _never) -> None:
        self.host, self.port, self.answer, self.dropped = host, port, answer, dropped
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self.answer, self.dropped),
                                                                 local_addr=(self.host, self.port),
                                                                 family=socket.AF_INET)

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class DnsTcpServer(TcpListener):
    """A resolver's TCP ``host:port`` (RFC 1035 §4.2.2; several queries per connection, RFC 7766).

    Args and errors as :class:`DnsUdpServer`.
    """

    name = "dns-tcp"

    def __init__(self, host: str, port: int, answer: Answer, dropped: Dropped = _never) -> None:
        super().__init__(host, port)
        self.answer, self.dropped = answer, dropped

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        client, client_port = str(peer[0]), int(peer[1])
        try:
            while True:
                (n,) = struct.unpack("!H", await asyncio.wait_for(reader.readexactly(2), TCP_IDLE_S))
                query = await asyncio.wait_for(reader.readexactly(n), TCP_IDLE_S)
                if self.dropped(False, client_port):
                    continue
                out = self.answer(query, client)
                if out is None:
                    break
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
