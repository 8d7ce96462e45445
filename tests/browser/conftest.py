"""Playwright driving Debian's Chromium against pytest-django's live server."""

import os
import time
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM would refuse to run beside it. Only this
# test process sets it, never the product.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # A missing browser is a failure, never a skip: scripts/test.sh installs it.
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing; scripts/test.sh installs Debian's chromium package"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def new_page(browser, viewport: dict | None = None):
    """(context, page) in a fresh browser context; `page.console_errors` collects console errors and uncaught
    exceptions. The caller closes the context."""
    context = browser.new_context(viewport=viewport or {"width": 1400, "height": 1000})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    return context, page


@pytest.fixture
def viewport() -> dict:
    """The `page` fixture's screen; a test module overrides it with a fixture of the same name."""
    return {"width": 1400, "height": 1000}


@pytest.fixture
def page(browser, viewport):
    context, page = new_page(browser, viewport)
    yield page
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def sign_in(page, base_url: str, email: str, password: str = "correct horse battery"):
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/tests/")


def track_requests(page):
    """Counts the page's requests in flight (`page.requests_in_flight`), for `settle`."""
    page.requests_in_flight = 0

    def started(request):
        page.requests_in_flight += 1

    def ended(request):
        page.requests_in_flight -= 1

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)


def settle(page, timeout: float = 10):
    """Until the page has loaded and none of its requests is in flight (`track_requests` before it navigates): what
    Playwright's "networkidle" waits for, without its fixed half second of quiet after the last request."""
    page.wait_for_load_state("load")
    deadline = time.monotonic() + timeout
    while page.requests_in_flight > 0:
        assert time.monotonic() < deadline, f"{page.requests_in_flight} requests still in flight on {page.url}"
        page.wait_for_timeout(20)  # lets Playwright deliver the requests' events; wait_for_function cannot see them
