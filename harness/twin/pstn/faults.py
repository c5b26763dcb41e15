"""The PSTN simulator's faults (``options-silent`` is shared with the Edge: :mod:`harness.twin.core.shared_faults`)."""

from __future__ import annotations

from ..core.faults import declare

TRUNK_503 = declare("trunk-503", ("pstn",), "the carrier answers every INVITE 503 Service Unavailable (trunk out of "
                    "service)")  # PstnUserAgent._refusal reads it
