"""``hil carrier serve``: the PSTN simulator on a lab's Linux host (docs/carrier.md).

The same carrier the twin's PSTN role runs (:mod:`harness.twin.pstn`: its SIP side, call log and
call log HTTP server), configured by a small YAML file (:mod:`.config`) instead of an inventory, and
run by :mod:`.serve` until SIGTERM or SIGINT.
"""
