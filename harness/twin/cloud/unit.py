"""The emulated org as a twin unit named ``cloud`` (faults, heal and ``hil lab status`` address it by
that name): its state from the inventory (:mod:`.state`), its API server (:mod:`.server`), and the
outbound configuration it pushes to its Edges at start and on heal (:mod:`.outbound`). Heal
forgets the rate-limit bookkeeping and ends the requests ``api-silent`` held."""

from __future__ import annotations

from ..core.twin import Service, Twin, UnitSpec, register_unit
from .faults import outbound_faults
from .outbound import push
from .server import CloudApiService, cloud_services
from .state import CloudState, org_state


def _services(twin: Twin, unit: str) -> list[Service]:
    """The API server; first the org pushes its outbound configuration to its Edges (their SIP services
    exist by now: the core makes the devices' services before the units')."""
    st = twin.states[unit]
    assert isinstance(st, CloudState)
    push(twin, st, outbound_faults(st))
    return cloud_services(twin, unit)


async def _heal(twin: Twin, unit: str) -> None:
    st = twin.states[unit]
    assert isinstance(st, CloudState)
    push(twin, st, outbound_faults(st))
    st.refused_at.clear()
    for s in twin.services.get(unit, []):
        if isinstance(s, CloudApiService):
            s.release_silent()


CLOUD = register_unit(UnitSpec(role="cloud", state=org_state, services=_services, heal=_heal))
