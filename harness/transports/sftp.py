"""Fetch a file from a device by SFTP (paramiko) over an open :class:`~harness.transports.ssh.SSHSession`.

The SFTP channel is opened on the session's SSH connection (reconnecting first if it died), used
for one file and closed. Every step is bounded by ``ssh.timeout_s`` (per packet: paramiko's channel
timeout) and recorded in the session's transcript.

Errors (transport ``"ssh"``, address ``host:port``): LabProtocolError when the server offers no
SFTP subsystem, the file is missing or unreadable, or larger than the caller allows; LabTimeout
when an SFTP answer does not come in time; LabUnreachable when the connection drops.
"""

from __future__ import annotations

import contextlib
from typing import BinaryIO

import paramiko

from ..errors import LabProtocolError, LabTimeout, LabUnreachable
from .ssh import SSHSession


def sftp_get(session: SSHSession, remote_path: str, out: BinaryIO, max_bytes: int) -> int:
    """Copy ``remote_path`` into ``out``; return the number of bytes copied.

    Raises LabProtocolError when the file is larger than ``max_bytes`` (nothing is copied then).
    """
    t = session.settings.timeout_s
    session.transcript.event(f"sftp get {remote_path}")
    sftp = session.open_sftp(f"SFTP get {remote_path}")
    try:
        size = sftp.stat(remote_path).st_size or 0
        if size > max_bytes:
            raise session._error(LabProtocolError, f"SFTP {remote_path} is {size} bytes, more than the "
                                                   f"{max_bytes} allowed")
        size = sftp.getfo(remote_path, out)
    except TimeoutError:
        raise session._error(LabTimeout, f"SFTP get {remote_path}: no answer within {t:g} s") from None
    except FileNotFoundError:
        raise session._error(LabProtocolError, f"SFTP get {remote_path}: no such file") from None
    except PermissionError as e:
        raise session._error(LabProtocolError, f"SFTP get {remote_path}: permission denied ({e})") from None
    except (paramiko.SSHException, EOFError) as e:
        raise session._error(LabUnreachable, f"connection lost during SFTP get {remote_path}: {e}") from None
    except OSError as e:
        raise session._error(LabProtocolError, f"SFTP get {remote_path} failed: {e}") from None
    finally:
        with contextlib.suppress(Exception):  # closing a dead channel must not mask anything
            sftp.close()
    session.transcript.event(f"sftp got {remote_path} ({size} bytes)")
    return size
