"""The release a stored share page was rendered by: a digest of everything besides the database that can change it.

A stored render (stored.py) is served only to a process of the same release. The release is the package version,
the versions of the third-party code that renders (Django, django-htmx), the settings written into a page, and a
digest of every Python, template and static file of the *rendering rooms*: the apps the share page's views import,
directly or not (read from the source with `ast`, imports inside functions included), and the apps whose templates
and static files those rooms' templates extend, include or link. Nothing here is a hand-kept list of files: a module,
template or static file a share page uses is in the digest because the page reaches it."""

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

# Settings a share page writes into its HTML: addresses (links, Open Graph), static file URLs (and whether hashed),
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


def share_page_modules() -> list[str]:
    """The modules of the views that answer a share page and its results part, as the URLconf routes them."""
    from django.urls import resolve

    link = "a" * 32
    return sorted({resolve(path).func.__module__ for path in (f"/s/{link}/", f"/s/{link}/results")})


@functools.cache
def current() -> str:
    """This process's release (12 hex digits), computed once (spyglass/wsgi.py computes it before serving)."""
    digest = hashlib.sha256()
    for name in (PACKAGE, "django-htmx"):
        digest.update(importlib.metadata.version(name).encode() + b"\0")
    digest.update(django.get_version().encode() + b"\0")
    for name in PAGE_SETTINGS:
        digest.update(repr(getattr(settings, name, None)).encode() + b"\0")
    digest.update(fingerprint(PACKAGE_DIR, share_page_modules()).encode())
    return digest.hexdigest()[:12]
