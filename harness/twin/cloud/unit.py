"""The emulated org as a twin unit named ``cloud`` (faults, heal and ``hil lab status`` address it by
that name): its state from the inventory (:mod:`.state`), its API server (:mod:`.server`). Heal
forgets the rate-limit bookkeeping and ends the requests ``api-silent`` held."""

from __future__ import annotations

from ..core.twin import Twin, UnitSpec, register_unit
from .server import CloudApiService, cloud_services
from .state import CloudState, org_state


async def _heal(twin: Twin, unit: str) -> None:
    st = twin.states[unit]
    assert isinstance(st, CloudState)
    st.refused_at.clear()
    for s in twin.services.get(unit, []):
        if isinstance(s, CloudApiService):
            s.release_silent()


CLOUD = register_unit(UnitSpec(role="cloud", state=org_state, services=cloud_services, heal=_heal))
