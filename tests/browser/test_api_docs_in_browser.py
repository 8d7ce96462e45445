"""The API references at /v6/docs/ and /v7/docs/ render in Chromium under its Content-Security-Policy: Redoc's script and the
schema come from our own origin, no inline script is allowed, and the one thing the policy blocks is the one it
should: Redoc's footer logo from cdn.redoc.ly (no visitor's address goes to a third party; Redoc hides the image)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

# Installed before any of the page's scripts: the browser reports every blocked load or inline run here.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@pytest.mark.parametrize(
    "docs, title, operation",
    [("/v6/docs/", "spyglass API", "/v6/status"), ("/v7/docs/", "spyglass API v7", "/v7/account-groups")],
)
def test_the_api_docs_render_with_a_policy_and_no_violations(live_server, page, docs, title, operation):
    requested, failed = [], []
    page.on("request", lambda r: requested.append(r.url))
    page.on("response", lambda r: r.status >= 400 and failed.append(r.url))
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(f"{live_server.url}{docs}")
    policy = response.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives.get("script-src") == ["'self'"], policy  # no inline script, no eval
    assert directives.get("default-src") == ["'self'"] and directives.get("frame-ancestors") == ["'none'"], policy

    # Redoc rendered the document: the title and an operation of that version's API are on the page.
    page.get_by_role("heading", name=title).first.wait_for(timeout=30000)
    page.get_by_text(operation, exact=False).first.wait_for(timeout=30000)
    page.wait_for_function("() => window.__violations.length > 0")  # Redoc's logo, blocked
    assert page.evaluate("window.__violations") == [f"img-src {REDOC_LOGO}"]
    assert failed == []
    assert [e for e in page.console_errors if REDOC_LOGO not in e] == []
    elsewhere = [url for url in requested if not url.startswith((live_server.url, f"blob:{live_server.url}", "data:"))]
    assert elsewhere == [REDOC_LOGO]  # ... and blocked, as the violation above says
