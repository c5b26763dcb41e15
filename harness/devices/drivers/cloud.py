"""The lab's Genesys Cloud org, read through the Platform API (:class:`CloudOrg`).

Not a device of ``devices``: the org behind the inventory's ``cloud:``, named ``cloud`` in lab
errors, quarantine and reports. Its API session (:class:`~harness.transports.cloud.CloudApi`) opens
on first use, once per run (``LabSession.cloud()``); a dead API (LabTimeout, LabUnreachable) is
quarantined like a device's transport, and every later use raises LabUnreachable at once.

Typed accessors return the facts of ``harness/devices/facts/cloud_*.py``: :meth:`CloudOrg.site` (the
site this lab is, found by name), :meth:`CloudOrg.edges` (its Edges), :meth:`CloudOrg.edge` (one
Edge by its name in the org, which is its inventory name). A resource group added later reads
through :meth:`CloudOrg.api` with the endpoints and models of its own facts module
(``org.api().list(PHONES, Phone, params={"site.id": org.site().id})``), docs/cloud-api.md.
"""

from __future__ import annotations

import threading

from ...errors import LabError
from ...inventory import LoadedLab
from ...inventory.models import CLOUD_NAME, CloudSettings
from ...transports.cloud import CloudApi
from ...transports.transcript import BOOK, Transcript, TranscriptSlice
from ..capabilities import GenesysCloudOrg
from ..driver import quarantined_error
from ..facts.cloud_edges import EDGE, EDGES, Edge
from ..facts.cloud_sites import SITES, Site

TRANSPORT = "api"


class NotInOrg(LabError):
    """The org has no entity the inventory names (its site, one of its Edges): the inventory and the
    org disagree, so checks that rely on it cannot run (a lab error, kind ``lab error``: the report's
    *Lab broken* category)."""


class CloudOrg(GenesysCloudOrg):
    """The Genesys Cloud org of the inventory's ``cloud:`` (``settings``), as one run sees it.

    Attributes:
        name: ``cloud``; ``site_name``: the Genesys site this lab is (``cloud.site``, else ``lab.site``);
        ``blocked``: the API quarantined in this run (``{"api": error}``), shared with the LabSession.
    """

    def __init__(self, loaded: LoadedLab, settings: CloudSettings) -> None:
        self.name = CLOUD_NAME
        self.loaded, self.settings = loaded, settings
        self.site_name = loaded.lab.cloud_site
        self.blocked: dict[str, LabError] = {}
        self._api: CloudApi | None = None
        self._transcript: Transcript | None = None
        self._lock = threading.Lock()
        self._site_id: str | None = None
        self._edge_ids: dict[str, str] = {}

    # -- the session -----------------------------------------------------------------------------

    def api(self) -> CloudApi:
        """The org's API session, opened on first use.

        Raises:
            LabUnreachable: the API was quarantined earlier in the run.
        """
        e = self.blocked.get(TRANSPORT)
        if e is not None:
            raise quarantined_error(e)
        with self._lock:
            if self._api is None:
                address = self.settings.api_url.split("//", 1)[-1]
                self._transcript = BOOK.open(f"{self.name} {TRANSPORT} {address}")
                self._api = CloudApi(self.settings, self.loaded.resolve, self._transcript)
            return self._api

    def drop_session(self) -> None:
        """Close the API session (after a quarantine); the next :meth:`api` raises or opens anew."""
        with self._lock:
            api, self._api = self._api, None
        if api is not None:
            api.close()

    def transcript_marks(self) -> dict[str, int]:
        """A mark of the org's transcript (to pass to :meth:`transcript_slices`)."""
        t = self._transcript
        return {t.name: t.mark()} if t is not None else {}

    def transcript_slices(self, since: dict[str, int]) -> tuple[TranscriptSlice, ...]:
        """The part of the org's transcript written after ``since`` (from :meth:`transcript_marks`)."""
        t = self._transcript
        if t is None or t.mark() <= since.get(t.name, 0):
            return ()
        return (TranscriptSlice(t.name, since.get(t.name, 0), t.mark()),)

    def close(self) -> None:
        self.drop_session()

    # -- what the duties read --------------------------------------------------------------------

    def probe_api(self) -> str:
        """Log in (client credentials) and read the lab's site; a one-line identity
        (``cloud api 127.0.6.1:8443: OAuth client hil-twin-client; site Lab Site A (id …), 1 primary Edge``).

        Raises:
            LabError: the API is unreachable, silent or refuses the client; NotInOrg: no such site.
        """
        api = self.api()
        api.token()
        site = self.site()
        edges = len(site.primary_edges)
        return (f"{self.name} {TRANSPORT} {api.address}: {api.client}; site {site.name} (id {site.id}), "
                f"{edges} primary Edge{'s' if edges != 1 else ''}")

    def site(self) -> Site:
        """The site this lab is (``GET …/sites?name=…``, the one whose name is ``site_name``).

        Raises:
            NotInOrg: the org has no site of that name. LabError: see CloudApi.get.
        """
        api = self.api()
        found = [s for s in api.pages(SITES, Site, params={"name": self.site_name}) if s.name == self.site_name]
        if not found:
            raise NotInOrg(self.name, TRANSPORT, api.address,
                           f"GET {SITES}: the org has no site named {self.site_name!r} (cloud.site, else lab.site)")
        self._site_id = found[0].id
        return found[0]

    def edges(self) -> list[Edge]:
        """The Edges of the lab's site (``GET …/edges?site.id=…``), every page, in the API's order."""
        site_id = self._site_id or self.site().id
        edges = self.api().list(EDGES, Edge, params={"site.id": site_id})
        self._edge_ids.update({e.name: e.id for e in edges})
        return edges

    def edge(self, name: str) -> Edge:
        """The Edge named ``name`` in the org (its inventory name), read fresh (``GET …/edges/{edgeId}``;
        the listing of the site finds its id once).

        Raises:
            NotInOrg: the lab's site has no Edge of that name. LabError: see CloudApi.get.
        """
        edge_id = self._edge_ids.get(name)
        if edge_id is None:
            names = [e.name for e in self.edges()]
            edge_id = self._edge_ids.get(name)
            if edge_id is None:
                raise NotInOrg(self.name, TRANSPORT, self.api().address,
                               f"GET {EDGES}: site {self.site_name!r} has no Edge named {name!r} "
                               f"(its Edges: {', '.join(names) or 'none'})")
        return self.api().get(EDGE, Edge, edgeId=edge_id)
