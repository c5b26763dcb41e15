"""What every transport session shares: its identity (device, transport, address), its
transcript, and one way to turn a failure into a :class:`~harness.errors.LabError`."""

from __future__ import annotations

from typing import ClassVar

from ..errors import LabError
from ..inventory.secrets import MASK
from .transcript import Transcript


class TransportSession:
    """Base of the transport sessions. Subclasses set ``transport`` and, in ``__init__``,
    ``device``, ``address`` and ``transcript``."""

    transport: ClassVar[str]
    device: str
    address: str
    transcript: Transcript

    def _error(self, cls: type[LabError], detail: str) -> LabError:
        """A lab error of type ``cls`` naming this session, recorded in the transcript (masked)."""
        detail = MASK(detail)
        self.transcript.event(f"{cls.kind}: {detail}")
        return cls(self.device, self.transport, self.address, detail)
