"""Static files served compressed under hashed names, collected on their own: no manual `collectstatic` step.

Pages name static files through `{% static %}`, which asks the storage below for the hashed name in the manifest that
`collectstatic` writes (whitenoise's CompressedManifestStaticFilesStorage: `name.<hash>.ext` plus `.gz` and `.br`
beside it). Whitenoise serves a hashed name with `Cache-Control: max-age=31536000, immutable` and the compressed
variant the browser accepts. With nothing collected a page cannot render ("Missing staticfiles manifest entry"), so
every process that serves collects before it serves (WhiteNoiseMiddleware below, which whitenoise needs before it
lists the files it serves; `spyglass serve` before it starts gunicorn; the storage on a first miss, for a process that
renders without serving) — cheaply: only when the digest of the files it would collect differs from the one stored
beside the collected files, and under a file lock, so that the processes of one start (gunicorn workers, test
processes) collect once between them.

What is collected is what is served: the apps' static files and the npm packages settings.STATICFILES_DIRS names,
without the packages' and apps' sources, maps, type declarations, licences and unused bundles (IGNORE_PATTERNS,
which `manage.py collectstatic` uses too, through StaticFilesConfig)."""

import fcntl
import hashlib
import os
from pathlib import Path

from django.contrib.staticfiles.apps import StaticFilesConfig as DjangoStaticFilesConfig
from django.contrib.staticfiles.storage import HashedFilesMixin
from whitenoise.middleware import WhiteNoiseMiddleware as BaseWhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage

# fnmatch patterns, matched against a file's name and its path inside its static directory (collectstatic's rules).
IGNORE_PATTERNS = [
    # Source maps, type declarations, licences and READMEs ship in npm and pip packages; browsers never ask for them.
    "*.map",
    "*.d.ts",
    "*.md",
    "LICENSE",
    "*.LICENSE.txt",
    "package.json",
    # uPlot's other builds: pages load uPlot.iife.min.js.
    "uPlot.cjs.js",
    "uPlot.esm.js",
    "uPlot.iife.js",
    # elkjs: the pages load elk.bundled.js, which holds the layout code; the rest is for Node and web workers.
    "elk-api.js",
    "elk-worker.js",
    "elk-worker.min.js",
    "main.js",
    # SortableJS: the dashboard loads Sortable.min.js; not its sources, unminified build or ES modules.
    "src/*",
    "modular/*",
    "Sortable.js",
    # Django REST framework's browsable API, which the v6 renderers (JSON, XML) never serve.
    "rest_framework/*",
    # drf-spectacular-sidecar: the API references are Redoc; Swagger UI is not served.
    "drf_spectacular_sidecar/swagger-ui-dist/*",
    # django-htmx: htmx 2 (`{% htmx_script %}`, minified unless DEBUG) and its own script; not htmx 4 or extensions.
    "django_htmx/ext/*",
    "htmx-4*.js",
    "htmax-4*.js",
]

DIGEST_FILE = ".spyglass-sources"  # beside the collected files: the digest of the sources they were collected from
LOCK_FILE = ".spyglass-collect.lock"


class StaticFilesConfig(DjangoStaticFilesConfig):
    """django.contrib.staticfiles with IGNORE_PATTERNS added, so a hand-run `collectstatic` collects the same."""

    ignore_patterns = [*DjangoStaticFilesConfig.ignore_patterns, *IGNORE_PATTERNS]


_css_references = HashedFilesMixin.patterns[0][1][:2]  # url(…) and @import; not sourceMappingURL (maps not kept)
_js_module_imports = HashedFilesMixin._js_module_import_aggregation_patterns[1]


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Whitenoise's compressed manifest storage, with:

    - the references rewritten to hashed names that the browser follows: CSS `url()`/`@import`, and our own ES
      modules' `import … from "./x.js"` (so results.js names pathvis.<hash>.js, which names pathgraph.<hash>.js);
      third-party bundles are left as they are (their `sourceMappingURL` names a map that is not collected);
    - only the hashed copies compressed (pages name nothing else; the unhashed originals stay, served as they are
      with a short cache, for anything that names a file by hand), which halves the time a collection takes;
    - one reload of the manifest on a miss: another process may just have collected (a new file) since this one
      read it; and a collection first when nothing was ever collected."""

    patterns = (("*.css", _css_references), ("web/*.js", _js_module_imports))

    def compress_files(self, paths):
        originals = {name for name, hashed in self.hashed_files.items() if hashed != name}
        return super().compress_files([path for path in paths if path not in originals])

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            if not self.exists(self.manifest_name):
                ensure_collected()
            self.hashed_files, self.manifest_hash = self.load_manifest()
            return super().stored_name(name)


class WhiteNoiseMiddleware(BaseWhiteNoiseMiddleware):
    """Whitenoise's middleware, which lists the files under STATIC_ROOT when it is made: collected first."""

    def __init__(self, *args, **kwargs):
        ensure_collected()
        super().__init__(*args, **kwargs)


def _sources() -> list[tuple[str, str]]:
    """(name as served, file path) of every file collectstatic would collect, in collectstatic's order of finders."""
    from django.apps import apps
    from django.contrib.staticfiles import finders

    ignore = apps.get_app_config("staticfiles").ignore_patterns
    found: dict[str, str] = {}
    for finder in finders.get_finders():
        for path, storage in finder.list(ignore):
            name = os.path.join(getattr(storage, "prefix", None) or "", path)
            found.setdefault(name, storage.path(path))  # the first finder wins, as in collectstatic
    return sorted(found.items())


def sources_digest() -> str:
    """A digest of the names and contents of what would be collected, and of how it is processed."""
    from django.conf import settings

    digest = hashlib.sha256()
    digest.update(repr((settings.STORAGES["staticfiles"], settings.STATIC_URL)).encode() + b"\0")
    for name, path in _sources():
        digest.update(name.encode() + b"\0" + Path(path).read_bytes() + b"\0")
    return digest.hexdigest()


_checked: set[Path] = set()  # static roots this process found current or collected


def ensure_collected() -> bool:
    """Collect the static files into STATIC_ROOT unless they were collected from the same sources. Returns whether
    this call collected. Several processes calling it at once collect once: the others wait on the lock, then find
    the digest current."""
    from django.conf import settings
    from django.core.management import call_command

    root = Path(settings.STATIC_ROOT)
    if root in _checked and (root / StaticStorage.manifest_name).exists():
        return False  # this process found them current already (a test process makes many middleware chains)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        digest = sources_digest()
        stamp = root / DIGEST_FILE
        current = stamp.read_text().strip() if stamp.exists() else ""
        collect = current != digest or not (root / StaticStorage.manifest_name).exists()
        if collect:
            call_command("collectstatic", interactive=False, verbosity=0)
            partial = stamp.with_name(stamp.name + ".new")
            partial.write_text(digest + "\n")
            partial.replace(stamp)
        _checked.add(root)
        return collect
