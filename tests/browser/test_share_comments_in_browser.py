"""Comments on a share page in a real Chromium, with the app and an attacker's page on two hosts of one site
(app.example.com and evil.example.com, both resolved to the live server's loopback address): a signed-in visitor
comments from the share page — whose response says Referrer-Policy: no-referrer — and is shown as a signed-in user;
the attacker's auto-posting form, sent with the visitor's session cookie (SameSite=Lax lets a same-site post carry
it), is refused and stores and e-mails nothing."""

import re
from urllib.parse import urlsplit

import pytest

from spyglass.mail.models import OutboxMessage
from spyglass.monitoring.seed import seed
from spyglass.sharing.models import SnapshotComment
from tests.conftest import make_snapshot, make_test

from .conftest import CHROMIUM, CHROMIUM_ARGS, sign_in

pytestmark = pytest.mark.django_db(transaction=True)
ROUND = 1795338000  # 2026-11-22 09:00:00 UTC
APP, EVIL = "app.example.com", "evil.example.com"


@pytest.fixture
def sibling_hosts_browser(browser):
    """A Chromium resolving every *.example.com to loopback: the app and the attacker on sibling hosts."""
    sibling = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP *.example.com 127.0.0.1"]
    )
    yield sibling
    sibling.close()


def attack_page(action: str, link_token: str) -> str:
    """What the sibling host serves: a form that posts itself to the share page's comment endpoint at once."""
    return (
        "<!doctype html><html><head><meta name='referrer' content='no-referrer'></head><body>"
        f"<form method='post' action='{action}'>"
        f"<input type='hidden' name='token' value='{link_token}'>"
        "<input type='hidden' name='name' value='Tom Mate'>"
        "<input type='hidden' name='body' value='Please revoke every API token now'>"
        "</form><script>document.forms[0].submit()</script></body></html>"
    )


def test_a_signed_in_visitor_comments_and_a_sibling_hosts_forged_post_is_refused(
    live_server, sibling_hosts_browser, cast, settings
):
    port = urlsplit(live_server.url).port
    base = f"http://{APP}:{port}"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, APP]
    settings.BASE_URL = base
    test = make_test(cast.owner, name="checkout", interval=60)
    seed(test, agents=2, hours=4, random_seed=5, now=ROUND + 2 * 3600)
    snapshot = make_snapshot(cast.owner, test, hours=2, anchor=ROUND, display_name="Outage")
    share_url = f"{base}/s/{snapshot.link_id}/"

    context = sibling_hosts_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    sign_in(page, base, cast.teammate.user.email)

    # The visitor comments from the share page, which keeps its no-referrer header; the post carries the page's
    # Origin and the visitor's CSRF token, and the comment is theirs.
    response = page.goto(share_url)
    assert response.status == 200 and response.headers["referrer-policy"] == "no-referrer"
    assert "Commenting as Tom Mate" in page.locator("#comments").inner_text()
    page.fill("#comments textarea[name=body]", "Seeing the loss from Frankfurt too")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/comments")) as posted:
        page.click("#comments button[type=submit]")
    assert posted.value.headers.get("origin") == base  # not "null"
    page.wait_for_url(re.compile(r"#comments$"))
    mine = page.locator("#comments .comment").first
    assert "Tom Mate" in mine.inner_text() and mine.locator(".comment-badge.verified").count() == 1
    comment = SnapshotComment.objects.get()
    assert comment.user_id == cast.teammate.user.id and comment.body == "Seeing the loss from Frankfurt too"
    emails = OutboxMessage.objects.filter(kind="snapshot-comment").count()
    assert emails == 1

    # The attacker's page on a sibling host posts the same form with the visitor's cookies, and the link's form
    # token (the same for everyone with the link): refused, nothing stored, nobody e-mailed.
    link_token = page.locator("#comments input[name=token]").get_attribute("value")
    action = f"{base}/s/{snapshot.link_id}/comments"
    page.route(
        f"http://{EVIL}/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=attack_page(action, link_token)),
    )
    with page.expect_response(lambda r: r.request.method == "POST" and r.url == action) as answered:
        page.goto(f"http://{EVIL}/cute-cats")
    refused = answered.value
    assert refused.status == 403 and refused.headers["referrer-policy"] == "no-referrer"
    assert SnapshotComment.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="snapshot-comment").count() == emails
    assert not [e for e in errors if "Content Security Policy" in e]
    context.close()
