"""Is a device alive? The probe LAB-READY makes of every device, and the one the plugin makes of the
devices a failing check relied on.

:func:`probe_transports` reaches one device over each transport its inventory entry declares, all at
the same time, each within its own deadline from the inventory (``ssh.timeout_s``,
``snmp.timeout_s`` × tries, ``sip.timeout_s`` …): a dead device costs one timeout, not one per
transport.

:func:`found_dead` tells which of some devices are dead: quarantined on every transport earlier in
the run (:meth:`~harness.devices.session.LabSession.gone`), or answering on none of the transports
left when probed now. A device answers when a probe returns, or raises anything but a timeout or an
unreachable address (refused credentials and a bad answer both come from a live device). A device
found dead is quarantined on every transport it declares, so the rest of the run spends no more time
on it; a live device is asked again at the next failure (it may die later in the run).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..errors import LabError, LabTimeout, LabUnreachable
from .driver import Driver
from .session import LabSession


def probe_transports(driver: Driver, transports: Sequence[str] | None = None) -> dict[str, str | LabError]:
    """Transport -> the one-line identity the device gave over it, or the :class:`LabError` it
    raised; ``transports`` default to every one the inventory declares for the device.

    Raises:
        NotImplementedError: the driver has no capability over one of the transports.
    """
    wanted = list(driver.transports() if transports is None else transports)
    if not wanted:
        return {}

    def probe(transport: str) -> str | LabError:
        try:
            return driver.probe(transport)
        except LabError as e:
            return e

    with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        return dict(zip(wanted, pool.map(probe, wanted), strict=True))


def is_silence(answer: str | LabError) -> bool:
    """The answer is a timeout or an unreachable address: nothing came back from the device."""
    return isinstance(answer, LabTimeout | LabUnreachable)


@dataclass(frozen=True)
class DeadDevice:
    """A device found dead: ``errors`` what its transports gave (the first is the one named),
    ``earlier`` true when it had been quarantined before (no probe was made)."""

    name: str
    errors: tuple[LabError, ...]
    earlier: bool

    @property
    def first(self) -> LabError:
        return self.errors[0]

    def describe(self) -> str:
        """``quarantined earlier in the run: timeout: phone2 snmp …`` or ``no answer to the liveness
        probe: snmp 127.0.3.2:1161: no answer within 1 s; sip …``."""
        if self.earlier:
            return f"quarantined earlier in the run: {self.first}"
        return "no answer to the liveness probe: " + "; ".join(
            f"{e.transport} {e.address}: {e.detail}" for e in self.errors)


def found_dead(lab: LabSession, names: Iterable[str]) -> list[DeadDevice]:
    """The devices of ``names`` that are dead, in the order given (names the inventory lacks are
    left out). Probes the others at the same time (:func:`probe_transports`, over the transports not
    quarantined yet) and quarantines every transport of each one found dead."""
    wanted = [n for n in dict.fromkeys(names) if n in lab.lab.devices]
    dead: dict[str, DeadDevice] = {}
    to_probe: dict[str, Driver] = {}
    for name in wanted:
        earlier = lab.gone(name)
        if earlier is not None:
            dead[name] = DeadDevice(name, (earlier,), True)
            continue
        drv = lab.driver(name)
        if drv.transports():
            to_probe[name] = drv
    if to_probe:
        with ThreadPoolExecutor(max_workers=len(to_probe)) as pool:
            results = dict(zip(to_probe, pool.map(_probe_left, to_probe.values()), strict=True))
        for name, answers in results.items():
            if answers and all(is_silence(a) for a in answers.values()):
                errors = tuple(a for a in answers.values() if isinstance(a, LabError))
                for transport, error in answers.items():
                    assert isinstance(error, LabError)
                    lab.quarantine(name, error, transport)
                dead[name] = DeadDevice(name, errors, False)
    return [dead[n] for n in wanted if n in dead]


def _probe_left(driver: Driver) -> dict[str, str | LabError]:
    """:func:`probe_transports` over the transports of ``driver`` not quarantined yet, the
    quarantined ones given as their error (they count as silent)."""
    left = [t for t in driver.transports() if t not in driver.blocked]
    answers: dict[str, str | LabError] = {t: driver.blocked[t] for t in driver.transports() if t in driver.blocked}
    answers.update(probe_transports(driver, left))
    return answers
