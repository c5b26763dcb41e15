"""Run the carrier of a checked carrier file until SIGTERM or SIGINT: ``hil carrier serve``.

:func:`serve` starts, in one asyncio loop, the PSTN simulator's SIP side
(:class:`~harness.twin.pstn.sip.PstnService`: UDP and TCP on ``sip.host:sip.port``), the call
log's HTTP server when ``call_log.http`` is given (:class:`~harness.twin.pstn.call_log_http.CallLogHttpService`),
and a writer that rewrites ``call_log.file`` (:func:`~harness.twin.pstn.call_log.keep_written`:
atomically, within 0.1 s of a change for a small log), so the harness can read it over the host's
own SSH (``cat``) or SFTP. On SIGTERM or SIGINT it stops: the services close
their sockets, the call log file is written one last time, the temporary file is gone. Every port
is bound before :func:`serve` reports ready; one that cannot be bound stops it with
:class:`CarrierStartError` (what, address, OS reason) and nothing stays bound.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable

from ..twin.pstn.call_log import CallLog, keep_written, write_atomically
from ..twin.pstn.call_log_http import CALL_LOG_PATH, CallLogHttpService
from ..twin.pstn.sip import PstnService
from ..twin.pstn.state import PstnState
from .config import LoadedCarrier

log = logging.getLogger("hil.carrier")

class CarrierStartError(Exception):
    """A service could not start: ``"sip 10.20.0.30:5060: address already in use (errno 98)"``."""


def _state(loaded: LoadedCarrier) -> PstnState:
    s = loaded.config.settings()
    return PstnState(name=s.name, role="pstn", platform="hil_carrier", host=s.host)


async def serve(loaded: LoadedCarrier, stop: asyncio.Event, ready: Callable[[list[str]], None] | None = None,
                state: PstnState | None = None) -> CallLog:
    """Run the carrier until ``stop`` is set; returns its call log.

    ``ready`` is called once every service is up, with one line per service (what, where).
    ``state``: the counters to keep (a :class:`~harness.twin.pstn.state.PstnState`; default a new one).

    Raises:
        CarrierStartError: a port could not be bound (nothing stays bound).
        OSError: the call log file cannot be written.
    """
    cfg = loaded.config
    settings = cfg.settings()
    st = state if state is not None else _state(loaded)
    call_log = CallLog()
    services: list[tuple[str, str, PstnService | CallLogHttpService]] = [
        ("sip", f"{settings.host}:{settings.port} (udp, tcp)", PstnService(settings, st, call_log))]
    http = cfg.call_log.http
    if http is not None and loaded.token:
        services.append(("call log http", f"http://{http.host}:{http.port}{CALL_LOG_PATH} (bearer token)",
                         CallLogHttpService(settings.name, http.host, http.port, call_log, loaded.token)))
    started: list[PstnService | CallLogHttpService] = []
    file = loaded.call_log_file()
    flush: asyncio.Task[None] | None = None
    try:
        for what, where, svc in services:
            try:
                await svc.start()
            except Exception as e:
                raise CarrierStartError(f"{what} {where}: {_reason(e)}") from e
            started.append(svc)
        lines = [f"{what}: {where}" for what, where, _ in services]
        if file is not None:
            write_atomically(file, call_log.render())
            flush = asyncio.create_task(keep_written(call_log, file, stop), name="call log file")
            lines.append(f"call log file: {file}")
        if ready is not None:
            ready(lines)
        await stop.wait()
    finally:
        for svc in reversed(started):
            await svc.stop()
        if flush is not None:
            stop.set()
            await flush  # writes the file a last time
    return call_log


def _reason(e: BaseException) -> str:
    x: BaseException | None = e
    while x is not None:
        if isinstance(x, OSError) and x.errno and x.errno > 0:
            return f"{os.strerror(x.errno).lower()} (errno {x.errno})"
        x = x.__cause__ or x.__context__
    return str(e) or type(e).__name__


def run(loaded: LoadedCarrier, say: Callable[[str], None] = print) -> int:
    """``hil carrier serve``: serve until SIGTERM or SIGINT, then stop cleanly; the exit status
    (0 stopped by a signal, 3 a port could not be bound or the call log file not written)."""

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        caught: list[str] = []

        def on_signal(sig: signal.Signals) -> None:
            caught.append(sig.name)
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal, sig)
        name = loaded.config.name

        def ready(lines: list[str]) -> None:
            for ln in lines:
                say(f"carrier {name}: {ln}")
            say(f"carrier {name}: ready (pid {os.getpid()}); SIGTERM or Ctrl-C stops it")

        try:
            await serve(loaded, stop, ready)
        except CarrierStartError as e:
            say(f"carrier {name}: cannot start: {e}")
            return 3
        except OSError as e:
            say(f"carrier {name}: call log file {loaded.call_log_file()}: {e.strerror or e}")
            return 3
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        say(f"carrier {name}: stopped ({', '.join(caught) or 'asked'})")
        return 0

    return asyncio.run(main())
