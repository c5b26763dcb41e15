"""Pure fact parsers and models: text or SNMP rows in, typed facts out; no I/O, no verdicts."""
