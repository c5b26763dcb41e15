"""The twin's core: the :class:`~.twin.Twin`, its registries (roles, servers, faults), the base device
state, the fault machinery and the faults several roles share, and the control channel. Core never
imports a protocol server or a role package: they register themselves with it."""
