"""``python -m harness.twin INVENTORY [--stop-when-unused]``: run the lab twin in the foreground
(:func:`harness.twin.manager.up` spawns it with ``--stop-when-unused``: it then stops once no
registered user is alive and ``hil lab up`` did not ask it to stay, see
:func:`harness.twin.manager.stop_when_unused`).

A start that fails prints one ``twin: …`` line per problem on stderr (``hil lab up`` shows exactly
these) and exits 2 for an inventory problem or a lab that is not emulated, 3 when a service cannot
start (``twin: sw1 ssh 127.0.2.1:2222: address already in use (errno 98)``) or its control socket
cannot be made.

Everything the twin prints or logs (its log file, ``.hil/twin-<inventory>.log``) goes through the
secret mask, which holds every secret of the inventory from the moment it is loaded.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import NoReturn

from ..errors import InventoryError
from ..inventory import load
from ..inventory.secrets import mask_standard_streams
from .core.control import ControlSocketError
from .lab import ServiceStartError, serve
from .manager import WATCH_USERS_FLAG, TwinError, check_emulated, runtime_dir, state_file, stop_when_unused


def _fail(lines: list[str], code: int) -> NoReturn:
    for line in lines:
        print(f"twin: {line}", file=sys.stderr, flush=True)
    sys.exit(code)


def main() -> None:
    mask_standard_streams()  # the twin's log is its output: every inventory secret masked (registered by load)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = sys.argv[1:]
    watch = WATCH_USERS_FLAG in args
    if watch:
        args.remove(WATCH_USERS_FLAG)
    if len(args) != 1:
        _fail([f"usage: python -m harness.twin INVENTORY [{WATCH_USERS_FLAG}]"], 2)
    try:
        loaded = load(Path(args[0]).resolve())
        check_emulated(loaded)
    except InventoryError as e:
        _fail([str(p) for p in e.problems], 2)
    except TwinError as e:
        _fail([str(e)], 2)
    if watch:  # the stop arrives as SIGTERM, which serve() handles like `hil lab down`
        threading.Thread(target=stop_when_unused, args=(loaded.path, lambda: os.kill(os.getpid(), signal.SIGTERM)),
                         name="twin-users", daemon=True).start()
    try:
        asyncio.run(serve(loaded, runtime_dir(loaded.path), state_file(loaded.path)))
    except ServiceStartError as e:
        _fail([str(e)], 3)
    except ControlSocketError as e:
        _fail([str(e)], 3)


if __name__ == "__main__":
    main()
