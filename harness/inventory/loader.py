"""Load ``lab_inventory.yaml`` with line numbers, merge defaults and groups, validate, cross-check.

``load(path)`` returns a :class:`LoadedLab` or raises :class:`~harness.errors.InventoryError`
holding one :class:`~harness.errors.InventoryProblem` per problem (``file:line: path: message``).
Inheritance follows Nornir: ``defaults`` < each listed group, in order < the device itself; nested
mappings (``ssh``, ``snmp``, ``facts`` …) merge key by key.

No device is ever left out: a key the schema does not have, at any depth of ``defaults``, a group
or a device, is an error at the line where it is written and under its own path
(``defaults.snmp.comunity: unknown key; did you mean community?``), reported once however many
devices inherit it; a device that cannot be built makes the whole load fail; and the loaded lab
holds every device the file names.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, TypeAdapter, ValidationError

from ..errors import InventoryError, InventoryProblem
from . import secrets
from .keys import closest, fields_at, pydantic_message, unknown_key_message
from .models import (
    CLOUD_NAME,
    ROLES,
    Device,
    EdgeDevice,
    Lab,
    PhoneDevice,
    ProvisioningDevice,
    PstnDevice,
    SwitchDevice,
)
from .names import name_problem
from .yamlfile import Path_, YamlFileError, key_lines, nearest_line, plain, read_yaml, yaml_problem

__all__ = ["LoadedLab", "Path_", "key_lines", "load", "nearest_line", "plain", "pydantic_message", "yaml_problem"]

MAX_INVENTORY_BYTES = 16 * 2**20  # project choice: ~200,000 devices; beyond that, split the lab
_DEVICE: TypeAdapter[Any] = TypeAdapter(Device)
_ROLE_MODELS: dict[str, type[BaseModel]] = {"edge": EdgeDevice, "switch": SwitchDevice, "phone": PhoneDevice,
                                            "pstn": PstnDevice, "provisioning": ProvisioningDevice}
_SECTIONS = ("defaults", "groups")


@dataclass
class LoadedLab:
    """A validated lab plus where it came from (for relative paths and error lines)."""

    lab: Lab
    path: Path
    lines: dict[Path_, int] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def line_of(self, path: Path_) -> int | None:
        """Best line for a dotted path (see :func:`nearest_line`)."""
        return nearest_line(self.lines, path)

    def problem(self, path: Path_, message: str) -> InventoryProblem:
        return InventoryProblem(str(self.path), self.line_of(path), _dotted(path), message)

    def resolve(self, ref: str) -> str:
        """Resolve a secret reference relative to the inventory file (see :mod:`.secrets`)."""
        return secrets.resolve(ref, self.base_dir)

    def relative(self, p: str) -> Path:
        """A path from the inventory, made absolute against the inventory's folder (``~`` expanded)."""
        q = Path(p).expanduser()
        return q if q.is_absolute() else self.base_dir / q


def _dotted(path: Path_) -> str:
    """``devices.sw1.ssh``; a part that could break the one-line ``FILE:LINE: path: problem`` form
    (blank, white space, ``:``, a control character) is written quoted, as Python would."""
    return ".".join(p if isinstance(p, str) and p and p.isprintable() and not any(c.isspace() or c == ":" for c in p)
                    else repr(p) if isinstance(p, str) else str(p) for p in path)


def _children(lines: dict[Path_, int]) -> dict[Path_, list[Path_]]:
    """Direct children of every path that has any (so merges never scan the whole file)."""
    tree: dict[Path_, list[Path_]] = {}
    for p in lines:
        if p:
            tree.setdefault(p[:-1], []).append(p)
    return tree


def _descendants(tree: dict[Path_, list[Path_]], path: Path_) -> list[Path_]:
    out, todo = [], list(tree.get(path, ()))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(tree.get(p, ()))
    return out


def _merge(dst: dict[str, Any], src: dict[Any, Any], src_path: Path_, dst_path: Path_,
           tree: dict[Path_, list[Path_]], written: dict[Path_, Path_]) -> None:
    """Deep-merge ``src`` into ``dst``; ``written`` maps each merged path to the path where its value
    was written (``devices.phone1.sip.port`` -> ``groups.phones.sip.port``).

    ``written`` holds one device only, so clearing what an override replaced stays cheap. A
    ``groups`` key is skipped at the top of a section or device (it lists groups, it is not merged);
    anywhere deeper it is merged like any key, and validation calls it unknown."""
    for key, v in src.items():
        k = str(key)
        if k == "groups" and len(dst_path) == 2:
            continue
        sp, dp = (*src_path, k), (*dst_path, k)
        written[dp] = sp
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v, sp, dp, tree, written)
        else:
            if isinstance(dst.get(k), dict | list):
                for p in [p for p in written if len(p) > len(dp) and p[: len(dp)] == dp]:
                    del written[p]  # what was inherited before (e.g. under ``ssh: null``) is gone
            dst[k] = plain(v)
            for p in _descendants(tree, sp):
                written[(*dp, *p[len(sp) :])] = p


def _strip_role(loc: tuple[Any, ...], at: int) -> tuple[Path_, str | None]:
    """pydantic's location for a device (``(…, "phone", "sip", "vlan")``) without the union's tag at
    index ``at``, and that tag (the device's role) when there is one."""
    if len(loc) > at and loc[at] in ROLES:
        return (*loc[:at], *loc[at + 1 :]), str(loc[at])
    return tuple(loc), None


def _section_problems(raw: dict[str, Any], loaded: LoadedLab) -> tuple[list[InventoryProblem], dict[Path_, str]]:
    """Problems of ``defaults`` and each group on their own, whether or not a device uses them: not
    a mapping, a group name that is not a name, a nested ``groups``, and an unknown key at any depth
    (pydantic's ``extra="forbid"``; for a section that sets no ``role``, a key is unknown when no
    role takes it). Returns the problems and, by path, the message of every unknown key found."""
    problems: list[InventoryProblem] = []
    unknown: dict[Path_, str] = {}
    sections: list[tuple[Path_, Any]] = []
    if raw.get("defaults") is not None:
        sections.append((("defaults",), raw["defaults"]))
    groups = raw.get("groups")
    if isinstance(groups, dict):
        for g, body in groups.items():
            if (why := name_problem(g)) is not None:
                problems.append(InventoryProblem(str(loaded.path), loaded.line_of(("groups", str(g))), "groups",
                                                 f"{str(g)!r}: not a valid group name: {why}"))
            sections.append((("groups", str(g)), body))
    for path, body in sections:
        if not isinstance(body, dict):
            null = " (it is null)" if body is None else ""
            problems.append(loaded.problem(path, f"must be a mapping of device keys{null}"))
            continue
        if "groups" in body:  # _merge never reads it there: say so rather than ignore it
            problems.append(loaded.problem((*path, "groups"), "only devices list groups (no nesting)"))
        fields = {str(k): plain(v) for k, v in body.items() if str(k) != "groups"}
        roles = [fields["role"]] if fields.get("role") in ROLES else list(ROLES)
        per_role: list[set[Path_]] = []
        for role in roles:
            try:
                _DEVICE.validate_python({**fields, "role": role})
                per_role.append(set())
            except ValidationError as e:
                per_role.append({_strip_role(tuple(err["loc"]), 0)[0] for err in e.errors()
                                 if err["type"] == "extra_forbidden"})
        for loc in sorted(set.intersection(*per_role), key=str):
            known = fields_at([_ROLE_MODELS[r] for r in roles], loc[:-1])
            where = _dotted((*path, *loc[:-1]))
            msg = unknown_key_message(str(loc[-1]), known, where)
            unknown[(*path, *loc)] = msg
            problems.append(loaded.problem((*path, *loc), msg))
    return problems, unknown


def _once(problems: list[InventoryProblem], section_lines: set[int],
          names: list[str]) -> list[InventoryProblem]:
    """A bad value written once under ``defaults`` or ``groups`` is reported once (for the first
    device that inherits it), not once per device; two checks finding the same path are one."""
    seen: set[tuple[int | None, str, str]] = set()
    out: list[InventoryProblem] = []
    for p in problems:
        if out and (out[-1].line, out[-1].path) == (p.line, p.path) and p.path:
            continue  # problems are sorted by (line, path): the first message is kept
        if p.line in section_lines:
            field = p.path
            for n in sorted(names, key=len, reverse=True):  # names may contain dots
                if p.path == f"devices.{n}" or p.path.startswith(f"devices.{n}."):
                    field = p.path[len(f"devices.{n}") :]
                    break
            if (p.line, p.message, field) in seen:
                continue
            seen.add((p.line, p.message, field))
        out.append(p)
    return out


def _walk_secrets(node: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k in secrets.SECRET_FIELDS and isinstance(v, str):
                yield (*path, k), v
            else:
                yield from _walk_secrets(v, (*path, k))


def _cross_checks(loaded: LoadedLab, check_secrets: bool, invalid: set[str],
                  written: dict[Path_, Path_]) -> list[InventoryProblem]:
    """Checks across devices. Devices in ``invalid`` failed validation: references to them are not
    reported again. A secret reference is checked once where it is written (``written``: merged
    path -> path in the file), and reported under that path."""
    lab, out = loaded.lab, []
    seen: dict[str, dict[object, str]] = {"host": {}, "console": {}, "mac": {}, "extension": {},
                                          "switch_port": {}, "did": {}}

    def unique(kind: str, value: object, path: Path_, device: str, what: str) -> None:
        other = seen[kind].get(value)
        if other is not None:
            out.append(loaded.problem(path, f"{what} {value} is already used by {other}"))
        else:
            seen[kind][value] = device

    for name, d in lab.devices.items():
        dp: Path_ = ("devices", name)
        unique("host", d.host, (*dp, "host"), name, "address")
        if lab.lab.emulated and not _loopback(d.host):
            out.append(loaded.problem((*dp, "host"), f"{d.host!r}: the twin of an emulated lab serves every device "
                                                     "on loopback, so host must be an IPv4 address in 127.0.0.0/8"))
        if d.console:
            unique("console", d.console.url, (*dp, "console", "url"), name, "console")
        if d.ssh and not (d.ssh.password or d.ssh.key_file):
            out.append(loaded.problem((*dp, "ssh"), "needs password or key_file"))
        if d.snmp:
            s = d.snmp
            if s.version in ("1", "2c") and not s.community:
                out.append(loaded.problem((*dp, "snmp", "version"), f"SNMP v{s.version} needs community"))
            if s.version == "3":
                for key in ("user", "auth_key", "priv_key"):
                    if getattr(s, key) is None:
                        out.append(loaded.problem((*dp, "snmp", "version"), f"SNMP v3 authPriv needs {key}"))
        if d.role == "phone":
            f = d.facts
            unique("mac", f.mac, (*dp, "facts", "mac"), name, "MAC")
            unique("extension", f.extension, (*dp, "facts", "extension"), name, "extension")
            if f.switch_port:
                sw = lab.devices.get(f.switch_port.switch)
                if f.switch_port.switch not in invalid and (sw is None or sw.role != "switch"):
                    out.append(loaded.problem((*dp, "facts", "switch_port", "switch"),
                                              f"switch {f.switch_port.switch!r} is not a switch in devices"))
                unique("switch_port", f"{f.switch_port.switch} {f.switch_port.port}",
                       (*dp, "facts", "switch_port", "port"), name, "switch port")
            if f.provisioning:
                prov = lab.devices.get(f.provisioning)
                if f.provisioning not in invalid and (prov is None or prov.role != "provisioning"):
                    out.append(loaded.problem((*dp, "facts", "provisioning"),
                                              f"{f.provisioning!r} is not a provisioning server in devices"))
            if d.sip and d.sip.registrar:
                edge = lab.devices.get(d.sip.registrar)
                if d.sip.registrar not in invalid and (edge is None or edge.role != "edge"):
                    out.append(loaded.problem((*dp, "sip", "registrar"),
                                              f"registrar {d.sip.registrar!r} is not an edge in devices"))
                plan = edge.facts.dial_plan if edge is not None and edge.role == "edge" else None
                if plan and plan.station_classes and f.station_class not in ("default", *plan.station_classes):
                    out.append(loaded.problem(
                        (*dp, "facts", "station_class"),
                        f"station class {f.station_class!r} is not in the dial plan of {d.sip.registrar} "
                        f"(station_classes: {', '.join(plan.station_classes)}); write default for its default policy"))
        if d.role == "pstn":
            for i, did in enumerate(d.facts.dids):
                unique("did", did, (*dp, "facts", "dids", i), name, "DID")
            if not lab.lab.emulated:  # the twin may leave a carrier's SIP to `hil carrier serve` (docs/carrier.md)
                out.extend(_carrier_problems(loaded, name))
        if d.role == "edge":
            out.extend(_edge_telephony_problems(loaded, lab, name, invalid))
    if lab.profile:
        profile = loaded.relative(lab.profile)
        if profile.is_dir():
            out.append(loaded.problem(("profile",), f"requirement profile {lab.profile} is a directory; name the "
                                                    "profile's YAML file in it (e.g. profiles/default.yaml)"))
        elif not profile.exists():
            out.append(loaded.problem(("profile",), f"requirement profile {lab.profile} does not exist"))
        elif not profile.is_file():
            out.append(loaded.problem(("profile",), f"requirement profile {lab.profile} is not a regular file"))
    if lab.attestations:
        attested = loaded.relative(lab.attestations)
        if attested.is_dir():
            out.append(loaded.problem(("attestations",), f"attestation file {lab.attestations} is a directory; name "
                                                         "the YAML file in it (e.g. attestations.yaml)"))
        elif not attested.is_file():
            out.append(loaded.problem(("attestations",), f"attestation file {lab.attestations} does not exist"))
    internet = lab.network.internet
    if internet is not None and internet.ca_file:
        where = ("network", "internet", "ca_file")
        bundle = loaded.relative(internet.ca_file)
        if lab.lab.emulated:  # the twin writes its CAs there: keep it in the lab's own folder
            inside = bundle.resolve().is_relative_to(loaded.base_dir.resolve())
            if not inside:
                out.append(loaded.problem(where, f"CA bundle {internet.ca_file}: the twin writes its emulated CAs "
                                                 "here, so on an emulated lab it must be a path inside the "
                                                 "inventory's folder (e.g. .hil/internet-cas.pem)"))
    wan = lab.network.media.wan_port if lab.network.media else None
    if wan is not None and lab.devices:  # no devices at all is its own error
        where = ("network", "media", "wan_port")
        sw = lab.devices.get(wan.switch)
        if wan.switch not in invalid and (sw is None or sw.role != "switch"):
            out.append(loaded.problem((*where, "switch"), f"switch {wan.switch!r} is not a switch in devices"))
        elif sw is not None and sw.snmp is None:
            out.append(loaded.problem((*where, "switch"), f"switch {wan.switch!r} declares no snmp: NET-BANDWIDTH "
                                                          "reads the port's IF-MIB octet counters over SNMP"))
        if (other := seen["switch_port"].get(f"{wan.switch} {wan.port}")) is not None:
            out.append(loaded.problem((*where, "port"), f"switch port {wan.switch} {wan.port} is already used by "
                                                        f"{other} (the WAN router's port carries no phone)"))
    if check_secrets:
        checked: set[Path_] = set()  # an inherited reference is checked and reported once, where it is written
        for name, d in lab.devices.items():
            for path, ref in _walk_secrets(d.model_dump(exclude_none=True), ("devices", name)):
                at = written.get(path, path)
                if at in checked:
                    continue
                checked.add(at)
                why = secrets.check(ref, loaded.base_dir)
                if why:
                    out.append(loaded.problem(at, why))
    out.extend(_cloud_problems(loaded, check_secrets))
    return sorted(out, key=lambda p: (p.line or 0, p.path))


def _cloud_problems(loaded: LoadedLab, check_secrets: bool) -> list[InventoryProblem]:
    """The ``cloud:`` section against the rest: an emulated lab's org is the twin's (``base_url``,
    http on loopback), no device takes the org's name, and its secret references resolve."""
    lab, cloud = loaded.lab, loaded.lab.cloud
    out: list[InventoryProblem] = []
    if cloud is None:
        return out
    if CLOUD_NAME in lab.devices:
        out.append(loaded.problem(("devices", CLOUD_NAME), f"the name {CLOUD_NAME} is the Genesys Cloud org's (the "
                                                           "cloud: section) in faults and reports; rename the device"))
    if lab.lab.emulated:
        u = urlsplit(cloud.base_url or "")
        if cloud.base_url is None:
            out.append(loaded.problem(("cloud", "region"), "an emulated lab's org is the twin's: give base_url (http "
                                                           "on loopback, like http://127.0.6.1:8443), not region"))
        elif u.scheme != "http" or not _loopback(u.hostname or ""):
            out.append(loaded.problem(("cloud", "base_url"), f"{cloud.base_url}: the twin serves the emulated API over "
                                                             "http on loopback (an IPv4 address in 127.0.0.0/8)"))
    if check_secrets:
        refs = [("client_secret", cloud.client_secret)]
        if cloud.client_id_is_reference:
            refs.append(("client_id", cloud.client_id))
        for key, ref in refs:
            if why := secrets.check(ref, loaded.base_dir):
                out.append(loaded.problem(("cloud", key), why))
    return out


def _loopback(host: str) -> bool:
    try:
        return ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        return False


def _carrier_problems(loaded: LoadedLab, name: str) -> list[InventoryProblem]:
    """A PSTN simulator of a real lab: the harness calls and probes it on ``sip`` and reads its call
    log over ``http`` (bearer ``token``) or ``ssh`` (docs/carrier.md)."""
    d = loaded.lab.devices[name]
    out = []
    if d.sip is None:
        out.append(loaded.problem(("devices", name, "sip"), "a PSTN simulator needs sip: the harness calls and "
                                                            "probes the carrier there (hil carrier serve answers on "
                                                            "sip.port)"))
    if d.http is None and d.ssh is None:
        out.append(loaded.problem(("devices", name), "a PSTN simulator needs http (with token) or ssh: the harness "
                                                     "reads the carrier's call log there (docs/carrier.md)"))
    elif d.http is not None and not d.http.token:
        out.append(loaded.problem(("devices", name, "http"), "needs token: the carrier's call log is served to a "
                                                             "bearer token (docs/carrier.md)"))
    return out


def _edge_telephony_problems(loaded: LoadedLab, lab: Lab, name: str, invalid: set[str]) -> list[InventoryProblem]:
    """Cross-references of an Edge's trunk and dial plan: routes are PSTN devices, DIDs ring phones
    that exist, station classes block prefix classes that exist."""
    d = lab.devices[name]
    assert d.role == "edge"
    out: list[InventoryProblem] = []
    dp: Path_ = ("devices", name, "facts")
    trunk, plan = d.facts.trunk, d.facts.dial_plan
    if trunk:
        for i, route in enumerate(trunk.routes):
            target = lab.devices.get(route)
            if route not in invalid and (target is None or target.role != "pstn"):
                out.append(loaded.problem((*dp, "trunk", "routes", i), f"route {route!r} is not a pstn in devices"))
    if plan:
        extensions = {p.facts.extension for p in lab.devices.values() if p.role == "phone"}
        for did, ext in plan.dids.items():
            if ext not in extensions and not invalid:  # an invalid device may be the phone with ext
                out.append(loaded.problem((*dp, "dial_plan", "dids", did),
                                          f"DID {did} rings extension {ext}, which no phone in devices has"))
        for cls, policy in plan.station_classes.items():
            for i, blocked in enumerate(policy.blocked):
                if blocked not in plan.prefix_classes:
                    out.append(loaded.problem((*dp, "dial_plan", "station_classes", cls, "blocked", i),
                                              f"prefix class {blocked!r} is not defined under prefix_classes"))
    return out


#: why a Genesys Edge takes no ``ssh:`` or ``console:`` (GENESYS-API.md, "How a customer reaches an Edge")
EDGE_MANAGED = ("a Genesys Edge is cloud-managed: its customer has no SSH command line or serial console on it "
                "(it is configured and read through Genesys Cloud: the inventory's cloud: section)")


def _no_edge_command_line(merged: dict[str, Any], dp: Path_, written: dict[Path_, Path_],
                          loaded: LoadedLab) -> list[InventoryProblem]:
    """A ``genesys_edge`` device takes no ``ssh:`` and no ``console:``. Written on the device, or in a
    group it lists, each is a problem where it was written; inherited from ``defaults`` (a lab-wide
    SSH login for the switches and the carrier's host), it is dropped from the Edge, silently: the
    defaults are not about the Edge. ``merged`` loses both either way."""
    if merged.get("role") != "edge" or merged.get("platform") != "genesys_edge":
        return []
    problems = []
    for key in ("ssh", "console"):
        if merged.get(key) is None:
            continue
        at = written.get((*dp, key), (*dp, key))
        if at[0] != "defaults":
            problems.append(loaded.problem(at, f"{EDGE_MANAGED}; remove {key}:"
                                           + (f" (the group {at[1]!r} gives it to {dp[1]})" if at[0] == "groups"
                                              else "")))
        del merged[key]
        for p in [p for p in written if p[: len(dp) + 1] == (*dp, key)]:
            del written[p]
    return problems


def _merge_devices(raw: dict[str, Any], loaded: LoadedLab, tree: dict[Path_, list[Path_]],
                   written: dict[Path_, Path_]) -> tuple[dict[str, Any], set[str], list[InventoryProblem]]:
    """Each device merged from ``defaults``, its groups in order, and itself; ``written`` gets the
    path where each merged value was written. Returns the merged devices, the names of those that
    list a group the file does not define (their missing keys are that group's fault), and the
    problems found on the way (a device name that is not a name or comes twice, a body that is
    not a mapping, ``groups`` that is not a list, an undefined group)."""
    fname = str(loaded.path)
    problems: list[InventoryProblem] = []
    devices: dict[str, Any] = {}
    lacking_group: set[str] = set()
    groups = {str(g): b for g, b in raw["groups"].items()} if isinstance(raw.get("groups"), dict) else {}
    defined = [g for g, b in groups.items() if isinstance(b, dict)]
    raw_devices = raw["devices"]
    for key, body in raw_devices.items():
        name = str(key)
        dp: Path_ = ("devices", name)
        if (why := name_problem(key)) is not None:
            problems.append(InventoryProblem(fname, loaded.line_of(dp), "devices",
                                             f"{name!r}: not a valid device name: {why}"))
        if name in devices:  # two YAML keys with one spelling (1 and "1")
            problems.append(InventoryProblem(fname, loaded.line_of(dp), "devices",
                                             f"{name!r}: a second device with this name"))
        if not isinstance(body, dict):
            null = " (it is null)" if body is None else ""
            problems.append(loaded.problem(dp, f"must be a mapping of device keys{null}"))
            devices.setdefault(name, None)
            continue
        merged: dict[str, Any] = {}
        device_written: dict[Path_, Path_] = {}
        if isinstance(raw.get("defaults"), dict):
            _merge(merged, raw["defaults"], ("defaults",), dp, tree, device_written)
        names = body.get("groups") or []
        if not isinstance(names, list):
            problems.append(loaded.problem((*dp, "groups"), "must be a list of group names"))
            names = []
        for i, g in enumerate(names):
            if isinstance(g, str) and isinstance(groups.get(g), dict):
                _merge(merged, groups[g], ("groups", g), dp, tree, device_written)
                continue
            lacking_group.add(name)
            if not isinstance(g, str):
                continue  # validation says it is not a name
            message = (f"group {g!r} is not defined under groups" if str(g) not in groups
                       else f"group {g!r} is not a mapping of device keys")
            hint = f"; did you mean {close}?" if (close := closest(str(g), defined)) else ""
            problems.append(InventoryProblem(fname, loaded.line_of((*dp, "groups", i)), _dotted((*dp, "groups")),
                                             f"{message}{hint} (groups: {', '.join(defined) or 'none'})"))
        _merge(merged, body, dp, dp, tree, device_written)
        problems += _no_edge_command_line(merged, dp, device_written, loaded)
        written.update(device_written)
        merged["groups"] = plain(names)
        devices[name] = merged
    return devices, lacking_group, problems


def _validate_devices(devices: dict[str, Any], loaded: LoadedLab, written: dict[Path_, Path_],
                      unknown: dict[Path_, str], lacking_group: set[str],
                      ) -> tuple[dict[str, Any], list[InventoryProblem]]:
    """Validate each merged device. Returns those that validate and one problem per error of the
    others: an unknown key where it is written (once, with the message ``_section_problems`` gave
    it, or naming the roles that do not take it); the keys a device lacks because a group it lists
    is undefined are that group's problem. A device that fails with nothing to say for it still
    gets a problem: no device is ever left out silently."""
    problems: list[InventoryProblem] = []
    good: dict[str, Any] = {}
    inherited_unknown: dict[Path_, tuple[list[str], list[str]]] = {}  # written path -> (roles, devices)
    for name, body in devices.items():
        if body is None:  # not a mapping: already reported
            continue
        try:
            good[name] = _DEVICE.validate_python(body)
            continue
        except ValidationError as e:
            errors = e.errors()
        before = len(problems)
        for err in errors:
            loc, role = _strip_role(("devices", name, *err["loc"]), 2)
            if err["type"] == "extra_forbidden":
                at = written.get(loc, loc)
                if at[0] in _SECTIONS and at not in unknown:  # a key other roles take: name the roles that do not
                    roles, names = inherited_unknown.setdefault(at, ([], []))
                    roles.extend([role] if role and role not in roles else [])
                    names.append(name)
                    continue
                models = [_ROLE_MODELS[role]] if role else list(_ROLE_MODELS.values())
                problems.append(loaded.problem(at, unknown.get(at) or unknown_key_message(
                    str(loc[-1]), fields_at(models, loc[2:-1]), _dotted(loc[:-1]))))
                continue
            if name in lacking_group and err["type"] in ("missing", "union_tag_not_found"):
                continue  # what the undefined group would have given: reported as that group
            if err["type"] in ("union_tag_invalid", "union_tag_not_found") and len(loc) == 2:
                loc = (*loc, "role")
            problems.append(loaded.problem(written.get(loc, loc), pydantic_message(err)))  # where it is written
        inherits_unknown = any(name in names for _, names in inherited_unknown.values())
        if len(problems) == before and name not in lacking_group and not inherits_unknown:
            problems.append(loaded.problem(("devices", name), f"cannot be built: {pydantic_message(errors[0])}"))
    for at, (roles, names) in inherited_unknown.items():
        verb = "inherits" if len(names) == 1 else "inherit"
        problems.append(loaded.problem(at, f"unknown key for role {', '.join(roles)} ({', '.join(names)} {verb} it)"))
    return good, problems


def load(path: str | Path, *, check_secrets: bool = True) -> LoadedLab:
    """Read, merge, validate and cross-check an inventory file.

    Returns a lab holding every device the file names, or raises.

    Raises:
        InventoryError: one problem per bad field, each with file and line (see the module's docstring).
    """
    p = Path(path)
    fname = str(path)
    try:
        raw, lines = read_yaml(p, MAX_INVENTORY_BYTES)
    except YamlFileError as e:
        raise InventoryError([InventoryProblem(fname, e.line, "", e.message)]) from None
    if not isinstance(raw, dict):
        raise InventoryError([InventoryProblem(fname, 1, "", "must be a mapping with lab and devices")])

    secrets.register_references(raw, p.parent)  # masked from now on, in this process, whatever is wrong below
    loaded = LoadedLab(lab=None, path=p, lines=lines)  # type: ignore[arg-type]
    problems, unknown = _section_problems(raw, loaded)
    written: dict[Path_, Path_] = {}
    devices: dict[str, Any] = {}
    lacking_group: set[str] = set()
    raw_devices = raw.get("devices")
    if isinstance(raw_devices, dict) and raw_devices:
        devices, lacking_group, found = _merge_devices(raw, loaded, _children(lines), written)
        problems += found
        secrets.register_references(devices, p.parent)  # user names inherited apart from their passwords
    elif isinstance(raw_devices, dict):
        problems.append(loaded.problem(("devices",), "no devices: the lab has nothing to check (list at least one)"))
    elif "devices" not in raw:
        problems.append(InventoryProblem(fname, None, "devices", "required key is missing"))
    elif raw_devices is None:
        problems.append(loaded.problem(("devices",), "is null (nothing after the colon): list the lab's devices "
                                                     "under it, each a mapping of device keys"))
    else:
        problems.append(loaded.problem(("devices",), "must be a mapping of device names to devices"))
    section_lines = {n for q, n in lines.items() if q[0] in _SECTIONS}
    lines.update({dp: lines[sp] for dp, sp in written.items() if sp in lines})

    good, found = _validate_devices(devices, loaded, written, unknown, lacking_group)
    problems += found

    top = {k: plain(v) for k, v in raw.items() if k != "devices"}
    if isinstance(top.get("groups"), dict):  # names already checked by _section_problems
        top["groups"] = {g: b for g, b in top["groups"].items() if name_problem(g) is None}
    top["devices"] = {}
    lab: Lab | None
    try:
        lab = Lab.model_validate(top)
    except ValidationError as e:
        for err in e.errors():
            loc = tuple(err["loc"])
            if err["type"] == "extra_forbidden":
                problems.append(loaded.problem(loc, unknown_key_message(str(loc[-1]), fields_at([Lab], loc[:-1]),
                                                                        _dotted(loc[:-1]) or "the top level")))
            else:
                problems.append(loaded.problem(loc, pydantic_message(err)))
        lab = None
    if lab is not None:
        lab = lab.model_copy(update={"devices": good})
        loaded.lab = lab
        problems += _cross_checks(loaded, check_secrets, set(devices) - set(good), written)
    problems.sort(key=lambda q: (q.line or 0, q.path))
    problems = _once(problems, section_lines, list(devices))
    if not problems and (lab is None or list(lab.devices) != list(devices)):  # the contract, whatever changes above
        problems = [loaded.problem(("devices", n), "cannot be built")
                    for n in devices if lab is None or n not in lab.devices]
    if problems:
        raise InventoryError(problems)
    assert lab is not None
    return loaded
