"""Fixtures the SDK contract tests share: the official SDK (imported once per process, its file
watcher off) and a thin API client on the twin's org."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from harness.inventory import LoadedLab
from harness.transports.cloud import CloudApi
from harness.transports.transcript import Transcript
from tests.twin.cloud.sdk_contract import import_sdk


@pytest.fixture(scope="session")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return import_sdk(tmp_path_factory.mktemp("sdk-home"))


@pytest.fixture
def api(loaded: LoadedLab) -> Iterator[CloudApi]:
    assert loaded.lab.cloud is not None
    a = CloudApi(loaded.lab.cloud, loaded.resolve, Transcript("cloud api contract"))
    yield a
    a.close()
