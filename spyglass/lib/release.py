"""The release a stored render was made by: a digest of everything besides the database that can change it.

A stored render (a share page, sharing/stored.py; the v6 test list, api/stored_lists.py) is served only to a process
of the same release. A release is the package version, the versions of the third-party code that renders (Django,
and the renderers each caller names), the settings written into a page, and a digest of every Python, template and
static file of the *rendering rooms*: the apps the answering views import, directly or not (read from the source
with `ast`, imports inside functions included), and the apps whose templates and static files those rooms'
templates extend, include or link. Nothing here is a hand-kept list of files: a module, template or static file a
render uses is in the digest because its view reaches it."""

import ast
import functools
import hashlib
import importlib.metadata
import re
from pathlib import Path

import django
from django.conf import settings

PACKAGE = "spyglass"
PACKAGE_DIR = Path(__file__).resolve().parent.parent

# The share page and its results part (an example link id), as the URLconf routes them.
SHARE_PAGE_PATHS = ("/s/" + "a" * 32 + "/", "/s/" + "a" * 32 + "/results")

# Settings a share page (or an API answer: its links) writes into its HTML: addresses (links, Open Graph), static file URLs (and whether hashed),
# debug rendering.
PAGE_SETTINGS = ("BASE_URL", "SHARE_URL_TEMPLATE", "STATIC_URL", "STORAGES", "DEBUG")

_TEMPLATE_REF = re.compile(r"""\{%\s*(?:extends|include)\s+["']([^"']+)["']""")
_STATIC_REF = re.compile(r"""\{%\s*static\s+["']([^"']+)["']""")


def _module_file(package_dir: Path, module: str) -> Path | None:
    parts = module.split(".")[1:]
    base = package_dir.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if parts and path.is_file():
            return path
    return None


def _imports(module: str, path: Path) -> set[str]:
    """Every module `path` imports (absolute names, `from x import y` counted as both x and x.y)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _room_of(package_dir: Path, path: Path) -> Path:
    """The app directory holding `path` (spyglass/<app>/…), or the file itself for a module at the package's top."""
    relative = path.relative_to(package_dir)
    return package_dir / relative.parts[0] if len(relative.parts) > 1 else path


def _imported_rooms(package_dir: Path, start: list[str]) -> set[Path]:
    seen, todo, rooms = set(), list(start), set()
    while todo:
        module = todo.pop()
        if module in seen or not module.startswith(PACKAGE + "."):
            continue
        seen.add(module)
        path = _module_file(package_dir, module)
        if path is not None:
            rooms.add(_room_of(package_dir, path))
            todo.extend(_imports(module, path))
    return rooms


def _room_files(room: Path) -> list[Path]:
    if room.is_file():
        return [room]
    files = [p for p in room.rglob("*.py") if "__pycache__" not in p.parts]
    for kind in ("templates", "static"):
        files += [p for p in (room / kind).rglob("*") if p.is_file()] if (room / kind).is_dir() else []
    return sorted(set(files))


def _referenced(package_dir: Path, template: Path) -> tuple[set[Path], set[Path]]:
    """(rooms holding the templates and static files `template` names, files it names found outside the package)."""
    text = template.read_text(errors="replace")
    rooms: set[Path] = set()
    outside: set[Path] = set()
    for kind, pattern in (("templates", _TEMPLATE_REF), ("static", _STATIC_REF)):
        for name in pattern.findall(text):
            inside = [p for p in package_dir.glob(f"*/{kind}/{name}") if p.is_file()]
            rooms.update(_room_of(package_dir, p) for p in inside)
            if not inside and kind == "static":
                from django.contrib.staticfiles import finders

                found = finders.find(name)
                if found:
                    outside.add(Path(found))
    return rooms, outside


def rendering_files(package_dir: Path, start: list[str]) -> list[Path]:
    """Every file of the rendering rooms reached from the modules `start`, plus the static files their templates
    link from outside the package (vendored libraries)."""
    rooms = _imported_rooms(package_dir, start)
    outside: set[Path] = set()
    checked: set[Path] = set()
    while True:
        templates = {p for room in rooms for p in _room_files(room) if p.suffix in (".html", ".txt")} - checked
        if not templates:
            break
        for template in templates:
            more, elsewhere = _referenced(package_dir, template)
            rooms |= more
            outside |= elsewhere
        checked |= templates
    return sorted({p for room in rooms for p in _room_files(room)}) + sorted(outside)


def fingerprint(package_dir: Path, start: list[str]) -> str:
    """A digest of the names and contents of rendering_files."""
    digest = hashlib.sha256()
    for path in rendering_files(package_dir, start):
        name = str(path.relative_to(package_dir)) if path.is_relative_to(package_dir) else path.name
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def view_modules(paths: tuple[str, ...]) -> list[str]:
    """The modules of the views that answer `paths`, as the URLconf routes them."""
    from django.urls import resolve

    return sorted({resolve(path).func.__module__ for path in paths})


def share_page_modules() -> list[str]:
    """The modules of the views that answer a share page and its results part."""
    return view_modules(SHARE_PAGE_PATHS)


def of(paths: tuple[str, ...], packages: tuple[str, ...]) -> str:
    """The release (12 hex digits) of what answers `paths`, rendered with the third-party `packages` (distribution
    names): computed on each call, so callers keep it once per process (current, api/stored_lists.release)."""
    digest = hashlib.sha256()
    for name in (PACKAGE, *packages):
        digest.update(importlib.metadata.version(name).encode() + b"\0")
    digest.update(django.get_version().encode() + b"\0")
    for name in PAGE_SETTINGS:
        digest.update(repr(getattr(settings, name, None)).encode() + b"\0")
    digest.update(fingerprint(PACKAGE_DIR, view_modules(paths)).encode())
    return digest.hexdigest()[:12]


@functools.cache
def current() -> str:
    """The share page's release in this process, computed once (spyglass/wsgi.py computes it before serving)."""
    return of(SHARE_PAGE_PATHS, ("django-htmx",))
