"""The layer order: core/infra ← domains ← api ← app, and no cycle between domains.

Read from the source (ast; imports inside functions count too). A module's layer:
- base: chalicelib/core, chalicelib/infra, chalicelib/errors.py;
- api: chalicelib/api, chalicelib/system, every domain's routes modules (a Blueprint
  is the HTTP edge of its domain) and the WebSocket handlers (live.connections);
- app: app.py, chalicelib/jobs.py, chalicelib/cli.py, chalicelib/local (entry points);
- domain: everything else, one package per domain (chalicelib/<domain>/...).
A module may import its own layer or a lower one. Between domains, the graph of imports
(routes excluded: they are the api layer) must have no cycle.
"""

import ast
import itertools
import pathlib

import chalicelib

PACKAGE = pathlib.Path(chalicelib.__file__).parent
ROOT = PACKAGE.parent
BASE, DOMAIN, API, APP = 0, 1, 2, 3
LAYER_NAMES = {BASE: "core/infra", DOMAIN: "domain", API: "api", APP: "app"}
ROUTES = {"routes", "drop_routes"}
EDGES = {"chalicelib.live.connections"}

# Imports of the api layer still left in domain modules, each to be removed by the named
# change (keep it short; a new entry needs a reason as good as these).
PENDING = {
    # The Actor change (issue 15, in parallel): services take an Actor value instead
    # of api.context.RequestContext.
    "chalicelib.api.context": "issue 15 Actor: services stop taking RequestContext",
}
# Domain imports still left in a cycle, each to be removed by the named change.
PENDING_DOMAIN_IMPORTS = {
    # categorization pages its rules with the imports' cursor codec; issue 15 core (in
    # parallel) replaces every codec with core/paging.
    ("chalicelib.categorization.service", "chalicelib.imports.cursors"): "issue 15 core: one cursor codec in core",
}


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _place(module: str) -> tuple[int, str]:
    """(layer, domain) of a module name under chalicelib (or app)."""
    parts = module.split(".")
    if parts[0] == "app":
        return APP, "app"
    top = parts[1] if len(parts) > 1 else ""
    if top in ("core", "infra", "errors"):
        return BASE, top
    if top in ("api", "system"):
        return API, top
    if top in ("jobs", "cli", "local"):
        return APP, top
    if parts[-1] in ROUTES or module in EDGES:
        return API, top
    return DOMAIN, top


def _sources() -> dict[str, ast.Module]:
    files = [*PACKAGE.rglob("*.py"), ROOT / "app.py"]
    return {_module_name(f): ast.parse(f.read_text()) for f in sorted(files)}


def _imports(tree: ast.Module, known: set[str]) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            # `from chalicelib.search import repo` imports chalicelib.search.repo
            found += [
                (f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module, node.lineno)
                for a in node.names
            ]
    return [(m, line) for m, line in found if m in known]


def _edges() -> list[tuple[str, str, int]]:
    sources = _sources()
    known = set(sources)
    edges = []
    for module, tree in sources.items():
        edges += [(module, target, line) for target, line in _imports(tree, known)]
    return edges


def test_no_module_imports_a_higher_layer():
    wrong = []
    for module, target, line in _edges():
        (layer, _), (target_layer, _) = _place(module), _place(target)
        if target_layer <= layer:
            continue
        if layer == DOMAIN and any(target == p or target.startswith(p + ".") for p in PENDING):
            continue
        wrong.append(f"{module}:{line} ({LAYER_NAMES[layer]}) imports {target} ({LAYER_NAMES[target_layer]})")
    assert not wrong, "imports against the layer order core/infra <- domains <- api <- app:\n" + "\n".join(wrong)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_domains_import_each_other_without_a_cycle():
    graph: dict[str, set[str]] = {}
    why: dict[tuple[str, str], str] = {}
    for module, target, line in _edges():
        (layer, domain), (target_layer, target_domain) = _place(module), _place(target)
        if (
            layer == target_layer == DOMAIN
            and domain != target_domain
            and (module, target) not in PENDING_DOMAIN_IMPORTS
        ):
            graph.setdefault(domain, set()).add(target_domain)
            why.setdefault((domain, target_domain), f"{module}:{line} imports {target}")
    cycle = _cycle(graph)
    assert cycle is None, (
        "domain import cycle "
        + " -> ".join(cycle)
        + ":\n"
        + "\n".join(why[(a, b)] for a, b in itertools.pairwise(cycle))
    )


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
