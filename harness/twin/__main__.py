"""``python -m harness.twin INVENTORY``: run the lab twin in the foreground (``hil lab up`` spawns it)."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from ..inventory import load
from .manager import runtime_dir, state_file
from .server import serve


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    loaded = load(Path(sys.argv[1]).resolve())
    asyncio.run(serve(loaded, runtime_dir(loaded.path), state_file(loaded.path)))


if __name__ == "__main__":
    main()
