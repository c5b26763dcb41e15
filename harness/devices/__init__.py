"""Devices by kind: :mod:`.registry` and :mod:`.session` (who drives what in a run), :mod:`.driver`
(the driver base), :mod:`.capabilities` (what a device can do, one Protocol per capability),
:mod:`.drivers` (one class per role and platform), :mod:`.facts` (pure parsers and models),
:mod:`.procedures` (multi-step procedures that return reports)."""
