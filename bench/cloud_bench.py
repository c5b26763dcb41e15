"""Benchmark: reading a large Genesys Cloud org from the twin's emulated API, paging included.

Starts a twin of a copy of the shipped lab (addresses moved to ``$HIL_TEST_NET``, default 127.66)
whose org holds ``--sites`` more sites and ``--edges`` more Edges on the lab's site (the twin
settings ``cloud_synthetic_sites`` / ``cloud_synthetic_edges``). Each run opens a new API session
(so the OAuth token request is counted), then reads, through the harness's transport
(:class:`harness.transports.cloud.CloudApi`):

* every site of the org (``GET …/edges/sites``, all pages);
* the lab's site by name (:meth:`harness.devices.drivers.cloud.CloudOrg.site`);
* every Edge of the site (:meth:`~harness.devices.drivers.cloud.CloudOrg.edges`, all pages);

for each ``--page-sizes`` value, and prints the median wall time and the number of HTTP calls. The
1,000-phone figure of issue 12 needs the phones endpoint (the next resource group): until then the
Edges of the site stand in for the phones (same paging, a record of similar size).

Run: ``HIL_TEST_NET=127.66 .venv/bin/python bench/cloud_bench.py [--edges 1000 --sites 100 --runs 5]``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HIL_TEST_NET", "127.66")

from bench.common import twin_lab  # noqa: E402
from harness.devices.drivers.cloud import CloudOrg  # noqa: E402
from harness.devices.facts.cloud_edges import EDGES, Edge  # noqa: E402
from harness.devices.facts.cloud_sites import SITES, Site  # noqa: E402
from harness.inventory import LoadedLab  # noqa: E402

_SENT = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} > ", re.M)  # a request line of a rendered transcript


def inventory_text(sites: int, edges: int) -> str:
    net = os.environ["HIL_TEST_NET"]
    text = (REPO / "lab_inventory.yaml").read_text().replace("127.0.", f"{net}.")
    return text.replace("\nprofile: profiles/default.yaml\n",
                        f"\ntwin: {{cloud_synthetic_sites: {sites}, cloud_synthetic_edges: {edges}}}\n", 1)


def one_run(loaded: LoadedLab, page_size: int) -> tuple[float, int, int, int]:
    """(seconds, HTTP calls, sites read, Edges read) of one cold read of the org."""
    assert loaded.lab.cloud is not None
    org = CloudOrg(loaded, loaded.lab.cloud)  # a new session: its token request is counted
    t0 = time.perf_counter()
    transcript = org.api().transcript
    mark = transcript.mark()
    sites = org.api().list(SITES, Site, page_size=page_size)
    site = org.site()
    edges = org.api().list(EDGES, Edge, params={"site.id": site.id}, page_size=page_size)
    took = time.perf_counter() - t0
    calls = len(_SENT.findall(transcript.render(mark)))
    org.close()
    return took, calls, len(sites), len(edges)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sites", type=int, default=100)
    ap.add_argument("--edges", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--page-sizes", default="25,100")
    args = ap.parse_args()
    with twin_lab("hil-cloud-bench-", inventory_text(args.sites, args.edges)) as (_, loaded, start_s):
        print(f"twin up in {start_s:.2f} s: org of {args.sites + 1} sites, {args.edges + 1} Edges on the lab's site")
        print("| page size | HTTP calls | sites | Edges | min s | median s | max s |")
        print("|---|---|---|---|---|---|---|")
        for size in (int(s) for s in args.page_sizes.split(",")):
            one_run(loaded, size)  # warm-up
            runs = [one_run(loaded, size) for _ in range(args.runs)]
            times = [r[0] for r in runs]
            _, calls, n_sites, n_edges = runs[0]
            print(f"| {size} | {calls} | {n_sites} | {n_edges} | {min(times):.3f} | "
                  f"**{statistics.median(times):.3f}** | {max(times):.3f} |")


if __name__ == "__main__":
    main()
