"""The twin's role-agnostic protocol servers: SSH (:mod:`.ssh`), serial consoles (:mod:`.console`),
the one SNMP engine (:mod:`.snmp`, rows every device serves in :mod:`.mib2`), the CLI a device
without one of its own gets (:mod:`.shell`), the SIP user agent phones and carrier share
(:mod:`.sip_ua`), DNS over UDP and TCP for the resolvers (:mod:`.dns`) and the TCP listener the
stream protocols share (:mod:`.tcp`). A server asks the device's
:class:`~harness.twin.core.twin.RoleSpec` for its shell, MIB, banner or SFTP folder and never tests
a device's type."""
