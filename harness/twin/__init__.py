"""The lab twin: every device of an emulated inventory served on loopback (layout in docs/architecture.md).

``manager`` starts, finds and stops the twin process; ``lab`` is that process's whole twin (every
server and role registered); ``core``, ``servers`` and one package per device role hold the rest.
"""
