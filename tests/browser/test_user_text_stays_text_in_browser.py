"""XSS in a real browser: script tags and attribute-breaking strings in every user-written field — test names and
descriptions, agent names, snapshot display names and notes, comments and their names, dashboard widgets (which
show test names) — are shown as text on every page that shows them, signed in and on the share page signed out;
nothing they carry ever runs, and the Content-Security-Policy blocks inline script."""

import pytest

from spyglass.accounts.roles import access_for
from spyglass.dashboards import services as dashboard_services
from spyglass.sharing.services import post_comment
from tests.conftest import make_agent, make_snapshot, make_test

from .conftest import settle, sign_in, track_requests

pytestmark = pytest.mark.django_db(transaction=True)

# Each breaks out of a different context if it were not escaped: element text, a double- or single-quoted attribute.
EVIL = "<script>window.__xss=1</script>\"><img src=x onerror=window.__xss=2>'><svg onload=window.__xss=3>"


def assert_nothing_ran(page, shows_text: bool = True):
    settle(page)
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []
    if shows_text:
        assert EVIL in page.locator("body").inner_text(), page.url  # shown as the user wrote it


def assert_inline_script_is_blocked(page):
    policy = page.request.get(page.url).headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', no nonce, no hash
    # And the browser enforces it: an inline script added to the page does not run.
    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.__inline = 1';
        document.body.appendChild(s);
    }""")
    assert page.evaluate("window.__inline") is None


def test_user_written_text_is_shown_as_text_and_never_runs(live_server, browser, cast):
    agent = make_agent(cast.owner, name=EVIL)
    test = make_test(cast.owner, "agent-to-server", name=EVIL, description=EVIL, agents=[{"agentId": agent.id}])
    owner = access_for(cast.owner.user, None)
    dashboard = dashboard_services.default_dashboard(owner)
    dashboard_services.add_widget(owner, dashboard, test.id, dashboard_services.metrics_for(test.type)[0], 3600)
    snapshot = make_snapshot(
        cast.owner, test, display_name=EVIL, note=EVIL, show_note=True, comments_signed_in_only=False
    )
    post_comment(snapshot, body=EVIL, name=EVIL)
    base = live_server.url

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    track_requests(page)
    sign_in(page, base, cast.owner.user.email)
    for path, shows_text in [
        ("/tests/", True),
        (f"/tests/{test.id}/", True),
        (f"/tests/{test.id}/edit/", False),  # the fields hold it as their value, checked below
        ("/dashboard/", True),
        ("/agents/", True),
        ("/sharing/snapshots/", True),
        (f"/sharing/snapshots/{snapshot.link_id}/", True),
        (f"/s/{snapshot.link_id}/", True),
    ]:
        page.goto(base + path)
        assert_nothing_ran(page, shows_text)
        if path.endswith("/edit/"):
            assert EVIL in [page.locator(sel).input_value() for sel in ("[name=testName]", "[name=description]")]
    assert_inline_script_is_blocked(page)
    context.close()

    context = browser.new_context()  # signed out: what anyone holding the link sees
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    track_requests(page)
    page.goto(f"{base}/s/{snapshot.link_id}/")
    assert_nothing_ran(page)
    assert page.locator("body").inner_text().count(EVIL) >= 3  # display name, note, comment (and its name)
    assert_inline_script_is_blocked(page)
    context.close()
