"""Static files are served compressed (brotli, gzip) under hashed names with a year's immutable cache, collected by the
app itself: a fresh data dir starts and serves pages with no manual `collectstatic` (spyglass/web/staticfiles.py)."""

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import brotli
import httpx
import pytest
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client

from spyglass.web.staticfiles import DIGEST_FILE, StaticStorage
from tests.appservers import SqliteServer

REPO = Path(__file__).resolve().parents[1]
HASHED = re.compile(r"\.[0-9a-f]{12}\.[a-z]+$")
YEAR = 31536000


def _assets(html: str) -> list[str]:
    """The stylesheets, scripts and icon a page links."""
    return re.findall(r'<(?:link|script)\b[^>]*?(?:href|src)="(/static/[^"]+)"', html)


def _max_age(response) -> int:
    return int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"]).group(1))


def _source(name: str) -> bytes:
    from django.contrib.staticfiles import finders

    return Path(finders.find(name)).read_bytes()


@pytest.mark.django_db
def test_pages_link_hashed_names_served_compressed_with_a_years_immutable_cache():
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200
    assets = _assets(page.content.decode())
    assert "/static/web/app.css" not in assets and any(
        re.match(r"/static/web/app\.[0-9a-f]{12}\.css$", a) for a in assets
    )
    assert assets and all(HASHED.search(a) for a in assets), assets
    css = next(a for a in assets if "/web/app." in a)
    original = _source("web/app.css")

    br = client.get(css, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert br.status_code == 200 and br["Content-Encoding"] == "br"
    assert _max_age(br) >= YEAR and "immutable" in br["Cache-Control"] and "Accept-Encoding" in br["Vary"]
    body = b"".join(br.streaming_content)
    assert brotli.decompress(body) == original and len(body) < len(original) / 3

    gz = client.get(css, HTTP_ACCEPT_ENCODING="gzip")
    assert gz["Content-Encoding"] == "gzip" and _max_age(gz) >= YEAR
    assert gzip.decompress(b"".join(gz.streaming_content)) == original

    plain = client.get(css)
    assert "Content-Encoding" not in plain and b"".join(plain.streaming_content) == original

    # The unhashed name still answers (for anything that names a file by hand) but is never cached for long.
    unhashed = client.get("/static/web/app.css", HTTP_ACCEPT_ENCODING="br")
    assert unhashed.status_code == 200 and _max_age(unhashed) < 3600 and "immutable" not in unhashed["Cache-Control"]


@pytest.mark.django_db
def test_es_modules_import_each_other_by_hashed_name():
    client = Client()
    results = client.get(staticfiles_storage.url("web/results.js"))
    pathvis_url = staticfiles_storage.url("web/pathvis.js")
    text = b"".join(results.streaming_content).decode()
    assert f'"./{pathvis_url.rsplit("/", 1)[1]}"' in text and '"./pathvis.js"' not in text
    pathvis = b"".join(client.get(pathvis_url).streaming_content).decode()
    assert staticfiles_storage.url("web/pathgraph.js").rsplit("/", 1)[1] in pathvis


def test_only_what_is_served_is_collected():
    client_facing = {Path(p).name for p in re.findall(r"{% static '([^']+)' %}", _templates())}
    assert {"app.css", "uPlot.iife.min.js", "elk.bundled.js"} <= client_facing
    for name in re.findall(r"{% static '([^']+)' %}", _templates()):
        assert HASHED.search(staticfiles_storage.url(name)), name  # each one collected, under a hashed name
    for name in ("django_htmx/htmx-2.min.js", "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"):
        assert HASHED.search(staticfiles_storage.url(name)), name
    root = Path(settings.STATIC_ROOT)
    collected = [p for p in root.rglob("*") if p.is_file()]
    names = [str(p.relative_to(root)) for p in collected]
    junk = [n for n in names if re.search(r"\.map$|\.d\.ts$|LICENSE|README|package\.json|swagger|rest_framework", n)]
    assert not junk, junk
    # Originals, hashed copies and their .gz and .br: under 8 MiB (node_modules' two packages alone hold 8.4 MiB).
    assert sum(p.stat().st_size for p in collected) < 8 * 1024 * 1024


def _templates() -> str:
    return "".join(p.read_text() for p in (REPO / "spyglass").rglob("templates/**/*.html"))


def test_templates_scripts_and_styles_never_write_a_static_address_by_hand():
    files = [p for p in (REPO / "spyglass").rglob("*") if p.suffix in (".html", ".js", ".css") and p.is_file()]
    assert len(files) > 20
    by_hand = [str(p) for p in files if "/static/" in p.read_text()]
    assert not by_hand, by_hand


def test_the_storage_reads_the_manifest_again_when_a_name_is_missing(tmp_path):
    """Another process collected a file after this one read the manifest."""
    manifest = tmp_path / StaticStorage.manifest_name
    manifest.write_text(json.dumps({"paths": {}, "version": "1.1", "hash": ""}))
    storage = StaticStorage(location=tmp_path, base_url="/static/")
    manifest.write_text(json.dumps({"paths": {"web/new.js": "web/new.0123456789ab.js"}, "version": "1.1", "hash": ""}))
    assert storage.url("web/new.js") == "/static/web/new.0123456789ab.js"
    with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
        storage.url("web/never-collected.js")


def _collect_in_processes(static_root: Path, count: int) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SPYGLASS_DATA_DIR=str(static_root.parent), SPYGLASS_STATIC_ROOT=str(static_root))
    code = (
        "import django; django.setup(); from spyglass.web.staticfiles import ensure_collected; "
        "print(ensure_collected())"
    )
    command = [sys.executable, "-c", code]
    env["DJANGO_SETTINGS_MODULE"] = "spyglass.settings"
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(count)
    ]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()[-2000:]
        outputs.append(out.decode().strip())
    return outputs


@pytest.mark.slow
def test_processes_starting_together_collect_once(tmp_path):
    root = tmp_path / "static"
    assert sorted(_collect_in_processes(root, 3)) == ["False", "False", "True"]
    assert (root / DIGEST_FILE).exists() and (root / StaticStorage.manifest_name).exists()
    # Nothing changed: nobody collects again.
    assert _collect_in_processes(root, 1) == ["False"]


@pytest.mark.slow
def test_a_fresh_data_dir_starts_and_serves_pages_with_their_static_files(tmp_path):
    server = SqliteServer(tmp_path, migrated=False)  # a fresh data dir: no database either
    del server.env["SPYGLASS_STATIC_ROOT"]  # the default: DATA_DIR/static, empty
    check = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env=server.env, capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stderr[-2000:]
    # A hand-run collectstatic is never needed: `serve` collects before it listens.
    assert not (tmp_path / "static" / StaticStorage.manifest_name).exists()
    server.start(timeout=240)
    try:
        page = httpx.get(f"{server.url}/login/", timeout=30)
        assert page.status_code == 200
        assets = _assets(page.text)
        assert assets and all(HASHED.search(a) for a in assets), assets
        for asset in assets:
            response = httpx.get(server.url + asset, headers={"Accept-Encoding": "br"}, timeout=30)
            assert response.status_code == 200, asset
            assert _max_age(response) >= YEAR and "immutable" in response.headers["cache-control"]
            if asset.endswith((".css", ".js")):
                assert response.headers["content-encoding"] == "br", asset
    finally:
        server.stop()
    assert (tmp_path / "static" / DIGEST_FILE).exists()


def test_a_static_root_that_cannot_be_made_stops_the_start_naming_the_variable(tmp_path, monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from spyglass.lib import config

    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("SPYGLASS_STATIC_ROOT", str(tmp_path / "a-file" / "static"))
    with pytest.raises(ImproperlyConfigured, match="SPYGLASS_STATIC_ROOT .* cannot be created"):
        config.static_root(tmp_path)
    monkeypatch.setenv("SPYGLASS_STATIC_ROOT", str(tmp_path / "deep" / "er" / "static"))
    assert config.static_root(tmp_path).is_dir()
    monkeypatch.delenv("SPYGLASS_STATIC_ROOT")
    assert config.static_root(tmp_path) == tmp_path / "static"
