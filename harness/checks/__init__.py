"""Scenario support: the types of what the plugin's fixtures hand scenarios (a trunk plan, a phone's
switch port, the run's switch audits) and the judges several scenarios share (an answered call,
echoed audio, a firmware image). Scenarios import these; the plugin builds them."""
