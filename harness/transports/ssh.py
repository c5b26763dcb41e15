"""SSH exec transport (paramiko) with host-key checking, deadlines and a transcript.

:class:`SSHSession` connects when it is created and runs one exec channel per command. Host keys
are checked against the inventory's ``known_hosts`` file: an unknown or changed key is refused
(paramiko ``RejectPolicy``) unless ``ssh.trust_on_first_use`` is set, in which case a new key is
added and the file saved. A session whose connection has died (the device rebooted) reconnects at
the start of the next command.

Errors (all :class:`~harness.errors.LabError`, transport ``"ssh"``, address ``host:port``):
``LabTimeout`` when the TCP connect, SSH handshake or a command passes its deadline
(``ssh.timeout_s`` unless the call gives one); ``LabUnreachable`` when the connection is refused or
drops; ``LabAuthError`` when the credentials are refused, or when the host key is unknown or does
not match ``known_hosts`` (the device could not prove who it is); ``LabProtocolError`` for other
SSH-level failures.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paramiko

from ..errors import LabAuthError, LabProtocolError, LabTimeout, LabUnreachable
from ..inventory.models import SshSettings
from .base import TransportSession
from .transcript import Transcript

Resolve = Callable[[str], str]


def tcp_connect(device: str, transport: str, host: str, port: int, timeout_s: float) -> socket.socket:
    """Open a TCP connection within ``timeout_s``; refused -> LabUnreachable, no answer -> LabTimeout."""
    address = f"{host}:{port}"
    try:
        return socket.create_connection((host, port), timeout=timeout_s)
    except TimeoutError:
        raise LabTimeout(device, transport, address, f"no TCP answer within {timeout_s:g} s") from None
    except OSError as e:
        raise LabUnreachable(device, transport, address, f"TCP connect failed: {e.strerror or e}") from None


def load_pkey(text_or_path: str) -> paramiko.PKey:
    """A private key from the resolved ``ssh.key_file`` secret: the key text, or a path to it."""
    text = text_or_path if "-----BEGIN" in text_or_path else Path(text_or_path).expanduser().read_text()
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(text))
        except paramiko.SSHException:
            continue
    raise ValueError("ssh.key_file does not hold an Ed25519, ECDSA or RSA private key")


def host_key_problem(message: str, known_hosts: Path) -> str | None:
    """A readable reason when a paramiko/netmiko message is about host-key checking, else None."""
    if "not found in known_hosts" in message:
        return f"host key is not in {known_hosts} (trust_on_first_use is off)"
    if "does not match" in message:
        return f"host key does not match the one in {known_hosts}"
    return None


class SSHSession(TransportSession):
    """A connected SSH client for exec commands.

    Args:
        device: inventory name (for errors and the transcript).
        host: address to connect to; ``settings.port`` is the port.
        settings: the device's :class:`~harness.inventory.models.SshSettings`.
        resolve: resolves secret references (``LoadedLab.resolve``); called at connect time.
        known_hosts: the known_hosts file to check host keys against.
        transcript: receives every command (``>``), its output (``<``) and events (``!``).
    """

    transport = "ssh"

    def __init__(self, device: str, host: str, settings: SshSettings, resolve: Resolve,
                 known_hosts: Path, transcript: Transcript) -> None:
        self.device, self.host, self.settings = device, host, settings
        self.resolve, self.known_hosts, self.transcript = resolve, known_hosts, transcript
        self.address = f"{host}:{settings.port}"
        self.last_exit_status: int | None = None
        self._lock = threading.Lock()
        self._client: paramiko.SSHClient | None = None
        self._connect()

    def _connect(self) -> None:
        s, t = self.settings, self.settings.timeout_s
        self.transcript.event(f"connect {s.username}@{self.address}")
        sock = tcp_connect(self.device, self.transport, self.host, s.port, t)
        client = paramiko.SSHClient()
        if self.known_hosts.is_file():
            client.load_host_keys(str(self.known_hosts))
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy() if s.trust_on_first_use
                                           else paramiko.RejectPolicy())
        try:
            password = self.resolve(s.password) if s.password else None
            pkey = load_pkey(self.resolve(s.key_file)) if s.key_file else None
            client.connect(self.host, s.port, username=s.username, password=password, pkey=pkey, sock=sock,
                           timeout=t, banner_timeout=t, auth_timeout=t, channel_timeout=t,
                           look_for_keys=False, allow_agent=False)
        except paramiko.AuthenticationException:
            client.close()
            raise self._error(LabAuthError, f"credentials for user {s.username!r} refused") from None
        except paramiko.SSHException as e:
            client.close()
            why = host_key_problem(str(e), self.known_hosts)
            if why:
                raise self._error(LabAuthError, why) from None
            if "banner" in str(e).lower() or isinstance(e.__cause__, TimeoutError):
                raise self._error(LabTimeout, f"no SSH handshake within {t:g} s") from None
            raise self._error(LabProtocolError, f"SSH failed: {e}") from None
        except TimeoutError:
            client.close()
            raise self._error(LabTimeout, f"no SSH handshake within {t:g} s") from None
        except (OSError, EOFError) as e:
            client.close()
            raise self._error(LabUnreachable, f"connection dropped during SSH setup: {e}") from None
        except ValueError as e:  # unreadable key file
            client.close()
            raise self._error(LabProtocolError, str(e)) from None
        if s.trust_on_first_use:
            self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
            client.save_host_keys(str(self.known_hosts))
        self._client = client
        self.transcript.event("connected")

    def _transport(self) -> paramiko.Transport:
        t = self._client.get_transport() if self._client else None
        if t is None or not t.is_active():
            if self._client is not None:
                self.transcript.event("connection lost; reconnecting")
                self._client.close()
                self._client = None
            self._connect()
            t = self._client.get_transport() if self._client else None
            assert t is not None
        return t

    def open_channel(self) -> paramiko.Channel:
        """A new session channel on the connection (reconnecting first when it was lost), with
        ``ssh.timeout_s`` as its deadline. For callers that need their own channel (a long SIPp run).

        Raises: LabTimeout, LabUnreachable (and what connecting raises).
        """
        t = self.settings.timeout_s
        try:
            chan = self._transport().open_session(timeout=t)
        except TimeoutError:
            raise self._error(LabTimeout, f"no channel within {t:g} s") from None
        except (paramiko.SSHException, EOFError, OSError) as e:
            raise self._error(LabUnreachable, f"connection lost opening a channel: {e}") from None
        chan.settimeout(t)
        return chan

    def open_sftp(self, purpose: str = "SFTP") -> paramiko.SFTPClient:
        """An SFTP client on a new channel bounded by ``ssh.timeout_s``; the caller closes it.

        Raises:
            LabProtocolError: the server offers no ``sftp`` subsystem, or does not speak SFTP on it
                (the message starts with ``purpose``).
            LabTimeout: the SFTP handshake did not finish in time.
        """
        chan = self.open_channel()
        self.transcript.event("open SFTP")
        try:
            chan.invoke_subsystem("sftp")
            return paramiko.SFTPClient(chan)
        except TimeoutError:
            chan.close()
            raise self._error(LabTimeout, f"{purpose}: no SFTP answer within {self.settings.timeout_s:g} s") from None
        except (paramiko.SSHException, paramiko.SFTPError, EOFError, OSError) as e:
            chan.close()
            raise self._error(LabProtocolError, f"{purpose}: the SSH server offers no SFTP subsystem "
                                                f"({type(e).__name__}: {e})") from None

    def run(self, command: str, timeout_s: float | None = None) -> str:
        """Run ``command`` on an exec channel; return its output (stdout and stderr, ``\\n`` line ends).

        The exit status is kept in :attr:`last_exit_status`. Raises LabTimeout when the command
        does not finish within ``timeout_s`` (default ``ssh.timeout_s``), LabUnreachable when the
        connection drops.
        """
        t = timeout_s or self.settings.timeout_s
        with self._lock:
            self.transcript.sent(command)
            deadline = time.monotonic() + t
            chunks: list[bytes] = []
            try:
                chan = self._transport().open_session(timeout=t)
                chan.set_combine_stderr(True)
                chan.exec_command(command)
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError
                    chan.settimeout(left)
                    data = chan.recv(65536)
                    if not data:
                        break
                    chunks.append(data)
                if not chan.status_event.wait(max(0.0, deadline - time.monotonic())):
                    raise TimeoutError
                self.last_exit_status = chan.exit_status
                chan.close()
            except TimeoutError:
                raise self._error(LabTimeout, f"command {command!r} did not finish within {t:g} s") from None
            except (paramiko.SSHException, EOFError, OSError) as e:
                raise self._error(LabUnreachable, f"connection lost during {command!r}: {e}") from None
            out = b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")
            self.transcript.received(out)
            return out

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
            self.transcript.event("closed")
