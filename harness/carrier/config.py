"""The carrier's YAML file (``hil carrier serve --config carrier.yaml``), read as the inventory is
(:mod:`harness.inventory.yamlfile`): unknown keys are errors, every problem one
``FILE:LINE: path: problem`` line (:class:`~harness.errors.InventoryError`), no value of a secret in any.

Shape (docs/carrier.md has every field)::

    name: pstn-sim                  # the inventory's name of this simulator (logs, Warning headers)
    carrier: Example Telco          # in the Server header
    sip: {host: 10.20.0.30, port: 5060, transport: udp, timeout_s: 2}
    country: US                     # national numbers are read in this region
    echo_numbers: ["+15125559000"]  # answered as echo lines; empty: every number not refused
    unavailable_numbers: ["+15125559503"]   # answered 503
    max_calls: 23                   # channels; beyond them an INVITE gets 503
    edges: [{name: edge-aus-1, host: 10.20.0.10, port: 5060}]   # OPTIONS pings
    call_log:
      file: /var/log/hil-pstn/calls.csv          # for the harness over SSH (cat) or SFTP
      http: {host: 10.20.0.30, port: 8088, token: env:HIL_CARRIER_TOKEN}   # GET /calls.csv, bearer token

Secret references (``token``) are ``env:NAME`` or ``file:PATH`` (relative to the file), resolved
when the file is loaded and registered with the process's mask (:data:`harness.inventory.secrets.MASK`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InventoryError, InventoryProblem
from ..inventory.keys import fields_at, pydantic_message, unknown_key_message
from ..inventory.models import E164, Host, Name, Port, Seconds, SecretRef
from ..inventory.secrets import MASK, SecretResolutionError, resolve
from ..inventory.yamlfile import read_side_file
from ..twin.pstn.settings import CarrierSettings, TrunkPeer

MAX_CONFIG_BYTES = 1 << 20  # project choice: a carrier file is a few dozen lines


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CarrierSip(_Strict):
    """Where the carrier answers SIP (UDP and TCP on ``host:port``); ``transport`` of its OPTIONS pings."""

    host: Host
    port: Port = 5060
    transport: Literal["udp", "tcp"] = "udp"
    timeout_s: Seconds = 2.0


class CarrierPeer(_Strict):
    """An Edge of the trunk: it gets an OPTIONS ping on ``host:port`` every 30 s."""

    name: Name
    host: Host
    port: Port = 5060


class CallLogHttp(_Strict):
    """The call log's HTTP server: ``GET /calls.csv`` with ``Authorization: Bearer <token>``."""

    host: Host
    port: Port
    token: SecretRef


class CallLogSettings(_Strict):
    """``file``: the CSV rewritten after every change (for ``cat`` or SFTP over the host's own SSH);
    ``http``: the HTTP server, when the harness reads the log that way."""

    file: str | None = "/var/log/hil-pstn/calls.csv"
    http: CallLogHttp | None = None


class CarrierConfig(_Strict):
    """The whole file (see the module docstring)."""

    name: Name = "carrier"
    carrier: str = "hil"
    sip: CarrierSip
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "US"
    echo_numbers: list[E164] = []
    unavailable_numbers: list[E164] = []
    max_calls: Annotated[int, Field(ge=0)] | None = None
    edges: list[CarrierPeer] = []
    call_log: CallLogSettings = CallLogSettings()

    def settings(self) -> CarrierSettings:
        """The SIP side's settings (:class:`~harness.twin.pstn.settings.CarrierSettings`)."""
        return CarrierSettings(
            name=self.name, host=self.sip.host, port=self.sip.port, transport=self.sip.transport,
            carrier=self.carrier, echo_numbers=frozenset(self.echo_numbers),
            unavailable_numbers=frozenset(self.unavailable_numbers), max_calls=self.max_calls, country=self.country,
            peers=tuple(TrunkPeer(p.name, p.host, p.port) for p in self.edges), timeout_s=self.sip.timeout_s,
            product="hil carrier")


class LoadedCarrier:
    """A checked carrier file: ``config``, its ``path``, and the resolved call log ``token`` (or None)."""

    def __init__(self, path: Path, config: CarrierConfig, token: str | None) -> None:
        self.path, self.config, self.token = path, config, token

    def call_log_file(self) -> Path | None:
        """``call_log.file`` as a path (relative to the carrier file's folder), None when off."""
        f = self.config.call_log.file
        if not f:
            return None
        p = Path(f).expanduser()
        return p if p.is_absolute() else self.path.parent / p


def load_carrier(path: str | Path) -> LoadedCarrier:
    """Read and check the carrier file ``path``; resolve its token (and mask it from then on).

    Raises:
        InventoryError: one ``FILE:LINE: path: problem`` per problem (YAML errors, unknown or
            missing keys, bad values, a token reference that does not resolve, a call log folder
            that does not exist). No message holds a secret's value.
    """
    path = Path(path)
    data, problem = read_side_file(path, MAX_CONFIG_BYTES, "a carrier file")

    if not isinstance(data, dict):
        raise InventoryError([problem((), "must be a mapping with at least 'sip: {host: …}' (see docs/carrier.md)")])
    try:
        config = CarrierConfig.model_validate(data)
    except ValidationError as e:
        raise InventoryError([_problem(err, problem) for err in e.errors()]) from None
    problems, token = [], None
    http = config.call_log.http
    if http is not None:
        try:
            token = resolve(http.token, path.parent)
        except SecretResolutionError as e:
            problems.append(problem(("call_log", "http", "token"), f"{http.token}: {e}"))
        else:
            MASK.add(token)
    loaded = LoadedCarrier(path, config, token)
    log_file = loaded.call_log_file()
    if log_file is not None and not log_file.parent.is_dir():
        problems.append(problem(("call_log", "file"), f"folder {log_file.parent} does not exist (create it, writable "
                                                      "by the user that runs hil carrier serve)"))
    if problems:
        raise InventoryError(problems)
    return loaded


def _problem(err: Any, problem: Any) -> InventoryProblem:
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        where = ".".join(str(x) for x in loc[:-1]) or "a carrier file"
        return problem(loc, unknown_key_message(str(loc[-1]), fields_at([CarrierConfig], loc[:-1]), where))
    return problem(loc, pydantic_message(err))
