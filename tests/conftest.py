"""Fixtures for the harness's own tests: a lab twin of a copy of the shipped inventory.

The copy moves every 127.0.x.y address to ``$HIL_TEST_NET.x.y`` (default ``127.77``) so the tests
never touch a twin a person started with ``hil lab up`` on the default lab.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.devices.drivers.pstn import PstnSimulator
from harness.inventory import LoadedLab, load
from harness.transports.sip.ua import SipUserAgent
from harness.transports.transcript import Transcript
from harness.twin import manager

REPO = Path(__file__).resolve().parent.parent
#: real device captures from public repositories, with their sources and licences (README.md there)
CAPTURES = REPO / "tests" / "data" / "realworld"
TEST_NET = os.environ.get("HIL_TEST_NET", "127.77")


def other_net(offset: int) -> str:
    """A second, third … test network next to ``TEST_NET`` (``127.77`` + 1 -> ``127.78``), for tests
    that start a twin of their own; move ``HIL_TEST_NET`` and they all move with it."""
    first, second = TEST_NET.split(".")
    return f"{first}.{int(second) + offset}"


def make_test_lab(dest: Path, text: str | None = None) -> Path:
    """Copy the shipped inventory, profile and twin secrets into ``dest`` with shifted addresses."""
    dest.mkdir(parents=True, exist_ok=True)
    text = text if text is not None else (REPO / "lab_inventory.yaml").read_text()
    (dest / "lab_inventory.yaml").write_text(text.replace("127.0.", f"{TEST_NET}."))
    for d in ("profiles", "twin_secrets"):
        if not (dest / d).exists():
            shutil.copytree(REPO / d, dest / d)
    for profile in (dest / "profiles").glob("*.yaml"):  # image URLs name lab addresses too
        profile.write_text(profile.read_text().replace("127.0.", f"{TEST_NET}."))
    return dest / "lab_inventory.yaml"


@pytest.fixture(scope="session")
def lab_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_lab(tmp_path_factory.mktemp("lab"))


@pytest.fixture(scope="session")
def loaded(lab_path: Path) -> LoadedLab:
    return load(lab_path)


@pytest.fixture(scope="session")
def twin_process(lab_path: Path) -> Iterator[manager.TwinControl]:
    manager.up(lab_path)
    try:
        yield manager.TwinControl(lab_path)
    finally:
        manager.down(lab_path)


@pytest.fixture
def twin(twin_process: manager.TwinControl) -> Iterator[manager.TwinControl]:
    """The running twin, healed after the test whatever the test broke."""
    yield twin_process
    twin_process.heal_all()


@pytest.fixture
def pstn(loaded: LoadedLab) -> Iterator[PstnSimulator]:
    """The PSTN simulator driver for ``pstn1`` of the test lab, closed after the test."""
    d = PstnSimulator("pstn1", loaded.lab.devices["pstn1"], loaded)
    yield d
    d.close()


@pytest.fixture
def agents(request: pytest.FixtureRequest) -> Iterator[Callable[..., SipUserAgent]]:
    """``make(host, name="peer", **kw)``: a probe SipUserAgent on ``host`` (an address, or ``n`` for
    ``<the test module's NET>.n``), closed after the test."""
    made: list[SipUserAgent] = []

    def make(host: str | int, name: str = "peer", **kw: Any) -> SipUserAgent:
        h = f"{request.module.NET}.{host}" if isinstance(host, int) else host
        ua = SipUserAgent(name, Transcript(f"{name} sip {h}"), h, **kw)
        made.append(ua)
        return ua

    yield make
    for ua in made:
        ua.close()


def grows(get: Callable[[], int], during_s: float = 0.5) -> int:
    """How much ``get()`` grows in ``during_s`` seconds."""
    before = get()
    time.sleep(during_s)
    return get() - before


def wait_for(pred: Callable[[], Any], timeout_s: float = 5.0, step_s: float = 0.05) -> Any:
    """Poll ``pred`` every ``step_s`` until it is truthy or ``timeout_s`` passed; its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step_s)
