"""An Edge's logical interfaces: ``GET /api/v2/telephony/providers/edges/{edgeId}/logicalinterfaces``,
as the SDK's ``LogicalInterfaceEntityListing`` of ``DomainLogicalInterface``.

Rendered from the twin Edge's own state on every request: one interface, its WAN port
(``useForWanInterface``, ``interfaceType`` SYSTEM), which the twin Edge also uses for its phones and
trunks. Its IPv4 address is the Edge's ``wan_address`` (the inventory's ``facts.wan_address``, else the
Edge's ``host``) in CIDR form (``DomainNetworkAddress``: "use CIDR format for the subnet mask"; the twin's
/24 is a project choice), ``persistent`` false when DHCP assigned it (the SDK's model: "addresses
assigned by DHCP will be returned as false"); ``ipv4Capabilities.dhcp`` says how the port is set on the
LCD (``wan-addressing=MODE`` overrides it). ``wan-no-address`` lists no address (its DHCP got no lease).
"""

from __future__ import annotations

from ...edge.faults import WAN_ADDRESSING, WAN_NO_ADDRESS
from ...edge.state import EdgeState
from ..router import ApiRequest, Json, listing, route
from ..state import entity_id
from .edges import EDGES, find_edge

TWIN_PREFIX_LEN = 24  # project choice: the twin's WAN segment is a /24


def wan_json(req: ApiRequest, name: str, edge_id: str, st: EdgeState) -> Json:
    """The Edge's WAN port as ``DomainLogicalInterface``."""
    mode = WAN_ADDRESSING.value(st)
    dhcp = st.wan_dhcp if mode is None else mode == "dhcp"
    iid = entity_id(req.twin.lab.lab.name, "edge-interface", f"{name}/wan")
    addresses: list[Json] = []
    if not WAN_NO_ADDRESS.on(st):
        addresses.append({"type": "ip", "address": f"{st.wan_address}/{TWIN_PREFIX_LEN}", "persistent": not dhcp,
                          "family": 2})
    return {"id": iid, "name": "WAN", "state": "active", "version": 1, "edgeUri": f"{EDGES}/{edge_id}",
            "edgeAssignedId": "1", "friendlyName": "WAN", "physicalAdapterId": "eth0", "interfaceType": "SYSTEM",
            "addresses": addresses, "ipv4Capabilities": {"enabled": True, "dhcp": dhcp},
            "ipv6Capabilities": {"enabled": False, "dhcp": False}, "currentState": "OK",
            "useForWanInterface": True, "useForCloudProxyEdgeCommunication": True,
            "useForInternalEdgeCommunication": True, "selfUri": f"{EDGES}/{edge_id}/logicalinterfaces/{iid}"}


@route("GET", f"{EDGES}/{{edgeId}}/logicalinterfaces")
async def logical_interfaces(req: ApiRequest) -> Json:
    name, edge_id, st = find_edge(req)
    return listing(req, [name], lambda n: wan_json(req, n, edge_id, st))
