"""hil: a hardware-in-the-loop harness for telephony labs.

Layers (arrows point down only): cli -> pytest plugin (fixtures/) -> scenarios -> duties/evidence
-> devices -> transports -> inventory; the lab twin (harness.twin) sits beside them and is reached
only over the protocols real devices speak.
"""

__version__ = "0.1.0"
