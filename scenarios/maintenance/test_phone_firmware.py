"""MAINT-PHONE-FIRMWARE: phone firmware images checked, then rolled out (destructive).

Read-only part: the image each phone platform must run is on the provisioning server and matches
the SHA-256 the requirement profile gives for it. This is the check that runs before any phone is
touched: a missing image (404) or a wrong checksum stops a rollout for that platform, with the URL
and both checksums in the message. Threshold: the profile's ``firmware.<platform>.sha256`` (project
choice: the customer's approved image; no Genesys firmware policy found).

Rollout (``--allow-destructive``, :mod:`harness.devices.procedures.firmware_rollout`, docs/firmware.md), the
duty's core check (without it the duty is PARTIAL, never PASS on the checksum alone): per
platform with a target, a canary phone, then waves of ``wave_size`` phones, ``concurrency`` at
once; every phone must come back on the target version (the old one again is a FAIL) and be
registered at its Edge within ``reregister_min`` of its check-sync. Thresholds (catalogue, project
choice; a profile may override them): ``wave_size``, ``concurrency``, ``away_max_s`` (check-sync to
reboot), ``return_max_s`` (gone to back), ``reregister_min``. The per-phone table is attached.
Teardown puts phones whose inventory entry says ``restore_firmware: true`` back on their version.
The phones are the rollout's to take away (``acts_on``): one that never returns is the finding."""

import json

import pytest

from harness.checks.images import judge_image
from harness.devices.procedures.firmware_rollout import RolloutReport, Timeouts, restore, rollout
from harness.devices.procedures.image_check import check_image
from harness.devices.session import LabSession
from harness.duties.catalogue import Threshold
from harness.duties.profile import FirmwareTarget, Profile
from harness.evidence.attach import attach
from harness.evidence.check import check, intent, observe
from harness.evidence.reliance import acts_on

DUTY = "MAINT-PHONE-FIRMWARE"


@pytest.mark.duty(DUTY)
def test_target_images_are_served_with_their_checksum(lab: LabSession, profile: Profile) -> None:
    platforms = sorted({d.platform for d in lab.lab.devices.values() if d.role == "phone"})
    targets = {p: profile.firmware[p] for p in platforms if p in profile.firmware}
    if not targets:
        pytest.skip(f"requirement profile {profile.name} names no target firmware for {', '.join(platforms)}")
    for platform, target in targets.items():
        img = check_image(lab, platform, target)
        if img.server is None:
            pytest.skip(img.problem)
        judge_image(img, target, profile, duty=DUTY, what=f"{platform} {target.version} image")


def _phones_by_platform(lab: LabSession, profile: Profile) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, d in lab.lab.devices.items():
        if d.role == "phone" and d.platform in profile.firmware and d.snmp is not None and d.sip is not None:
            out.setdefault(d.platform, []).append(name)
    return out


@pytest.mark.duty(DUTY)
@pytest.mark.core("the firmware rollout")
@pytest.mark.destructive
def test_phone_firmware_rollout(lab: LabSession, profile: Profile) -> None:
    groups = _phones_by_platform(lab, profile)
    if not groups:
        pytest.skip(f"requirement profile {profile.name} names no target firmware for a phone with SNMP and SIP "
                    "in the inventory")
    acts_on(*(name for phones in groups.values() for name in phones))
    limit = profile.threshold(DUTY, "reregister_min")
    timeouts = Timeouts(away_s=profile.threshold(DUTY, "away_max_s").number,
                        back_s=profile.threshold(DUTY, "return_max_s").number,
                        register_s=limit.number * 60)
    for platform, phones in sorted(groups.items()):
        target = profile.firmware[platform]
        report = rollout(lab, phones, target, wave_size=int(profile.threshold(DUTY, "wave_size").number),
                         concurrency=int(profile.threshold(DUTY, "concurrency").number), timeouts=timeouts)
        try:
            _judge(report, target, profile, limit)
        finally:
            restored = restore(lab, report, timeouts=timeouts)
            if restored:
                attach(f"{platform} firmware restored", "\n".join(f"{u.name}: {u.describe()}" for u in restored))
                for u in restored:
                    observe(u.version_after, duty=DUTY, device=u.name, what="firmware after the restore",
                            detail=u.describe())


def _judge(report: RolloutReport, target: FirmwareTarget, profile: Profile, limit: Threshold) -> None:
    attach(f"{report.platform} firmware rollout", report.table())
    attach(f"{report.platform} firmware rollout (JSON)", json.dumps(
        {"summary": report.summary(), "stopped": report.stopped, "waves": report.waves,
         "phones": [{k: v for k, v in vars(u).items() if k != "lab_error"} for u in report.phones]}, indent=2),
        "json")
    img = report.image
    if img is not None and not img.ok:
        judge_image(img, target, profile, duty=DUTY, what=f"{report.platform} {target.version} image",
                    context=report.stopped)
    if report.lab_errors:
        raise report.lab_errors[0]
    want = Threshold("firmware after the rollout", target.version, "", "==", f"requirement profile {profile.name}")
    for u in report.phones:
        context = u.describe() + (f"; rollout stopped: {report.stopped}" if report.stopped else "") + \
            f"; phones now: {report.where()}"
        check(u.version_after, want, duty=DUTY, device=u.name,
              what=f"{report.platform} firmware after the rollout (wave {u.wave})", detail=context)
        if u.step_reached != "done" or u.error:
            check(u.step_reached, intent("rollout step reached", "done"), duty=DUTY, device=u.name,
                  what=f"{report.platform} rollout of the phone", detail=context)
        if u.registered_s is not None:  # None: already on the target, or no registrar to register with
            check(round(u.registered_s / 60, 3), limit, duty=DUTY, device=u.name,
                  what="re-registration after the firmware update (check-sync to registered)", detail=context)
