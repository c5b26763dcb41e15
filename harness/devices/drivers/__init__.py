"""Device drivers: one class per role and platform, registered with
:func:`harness.devices.registry.register`, and the access mixins they are built from
(:mod:`.ssh_access`, :mod:`.snmp_access`, :mod:`.sip_access`).

Importing this package registers every built-in driver.
"""

from . import edge, phone, provisioning, pstn, switch

__all__ = ["edge", "phone", "provisioning", "pstn", "switch"]
