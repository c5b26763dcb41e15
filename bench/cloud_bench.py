"""Benchmark: reading a large Genesys Cloud org from the twin's emulated API, paging included.

Starts a twin of a copy of the shipped lab (addresses moved to ``$HIL_TEST_NET``, default 127.66)
whose org holds ``--sites`` more sites, ``--edges`` more Edges and ``--phones`` more phone records on
the lab's site (the twin settings ``cloud_synthetic_sites`` / ``cloud_synthetic_edges`` /
``cloud_synthetic_phones``). Each run opens a new API session (so the OAuth token request is
counted), then reads, through the harness's transport (:class:`harness.transports.cloud.CloudApi`):

* every site of the org (``GET …/edges/sites``, all pages);
* the lab's site by name (:meth:`harness.devices.drivers.cloud.CloudOrg.site`);
* every Edge of the site (:meth:`~harness.devices.drivers.cloud.CloudOrg.edges`, all pages);
* every phone record of the site (``GET …/edges/phones?site.id=…``, all pages), timed on its own;

for each ``--page-sizes`` value, and prints the median wall time and the number of HTTP calls.

Run: ``HIL_TEST_NET=127.66 .venv/bin/python bench/cloud_bench.py [--edges 1000 --sites 100 --phones 1000 --runs 5]``.
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
from harness.devices.facts.cloud_phones import PHONES, PhoneRecord  # noqa: E402
from harness.devices.facts.cloud_sites import SITES, Site  # noqa: E402
from harness.inventory import LoadedLab  # noqa: E402

_SENT = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} > ", re.M)  # a request line of a rendered transcript


def inventory_text(sites: int, edges: int, phones: int = 0) -> str:
    net = os.environ["HIL_TEST_NET"]
    text = (REPO / "lab_inventory.yaml").read_text().replace("127.0.", f"{net}.")
    twin = f"cloud_synthetic_sites: {sites}, cloud_synthetic_edges: {edges}, cloud_synthetic_phones: {phones}"
    return text.replace("\nprofile: profiles/default.yaml\n", f"\ntwin: {{{twin}}}\n", 1)


def one_run(loaded: LoadedLab, page_size: int) -> tuple[float, int, int, int, int, float, int]:
    """(seconds, HTTP calls, sites read, Edges read, phones read, seconds and HTTP calls of the phones)
    of one cold read of the org."""
    assert loaded.lab.cloud is not None
    org = CloudOrg(loaded, loaded.lab.cloud)  # a new session: its token request is counted
    t0 = time.perf_counter()
    transcript = org.api().transcript
    mark = transcript.mark()
    sites = org.api().list(SITES, Site, page_size=page_size)
    site = org.site()
    edges = org.api().list(EDGES, Edge, params={"site.id": site.id}, page_size=page_size)
    t1, mark1 = time.perf_counter(), transcript.mark()
    phones = org.api().list(PHONES, PhoneRecord, params={"site.id": site.id}, page_size=page_size)
    t2 = time.perf_counter()
    calls = len(_SENT.findall(transcript.render(mark)))
    phone_calls = len(_SENT.findall(transcript.render(mark1)))
    org.close()
    return t2 - t0, calls, len(sites), len(edges), len(phones), t2 - t1, phone_calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sites", type=int, default=100)
    ap.add_argument("--edges", type=int, default=1000)
    ap.add_argument("--phones", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--page-sizes", default="25,100")
    args = ap.parse_args()
    with twin_lab("hil-cloud-bench-", inventory_text(args.sites, args.edges, args.phones)) as (_, loaded, start_s):
        print(f"twin up in {start_s:.2f} s: org of {args.sites + 1} sites; on the lab's site "
              f"{args.edges + 1} Edges and {args.phones} phone records beside the inventory's phones")
        print("| page size | HTTP calls | sites | Edges | phones | min s | median s | max s | phones: calls | "
              "phones: median s |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for size in (int(s) for s in args.page_sizes.split(",")):
            one_run(loaded, size)  # warm-up
            runs = [one_run(loaded, size) for _ in range(args.runs)]
            times = [r[0] for r in runs]
            _, calls, n_sites, n_edges, n_phones, _, phone_calls = runs[0]
            phone_s = statistics.median(r[5] for r in runs)
            print(f"| {size} | {calls} | {n_sites} | {n_edges} | {n_phones} | {min(times):.3f} | "
                  f"**{statistics.median(times):.3f}** | {max(times):.3f} | {phone_calls} | **{phone_s:.3f}** |")


if __name__ == "__main__":
    main()
