"""The real-lab example of docs/inventory.md and the carrier file of docs/carrier.md: both load,
pass `hil inventory check`, agree with each other, and the example's carrier is reachable as the
PSTN duties reach it (it used to stop the run: ``pstn-sim: the inventory declares no sip settings``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.carrier.config import load_carrier
from harness.devices.drivers.pstn import PstnSimulator
from harness.devices.session import LabSession
from harness.errors import InventoryError
from harness.inventory import load
from harness.preflight import check_lab
from tests.conftest import REPO, make_test_lab


def _block(doc: str, heading: str, lang: str = "yaml") -> str:
    section = doc[doc.index(heading):]
    start = section.index(f"```{lang}\n") + len(lang) + 4
    return section[start:section.index("```\n", start)]


def _example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None = None) -> Path:
    if text is None:
        text = _block((REPO / "docs" / "inventory.md").read_text(), "## Describing a real lab")
    for var in set(re.findall(r"\benv:([A-Z_]+)", text)):
        monkeypatch.setenv(var, f"not-a-real-secret-{var.lower()}")
    return make_test_lab(tmp_path / "lab", text)


def test_the_real_lab_example_checks_ok_and_its_carrier_is_reachable(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    inv = _example(tmp_path, monkeypatch)
    loaded, problems = check_lab(inv)  # what `hil inventory check` prints
    assert loaded is not None and problems == []
    assert not loaded.lab.lab.emulated
    lab = LabSession(loaded)
    try:
        pstn = lab.driver("pstn-sim", PstnSimulator)
        assert pstn.sip_address() == ("10.20.0.30", 5060)  # where PSTN-CONNECT's OPTIONS go
        assert pstn.call_log_transport == "http" and set(pstn.transports()) == {"ssh", "sip", "http"}
    finally:
        lab.close()


def test_the_old_example_without_sip_is_refused_at_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _block((REPO / "docs" / "inventory.md").read_text(), "## Describing a real lab")
    old = text.replace("    sip: {port: 5060}", "    sip: null").replace(
        "    http: {port: 8088, token: env:HIL_CARRIER_TOKEN}", "    http: null")
    old = re.sub(r"    ssh:[^\n]*\n      username: hil-carrier\n      password: env:HIL_CARRIER_SSH_PASSWORD\n",
                 "    ssh: null\n", old)
    assert old != text
    inv = _example(tmp_path, monkeypatch, old)
    with pytest.raises(InventoryError) as e:
        load(inv)
    lines = old.splitlines()
    dev = next(n for n, ln in enumerate(lines, 1) if ln.startswith("  pstn-sim:"))
    sip = next(n for n, ln in enumerate(lines, 1) if n > dev and ln.startswith("    sip: null"))
    msgs = [str(p) for p in e.value.problems]
    assert msgs == [f"{inv}:{dev}: devices.pstn-sim: a PSTN simulator needs http (with token) or ssh: the harness "
                    "reads the carrier's call log there (docs/carrier.md)",
                    f"{inv}:{sip}: devices.pstn-sim.sip: a PSTN simulator needs sip: the harness calls and probes "
                    "the carrier there (hil carrier serve answers on sip.port)"], msgs


def test_the_carrier_file_of_the_docs_loads_and_agrees_with_the_inventory(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = load(_example(tmp_path, monkeypatch))
    text = _block((REPO / "docs" / "carrier.md").read_text(), "`carrier.yaml` (every key")
    text = text.replace("/var/log/hil-pstn/calls.csv", str(tmp_path / "calls.csv"))
    (tmp_path / "carrier.yaml").write_text(text)
    carrier = load_carrier(tmp_path / "carrier.yaml").config
    dev = loaded.lab.devices[carrier.name]
    assert dev.role == "pstn" and dev.sip is not None and dev.http is not None
    assert (carrier.sip.host, carrier.sip.port) == (dev.host, dev.sip.port)
    assert carrier.call_log.http is not None and carrier.call_log.http.port == dev.http.port
    assert carrier.call_log.http.token == dev.http.token
    assert carrier.echo_numbers == dev.facts.test_numbers  # type: ignore[union-attr]
    assert carrier.unavailable_numbers == dev.facts.unavailable_numbers  # type: ignore[union-attr]
    assert {e.name for e in carrier.edges} <= set(loaded.lab.by_role("edge"))
