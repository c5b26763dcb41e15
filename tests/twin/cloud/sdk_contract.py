"""The official Genesys Cloud SDK (``purecloudplatformclientv2``) as the contract of the twin's
emulated API: a reusable helper for the contract tests (tests only; the run never imports the SDK).

* :func:`import_sdk` imports the SDK with ``HOME`` pointed at a folder whose
  ``.genesyscloudpython/config`` says ``live_reload_config = false``: the SDK's configuration is a
  singleton made at import, so its file watcher never starts (without the folder it would watch the
  whole home directory, recursively; GENESYS-API.md).
* :func:`check_json` holds a JSON answer to an SDK model strictly: it deserializes through the SDK's
  own ``ApiClient().deserialize``, every key must be one the model's ``attribute_map`` knows (at
  every depth), every value the type ``swagger_types`` names, and no enum value may come back as
  the SDK's ``"outdated_sdk_version"`` (a value outside the model's ``allowed_values``).
* :func:`sdk_session` logs the SDK in with client credentials against the twin's token endpoint
  and hands out ``TelephonyProvidersEdgeApi`` (or any API class) bound to the twin.

Adding an endpoint to the contract is one :class:`Endpoint` line in a contract test module.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from dateutil.parser import isoparse

OUTDATED = "outdated_sdk_version"  # what an SDK model's enum setter writes for a value it does not allow
_SDK: ModuleType | None = None


def import_sdk(home: Path) -> ModuleType:
    """``PureCloudPlatformClientV2``, imported once per process with its config file watcher off
    (``home`` gets ``.genesyscloudpython/config``; ``HOME`` is restored after the import)."""
    global _SDK
    if _SDK is None:
        cfg = home / ".genesyscloudpython" / "config"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text("[general]\nlive_reload_config = false\n")
        old = os.environ.get("HOME")
        os.environ["HOME"] = str(home)
        try:
            _SDK = importlib.import_module("PureCloudPlatformClientV2")  # ~2.4 s: only the contract tests pay it
        finally:
            if old is None:
                del os.environ["HOME"]
            else:
                os.environ["HOME"] = old
        assert _SDK.Configuration().live_reload_config is False, "the SDK's file watcher would start"
    return _SDK


class _Answer:
    """What ``ApiClient.deserialize`` reads of an HTTP answer: ``data`` and the Content-Type."""

    def __init__(self, data: Any) -> None:
        self.data = json.dumps(data)

    def getheader(self, name: str) -> str:
        return "application/json"


def _scalar_problem(value: Any, kind: str) -> str | None:
    if kind == "str":
        ok = isinstance(value, str)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind in ("datetime", "LocalDateTime", "date"):
        try:
            isoparse(value)
            ok = True
        except (TypeError, ValueError):
            ok = False
    else:  # object
        ok = True
    return None if ok else f"{value!r} is not a {kind}"


def _walk_json(sdk: ModuleType, data: Any, kind: str, path: str, problems: list[str]) -> None:
    """Hold ``data`` to the SDK type ``kind`` (``Site``, ``list[Edge]``, ``dict(str, str)``, ``int`` …)."""
    if data is None:
        return
    if m := re.fullmatch(r"list\[(.*)\]", kind):
        if not isinstance(data, list):
            problems.append(f"{path}: {data!r} is not a list")
            return
        for i, item in enumerate(data):
            _walk_json(sdk, item, m[1], f"{path}[{i}]", problems)
        return
    if m := re.fullmatch(r"dict\(([^,]*), (.*)\)", kind):
        if not isinstance(data, dict):
            problems.append(f"{path}: {data!r} is not a mapping")
            return
        for k, v in data.items():
            _walk_json(sdk, v, m[2], f"{path}.{k}", problems)
        return
    model = getattr(sdk, kind, None)
    if model is None:
        if (why := _scalar_problem(data, kind)) is not None:
            problems.append(f"{path}: {why}")
        return
    if not isinstance(data, dict):
        problems.append(f"{path}: {data!r} is not a {kind} object")
        return
    instance = model()
    by_key = {key: attr for attr, key in instance.attribute_map.items()}
    for key, value in data.items():
        attr = by_key.get(key)
        if attr is None:
            problems.append(f"{path}.{key}: {kind} has no such field")
            continue
        _walk_json(sdk, value, instance.swagger_types[attr], f"{path}.{key}", problems)


def _walk_model(obj: Any, path: str, problems: list[str]) -> None:
    """Find enum values the SDK did not allow (``outdated_sdk_version``) in a deserialized object."""
    if isinstance(obj, str) and obj == OUTDATED:
        problems.append(f"{path}: a value the SDK's allowed_values do not hold")
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            _walk_model(item, f"{path}[{i}]", problems)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _walk_model(v, f"{path}.{k}", problems)
    elif hasattr(obj, "swagger_types"):
        for attr in obj.swagger_types:
            _walk_model(getattr(obj, attr), f"{path}.{obj.attribute_map[attr]}", problems)


def model_problems(sdk: ModuleType, obj: Any, name: str) -> list[str]:
    """Enum values of a deserialized SDK object outside its model's ``allowed_values``."""
    problems: list[str] = []
    _walk_model(obj, name, problems)
    return problems


def check_json(sdk: ModuleType, data: Any, model: str) -> Any:
    """Deserialize ``data`` as SDK model ``model`` and return the object; AssertionError listing
    every key the model lacks, value of the wrong type and enum value it does not allow."""
    problems: list[str] = []
    _walk_json(sdk, data, model, model, problems)
    try:
        obj = sdk.ApiClient().deserialize(_Answer(data), model)
    except Exception as e:  # the SDK's own refusal (a date-time it cannot parse …)
        problems.append(f"{model}: the SDK cannot deserialize it: {type(e).__name__}: {e}")
        obj = None
    else:
        if not isinstance(obj, getattr(sdk, model)):
            problems.append(f"{model}: the SDK made a {type(obj).__name__} of it")
        problems += model_problems(sdk, obj, model)
    assert not problems, f"{model} breaks the SDK's contract:\n" + "\n".join(problems)
    return obj


def sdk_session(sdk: ModuleType, base_url: str, client_id: str, client_secret: str) -> Any:
    """An SDK ``ApiClient`` on ``base_url`` (the twin: login at the same host) logged in with the
    client credentials grant."""
    client = sdk.ApiClient(host=base_url)
    return client.get_client_credentials_token(client_id, client_secret)


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the contract: ``path`` (a template; ``{names}`` from the org's ids), the SDK
    ``model`` its 200 answer is, ``params`` of the raw request, and ``call(sdk, api_client, ids)``:
    the same read through the SDK's own API class and method."""

    path: str
    model: str
    call: Callable[[ModuleType, Any, dict[str, str]], Any]
    params: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        return f"GET {self.path}" + (f"?{'&'.join(f'{k}={v}' for k, v in self.params)}" if self.params else "")
