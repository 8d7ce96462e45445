"""Deploying behind HTTPS: with an https:// SPYGLASS_BASE_URL, spyglass behind a proxy that ends TLS (so it sees
plain HTTP) sends HSTS, marks its cookies Secure and accepts a sign-in whose Origin is the public address, and only
that; over plain http nothing of this applies. The API reference has a Content-Security-Policy too."""

import json
import os
import re
import subprocess
import sys

import httpx
import pytest

from tests.appservers import SqliteServer

PUBLIC = "https://spyglass.example.com"
EMAIL, PASSWORD = "ops@example.com", "s3cret-pass-for-https"


def _cookie(response: httpx.Response, name: str) -> str:
    """The Set-Cookie header that sets `name` (httpx keeps Secure cookies away from an http:// URL)."""
    return next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}="))


def _sign_in(server: SqliteServer, origin: str) -> httpx.Response:
    """What a browser at `origin` does through the proxy: fetch the form, post it back with its cookie."""
    headers = {"Host": "spyglass.example.com", "X-Forwarded-Proto": "https"}
    form = httpx.get(f"{server.url}/login/", headers=headers)
    csrf_cookie = _cookie(form, "csrftoken").split(";")[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    return httpx.post(
        f"{server.url}/login/",
        headers={**headers, "Origin": origin, "Cookie": csrf_cookie},
        data={"csrfmiddlewaretoken": token, "username": EMAIL, "password": PASSWORD},
        timeout=60,  # the real password hasher, in a process that shares the CPU with the rest of the suite
    )


def test_behind_a_tls_proxy_sign_in_works_with_secure_cookies_and_hsts(tmp_path):
    server = SqliteServer(
        tmp_path, {"SPYGLASS_BASE_URL": PUBLIC, "SPYGLASS_ALLOWED_HOSTS": "spyglass.example.com,127.0.0.1"}
    )
    user = ["--email", EMAIL, "--password", PASSWORD, "--org", "Example", "--account-group", "Ops"]
    server.spyglass("user", "create", *user, "--role", "Account Admin")
    try:
        server.start()
        form = httpx.get(f"{server.url}/login/", headers={"Host": "spyglass.example.com"})
        assert form.headers["strict-transport-security"] == "max-age=31536000"
        assert "; secure" in _cookie(form, "csrftoken").lower()

        signed_in = _sign_in(server, PUBLIC)
        assert signed_in.status_code == 302 and signed_in.headers["location"] == "/tests/", signed_in.text[:500]
        assert "; secure" in _cookie(signed_in, "sessionid").lower()
        assert signed_in.headers["strict-transport-security"] == "max-age=31536000"

        # Another origin is still refused, X-Forwarded-Proto or not.
        assert _sign_in(server, "https://evil.example.com").status_code == 403
    finally:
        server.stop()


def test_over_plain_http_there_is_no_hsts_and_cookies_are_not_secure(client, db):
    response = client.get("/login/")
    assert "Strict-Transport-Security" not in response
    assert not response.cookies["csrftoken"]["secure"]


def _settings_under(env: dict) -> dict:
    """The settings a process started with this environment would run with."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.CSRF_TRUSTED_ORIGINS, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE]))"
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS_") and k != "DATABASE_URL"}
    run = subprocess.run(
        [sys.executable, "-c", code],
        env={**keep, "DJANGO_SETTINGS_MODULE": "spyglass.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout)


@pytest.mark.parametrize(
    "template, share_origin",
    [
        ("https://{linkId}.share.example.com/", "https://*.share.example.com"),
        ("https://{linkId}.share.example.com:8443/", "https://*.share.example.com:8443"),
        ("https://share.example.com/s/{linkId}/", "https://share.example.com"),
    ],
)
def test_trusted_origins_follow_the_base_url_and_the_share_address(tmp_path, template, share_origin):
    env = {
        "SPYGLASS_DATA_DIR": str(tmp_path),
        "SPYGLASS_BASE_URL": PUBLIC + "/",
        "SPYGLASS_SHARE_URL_TEMPLATE": template,
    }
    origins, hsts, secure = _settings_under(env)
    assert origins == [PUBLIC, share_origin] and hsts == 31536000 and secure is True
    assert _settings_under({**env, "SPYGLASS_HSTS_SECONDS": "0"})[1] == 0


def test_the_api_reference_has_a_content_security_policy_without_inline_script(client, db):
    response = client.get("/v6/docs/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert b"fonts.googleapis.com" not in response.content  # nothing loaded from a third party
