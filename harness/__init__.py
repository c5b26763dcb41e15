"""hil: a hardware-in-the-loop harness for telephony labs.

Layers (arrows point down only): cli -> pytest plugin (hil_pytest, the repository's fixtures/) ->
scenarios -> duties/evidence -> devices -> transports -> inventory; the lab twin (harness.twin) sits
beside them and is reached only over the protocols real devices speak.

Importing the package filters the third-party warnings that tell a user nothing
(:mod:`harness.third_party_warnings`), before any module of it imports those libraries.
"""

from .third_party_warnings import filter_third_party_warnings

filter_third_party_warnings()

__version__ = "0.1.0"
