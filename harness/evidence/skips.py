"""A test skipped for the run's conditions, not for the inventory.

A duty whose tests all skipped is SKIPPED, which says "the inventory has nothing to test for it";
when its core check was skipped because of how or when the lab was run (destructive without
``--allow-destructive``, outside the site's update window) the duty was not checked though it could
have been, and is PARTIAL (:mod:`harness.evidence.summary`). A scenario says so with
:func:`skip_for_run`; the plugin records the condition in the test's ``skipped_for``.
"""

from __future__ import annotations

from typing import NoReturn

import pytest


class SkippedForRun(pytest.skip.Exception):  # type: ignore[name-defined]
    """``pytest.skip`` for a run condition: ``condition`` names it (``"--allow-destructive"``,
    ``"the update window"``)."""

    def __init__(self, reason: str, condition: str) -> None:
        super().__init__(reason)
        self.condition = condition


def skip_for_run(reason: str, condition: str) -> NoReturn:
    """Skip the running test for ``condition`` of this run (not the inventory), with ``reason``."""
    raise SkippedForRun(reason, condition)
