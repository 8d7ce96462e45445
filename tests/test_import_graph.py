"""Arrows point one way: every import between rooms of spyglass/ goes down the README's layering table (the one
copy of it, under "### Layers"), and no circle closes between rooms. The graph is built from the source with ast,
so an import inside a function counts as much as one at the top of a module."""

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "spyglass"


@dataclass(frozen=True)
class Arrow:
    path: str  # the importing file, relative to the repository
    line: int
    importer: str  # dotted module names
    imported: str
    source: str  # rooms
    target: str


@dataclass(frozen=True)
class Layers:
    layer_of: dict  # room -> layer number (1 = bottom)
    allowed: frozenset  # (room, room) arrows allowed inside one layer


def read_layers(readme: Path) -> Layers:
    """The table under "### Layers": | layer | `room`, `room` | `a` → `b`, `c` (or "none") |."""
    text = readme.read_text(encoding="utf-8")
    section = text.split("\n### Layers\n", 1)[1].split("\n#", 1)[0]
    layer_of, allowed = {}, set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].isdigit():
            continue
        layer = int(cells[0])
        for room in re.findall(r"`([\w.]+)`", cells[1]):
            assert room not in layer_of, f"README's layering table places {room} twice"
            layer_of[room] = layer
        for arrow in re.split(r",\s*(?=`[\w.]+`\s*→)", cells[2]):
            if "→" in arrow:
                source, targets = arrow.split("→")
                (source,) = re.findall(r"`([\w.]+)`", source)
                allowed.update((source, t) for t in re.findall(r"`([\w.]+)`", targets))
    return Layers(layer_of, frozenset(allowed))


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def room_of(module: str) -> str | None:
    """spyglass.sharing.views -> sharing; spyglass.worker -> worker; the package itself has no room."""
    parts = module.split(".")
    return parts[1] if parts[0] == PACKAGE and len(parts) > 1 else None


def imports_of(path: Path, root: Path):
    """(line, imported module) for every import statement of the file, relative ones resolved."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            if target == PACKAGE:  # from spyglass import worker: each name is a room
                for alias in node.names:
                    yield node.lineno, f"{PACKAGE}.{alias.name}"
            else:
                yield node.lineno, target


def arrows(root: Path) -> list[Arrow]:
    """Every import from one room of the package into another."""
    found = []
    for path in sorted(root.rglob("*.py")):
        importer = module_name(path, root)
        source = room_of(importer)
        for line, imported in imports_of(path, root):
            target = room_of(imported)
            if source and target and target != source:
                relative = str(path.relative_to(root.parent))
                found.append(Arrow(relative, line, importer, imported, source, target))
    return found


def rooms(root: Path) -> set[str]:
    return {p.stem for p in root.glob("*.py") if p.name != "__init__.py"} | {
        p.name for p in root.iterdir() if (p / "__init__.py").exists()
    }


def problems(root: Path, layers: Layers) -> list[str]:
    """What runs against the table, one message per offending import, naming the file, line and arrow."""
    out = []
    for room in sorted(rooms(root) - layers.layer_of.keys()):
        out.append(f"{root.name}/{room} is in no layer of README's layering table: place it there")
    graph = defaultdict(list)
    for a in arrows(root):
        graph[a.source].append(a)
        low, high = layers.layer_of.get(a.source), layers.layer_of.get(a.target)
        if low is None or high is None:
            continue  # reported above
        where = f"{a.path}:{a.line}: {a.importer} imports {a.imported}"
        if high > low:
            out.append(f"{where}: {a.source} (layer {low}) → {a.target} (layer {high}) runs up the layering table")
        elif high == low and (a.source, a.target) not in layers.allowed:
            out.append(
                f"{where}: {a.source} → {a.target} inside layer {low} is not a same-layer arrow the table allows"
            )
    out.extend(circles(graph))
    return out


def circles(graph: dict) -> list[str]:
    """A message for each circle between rooms, naming one import for each of its arrows."""
    out, seen = [], set()

    def walk(room, trail):
        for a in graph.get(room, ()):
            if a.target in trail:
                loop = trail[trail.index(a.target) :]
                key = frozenset(loop)
                if key not in seen:
                    seen.add(key)
                    steps = [_first(graph, x, y) for x, y in zip(loop, [*loop[1:], loop[0]], strict=True)]
                    out.append(
                        "circle between rooms "
                        + " → ".join([*loop, loop[0]])
                        + ": "
                        + "; ".join(f"{s.path}:{s.line} imports {s.imported}" for s in steps)
                    )
            elif len(trail) < len(graph) + 1:
                walk(a.target, [*trail, a.target])

    for start in sorted(graph):
        walk(start, [start])
    return out


def _first(graph, source, target) -> Arrow:
    return next(a for a in graph[source] if a.target == target)


def test_every_import_between_rooms_goes_down_the_readme_layering_table():
    layers = read_layers(REPO / "README.md")
    assert {"lib", "monitoring", "sharing", "web", "api", "cli"} <= layers.layer_of.keys()
    found = problems(REPO / PACKAGE, layers)
    assert not found, "\n".join(found)


def test_the_graph_sees_imports_inside_functions_and_names_upward_arrows(tmp_path):
    """The checker itself: a function-level import up the table, a same-layer import and a circle are each named
    with their file and line."""
    root = tmp_path / PACKAGE
    for room in ("low", "mid", "peer", "high"):
        (root / room).mkdir(parents=True)
        (root / room / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "low" / "a.py").write_text("def f():\n    from spyglass.high import b\n")
    (root / "mid" / "c.py").write_text("from spyglass.peer import d\n")
    (root / "high" / "b.py").write_text("from ..low import a\n")
    layers = Layers({"low": 1, "mid": 2, "peer": 2, "high": 3}, frozenset())
    found = problems(root, layers)
    assert any(
        m.startswith("spyglass/low/a.py:2: spyglass.low.a imports spyglass.high: low (layer 1) → high (layer 3)")
        for m in found
    ), found
    assert any(m.startswith("spyglass/mid/c.py:1: spyglass.mid.c imports spyglass.peer: mid → peer") for m in found)
    assert any(m.startswith("circle between rooms high → low → high: spyglass/high/b.py:1") for m in found), found
    allowed = Layers(layers.layer_of, frozenset({("mid", "peer")}))
    assert not [m for m in problems(root, allowed) if "peer" in m]
