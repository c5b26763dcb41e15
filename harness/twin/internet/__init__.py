"""The internet as the Edge's WAN segment sees it, served as the twin unit ``internet``: the NAT in
front of the site (:mod:`.nat`), an RFC 5780 STUN server on two addresses and two ports
(:mod:`.stun`), the Genesys API host's TLS endpoint with certificates from an emulated public CA
(:mod:`.tls`, :mod:`.ca`), a public DNS resolver (:mod:`.dns`), its faults (:mod:`.faults`) and
its registration (:mod:`.unit`). Each is a face real internet servers offer.
"""

from .unit import INTERNET

__all__ = ["INTERNET"]
