"""Switch CLI transport: netmiko over SSH, with host-key checking, deadlines and a transcript.

:class:`SwitchCli` opens the TCP connection itself (so a refused port and a silent one give
different errors) and hands the socket to netmiko. Host keys are checked against the inventory's
known_hosts file: netmiko's ``ssh_strict=True`` (paramiko ``RejectPolicy``) with
``alt_host_keys``/``alt_key_file``; ``ssh.trust_on_first_use`` turns strict checking off and saves
the new key. With an ``enable_secret`` the session enters privileged mode at connect.
Output is parsed with ntc-templates (``parse_output``) for the netmiko device type of the platform.

Errors (transport ``"cli"``, address ``host:port``): LabTimeout (connect, handshake or a command
past its deadline, ``ssh.timeout_s``), LabUnreachable (refused or dropped), LabAuthError
(credentials or enable secret refused, host key unknown or changed), LabProtocolError (the switch
rejected a command with ``% Invalid input`` and friends, or its output does not parse).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paramiko
from netmiko import ConnectHandler
from netmiko.exceptions import (
    ConfigInvalidException,
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadTimeout,
)

from ..errors import LabAuthError, LabProtocolError, LabTimeout, LabUnreachable
from ..inventory.models import SshSettings
from .base import TransportSession
from .cli_text import (  # noqa: F401  (the platform table and parsing live in cli_text; re-exported)
    CLI_PLATFORMS,
    ERROR_PATTERN,
    CliParseError,
    CliPlatform,
    LineResult,
    _rejection,
    parse_output,
    split_batch_output,
)
from .ssh import host_key_problem, load_pkey, tcp_connect
from .transcript import Transcript

Resolve = Callable[[str], str]


class SwitchCli(TransportSession):
    """A netmiko session to a switch.

    Args:
        device: inventory name; host: address (``settings.port`` is the port);
        platform: inventory platform, a key of :data:`CLI_PLATFORMS`;
        settings: the device's SshSettings; resolve: secret resolver (called at connect time);
        known_hosts: file with the trusted host keys; transcript: records commands and outputs.
    """

    transport = "cli"

    def __init__(self, device: str, host: str, platform: str, settings: SshSettings, resolve: Resolve,
                 known_hosts: Path, transcript: Transcript) -> None:
        self.device, self.host, self.platform, self.settings = device, host, platform, settings
        self.resolve, self.known_hosts, self.transcript = resolve, known_hosts, transcript
        self.address = f"{host}:{settings.port}"
        known = CLI_PLATFORMS.get(platform)
        if known is None:
            raise self._error(LabProtocolError, f"no netmiko device type for platform {platform!r} "
                                                f"(known: {', '.join(CLI_PLATFORMS)})")
        self.device_type, self.templates = known.netmiko, known.templates
        self._lock = threading.Lock()
        self._conn: Any = None
        self._connect()

    def _connect(self) -> None:
        s, t = self.settings, self.settings.timeout_s
        self.transcript.event(f"connect {s.username}@{self.address} ({self.device_type})")
        sock = tcp_connect(self.device, self.transport, self.host, s.port, t)
        params: dict[str, Any] = dict(
            device_type=self.device_type, host=self.host, port=s.port, username=s.username, sock=sock,
            ssh_strict=not s.trust_on_first_use, system_host_keys=False,
            alt_host_keys=True, alt_key_file=str(self.known_hosts),
            use_keys=False, allow_agent=False, conn_timeout=t, auth_timeout=t, banner_timeout=t,
            read_timeout_override=None, fast_cli=True)
        try:
            if s.password:
                params["password"] = self.resolve(s.password)
            if s.key_file:
                params["pkey"] = load_pkey(self.resolve(s.key_file))
                params["use_keys"] = True
            secret = self.resolve(s.enable_secret) if s.enable_secret else ""
            params["secret"] = secret
            conn = ConnectHandler(**params)
        except NetmikoAuthenticationException:
            sock.close()
            raise self._error(LabAuthError, f"credentials for user {s.username!r} refused") from None
        except NetmikoTimeoutException as e:
            sock.close()
            why = host_key_problem(str(e), self.known_hosts)
            if why:
                raise self._error(LabAuthError, why) from None
            raise self._error(LabTimeout, f"no SSH session within {t:g} s") from None
        except ReadTimeout:
            sock.close()
            raise self._error(LabTimeout, f"no CLI prompt within {t:g} s") from None
        except (OSError, EOFError, paramiko.SSHException) as e:
            sock.close()
            raise self._error(LabUnreachable, f"connection dropped during CLI setup: {e}") from None
        except ValueError as e:
            sock.close()
            raise self._error(LabProtocolError, str(e)) from None
        self._conn = conn
        if secret:
            try:
                conn.enable()
            except (ValueError, ReadTimeout):
                self.close()
                raise self._error(LabAuthError, "enable secret refused") from None
        if s.trust_on_first_use:
            self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
            if conn.remote_conn_pre is not None:
                conn.remote_conn_pre.save_host_keys(str(self.known_hosts))
        self.transcript.event(f"connected, prompt {conn.find_prompt()!r}")

    def _alive(self) -> Any:
        """The netmiko connection, reconnected first when the SSH transport has died."""
        conn = self._conn
        tr = conn.remote_conn_pre.get_transport() if conn is not None and conn.remote_conn_pre else None
        if tr is None or not tr.is_active():
            self.transcript.event("connection lost; reconnecting")
            self.close()
            self._connect()
        return self._conn

    def _io(self, what: str, fn: Callable[[Any], str], timeout_s: float) -> str:
        with self._lock:
            try:
                return fn(self._alive())
            except ReadTimeout:
                raise self._error(LabTimeout, f"{what} did not finish within {timeout_s:g} s") from None
            except ConfigInvalidException as e:
                with contextlib.suppress(Exception):  # leave config mode, so the session stays usable
                    self._conn.exit_config_mode()
                raise self._error(LabProtocolError, f"{what} rejected: {e}") from None
            except (OSError, EOFError, paramiko.SSHException) as e:
                self._conn = None
                raise self._error(LabUnreachable, f"connection lost during {what}: {e}") from None

    def send(self, command: str, timeout_s: float | None = None) -> str:
        """Send one command; return its output without echo and prompt.

        Raises LabProtocolError when the switch rejects it (``% Invalid input`` …).
        """
        t = timeout_s or self.settings.timeout_s
        self.transcript.sent(command)
        out = self._io(repr(command), lambda c: c.send_command(command, read_timeout=t), t)
        self.transcript.received(out)
        bad = _rejection(out)
        if bad:
            raise self._error(LabProtocolError, f"{command!r} rejected: {bad}")
        return out

    def parse(self, command: str, timeout_s: float | None = None) -> list[dict[str, Any]]:
        """``send`` plus the ntc-templates parse: one dict per row, every value a string (or list).

        Raises :class:`CliParseError` (a LabProtocolError) naming the command, with the raw output, when
        there is no template or the text does not parse with it.
        """
        out = self.send(command, timeout_s)
        try:
            rows = parse_output(platform=self.templates, command=command, data=out)
        except Exception as e:  # TextFSMError, or ntc-templates' "no template" error
            raise self.parse_error(command, out, f"does not parse ({self.templates}): {e}") from None
        if not isinstance(rows, list):
            raise self.parse_error(command, out, "did not parse into rows")
        return rows

    def parse_error(self, command: str, output: str, why: str) -> CliParseError:
        """A :class:`CliParseError` for ``output`` of ``command``: ``output of 'CMD' WHY``."""
        return CliParseError(self.device, self.transport, self.address, f"output of {command!r} {why}",
                             command, output)

    def config(self, lines: list[str], timeout_s: float | None = None) -> str:
        """Enter config mode, send ``lines``, leave it. Raises LabProtocolError on a rejected line."""
        t = timeout_s or self.settings.timeout_s
        for line in lines:
            self.transcript.sent(line)
        out = self._io("config", lambda c: c.send_config_set(lines, read_timeout=t,
                                                              error_pattern=ERROR_PATTERN), t)
        self.transcript.received(out)
        return out

    def config_batch(self, lines: list[str], timeout_s: float | None = None) -> list[LineResult]:
        """Send ``configure terminal``, every line and ``end`` in one write; answer per line.

        The switch reads them as typed-ahead input, so the batch costs one round trip, not one per
        line. The output is split at the prompts: the i-th answer belongs to the i-th line. A line the
        switch refused has ``rejected`` set to its own message (``% Invalid input detected at '^'
        marker.``); the lines after it were still applied, as on a real IOS console. Raises
        LabTimeout when the final exec prompt does not come back within ``timeout_s`` (default: the
        inventory's ``ssh.timeout_s`` plus 20 ms per line), LabUnreachable when the session drops.
        """
        t = timeout_s or self.settings.timeout_s + 0.02 * len(lines)
        for line in lines:
            self.transcript.sent(line)

        def run(c: Any) -> str:
            base = re.escape(c.base_prompt)
            c.write_channel("".join(c.normalize_cmd(x) for x in ["configure terminal", *lines, "end"]))
            return str(c.read_until_pattern(pattern=rf"(?:^|\n){base}#[ \t]*$", read_timeout=t))

        out = self._io(f"config batch of {len(lines)} lines", run, t)
        self.transcript.received(out)
        return split_batch_output(out, self._conn.base_prompt if self._conn else "", lines)

    def save(self, timeout_s: float | None = None) -> str:
        """``write memory`` (netmiko ``save_config``); returns the device's answer."""
        t = timeout_s or self.settings.timeout_s
        self.transcript.sent("<save_config>")

        def save(c: Any) -> str:
            c.read_timeout_override = t  # netmiko waits up to 100 s for `write mem` otherwise
            try:
                return str(c.save_config())
            finally:
                c.read_timeout_override = None

        out = self._io("save_config", save, t)
        self.transcript.received(out)
        return out

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # a dead session must not mask the original error
                conn.disconnect()
            self.transcript.event("closed")
