"""One aiohttp application served on ``host:port``: the HTTP servers of the twin (the emulated org's
API, the carrier's call log) start and stop it the same way.

:class:`HttpSite` binds on :meth:`~HttpSite.start` (a bind that fails leaves nothing set up: the
OSError propagates after the runner is cleaned up) and lets requests in progress finish for
``shutdown_s`` on :meth:`~HttpSite.stop`. Both may be called many times. aiohttp's access log is
off: nothing the twin serves needs it, and it would name clients and paths in the twin's log.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

SHUTDOWN_S = 0.5  # project choice: how long a stopping server waits for requests in progress


class HttpSite:
    """An aiohttp application on ``host:port``, built by ``app()`` at each start.

    Args:
        host / port: where it binds. app: builds the application (routes, middlewares).
        backlog: the listen queue (a burst of harness workers connecting at once needs more than
            aiohttp's 128). shutdown_s: how long :meth:`stop` waits for requests in progress.
        reuse_address: SO_REUSEADDR (aiohttp's default, ``None``, sets it on POSIX).
    """

    def __init__(self, host: str, port: int, app: Callable[[], web.Application], *, backlog: int = 128,
                 shutdown_s: float = SHUTDOWN_S, reuse_address: bool | None = None) -> None:
        self.host, self.port, self._app = host, port, app
        self._backlog, self._shutdown_s, self._reuse = backlog, shutdown_s, reuse_address
        self._runner: web.AppRunner | None = None

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        """Bind and serve (nothing when already serving). Raises OSError when the bind fails."""
        if self._runner is not None:
            return
        runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port, backlog=self._backlog, shutdown_timeout=self._shutdown_s,
                              reuse_address=self._reuse).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner

    async def stop(self) -> None:
        """Stop serving (nothing when stopped)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
