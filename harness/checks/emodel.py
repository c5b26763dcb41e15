"""The E-model of ITU-T G.107: transmission rating factor R and MOS for a call leg (QOS-MEDIA).

No maintained Python library computes it (PyPI's ``emodel`` 0.1.0 is empty; ``speechmos`` and
``pesq`` score recorded audio, not network figures), so this module writes out Recommendation
ITU-T G.107 (06/2015), clause 7 (the formulas) and Annex B (R to MOS), for narrowband calls.
The equipment impairment factor ``Ie`` and the packet-loss robustness factor ``Bpl`` of each codec
come from ITU-T G.113 Appendix I (:data:`CODECS`).

Inputs are what a harness measures on a call leg: the one-way (mouth-to-ear) delay in ms, the
packet loss in percent and, optionally, the burst ratio (1 = random loss, RFC 3611's burst metrics
give it). Every other parameter keeps G.107's default (Table 3), the value the Recommendation
gives for planning when the real one is unknown; G.107 states that all defaults together give
R = 93.2. Delay enters through clause 7.4's three terms (talker echo Idte, listener echo Idle and
absolute delay Idd), not the straight-line approximation some tools use, which gives a few points
less above 300 ms. The echo path delay ``T`` is taken equal to the one-way delay and the round-trip delay
``Tr`` to twice it, the usual assumption when only the one-way figure is known (project choice).

The limit QOS-MEDIA applies is R >= 70 (MOS about 3.6): a project choice derived from G.107's
user-satisfaction bands (G.109: 70 is the lower edge of "some users dissatisfied").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["CODECS", "Codec", "EModelInputs", "LegRating", "mos_from_r", "r_factor", "rate_leg"]


@dataclass(frozen=True)
class Codec:
    """A codec's E-model figures (ITU-T G.113 Appendix I, Tables I.1 and I.3).

    ``ie``: equipment impairment factor with no loss; ``bpl``: packet-loss robustness factor (with
    the codec's packet-loss concealment when ``plc``)."""

    name: str
    ie: float
    bpl: float
    plc: bool


#: by the name a call's SDP gives the codec (lower case), plus ``-noplc`` forms (G.113 Appendix I)
CODECS: dict[str, Codec] = {
    "pcmu": Codec("G.711 mu-law with PLC (G.711 Appendix I)", 0.0, 25.1, True),
    "pcma": Codec("G.711 A-law with PLC (G.711 Appendix I)", 0.0, 25.1, True),
    "pcmu-noplc": Codec("G.711 mu-law without PLC", 0.0, 4.3, False),
    "pcma-noplc": Codec("G.711 A-law without PLC", 0.0, 4.3, False),
    "g729": Codec("G.729A with VAD", 11.0, 19.0, True),
    "g723": Codec("G.723.1 6.3 kbit/s with VAD", 15.0, 16.1, True),
}


@dataclass(frozen=True)
class EModelInputs:
    """G.107 clause 7 parameters, default values of its Table 3 (units as G.107 gives them).

    Loudness ratings in dB (``slr``, ``rlr``, ``stmr``, ``lstr``, ``telr``, ``wepl``), noise in
    dBm0p / dBmp (``nc``, ``nfor``), room noise in dB(A) (``ps``, ``pr``), delays in ms (``t_ms``
    echo path, ``tr_ms`` round trip, ``ta_ms`` absolute one-way), ``ppl_pct`` packet loss in
    percent, ``burst_ratio`` (1: random loss), ``advantage`` the advantage factor A."""

    slr: float = 8.0
    rlr: float = 2.0
    stmr: float = 15.0
    lstr: float = 18.0
    ds: float = 3.0
    telr: float = 65.0
    wepl: float = 110.0
    t_ms: float = 0.0
    tr_ms: float = 0.0
    ta_ms: float = 0.0
    qdu: float = 1.0
    ie: float = 0.0
    bpl: float = 4.3
    ppl_pct: float = 0.0
    burst_ratio: float = 1.0
    nc: float = -70.0
    nfor: float = -64.0
    ps: float = 35.0
    pr: float = 35.0
    advantage: float = 0.0


def _lg(x: float) -> float:
    return math.log10(x)


def r_factor(p: EModelInputs) -> float:
    """The transmission rating factor R = Ro - Is - Id - Ie,eff + A (G.107 clause 7.1, eq. 7-1).

    Raises ValueError for a negative delay or loss, a loss above 100 % or a burst ratio below 1."""
    if min(p.t_ms, p.tr_ms, p.ta_ms, p.ppl_pct) < 0 or p.ppl_pct > 100 or p.burst_ratio < 1:
        raise ValueError(f"E-model inputs out of range: {p}")
    # 7.2 basic signal-to-noise ratio Ro
    olr = p.slr + p.rlr
    nfo = p.nfor + p.rlr
    pre = p.pr + 10 * _lg(1 + 10 ** ((10 - p.lstr) / 10))
    nor = p.rlr - 121 + pre + 0.008 * (pre - 35) ** 2
    nos = p.ps - p.slr - p.ds - 100 + 0.004 * (p.ps - olr - p.ds - 14) ** 2
    no = 10 * _lg(10 ** (p.nc / 10) + 10 ** (nos / 10) + 10 ** (nor / 10) + 10 ** (nfo / 10))
    ro = 15 - 1.5 * (p.slr + no)
    # 7.3 simultaneous impairment factor Is = Iolr + Ist + Iq
    xolr = olr + 0.2 * (64 + no - p.rlr)
    iolr = 20 * ((1 + (xolr / 8) ** 8) ** (1 / 8) - xolr / 8)
    stmro = -10 * _lg(10 ** (-p.stmr / 10) + math.exp(-p.t_ms / 4) * 10 ** (-p.telr / 10))
    ist = (12 * (1 + ((stmro - 13) / 6) ** 8) ** (1 / 8) - 28 * (1 + ((stmro + 1) / 19.4) ** 35) ** (1 / 35)
           - 13 * (1 + ((stmro - 3) / 33) ** 13) ** (1 / 13) + 29)
    q = 37 - 15 * _lg(p.qdu)
    g = 1.07 + 0.258 * q + 0.0602 * q ** 2
    y = (ro - 100) / 15 + 46 / 8.4 - g / 9
    z = 46 / 30 - g / 40
    iq = 15 * _lg(1 + 10 ** y + 10 ** z)
    is_ = iolr + ist + iq
    # 7.4 delay impairment factor Id = Idte + Idle + Idd
    roe = -1.5 * (no - p.rlr)
    terv = p.telr - 40 * _lg((1 + p.t_ms / 10) / (1 + p.t_ms / 150)) + 6 * math.exp(-0.3 * p.t_ms ** 2)
    if p.stmr < 9:
        terv += ist / 2
    re = 80 + 2.5 * (terv - 14)
    idte = ((roe - re) / 2 + math.sqrt((roe - re) ** 2 / 4 + 100) - 1) * (1 - math.exp(-p.t_ms))
    if p.stmr > 20:  # 7.4: with a weak sidetone Idte becomes Idtes = sqrt(Idte^2 + Ist^2)
        idte = math.sqrt(idte ** 2 + ist ** 2)
    rle = 10.5 * (p.wepl + 7) * (p.tr_ms + 1) ** (-1 / 4)
    idle = (ro - rle) / 2 + math.sqrt((ro - rle) ** 2 / 4 + 169)
    if p.ta_ms <= 100:
        idd = 0.0
    else:
        x = _lg(p.ta_ms / 100) / _lg(2)
        idd = 25 * ((1 + x ** 6) ** (1 / 6) - 3 * (1 + (x / 3) ** 6) ** (1 / 6) + 2)
    id_ = idte + idle + idd
    # 7.5 effective equipment impairment factor with packet loss
    ie_eff = p.ie + (95 - p.ie) * p.ppl_pct / (p.ppl_pct / p.burst_ratio + p.bpl)
    return ro - is_ - id_ - ie_eff + p.advantage


def mos_from_r(r: float) -> float:
    """Estimated conversational MOS (MOS-CQE) from R (G.107 Annex B, eq. B-4): 1 below R = 0,
    4.5 above R = 100, else 1 + 0.035 R + R (R - 60)(100 - R) 7e-6."""
    if r < 0:
        return 1.0
    if r > 100:
        return 4.5
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6


@dataclass(frozen=True)
class LegRating:
    """R and MOS of one call leg with what they were computed from."""

    r_factor: float
    mos: float
    codec: str
    latency_ms: float
    loss_pct: float
    burst_ratio: float
    inputs: EModelInputs = field(repr=False)


def rate_leg(codec: str, latency_ms: float, loss_pct: float, burst_ratio: float = 1.0) -> LegRating:
    """Rate a narrowband call leg from its measured one-way delay (ms, mouth to ear), packet loss
    (%) and burst ratio; ``codec`` is a key of :data:`CODECS` (the SDP encoding name, lower case).

    Raises KeyError for a codec G.113 Appendix I gives no figures for here, ValueError for inputs
    out of range."""
    c = CODECS[codec.lower()]
    p = EModelInputs(t_ms=latency_ms, tr_ms=2 * latency_ms, ta_ms=latency_ms, ie=c.ie, bpl=c.bpl,
                     ppl_pct=loss_pct, burst_ratio=burst_ratio)
    r = r_factor(p)
    return LegRating(r, mos_from_r(r), codec.lower(), latency_ms, loss_pct, burst_ratio, p)
