"""The site's NTP servers as a twin unit named ``ntp`` (faults, heal and ``hil lab status`` address it
by that name): its state from the inventory's ``network.ntp`` (:mod:`.state`), an SNTP server per
address (:mod:`.server`). Heal needs nothing of its own: both faults are read per request."""

from __future__ import annotations

from ..core.twin import UnitSpec, register_unit
from .server import ntp_services
from .state import ntp_state

NTP = register_unit(UnitSpec(role="ntp", state=ntp_state, services=ntp_services))
