"""Load ``lab_inventory.yaml`` with line numbers, merge defaults and groups, validate, cross-check.

``load(path)`` returns a :class:`LoadedLab` or raises :class:`~harness.errors.InventoryError`
holding one :class:`~harness.errors.InventoryProblem` per problem (``file:line: path: message``).
Inheritance follows Nornir: ``defaults`` < each listed group, in order < the device itself; nested
mappings (``ssh``, ``snmp``, ``facts`` …) merge key by key.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from ..errors import InventoryError, InventoryProblem
from . import secrets
from .models import ROLES, Device, Lab, _DeviceBase

Path_ = tuple[str | int, ...]
_DEVICE_KEYS = set(_DeviceBase.model_fields) | {"role", "facts"}
MAX_INVENTORY_BYTES = 16 * 2**20  # project choice: ~200,000 devices; beyond that, split the lab
MAX_EXPANDED_NODES = 2_000_000  # project choice: values after alias expansion (a "billion laughs" stops here)


def _expanded_size(node: Any, budget: int) -> int:
    """Values in ``node`` counting every alias use again; stops counting past ``budget``."""
    count, todo = 0, [node]
    while todo and count <= budget:
        n = todo.pop()
        count += 1
        if isinstance(n, dict):
            todo.extend(n.values())
        elif isinstance(n, list):
            todo.extend(n)
    return count
_DEVICE: TypeAdapter[Any] = TypeAdapter(Device)
_UNCLOSED = ("while parsing a flow", "while scanning a quoted", "while scanning a block scalar")
_SECRET_FIELDS = {"password", "key_file", "enable_secret", "community", "auth_key", "priv_key"}


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
    return ".".join(str(p) for p in path)


def _lines(node: Any, prefix: Path_, out: dict[Path_, int]) -> None:
    """Record the 1-based line of every key and sequence item under ``node``."""
    if isinstance(node, CommentedMap):
        for k in node:
            try:
                out[(*prefix, str(k))] = node.lc.key(k)[0] + 1
            except (KeyError, TypeError):
                continue
            _lines(node[k], (*prefix, str(k)), out)
    elif isinstance(node, CommentedSeq):
        for i, item in enumerate(node):
            try:
                out[(*prefix, i)] = node.lc.item(i)[0] + 1
            except (KeyError, TypeError):
                continue
            _lines(item, (*prefix, i), out)


_DUPLICATE = re.compile(r'found duplicate key "(.*?)" with value .*', re.S)


def yaml_problem(e: MarkedYAMLError) -> str:
    """The parser's words for ``e``, short: a duplicate key is named without both values (which may
    be whole devices)."""
    what = (e.problem or e.context or "invalid YAML").strip()
    return _DUPLICATE.sub(r'duplicate key "\1" (each key once per mapping)', what)


def nearest_line(lines: Mapping[Path_, int], path: Path_) -> int | None:
    """The line of ``path`` in ``lines`` (from :func:`key_lines`), else of its nearest ancestor."""
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


def key_lines(node: Any) -> dict[Path_, int]:
    """The 1-based line of every key and sequence item of a round-trip-loaded YAML ``node``, by path
    (``("devices", "edge1", "ssh")``)."""
    out: dict[Path_, int] = {}
    _lines(node, (), out)
    return out


def plain(node: Any) -> Any:
    """``node`` as plain dicts and lists (string keys), as pydantic expects."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node


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


def _merge(dst: dict[str, Any], src: dict[str, Any], src_path: Path_, dst_path: Path_,
           src_lines: dict[Path_, int], src_tree: dict[Path_, list[Path_]], dst_lines: dict[Path_, int]) -> None:
    """Deep-merge ``src`` into ``dst``; the merged keys take their lines from where they were written.

    ``dst_lines`` holds the lines of one device only, so clearing stale lines stays cheap."""
    for k, v in src.items():
        if k == "groups":
            continue
        sp, dp = (*src_path, k), (*dst_path, k)
        if sp in src_lines:
            dst_lines[dp] = src_lines[sp]
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v, sp, dp, src_lines, src_tree, dst_lines)
        else:
            if isinstance(dst.get(k), dict | list):
                for p in [p for p in dst_lines if len(p) > len(dp) and p[: len(dp)] == dp]:
                    del dst_lines[p]  # lines of what was inherited before (e.g. ``ssh: null``) are stale
            dst[k] = plain(v)
            for p in _descendants(src_tree, sp):
                dst_lines[(*dp, *p[len(sp) :])] = src_lines[p]


def pydantic_message(err: Mapping[str, Any]) -> str:
    """A pydantic error in the inventory's words (``unknown key``, ``required key is missing``, ``must be …``)."""
    msg = str(err["msg"])
    t = err["type"]
    if t == "extra_forbidden":
        return "unknown key"
    if t == "missing":
        return "required key is missing"
    if t == "union_tag_invalid" or t == "union_tag_not_found":
        return f"role must be one of {', '.join(repr(r) for r in ROLES)}"
    for a, b in (("Input should be", "must be"), ("Value error, ", ""), ("String should", "must"),
                 ("Input should", "must")):
        msg = msg.replace(a, b)
    return msg


def _check_sections(data: dict[str, Any], loaded: LoadedLab, problems: list[InventoryProblem]) -> None:
    """Keys of ``defaults`` and of each group must be device keys (caught even if no device uses them)."""
    sections: list[tuple[Path_, Any]] = [(("defaults",), data.get("defaults") or {})]
    groups = data.get("groups") or {}
    if isinstance(groups, dict):
        sections += [(("groups", str(g)), body) for g, body in groups.items()]
    for path, body in sections:
        if not isinstance(body, dict):
            problems.append(loaded.problem(path, "must be a mapping of device keys"))
            continue
        for k in body:
            if k not in _DEVICE_KEYS:
                problems.append(loaded.problem((*path, str(k)), "unknown key"))
            elif k == "groups":  # _merge never reads it there: say so rather than ignore it
                problems.append(loaded.problem((*path, str(k)), "only devices list groups (no nesting)"))


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
            if k in _SECRET_FIELDS and isinstance(v, str):
                yield (*path, k), v
            else:
                yield from _walk_secrets(v, (*path, k))


def _cross_checks(loaded: LoadedLab, check_secrets: bool, invalid: set[str]) -> list[InventoryProblem]:
    """Checks across devices. Devices in ``invalid`` failed validation: references to them are not
    reported again."""
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
        for g in d.groups:
            if g not in lab.groups:
                out.append(loaded.problem((*dp, "groups"), f"group {g!r} is not defined under groups"))
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
            if s.version == "2c" and not s.community:
                out.append(loaded.problem((*dp, "snmp", "version"), "SNMP v2c needs community"))
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
        if d.role == "edge":
            out.extend(_edge_telephony_problems(loaded, lab, name, invalid))
    if lab.profile and not loaded.relative(lab.profile).is_file():
        out.append(loaded.problem(("profile",), f"requirement profile {lab.profile} does not exist"))
    if check_secrets:
        reported: set[tuple[int | None, str]] = set()  # an inherited reference is reported once
        for name, d in lab.devices.items():
            for path, ref in _walk_secrets(d.model_dump(exclude_none=True), ("devices", name)):
                why = secrets.check(ref, loaded.base_dir)
                if why and (loaded.line_of(path), ref) not in reported:
                    reported.add((loaded.line_of(path), ref))
                    out.append(loaded.problem(path, why))
    return sorted(out, key=lambda p: (p.line or 0, p.path))


def _loopback(host: str) -> bool:
    try:
        return ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        return False


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


def load(path: str | Path, *, check_secrets: bool = True) -> LoadedLab:
    """Read, merge, validate and cross-check an inventory file.

    Raises:
        InventoryError: one problem per bad field, each with file and line.
    """
    p = Path(path)
    fname = str(path)
    def fail(line: int | None, message: str) -> InventoryError:
        return InventoryError([InventoryProblem(fname, line, "", message)])

    try:
        if p.exists() and not p.is_file() and not p.is_dir():
            raise fail(None, "not a regular file")
        with p.open("rb") as f:
            data = f.read(MAX_INVENTORY_BYTES + 1)  # bounded, whatever stat() says
    except OSError as e:
        raise fail(None, f"cannot read: {e.strerror}") from None
    if len(data) > MAX_INVENTORY_BYTES:
        raise fail(None, f"file is larger than {MAX_INVENTORY_BYTES // 2**20} MiB: an inventory is at most that")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        bad_line = data[: e.start].count(b"\n") + 1
        raise fail(bad_line, f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})") from None
    yaml = YAML(typ="rt")
    try:
        raw = yaml.load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = yaml_problem(e)
        if e.context_mark and e.context and e.context.startswith(_UNCLOSED):
            mark = e.context_mark  # the parser only notices at the end of the file: point at the opener
            what = f"unclosed {e.context.split(' a ', 1)[-1]} ({what})"
        line = mark.line + 1 if mark else None
        raise InventoryError([InventoryProblem(fname, line, "", f"invalid YAML: {what}")]) from None
    except Exception as e:  # ruamel raises a few unmarked errors (e.g. duplicate anchors)
        raise InventoryError([InventoryProblem(fname, None, "", f"invalid YAML: {e}")]) from None
    if _expanded_size(raw, MAX_EXPANDED_NODES) > MAX_EXPANDED_NODES:
        raise fail(None, f"more than {MAX_EXPANDED_NODES:,} values once YAML aliases are expanded "
                         "(an alias bomb, or a lab to split)")
    if not isinstance(raw, dict):
        raise InventoryError([InventoryProblem(fname, 1, "", "must be a mapping with lab and devices")])

    lines: dict[Path_, int] = {}
    _lines(raw, (), lines)
    loaded = LoadedLab(lab=None, path=p, lines=lines)  # type: ignore[arg-type]
    problems: list[InventoryProblem] = []
    _check_sections(raw, loaded, problems)

    merged_lines: dict[Path_, int] = {}
    tree = _children(lines)
    devices: dict[str, Any] = {}
    groups: dict[str, Any] = raw["groups"] if isinstance(raw.get("groups"), dict) else {}
    raw_devices = raw.get("devices")
    if isinstance(raw_devices, dict):
        for name, body in raw_devices.items():
            dp: Path_ = ("devices", str(name))
            if not isinstance(body, dict):
                problems.append(loaded.problem(dp, "must be a mapping of device keys"))
                continue
            merged: dict[str, Any] = {}
            device_lines: dict[Path_, int] = {}
            if isinstance(raw.get("defaults"), dict):
                _merge(merged, raw["defaults"], ("defaults",), dp, lines, tree, device_lines)
            names = body.get("groups") or []
            if not isinstance(names, list):
                problems.append(loaded.problem((*dp, "groups"), "must be a list of group names"))
                names = []
            for g in names:
                if isinstance(g, str) and isinstance(groups.get(g), dict):
                    _merge(merged, groups[g], ("groups", g), dp, lines, tree, device_lines)
            _merge(merged, body, dp, dp, lines, tree, device_lines)
            merged_lines.update(device_lines)
            merged["groups"] = plain(names)
            devices[str(name)] = merged
    elif raw_devices is not None:
        problems.append(loaded.problem(("devices",), "must be a mapping of device names to devices"))
    section_lines = {n for q, n in lines.items() if q[0] in ("defaults", "groups")}
    lines.update(merged_lines)

    top = {k: plain(v) for k, v in raw.items() if k != "devices"}
    top["devices"] = {}
    if raw_devices is None:
        problems.append(InventoryProblem(fname, None, "devices", "required key is missing"))

    def collect(e: ValidationError, prefix: Path_) -> None:
        for err in e.errors():
            loc: list[str | int] = [*prefix, *err["loc"]]
            if len(loc) > 2 and loc[0] == "devices" and loc[2] in ROLES:
                del loc[2]
            if err["type"] == "extra_forbidden" and loc[:1] in (["defaults"], ["groups"]):
                continue  # already reported by _check_sections
            if err["type"] == "extra_forbidden" and loaded.line_of(tuple(loc)) in section_lines:
                continue  # a key inherited from defaults or a group: reported there by _check_sections
            if err["type"] in ("union_tag_invalid", "union_tag_not_found") and len(loc) == 2:
                loc.append("role")
            problems.append(loaded.problem(tuple(loc), pydantic_message(err)))

    good: dict[str, Any] = {}
    for name, body in devices.items():
        try:
            good[name] = _DEVICE.validate_python(body)
        except ValidationError as e:
            collect(e, ("devices", name))
    try:
        lab = Lab.model_validate(top)
    except ValidationError as e:
        collect(e, ())
        lab = None
    if lab is not None:
        lab = lab.model_copy(update={"devices": good})
        loaded.lab = lab
        problems += _cross_checks(loaded, check_secrets, set(devices) - set(good))
    problems.sort(key=lambda q: (q.line or 0, q.path))
    problems = _once(problems, section_lines, list(devices))
    if problems:
        raise InventoryError(problems)
    assert lab is not None
    return loaded
