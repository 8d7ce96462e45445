"""Browser libraries come from their registries (uPlot, elkjs and SortableJS from npm, htmx from django-htmx) and pages carry no
inline script or event handler, so the CSP without 'unsafe-inline' holds."""

import re
from pathlib import Path

from django.contrib.staticfiles import finders

from spyglass.accounts.models import AccountGroup
from spyglass.accounts.roles import access_for
from spyglass.dashboards import services as dashboards
from spyglass.liveshares import services as liveshares
from spyglass.monitoring.seed import seed
from tests.conftest import make_test
from tests.web_support import signed_in

REPO = Path(__file__).resolve().parents[1]


def test_it_serves_uplot_from_node_modules_and_htmx_from_django_htmx():
    uplot = finders.find("vendor/uplot/uPlot.iife.min.js")
    assert uplot and "node_modules/uplot/dist" in uplot
    assert "site-packages/django_htmx" in finders.find("django_htmx/htmx-2.min.js")
    # The Path Visualization View's layout library (its template names this path).
    elk = finders.find("vendor/elkjs/elk.bundled.js")
    assert elk and "node_modules/elkjs/lib" in elk
    # The dashboard's drag and drop.
    sortable = finders.find("vendor/sortablejs/Sortable.min.js")
    assert sortable and "node_modules/sortablejs" in sortable
    # Nothing third-party is copied into the repository.
    copied = ("uplot", "htmx", "elk", "sortable")
    assert not [p for p in (REPO / "spyglass").rglob("*") if p.name.lower().startswith(copied)]


def test_it_puts_no_inline_script_or_handler_on_the_results_page(cast):
    test = make_test(cast.owner, name="edge")
    seed(test, agents=2, hours=1, random_seed=1)
    page = signed_in(cast.owner).get(f"/tests/{test.id}/").content.decode()
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all(" src=" in tag for tag in scripts)
    assert not re.search(r"\son[a-z]+=", page) and " style=" not in page and "<style" not in page


def test_it_puts_no_inline_script_or_style_on_the_live_shares_page_and_the_dashboard(cast):
    owner = access_for(cast.owner.user, None)
    test = make_test(cast.owner, name="edge")
    liveshares.create(owner, test.id, aid=AccountGroup.objects.get(name="Dev").id)
    dashboards.add_widget(owner, dashboards.default_dashboard(owner), test.id, "latency", 3600)
    for url in ("/sharing/live-shares/", "/dashboard/"):
        page = signed_in(cast.owner).get(url).content.decode()
        scripts = re.findall(r"<script\b[^>]*>", page)
        assert any("web/confirm" in tag for tag in scripts), url
        assert scripts and all(" src=" in tag for tag in scripts), url
        assert not re.search(r"\son[a-z]+=", page) and " style=" not in page and "<style" not in page, url
