"""The procedures' state machines without a lab: the runner (:func:`run_steps`), the transition
functions of the phone upgrade (:func:`phone_step`) and the Edge update (:func:`edge_step`) driven by
scripted stand-ins for their steps, and the switch change's (:func:`change_after`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

import pytest

from harness.devices.procedures.edge_update import EdgeStep, edge_step
from harness.devices.procedures.firmware_rollout import PhoneStep, PhoneUpgrade, phone_step
from harness.devices.procedures.state_machine import run_steps
from harness.devices.procedures.switch_provisioning import ChangeEvent, SwitchChange, change_after

FULL_UPGRADE = [PhoneStep.READ_VERSION, PhoneStep.WRITE_CONFIG, PhoneStep.CHECK_SYNC, PhoneStep.GO_AWAY,
                PhoneStep.COME_BACK, PhoneStep.REGISTER, PhoneStep.DONE]


def _run(first: Any, step: Callable[[Any, Any], Any], run: Any) -> tuple[Any, list[Any]]:
    taken: list[Any] = []
    return run_steps(first, lambda state: step(state, run), entered=taken.append), taken


def _phone(*, on_target_already: bool = False, answered_200: bool = True, back: Iterable[object | None] = ("6.4.4",),
           rebooted: Iterable[bool] = (True,), right_version: bool = True, registered: bool = True) -> SimpleNamespace:
    """A stand-in for one phone's run whose steps answer as told (``back``: what each come-back
    poll got, ``None``: nothing; ``rebooted``: each reading's uptime says it rebooted)."""
    readings, boots = iter(back), iter(rebooted)
    return SimpleNamespace(read_version=lambda: None, write_config=lambda: on_target_already,
                           check_sync=lambda: answered_200, go_away=lambda: True, come_back=lambda: next(readings),
                           rebooted=lambda _: next(boots), on_target=lambda _: right_version,
                           registered=lambda: registered)


def test_runner_tells_each_step_as_it_starts_and_ends_also_when_it_raises() -> None:
    entered: list[PhoneStep] = []
    left: list[tuple[PhoneStep, float]] = []

    def step(state: PhoneStep) -> PhoneStep | None:
        if state is PhoneStep.CHECK_SYNC:
            raise ValueError("no sip for the phone")
        return PhoneStep.CHECK_SYNC

    with pytest.raises(ValueError, match="no sip"):
        run_steps(PhoneStep.WRITE_CONFIG, step, entered=entered.append, left=lambda s, t: left.append((s, t)))
    assert entered == [PhoneStep.WRITE_CONFIG, PhoneStep.CHECK_SYNC]
    assert [s for s, _ in left] == entered and all(t >= 0 for _, t in left)


def test_phone_upgrade_runs_every_step_to_done() -> None:
    last, taken = _run(PhoneStep.READ_VERSION, phone_step, _phone())
    assert last == PhoneStep.DONE and taken == FULL_UPGRADE


def test_phone_already_on_the_target_is_done_after_its_configuration() -> None:
    last, taken = _run(PhoneStep.READ_VERSION, phone_step, _phone(on_target_already=True))
    assert last == PhoneStep.DONE and taken == [PhoneStep.READ_VERSION, PhoneStep.WRITE_CONFIG, PhoneStep.DONE]


def test_a_missed_poll_without_a_reboot_watches_the_phone_go_away_again() -> None:
    last, taken = _run(PhoneStep.READ_VERSION, phone_step, _phone(back=("6.4.3", "6.4.4"), rebooted=(False, True)))
    assert last == PhoneStep.DONE
    assert taken == [*FULL_UPGRADE[:5], PhoneStep.GO_AWAY, PhoneStep.COME_BACK, *FULL_UPGRADE[5:]]


@pytest.mark.parametrize(("phone", "stopped_in"), [
    (_phone(answered_200=False), PhoneStep.CHECK_SYNC),
    (_phone(back=(None,)), PhoneStep.COME_BACK),
    (_phone(right_version=False), PhoneStep.COME_BACK),
    (_phone(registered=False), PhoneStep.REGISTER),
])
def test_phone_upgrade_stops_in_the_step_that_failed(phone: SimpleNamespace, stopped_in: PhoneStep) -> None:
    last, taken = _run(PhoneStep.READ_VERSION, phone_step, phone)
    assert last == stopped_in and taken == FULL_UPGRADE[:FULL_UPGRADE.index(stopped_in) + 1]


def test_steps_read_as_the_text_reports_and_scenarios_use() -> None:
    u = PhoneUpgrade("phone1")
    assert u.step_reached == "not started" and not u.config_written
    for s in FULL_UPGRADE[:5]:
        u.record_step(s)
    assert u.step_reached == "come back" and f"step {u.step_reached}" == "step come back" and u.config_written
    assert json.loads(json.dumps({"step_reached": u.step_reached, "steps": u.steps}))["steps"][-1] == "come back"
    assert "come back" in PhoneUpgrade("phone1", step_reached=PhoneStep.COME_BACK, error="x").describe()


def _edge(**fails: bool) -> SimpleNamespace:
    """A stand-in for one Edge update whose checks pass unless named in ``fails``."""
    names = ("window_open", "site_locked", "needs_update", "image_ok", "staged", "drained", "install_began",
             "came_back")
    verified: list[bool] = []
    return SimpleNamespace(**{n: (lambda ok=not fails.get(n, False): ok) for n in names},
                           verify=lambda: verified.append(True), verified=verified)


def test_edge_update_runs_every_step_to_verify() -> None:
    edge = _edge()
    last, taken = _run(EdgeStep.WINDOW, edge_step, edge)
    assert last == EdgeStep.VERIFY and taken == list(EdgeStep) and edge.verified == [True]


@pytest.mark.parametrize(("failing", "stopped_in"), [
    ("window_open", EdgeStep.WINDOW), ("site_locked", EdgeStep.WINDOW), ("needs_update", EdgeStep.WINDOW),
    ("image_ok", EdgeStep.IMAGE), ("staged", EdgeStep.STAGE), ("drained", EdgeStep.DRAIN),
    ("install_began", EdgeStep.INSTALL), ("came_back", EdgeStep.REBOOT),
])
def test_edge_update_stops_in_the_step_that_failed(failing: str, stopped_in: EdgeStep) -> None:
    edge = _edge(**{failing: True})
    last, taken = _run(EdgeStep.WINDOW, edge_step, edge)
    order = list(EdgeStep)
    assert last == stopped_in and taken == order[:order.index(stopped_in) + 1] and not edge.verified


def test_switch_change_journal_first_then_the_batch_then_the_undo() -> None:
    state = SwitchChange.AS_FOUND
    for event, expected in [(ChangeEvent.JOURNAL, SwitchChange.JOURNALLED),
                            (ChangeEvent.BATCH_ACCEPTED, SwitchChange.APPLIED),
                            (ChangeEvent.JOURNAL, SwitchChange.JOURNALLED),
                            (ChangeEvent.LINE_REFUSED, SwitchChange.REFUSED),
                            (ChangeEvent.UNDO_FELL_SHORT, SwitchChange.LEFT_CHANGED),
                            (ChangeEvent.UNDONE, SwitchChange.RESTORED)]:
        state = change_after(state, event)
        assert state == expected, event
    assert change_after(SwitchChange.AS_FOUND, ChangeEvent.EARLIER_CHANGE_FOUND) == SwitchChange.LEFT_CHANGED
    assert change_after(SwitchChange.AS_FOUND, ChangeEvent.EARLIER_CHANGE_FOUND_UNDONE) == SwitchChange.RESTORED


@pytest.mark.parametrize("state", [s for s in SwitchChange if s is not SwitchChange.JOURNALLED])
def test_switch_batch_answers_need_their_journal_first(state: SwitchChange) -> None:
    for event in (ChangeEvent.BATCH_ACCEPTED, ChangeEvent.LINE_REFUSED):
        with pytest.raises(RuntimeError, match="after its journal"):
            change_after(state, event)
