"""From a duty ID to the code that checks it: scenario files → driver classes → transport modules.

The map is read from the source with :mod:`ast`, so it says what the code says and cannot go
stale: nothing of the scenarios, the plugin, the drivers or the transports is imported (a map needs
no twin, no inventory and no device library), and only the ``hil duties`` and ``hil cloud
permissions`` commands import this module (neither the plugin nor the scenarios do). ``hil duties
--map`` prints it, ``--map --markdown`` as the tables of docs/duties.md, and the harness's tests check
that the page holds the current output.

How each hop is found:

- **scenarios**: the modules under the scenarios folder whose test functions carry
  ``@pytest.mark.duty(ID)`` (on the function, its class, or the module's ``pytestmark``); ``ID`` is a
  string or a module-level string constant (``DUTY = "NET-VOIP-HW"``).
- **drivers**: the driver classes the tests take: their parameter annotations (``edge: Edge``); the
  fixtures they ask for by name (the scenario module's, a ``conftest.py``'s under the scenarios
  folder, else the plugin's), through each fixture's return annotation, parameter annotations,
  ``lab.driver(name, Cls)`` calls and the fixtures it asks for in turn; ``lab.driver(name, Cls)``
  calls in the test and in the module's functions it calls; the procedures of
  ``harness/devices/procedures/`` the test uses (every driver class such a module names, and those
  of the procedures it imports); and the driver classes the ``harness/checks/`` functions and types
  it uses name in their signatures and fields. The base class ``Driver`` (LAB-READY's ``device``)
  or a capability stands for every role class (``@register``-ed, not a platform subclass) that
  implements it.
- **fixtures, checks**: the fixture modules of the plugin whose fixtures the tests ask for (the
  plugin's own ``plugin.py`` left out: every scenario uses it) and the ``harness/checks/`` modules the
  tests, those fixtures and the procedures use.
- **transports**: what the duty's code reaches, not all a driver can do: the ``harness/transports/``
  modules the scenario module, its fixture modules, its procedures and checks (and the procedures and
  checks they import) import, and those the driver methods they call by name use (a method's body,
  the ``self.<method>`` calls it makes, and the methods of another class of
  ``harness/devices/drivers/`` it reaches, as an Edge its org; ``Driver.probe`` stands for every
  ``probe_<transport>``), and so do the methods of the other classes of that package the code names
  (a fixture's ``OrgTelephony``). A module is filed under the transport
  of the capability that claims it (``harness/transports/serial.py``: console), else under its package
  or file name (``harness/transports/sip/call.py``: sip). Calls are matched by name, so a method of the
  same name elsewhere counts too (the map errs toward listing).
- **Genesys Cloud API calls** (:attr:`DutyRoute.endpoints`, ``hil cloud permissions``): the calls
  (``GET /api/v2/telephony/providers/edges/{edgeId}``) the driver methods the duty's code calls by name
  make, found as :class:`~harness.transports.cloud.CloudApi` calls whose first argument is a module
  constant holding an ``/api/`` template: ``.get``, ``.get_json``, ``.list``, ``.pages`` (GET),
  ``.post`` (POST), ``.send("DELETE", …)`` (its method), and a method that hands its parameter to one
  of the reads (a GET: ``EdgeCloud._get``, ``OrgTelephony.total``), which, called from the duty's own
  code, reads every template constant the scenario module names. Followed like the transports.
- **drivers table** (``--markdown``): per driver class, the capabilities
  (``harness/devices/capabilities.py``, one ``Protocol`` each) it implements, each with the inventory
  transport its ``probe_<transport>`` method names, and the ``harness/transports/`` modules named by
  the capability's signatures or used in the body of the driver class (or access mixin) that claims
  it; the transport modules the driver's classes use outside any capability are listed as ``other``.

Paths are shown relative to the folder that holds each root (``harness/…``, ``scenarios/…``,
``fixtures/…``), with ``/`` separators.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .catalogue import CATALOGUE, Duty

HARNESS_DIR = Path(__file__).resolve().parent.parent
#: the source checkout that holds ``harness/`` (and, in a checkout, ``scenarios/`` and ``fixtures/``)
CHECKOUT = HARNESS_DIR.parent
DRIVER_BASE = "harness.devices.driver.Driver"
CAPABILITIES = "harness.devices.capabilities"
DRIVERS_PACKAGE = "harness.devices.drivers"
PROCEDURES_PACKAGE = "harness.devices.procedures"
CHECKS_PACKAGE = "harness.checks"
TRANSPORTS_PACKAGE = "harness.transports"
#: names the plugin is imported by; the repository keeps it in ``fixtures/``
PLUGIN_PACKAGE = "hil_pytest"
#: the probes over every declared transport (LAB-READY): followed like a procedure, not listed
LIVENESS = "harness.devices.liveness"
#: the plugin's own module (``lab``, the role fixtures): every scenario uses it, the map leaves it out
PLUGIN_MODULE = f"{PLUGIN_PACKAGE}.plugin"
OTHER = "other"
#: the run's drivers (``lab``): its methods hand out the org (``lab.cloud()``)
SESSION = "harness.devices.session.LabSession"
#: what a Genesys Cloud API template starts with (``/api/v2/…``)
API_PREFIX = "/api/"
#: the CloudApi reads: each sends a GET of the template it is given first
API_READS = frozenset({"get", "get_json", "list", "pages"})


class MapError(Exception):
    """The sources a map is read from are missing (no scenarios folder, no plugin)."""


@dataclass(frozen=True)
class Capability:
    """A capability a driver implements: ``name`` (``"SnmpAgent"``), the inventory ``transport``
    its probe uses (``"snmp"``) and the ``modules`` under ``harness/transports/`` it runs on."""

    name: str
    transport: str
    modules: tuple[str, ...]


@dataclass(frozen=True)
class DriverRoute:
    """A driver class: ``name``, the ``path`` of its module, its ``capabilities`` and the ``other``
    transport modules its classes use outside any capability."""

    name: str
    path: str
    capabilities: tuple[Capability, ...]
    other: tuple[str, ...]

    def transports(self) -> dict[str, tuple[str, ...]]:
        """Transport name (``"ssh"`` …, then ``"other"``) → its module paths."""
        found: dict[str, list[str]] = {}
        for c in self.capabilities:
            found.setdefault(c.transport, []).extend(c.modules)
        if self.other:
            found.setdefault(OTHER, []).extend(self.other)
        return {t: tuple(dict.fromkeys(m)) for t, m in found.items()}


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario module (``path``) and the names of its ``tests`` that check the duty."""

    path: str
    tests: tuple[str, ...]


@dataclass(frozen=True)
class DutyRoute:
    """One duty of the catalogue and the code that checks it (all empty: no scenario yet)."""

    duty: Duty
    scenarios: tuple[ScenarioFile, ...]
    procedures: tuple[str, ...]
    drivers: tuple[DriverRoute, ...]
    fixtures: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    used_transports: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: the Genesys Cloud API calls the duty's code makes (``GET /api/v2/…/{edgeId}``), sorted
    endpoints: tuple[str, ...] = ()

    def transports(self) -> dict[str, tuple[str, ...]]:
        """Transport name → module paths the duty's code uses (sorted by name; see the module docstring)."""
        return dict(self.used_transports)


@dataclass
class _Module:
    name: str  # dotted, "harness.devices.drivers.edge"; a scenario module: its path
    path: Path
    tree: ast.Module
    imports: dict[str, str]  # local name -> dotted target (a module, or module.attribute)
    constants: dict[str, str] = field(default_factory=dict)  # module-level NAME = "string"
    defined: set[str] = field(default_factory=set)  # top-level classes, functions and assigned names


def _parse(name: str, path: Path, package: str) -> _Module:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    imports: dict[str, str] = {}
    constants: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    imports[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    imports[top] = top
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for a in node.names:
                imports[a.asname or a.name] = f"{base}.{a.name}"
    defined: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            defined.add(stmt.name)
        targets = (stmt.targets if isinstance(stmt, ast.Assign)
                   else [stmt.target] if isinstance(stmt, ast.AnnAssign) else [])
        defined.update(t.id for t in targets if isinstance(t, ast.Name))
        if isinstance(stmt, ast.Assign) and (value := _text(stmt.value, constants)) is not None:
            constants.update((t.id, value) for t in stmt.targets if isinstance(t, ast.Name))
    return _Module(name, path, tree, imports, constants, defined)


def _text(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The string a module-level value is: a literal, or an f-string of literals and constants
    defined above it (``f"{_EDGE}/logs/jobs/{{jobId}}"``); None for anything else."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if not isinstance(node, ast.JoinedStr):
        return None
    parts: list[str] = []
    for v in node.values:
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            parts.append(v.value)
        elif (isinstance(v, ast.FormattedValue) and isinstance(v.value, ast.Name) and v.conversion == -1
              and v.format_spec is None and v.value.id in constants):
            parts.append(constants[v.value.id])
        else:
            return None
    return "".join(parts)


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.C`` -> ``["a", "b", "C"]``; anything else -> None."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(attrs)]
    return None


def _names(node: ast.AST, annotation: bool = False) -> Iterator[list[str]]:
    """Every dotted name used in ``node``, outermost first; in an ``annotation``, quoted names too."""
    stack: list[ast.AST] = [node]
    while stack:
        n = stack.pop()
        if annotation and isinstance(n, ast.Constant) and isinstance(n.value, str):
            with contextlib.suppress(SyntaxError):
                stack.append(ast.parse(n.value, mode="eval").body)
            continue
        if isinstance(n, ast.Name | ast.Attribute) and (d := _dotted(n)) is not None:
            yield d
            continue
        stack.extend(ast.iter_child_nodes(n))


def _is_fixture(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for deco in fn.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if (d := _dotted(target)) and d[-1] == "fixture":
            return True
    return False


def _args(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    a = fn.args
    return [*a.posonlyargs, *a.args, *a.kwonlyargs]


def _functions(body: Iterable[ast.stmt]) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {s.name: s for s in body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)}


def _attributes(node: ast.AST) -> set[str]:
    """Every public attribute name used in ``node`` (``edge.record()`` -> ``record``)."""
    return {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute) and not n.attr.startswith("_")}


def _is_api(node: ast.expr) -> bool:
    """``api`` or ``….api()``: what a CloudApi is called by in the drivers."""
    if isinstance(node, ast.Call):
        node = node.func
    return (isinstance(node, ast.Name) and node.id == "api") or (isinstance(node, ast.Attribute) and node.attr == "api")


def _driver_calls(node: ast.AST) -> Iterator[ast.expr]:
    """The class argument of every ``x.driver(name, Cls)`` call in ``node``."""
    for n in ast.walk(node):
        if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "driver"
                and len(n.args) >= 2):
            yield n.args[1]


class SourceMap:
    """The source of the harness, its plugin and a scenarios folder, read once, parsed on demand.

    Args:
        scenarios: the scenarios folder (``scenarios/`` of the checkout by default).
        harness_dir: the ``harness`` package folder (this one by default).
        plugin_dir: the plugin's folder (the checkout's ``fixtures/``, else the installed
            ``hil_pytest``).

    Raises:
        MapError: the scenarios folder or the plugin cannot be found.
    """

    def __init__(self, scenarios: Path | None = None, harness_dir: Path = HARNESS_DIR,
                 plugin_dir: Path | None = None) -> None:
        self.scenarios = (scenarios or CHECKOUT / "scenarios").resolve()
        if not self.scenarios.is_dir():
            raise MapError(f"no scenarios folder at {self.scenarios} (give one with --scenarios)")
        self.harness_dir = harness_dir.resolve()
        self.plugin_dir = (plugin_dir or _plugin_dir()).resolve()
        self._modules: dict[str, _Module | None] = {}
        self._roles: list[str] | None = None
        self._canonical_cache: dict[str, str | None] = {}
        self._ancestry: dict[str, list[str]] = {}
        self._routes: dict[str, DriverRoute] = {}
        self._procedures: dict[str, set[str]] = {}
        self._code: dict[str, _Uses] = {}
        self._methods: dict[tuple[str, str], dict[str, set[str]]] = {}
        self._classes: list[str] | None = None
        self._forwarders: frozenset[str] | None = None

    # --- modules and names -------------------------------------------------------------------

    def display(self, path: Path) -> str:
        """``path`` relative to the folder holding its root (``harness/devices/driver.py``)."""
        for root in (self.harness_dir, self.plugin_dir, self.scenarios):
            if path.is_relative_to(root):
                return path.relative_to(root.parent).as_posix()
        return path.as_posix()

    def _file_of(self, dotted: str) -> tuple[Path, str] | None:
        """The file of module ``dotted`` and its package (itself for a package), or None."""
        top, *rest = dotted.split(".")
        roots = {"harness": self.harness_dir, PLUGIN_PACKAGE: self.plugin_dir}
        if top not in roots:
            return None
        base = roots[top].joinpath(*rest)
        if base.with_suffix(".py").is_file() and rest:
            return base.with_suffix(".py"), dotted.rsplit(".", 1)[0]
        if (base / "__init__.py").is_file():
            return base / "__init__.py", dotted
        return None

    def module(self, dotted: str) -> _Module | None:
        """The parsed module ``dotted`` (``harness.…`` or ``hil_pytest.…``), or None."""
        if dotted not in self._modules:
            found = self._file_of(dotted)
            self._modules[dotted] = _parse(dotted, *found) if found else None
        return self._modules[dotted]

    def scenario_module(self, path: Path) -> _Module:
        key = str(path)
        if key not in self._modules:
            self._modules[key] = _parse(key, path, "")
        mod = self._modules[key]
        assert mod is not None
        return mod

    def resolve(self, mod: _Module, dotted: list[str]) -> str | None:
        """The full dotted name that ``dotted``, used in ``mod``, stands for: a module, or
        ``module.Name`` for a top-level definition (followed through re-exports); None when it
        does not lead into the harness or the plugin."""
        head, *rest = dotted
        if head in mod.imports:
            full = ".".join([mod.imports[head], *rest])
        elif mod.name.startswith(("harness", PLUGIN_PACKAGE)) and head in mod.defined:
            full = ".".join([mod.name, head, *rest])
        else:
            return None
        if full not in self._canonical_cache:
            self._canonical_cache[full] = self._canonical(full)
        return self._canonical_cache[full]

    def _canonical(self, full: str, depth: int = 0) -> str | None:
        parts = full.split(".")
        for cut in range(len(parts), 0, -1):
            modname = ".".join(parts[:cut])
            mod = self.module(modname)
            if mod is None:
                continue
            rest = parts[cut:]
            if not rest:
                return modname
            if rest[0] in mod.defined:
                return f"{modname}.{rest[0]}"
            if rest[0] in mod.imports and depth < 8:  # a re-export
                return self._canonical(".".join([mod.imports[rest[0]], *rest[1:]]), depth + 1)
            return None
        return None

    def classdef(self, full: str) -> tuple[_Module, ast.ClassDef] | None:
        modname, _, name = full.rpartition(".")
        mod = self.module(modname)
        if mod is None:
            return None
        for s in mod.tree.body:
            if isinstance(s, ast.ClassDef) and s.name == name:
                return mod, s
        return None

    # --- classes: drivers and capabilities ---------------------------------------------------------

    def bases(self, full: str) -> list[str]:
        found = self.classdef(full)
        if found is None:
            return []
        mod, cls = found
        return [r for b in cls.bases if (d := _dotted(b)) and (r := self.resolve(mod, d))]

    def ancestry(self, full: str) -> list[str]:
        """``full`` and every base class the harness defines, nearest first, each once."""
        if full not in self._ancestry:
            seen: dict[str, None] = {}
            todo = [full]
            while todo:
                c = todo.pop(0)
                if c not in seen:
                    seen[c] = None
                    todo.extend(self.bases(c))
            self._ancestry[full] = list(seen)
        return self._ancestry[full]

    def is_driver(self, full: str) -> bool:
        return DRIVER_BASE in self.ancestry(full)

    def capability_transport(self, full: str) -> str | None:
        """The transport a capability's ``probe_<transport>`` names, or None (not a capability)."""
        if not full.startswith(CAPABILITIES + "."):
            return None
        found = self.classdef(full)
        if found is None:
            return None
        probes = [s.name.removeprefix("probe_") for s in found[1].body
                  if isinstance(s, ast.FunctionDef) and s.name.startswith("probe_")]
        return probes[0] if probes else None

    def role_classes(self) -> list[str]:
        """The ``@register``-ed driver classes that subclass no other registered class."""
        if self._roles is None:
            registered = []
            folder = self.harness_dir / "devices" / "drivers"
            for path in sorted(folder.glob("*.py")):
                mod = self.module(f"{DRIVERS_PACKAGE}.{path.stem}")
                if mod is None:
                    continue
                for s in mod.tree.body:
                    if isinstance(s, ast.ClassDef) and any(
                            (d := _dotted(x.func if isinstance(x, ast.Call) else x)) and d[-1] == "register"
                            for x in s.decorator_list):
                        registered.append(f"{mod.name}.{s.name}")
            self._roles = [c for c in registered if not any(b in registered for b in self.ancestry(c)[1:])]
        return self._roles

    def drivers_of(self, full: str, expand: bool = True) -> list[str]:
        """The driver classes a type stands for: itself (a driver class), or, when ``expand``, the role
        classes implementing it (the base ``Driver`` or a capability); nothing for any other type."""
        if full == DRIVER_BASE or self.capability_transport(full) or full == f"{CAPABILITIES}.LabDevice":
            return [r for r in self.role_classes() if full in self.ancestry(r)] if expand else []
        return [full] if self.classdef(full) and self.is_driver(full) else []

    def _transport_modules(self, mod: _Module, node: ast.AST) -> list[str]:
        found: dict[str, None] = {}
        for d in _names(node):
            full = self.resolve(mod, d)
            if full is None or not full.startswith(TRANSPORTS_PACKAGE + "."):
                continue
            modname = full if self.module(full) else full.rpartition(".")[0]
            m = self.module(modname)
            if m is not None:
                found[self.display(m.path)] = None
        return list(found)

    def driver_route(self, full: str) -> DriverRoute:
        """The capabilities and transport modules of driver class ``full``."""
        if full not in self._routes:
            self._routes[full] = self._driver_route(full)
        return self._routes[full]

    def _driver_route(self, full: str) -> DriverRoute:
        caps: dict[str, tuple[str, list[str]]] = {}  # capability -> (transport, modules)
        used_elsewhere: dict[str, None] = {}
        for c in self.ancestry(full):
            found = self.classdef(c)
            if found is None or c.startswith(CAPABILITIES + ".") or c == DRIVER_BASE:  # the base: plumbing
                continue
            mod, cls = found
            claims = [b for b in self.bases(c) if self.capability_transport(b)]
            for cap in claims:
                if cap not in caps:
                    capmod, capcls = self.classdef(cap) or (mod, cls)
                    caps[cap] = (self.capability_transport(cap) or OTHER, self._transport_modules(capmod, capcls))
            for m in self._transport_modules(mod, cls):
                owners = [cap for cap in claims if m in caps[cap][1]] or (claims if len(claims) == 1 else [])
                for cap in owners:
                    if m not in caps[cap][1]:
                        caps[cap][1].append(m)
                if not owners:
                    used_elsewhere[m] = None
        claimed = {m for _, mods in caps.values() for m in mods}
        mod_path = self.classdef(full)
        assert mod_path is not None
        return DriverRoute(
            name=full.rpartition(".")[2], path=self.display(mod_path[0].path),
            capabilities=tuple(Capability(cap.rpartition(".")[2], t, tuple(sorted(mods)))
                               for cap, (t, mods) in sorted(caps.items(), key=lambda kv: (kv[1][0], kv[0]))),
            other=tuple(sorted(m for m in used_elsewhere if m not in claimed)))

    # --- procedures, checks, fixtures ---------------------------------------------------------------

    def procedure_drivers(self, modname: str) -> set[str]:
        """Every driver class a procedure module names (and those of the procedures it imports)."""
        if modname in self._procedures:
            return self._procedures[modname]
        mod = self.module(modname)
        found: set[str] = set()
        self._procedures[modname] = found  # an import circle ends here
        if mod is None:
            return found
        for d in _names(mod.tree):
            full = self.resolve(mod, d)
            if full is None:
                continue
            if full.startswith(PROCEDURES_PACKAGE + ".") and full != modname:
                target = full if self.module(full) else full.rpartition(".")[0]
                found |= self.procedure_drivers(target)
            else:
                found.update(self.drivers_of(full, expand=False))
        return found

    def checks_drivers(self, full: str) -> set[str]:
        """The driver classes named in the signature (a function) or fields (a class) of a
        ``harness.checks`` object."""
        modname, _, name = full.rpartition(".")
        mod = self.module(modname)
        if mod is None:
            return set()
        found: set[str] = set()
        for s in mod.tree.body:
            if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) and s.name == name:
                nodes: list[ast.AST] = [a.annotation for a in _args(s) if a.annotation]
                nodes += [s.returns] if s.returns else []
            elif isinstance(s, ast.ClassDef) and s.name == name:
                nodes = [b.annotation for b in s.body if isinstance(b, ast.AnnAssign)]
            else:
                continue
            for node in nodes:
                for d in _names(node, annotation=True):
                    if (r := self.resolve(mod, d)) is not None:
                        found.update(self.drivers_of(r, expand=False))
        return found

    def code_uses(self, modname: str) -> _Uses:
        """What a procedure or checks module uses: its attribute names, the transport modules it
        imports, and the procedures and checks modules it imports, with what those use in turn."""
        if modname in self._code:
            return self._code[modname]
        uses = _Uses()
        self._code[modname] = uses  # an import circle ends here
        mod = self.module(modname)
        if mod is None:
            return uses
        uses.attrs |= _attributes(mod.tree)
        for local, imported in mod.imports.items():
            if imported.startswith(TRANSPORTS_PACKAGE + "."):  # the module imported, not where a name is defined
                uses.transports.add(self.module_of(imported))
                continue
            full = self.resolve(mod, [local])
            if full is None:
                continue
            target = self.module_of(full)
            if (full.startswith((PROCEDURES_PACKAGE + ".", CHECKS_PACKAGE + ".")) and target != modname
                    and (tmod := self.module(target)) is not None):
                kind = uses.procedures if target.startswith(PROCEDURES_PACKAGE) else uses.checks
                kind.add(self.display(tmod.path))
                uses.update(self.code_uses(target))
        return uses

    def method_transports(self, full: str) -> dict[str, set[str]]:
        """Public method (or property) name of driver class ``full`` → the transport modules (dotted)
        its body uses, with those of the ``self.<method>`` calls it makes, over the class and the
        harness's base classes (the capability protocols and ``Driver`` left out)."""
        return self._method_reach(full, "transports")

    def method_endpoints(self, full: str) -> dict[str, set[str]]:
        """Public method name of driver class ``full`` → the Genesys Cloud API calls
        (``GET /api/v2/…``) its body makes, followed as :meth:`method_transports` follows transports."""
        return self._method_reach(full, "endpoints")

    def _direct(self, kind: str, mod: _Module, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
        if kind == "endpoints":
            return self.api_calls(mod, fn)
        return {self.module_of(m) for m in self._transport_names(mod, fn)}

    def template(self, mod: _Module, node: ast.expr) -> str | None:
        """The ``/api/`` template a name used in ``mod`` holds (a module constant there or imported), or None."""
        if not isinstance(node, ast.Name):
            return None
        value = mod.constants.get(node.id)
        if value is None and (full := self.resolve(mod, [node.id])) is not None:
            where, _, name = full.rpartition(".")
            value = m.constants.get(name) if (m := self.module(where)) is not None else None
        return value if value is not None and value.startswith(API_PREFIX) else None

    def forwarders(self) -> frozenset[str]:
        """Names of the functions of ``harness/devices/drivers/`` that hand a parameter of theirs to a
        CloudApi read as its template (``_get(template, …)``, ``total(template)``): each sends a GET."""
        if self._forwarders is None:
            found: set[str] = set()
            for path in sorted((self.harness_dir / "devices" / "drivers").glob("*.py")):
                mod = self.module(f"{DRIVERS_PACKAGE}.{path.stem}")
                for fn in (n for n in ast.walk(mod.tree) if isinstance(n, ast.FunctionDef)) if mod else ():
                    params = {a.arg for a in _args(fn)}
                    if any(isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr in API_READS
                           and _is_api(c.func.value) and c.args and isinstance(c.args[0], ast.Name)
                           and c.args[0].id in params for c in ast.walk(fn)):
                        found.add(fn.name)
            self._forwarders = frozenset(found)
        return self._forwarders

    def api_calls(self, mod: _Module, node: ast.AST) -> set[str]:
        """The Genesys Cloud API calls (``METHOD /api/v2/…``) made in ``node`` with a template constant
        (see the module docstring)."""
        found: set[str] = set()
        for n in ast.walk(node):
            if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.args):
                continue
            attr, first = n.func.attr, n.args[0]
            if attr == "send" and len(n.args) >= 2 and isinstance(first, ast.Constant) and isinstance(first.value, str):
                method, arg = first.value.upper(), n.args[1]
            elif attr in API_READS or attr in self.forwarders():
                method, arg = "GET", first
            elif attr == "post":
                method, arg = "POST", first
            else:
                continue
            if (t := self.template(mod, arg)) is not None:
                found.add(f"{method} {t}")
        return found

    def session_classes(self, attrs: set[str]) -> set[str]:
        """The classes of ``harness/devices/drivers/`` that the :data:`SESSION` methods named in ``attrs``
        return (``lab.cloud()``: ``CloudOrg``)."""
        found = self.classdef(SESSION)
        if found is None:
            return set()
        mod, cls = found
        return {c for fn in _functions(cls.body).values() if fn.name in attrs and fn.returns
                for d in _names(fn.returns, annotation=True) if (r := self.resolve(mod, d))
                for c in self.implementers(r)}

    def module_templates(self, mod: _Module) -> set[str]:
        """Every ``/api/`` template constant module ``mod`` names (defined there or imported)."""
        return {t for n in ast.walk(mod.tree) if isinstance(n, ast.Name) and (t := self.template(mod, n))}

    def _method_reach(self, full: str, kind: str) -> dict[str, set[str]]:
        if (full, kind) in self._methods:
            return self._methods[full, kind]
        bodies: dict[str, tuple[_Module, ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        for c in self.ancestry(full):
            found = self.classdef(c)
            if found is None or c.startswith(CAPABILITIES + ".") or c == DRIVER_BASE:
                continue
            mod, cls = found
            for name, fn in _functions(cls.body).items():
                bodies.setdefault(name, (mod, fn))  # the nearest class's definition wins
        result: dict[str, set[str]] = {}
        self._methods[full, kind] = result  # a circle between drivers ends here
        direct = {name: self._direct(kind, mod, fn) for name, (mod, fn) in bodies.items()}
        calls = {name: {n.attr for n in ast.walk(fn) if isinstance(n, ast.Attribute) and
                        isinstance(n.value, ast.Name) and n.value.id == "self" and n.attr in bodies}
                 for name, (_, fn) in bodies.items()}
        own = set(self.ancestry(full))
        held = {c for a in own if (found := self.classdef(a)) and a != DRIVER_BASE  # typed in its __init__
                and not a.startswith(CAPABILITIES + ".") for fn in _functions(found[1].body).values()
                if fn.name == "__init__" for arg in _args(fn) if arg.annotation
                for d in _names(arg.annotation, annotation=True) if (r := self.resolve(found[0], d))
                for c in self.implementers(r) if c not in own}
        others = {name: held | {c for node in (fn, *([fn.returns] if fn.returns else []))
                                for d in _names(node, annotation=True) if (r := self.resolve(mod, d))
                                for c in self.implementers(r) if c not in own}
                  for name, (mod, fn) in bodies.items()}
        for name in bodies:
            if name.startswith("_"):
                continue
            seen, todo, mods = {name}, [name], set()
            while todo:
                m = todo.pop()
                mods |= direct[m]
                todo += [c for c in calls[m] if c not in seen]
                seen |= calls[m]
            attrs = {a for m in seen for a in _attributes(bodies[m][1])}
            for other in {c for m in seen for c in others[m]}:  # another driver it reaches (the org)
                mods |= {t for a, ts in self._method_reach(other, kind).items() if a in attrs for t in ts}
            result[name] = mods
        return result

    def implementers(self, full: str) -> list[str]:
        """The classes of ``harness/devices/drivers/`` a type stands for: itself, or those that
        implement it (a capability, the base ``Driver``)."""
        if self._classes is None:
            self._classes = []
            for path in sorted((self.harness_dir / "devices" / "drivers").glob("*.py")):
                if (mod := self.module(f"{DRIVERS_PACKAGE}.{path.stem}")) is not None:
                    self._classes += [f"{mod.name}.{c.name}" for c in mod.tree.body if isinstance(c, ast.ClassDef)]
        if full in self._classes:
            return [full]
        if full == DRIVER_BASE or self.capability_transport(full) or full.startswith(CAPABILITIES + "."):
            return [c for c in self._classes if full in self.ancestry(c)]
        return []

    def _transport_names(self, mod: _Module, node: ast.AST) -> Iterator[str]:
        for d in _names(node):
            full = self.resolve(mod, d)
            if full is not None and full.startswith(TRANSPORTS_PACKAGE + "."):
                yield full

    def module_of(self, full: str) -> str:
        """The module a dotted name is in: itself (a module), else its parent."""
        return full if self.module(full) else full.rpartition(".")[0]

    def plugin_fixtures(self) -> dict[str, tuple[_Module, ast.FunctionDef | ast.AsyncFunctionDef]]:
        """Fixture name → (module, function) over the plugin's modules."""
        found: dict[str, tuple[_Module, ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        for path in sorted(self.plugin_dir.glob("*.py")):
            mod = self.module(f"{PLUGIN_PACKAGE}.{path.stem}" if path.stem != "__init__" else PLUGIN_PACKAGE)
            if mod is None:
                continue
            for fn in _functions(mod.tree.body).values():
                if _is_fixture(fn):
                    found[fn.name] = (mod, fn)
        return found


def _plugin_dir() -> Path:
    local = CHECKOUT / "fixtures"
    if (local / "plugin.py").is_file():
        return local
    spec = importlib.util.find_spec(PLUGIN_PACKAGE)  # finds the installed package without importing it
    if spec is None or spec.origin is None:
        raise MapError(f"the pytest plugin ({PLUGIN_PACKAGE}) is not installed")
    return Path(spec.origin).parent


@dataclass
class _Uses:
    drivers: set[str] = field(default_factory=set)
    procedures: set[str] = field(default_factory=set)
    fixtures: set[str] = field(default_factory=set)  # fixture modules, the plugin's own left out
    checks: set[str] = field(default_factory=set)
    attrs: set[str] = field(default_factory=set)  # every attribute name the code uses (``edge.record``)
    transports: set[str] = field(default_factory=set)  # transport modules (dotted) the code imports
    classes: set[str] = field(default_factory=set)  # other classes of harness/devices/drivers/ it names
    endpoints: set[str] = field(default_factory=set)  # API calls the code makes itself (``GET /api/v2/…``)
    templates: set[str] = field(default_factory=set)  # API templates the scenario module names

    def update(self, other: _Uses) -> None:
        for f in ("drivers", "procedures", "fixtures", "checks", "attrs", "transports", "classes", "endpoints",
                  "templates"):
            getattr(self, f).update(getattr(other, f))


_Fn = ast.FunctionDef | ast.AsyncFunctionDef


def _with_helpers(mod: _Module, fn: _Fn) -> list[_Fn]:
    """``fn`` and every function of ``mod`` it calls by name, in turn (``trunk_probe`` and its module's
    ``_calls_up``, which reads the trunk's metrics; a call inside a lambda counts), fixtures left out
    (they are followed as fixtures)."""
    functions = {n: f for n, f in _functions(mod.tree.body).items() if not _is_fixture(f)}
    out, todo, seen = [], [fn], {fn.name}
    while todo:
        body = todo.pop()
        out.append(body)
        for n in ast.walk(body):
            if (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in functions
                    and n.func.id not in seen):
                seen.add(n.func.id)
                todo.append(functions[n.func.id])
    return out


class _ScenarioReader:
    """What the tests of one scenario module use (see the module docstring)."""

    def __init__(self, src: SourceMap, path: Path) -> None:
        self.src = src
        self.mod = src.scenario_module(path)
        self.functions = _functions(self.mod.tree.body)
        self.fixtures = dict(src.plugin_fixtures())
        conftests = [p / "conftest.py" for p in [path.parent, *path.parent.parents]
                     if p.is_relative_to(src.scenarios)]
        for conftest in reversed(conftests):  # the nearest conftest wins
            if conftest.is_file():
                cmod = src.scenario_module(conftest)
                self.fixtures.update({n: (cmod, fn) for n, fn in _functions(cmod.tree.body).items() if _is_fixture(fn)})
        self.fixtures.update({n: (self.mod, fn) for n, fn in self.functions.items() if _is_fixture(fn)})
        self._fixture_cache: dict[str, set[str]] = {}

    def duty_of(self, marks: Iterable[ast.expr]) -> str | None:
        for deco in marks:
            if isinstance(deco, ast.Call) and (d := _dotted(deco.func)) and d[-2:] == ["mark", "duty"] and deco.args:
                arg = deco.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    return arg.value
                if isinstance(arg, ast.Name):
                    return self.mod.constants.get(arg.id)
        return None

    def tests(self) -> Iterator[tuple[str, str, ast.FunctionDef | ast.AsyncFunctionDef]]:
        """``(duty, test name, function)`` for every test with a duty marker."""
        module_marks: list[ast.expr] = []
        for s in self.mod.tree.body:
            if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in s.targets):
                module_marks = list(s.value.elts) if isinstance(s.value, ast.List | ast.Tuple) else [s.value]
        for s in self.mod.tree.body:
            if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) and s.name.startswith("test"):
                duty = self.duty_of(s.decorator_list) or self.duty_of(module_marks)
                if duty:
                    yield duty, s.name, s
            elif isinstance(s, ast.ClassDef) and s.name.startswith("Test"):
                for fn in _functions(s.body).values():
                    if fn.name.startswith("test"):
                        duty = (self.duty_of(fn.decorator_list) or self.duty_of(s.decorator_list)
                                or self.duty_of(module_marks))
                        if duty:
                            yield duty, f"{s.name}.{fn.name}", fn

    def _driver_classes(self, mod: _Module, node: ast.AST, expand: bool) -> set[str]:
        found: set[str] = set()
        for d in _names(node, annotation=True):
            if (full := self.src.resolve(mod, d)) is not None:
                found.update(self.src.drivers_of(full, expand))
        return found

    def fixture_drivers(self, name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        """The driver classes fixture ``name`` hands out or uses (see the module docstring)."""
        if name in self._fixture_cache:
            return self._fixture_cache[name]
        if name not in self.fixtures or name in seen:
            return set()
        mod, fn = self.fixtures[name]
        found: set[str] = set()
        if fn.returns:
            found |= self._driver_classes(mod, fn.returns, expand=True)
        for a in _args(fn):
            if a.annotation:
                found |= self._driver_classes(mod, a.annotation, expand=True)
            found |= self.fixture_drivers(a.arg, seen | {name})
        for cls in _driver_calls(fn):
            found |= self._driver_classes(mod, cls, expand=False)
        self._fixture_cache[name] = found
        return found

    def uses(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> _Uses:
        uses = _Uses()
        for a in _args(fn):
            if a.annotation:
                uses.drivers |= self._driver_classes(self.mod, a.annotation, expand=True)
                self._note_names(self.mod, a.annotation, uses)
            if a.arg in self.fixtures:
                uses.drivers |= self.fixture_drivers(a.arg)
                fmod, ffn = self.fixtures[a.arg]
                if ffn.returns:
                    self._note_names(fmod, ffn.returns, uses)
                self._fixture_code(a.arg, uses)
        bodies: list[ast.AST] = [fn]
        seen = {fn.name}
        uses.templates |= self.src.module_templates(self.mod)
        while bodies:  # the test and the module's functions it calls
            body = bodies.pop()
            for cls in _driver_calls(body):
                uses.drivers |= self._driver_classes(self.mod, cls, expand=False)
            self._note_names(self.mod, body, uses)
            uses.attrs |= _attributes(body)
            uses.endpoints |= self.src.api_calls(self.mod, body)
            for n in ast.walk(body):
                if (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in self.functions
                        and n.func.id not in seen):
                    seen.add(n.func.id)
                    bodies.append(self.functions[n.func.id])
        return uses

    def _fixture_code(self, name: str, uses: _Uses, seen: frozenset[str] = frozenset()) -> None:
        """The attribute names fixture ``name`` (and the fixtures it asks for) uses, and, for a fixture
        outside the plugin's own module, that module and what it imports."""
        if name not in self.fixtures or name in seen:
            return
        fmod, ffn = self.fixtures[name]
        for body in _with_helpers(fmod, ffn):  # the fixture and the functions of its module it calls
            uses.attrs |= _attributes(body)
            uses.endpoints |= self.src.api_calls(fmod, body)
            self._note_names(fmod, body, uses)
        if fmod.name.startswith(PLUGIN_PACKAGE) and fmod.name != PLUGIN_MODULE:
            uses.fixtures.add(self.src.display(fmod.path))
        for a in _args(ffn):
            self._fixture_code(a.arg, uses, seen | {name})

    def _note_names(self, mod: _Module, node: ast.AST, uses: _Uses) -> None:
        """Transport modules, procedures and checks used in ``node`` (quoted annotations too), the
        drivers they name, the attribute names they use and the transport modules they import."""
        for d in _names(node, annotation=True):
            imported = mod.imports.get(d[0], "")
            if imported.startswith(TRANSPORTS_PACKAGE + "."):  # the module imported, not where a name is defined
                uses.transports.add(self.src.module_of(".".join([imported, *d[1:]])))
                continue
            full = self.src.resolve(mod, d)
            if full is None:
                continue
            if full.startswith(DRIVERS_PACKAGE + "."):  # the org's telephony reads (OrgTelephony)
                uses.classes.update(self.src.implementers(full))
            elif full.startswith(LIVENESS + "."):
                uses.update(self.src.code_uses(LIVENESS))
            elif full.startswith(PROCEDURES_PACKAGE + "."):
                modname = full if self.src.module(full) else full.rpartition(".")[0]
                if (pmod := self.src.module(modname)) is not None:
                    uses.procedures.add(self.src.display(pmod.path))
                    uses.drivers |= self.src.procedure_drivers(modname)
                    uses.update(self.src.code_uses(modname))
            elif full.startswith(CHECKS_PACKAGE + "."):
                uses.drivers |= self.src.checks_drivers(full)
                modname = full if self.src.module(full) else full.rpartition(".")[0]
                if (cmod := self.src.module(modname)) is not None:
                    uses.checks.add(self.src.display(cmod.path))
                    uses.update(self.src.code_uses(modname))


def duty_map(src: SourceMap | None = None) -> list[DutyRoute]:
    """One :class:`DutyRoute` per duty of the catalogue, in catalogue order.

    Raises:
        MapError: the scenarios folder or the plugin cannot be found.
        SyntaxError: a source file does not parse.
    """
    src = src or SourceMap()
    tests: dict[str, dict[str, list[str]]] = {}  # duty -> scenario path -> tests
    uses: dict[str, _Uses] = {}
    for path in sorted(src.scenarios.rglob("*.py")):
        if not path.name.startswith("test") or "__pycache__" in path.parts:
            continue
        reader = _ScenarioReader(src, path)
        for duty, name, fn in reader.tests():
            tests.setdefault(duty, {}).setdefault(src.display(path), []).append(name)
            uses.setdefault(duty, _Uses()).update(reader.uses(fn))
    routes = []
    for d in CATALOGUE.values():
        u = uses.get(d.id, _Uses())
        drivers = sorted((src.driver_route(c) for c in u.drivers), key=lambda r: (r.name, r.path))
        routes.append(DutyRoute(
            duty=d, scenarios=tuple(ScenarioFile(p, tuple(t)) for p, t in sorted(tests.get(d.id, {}).items())),
            procedures=tuple(sorted(u.procedures)), drivers=tuple(drivers), fixtures=tuple(sorted(u.fixtures)),
            checks=tuple(sorted(u.checks)), used_transports=_used_transports(src, u, drivers),
            endpoints=_used_endpoints(src, u)))
    return routes


def _used_endpoints(src: SourceMap, uses: _Uses) -> tuple[str, ...]:
    """The Genesys Cloud API calls of a duty's code: its own, those of the driver methods it calls by
    name, and a GET of each template its scenario module names when it calls a forwarder
    (``org_telephony.total(LINES)``)."""
    found = set(uses.endpoints)
    for d in uses.drivers | uses.classes | src.session_classes(uses.attrs):
        for method, calls in src.method_endpoints(d).items():
            if method in uses.attrs or ("probe" in uses.attrs and method.startswith("probe_")):
                found |= calls
    if uses.attrs & src.forwarders():
        found |= {f"GET {t}" for t in uses.templates}
    return tuple(sorted(found, key=lambda c: (c.split(" ", 1)[1], c)))


def _used_transports(src: SourceMap, uses: _Uses,
                     drivers: list[DriverRoute]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Transport name → module paths: the transport modules the duty's code imports, and those the
    methods of its drivers it calls by name use. A module's name is the transport of the capability
    that claims it (``harness/transports/serial.py``: console), else its package or file
    (``harness/transports/sip/call.py``: sip, ``harness/transports/rtp.py``: rtp)."""
    dotted = set(uses.transports)
    for d in uses.drivers | uses.classes:
        for method, mods in src.method_transports(d).items():
            # Driver.probe(transport) answers through the capability's probe_<transport>: every one
            if method in uses.attrs or ("probe" in uses.attrs and method.startswith("probe_")):
                dotted |= mods
    owner = {m: c.transport for r in drivers for c in r.capabilities for m in c.modules}
    found: dict[str, set[str]] = {}
    for name in dotted:
        mod = src.module(name)
        if mod is None:
            continue
        path = src.display(mod.path)
        transport = owner.get(path) or name.removeprefix(TRANSPORTS_PACKAGE + ".").split(".")[0]
        found.setdefault(transport, set()).add(path)
    return tuple((t, tuple(sorted(found[t]))) for t in sorted(found))


def _tests(n: int) -> str:
    """``n`` test functions as the map counts them: functions, not the cases pytest collects from
    them (one per device or parameter, which depends on the lab)."""
    return f"{n} test function" if n == 1 else f"{n} test functions"


def map_text(routes: list[DutyRoute]) -> str:
    """The map for a terminal: per duty, its scenarios and procedures, then each driver with the
    transports of its capabilities; the duties without a scenario on the last line."""
    lines: list[str] = []
    for r in routes:
        if not r.scenarios:
            continue
        lines.append(f"{r.duty.id}  {r.duty.title}")
        lines += _labelled("scenarios", [f"{s.path} ({_tests(len(s.tests))})" for s in r.scenarios])
        lines += _labelled("fixtures", list(r.fixtures))
        lines += _labelled("checks", list(r.checks))
        lines += _labelled("procedures", list(r.procedures))
        width = max((len(d.name) for d in r.drivers), default=0)
        lines += _labelled("drivers", [f"{d.name:<{width}}  {d.path}" for d in r.drivers])
        tw = max((len(t) for t in r.transports()), default=0)
        lines += _labelled("transports", [f"{t:<{tw}}  {', '.join(mods)}" for t, mods in r.transports().items()])
        lines.append("")
    missing = [r.duty.id for r in routes if not r.scenarios]
    if missing:
        lines.append("no scenario yet: " + ", ".join(missing))
    return "\n".join(lines).rstrip()


def _labelled(label: str, items: list[str]) -> list[str]:
    return [f"  {label if i == 0 else '':<11} {item}".rstrip() for i, item in enumerate(items)]


def _code(items: Iterable[str]) -> str:
    return "<br>".join(f"`{i}`" for i in items) or "—"


def map_markdown(routes: list[DutyRoute]) -> str:
    """The map as Markdown: one table from duty to scenarios, procedures, drivers and transports,
    the duties without a scenario, and one table from driver to capabilities and transport modules."""
    rows = ["| duty | scenarios | fixtures, checks | procedures | drivers | transports |", "|---|---|---|---|---|---|"]
    drivers: dict[str, DriverRoute] = {}
    for r in routes:
        if not r.scenarios:
            continue
        scen = "<br>".join(f"`{s.path}` ({_tests(len(s.tests))})" for s in r.scenarios)
        drv = "<br>".join(f"`{d.name}` (`{d.path}`)" for d in r.drivers) or "—"
        tr = "<br>".join(f"{t}: {', '.join(f'`{m}`' for m in mods)}" for t, mods in r.transports().items()) or "—"
        helpers = _code([*r.fixtures, *r.checks])
        rows.append(f"| {r.duty.id} | {scen} | {helpers} | {_code(r.procedures)} | {drv} | {tr} |")
        drivers.update({f"{d.path}:{d.name}": d for d in r.drivers})
    missing = [r.duty.id for r in routes if not r.scenarios]
    out = [*rows]
    if missing:
        out += ["", "No scenario yet (NOT RUN or ATTEST in every summary): " + ", ".join(missing) + "."]
    out += ["", "| driver | module | capability (transport): transport modules |", "|---|---|---|"]
    for d in sorted(drivers.values(), key=lambda d: (d.name, d.path)):
        caps = [f"`{c.name}` ({c.transport}): {', '.join(f'`{m}`' for m in c.modules) or '—'}" for c in d.capabilities]
        if d.other:
            caps.append(f"{OTHER}: {', '.join(f'`{m}`' for m in d.other)}")
        out.append(f"| `{d.name}` | `{d.path}` | {'<br>'.join(caps) or '—'} |")
    return "\n".join(out)
