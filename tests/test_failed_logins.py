"""Failed logins are held against the credential that failed, never against a correct one (accounts/failed_logins.py):
per account and address+account for user logins, per address for unknown Bearer tokens, apart for agent tokens."""

import base64
import ipaddress
import threading

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient

from spyglass.monitoring.agent_service import issue_agent_token
from spyglass.sharing.models import SnapshotVisit
from tests.conftest import make_snapshot, make_test

PASSWORD = "correct horse battery"
ATTACKER = "192.0.2.66"


@pytest.fixture(autouse=True)
def _mid_hour(time_machine):
    # Counters are per hour: hold the clock still so a test never straddles a window boundary.
    time_machine.move_to(1_795_000_020, tick=False)


def basic(email, token, address=ATTACKER, **headers) -> APIClient:
    client = APIClient(REMOTE_ADDR=address, **headers)
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{email}:{token}".encode()).decode())
    return client


def bearer(token, address=ATTACKER, **headers) -> APIClient:
    client = APIClient(REMOTE_ADDR=address, **headers)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def sign_in(email, password, address=ATTACKER):
    return Client(REMOTE_ADDR=address).post("/login/", {"username": email, "password": password})


def networks(*items):
    """SPYGLASS_TRUSTED_PROXIES as settings holds it (its parsing: test_settings_and_cli.py)."""
    return tuple(ipaddress.ip_network(item) for item in items)


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/tests/"


def test_bad_logins_for_one_account_refuse_no_correct_credential_from_that_address(cast):
    """The issue's attack at the default limit: 125 wrong tokens for the owner from one address."""
    assert settings.FAILED_LOGIN_LIMIT_PER_HOUR == 120
    wrong = basic(cast.owner.user.email, "not-the-token")
    codes = [wrong.get("/v6/tests.json").status_code for _ in range(125)]
    assert codes == [401] * 120 + [429] * 5
    assert wrong.get("/v6/tests.json")["Retry-After"]
    # From the same address: another account's Basic token, a Bearer token, a password, an agent token.
    assert basic(cast.teammate.user.email, cast.teammate.token).get("/v6/tests.json").status_code == 200
    assert bearer(cast.regular.token).get("/v6/tests.json").status_code == 200
    assert signed_in(sign_in(cast.teammate.user.email, PASSWORD))
    agent_token = issue_agent_token(cast.owner.user.default_account_group.organization_id, "lab agents")
    registered = bearer(agent_token).post("/agent/v1/register", {"name": "lab-1", "kind": "enterprise"}, format="json")
    assert registered.status_code == 200
    # The attacked account's own token passes too: 192 random bits are never guessed, so refusing it protects
    # nothing and would hand the attacker a lockout.
    assert basic(cast.owner.user.email, cast.owner.token).get("/v6/tests.json").status_code == 200
    assert bearer(cast.owner.token).get("/v6/tests.json").status_code == 200
    # The failing credential still waits.
    assert wrong.get("/v6/tests.json").status_code == 429


def test_a_password_is_not_checked_where_its_account_failed_too_often_and_is_elsewhere(cast, settings):
    """Passwords can be guessed: the address that failed for an account waits for that account's sign-in, right
    password or not; other accounts at that address, and the account from other addresses, sign in."""
    settings.FAILED_LOGIN_LIMIT_PER_HOUR = 3
    answers = [sign_in(cast.owner.user.email, "guess").content.decode() for _ in range(5)]
    assert ["do not match an account" in page for page in answers] == [True] * 3 + [False] * 2
    assert all("Too many failed sign-ins" in page for page in answers[3:])
    refused = sign_in(cast.owner.user.email, PASSWORD)
    assert refused.status_code == 200 and "Too many failed sign-ins" in refused.content.decode()
    assert signed_in(sign_in(cast.teammate.user.email, PASSWORD))
    assert signed_in(sign_in(cast.owner.user.email, PASSWORD, address="198.51.100.20"))
    # A correct sign-in leaves no failure behind: the teammate signs in again and again.
    assert all(signed_in(sign_in(cast.teammate.user.email, PASSWORD)) for _ in range(4))


def test_an_accounts_failures_from_many_addresses_slow_only_failing_attempts_for_it(cast, settings):
    settings.FAILED_LOGIN_LIMIT_PER_HOUR = 4
    email = cast.owner.user.email
    codes = [basic(email, "wrong", address=f"203.0.113.{i}").get("/v6/tests.json").status_code for i in range(6)]
    assert codes == [401] * 4 + [429] * 2
    fresh = basic(email, "wrong", address="203.0.113.200").get("/v6/tests.json")
    assert fresh.status_code == 429  # a new address guessing for this account is slowed as well
    assert basic(email, cast.owner.token, address="203.0.113.200").get("/v6/tests.json").status_code == 200
    assert basic(cast.teammate.user.email, "wrong", address="203.0.113.200").get("/v6/tests.json").status_code == 401
    # The owner signs in with the password from an address that has not failed for the account.
    assert signed_in(sign_in(email, PASSWORD, address="198.51.100.21"))


def test_unknown_bearer_tokens_are_counted_per_address_and_a_correct_one_passes(cast, settings):
    settings.FAILED_LOGIN_LIMIT_PER_HOUR = 3
    codes = [bearer(f"guess-{i}").get("/v6/tests.json").status_code for i in range(5)]
    assert codes == [401] * 3 + [429] * 2
    assert bearer(cast.owner.token).get("/v6/tests.json").status_code == 200
    assert bearer("guess-x", address="198.51.100.22").get("/v6/tests.json").status_code == 401


def test_agent_tokens_and_user_logins_never_share_a_count(cast, settings):
    settings.FAILED_LOGIN_LIMIT_PER_HOUR = 3
    agent_token = issue_agent_token(cast.owner.user.default_account_group.organization_id, "lab agents")
    body = {"name": "lab-1", "kind": "enterprise"}

    def register(token, address=ATTACKER):
        return bearer(token, address=address).post("/agent/v1/register", body, format="json").status_code

    assert [register(f"sga_guess{i}") for i in range(5)] == [401] * 3 + [429] * 2
    assert register(agent_token) == 200  # a valid agent token always passes
    # User logins at that address are untouched by the agents' failures ...
    assert basic(cast.owner.user.email, "wrong").get("/v6/tests.json").status_code == 401
    assert signed_in(sign_in(cast.owner.user.email, PASSWORD))
    # ... and agents by the users' failures.
    elsewhere = "198.51.100.23"
    assert [bearer("guess", address=elsewhere).get("/v6/tests.json").status_code for _ in range(4)][-1] == 429
    assert register("sga_another", address=elsewhere) == 401


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_forwarded_address(cast, settings):
    settings.FAILED_LOGIN_LIMIT_PER_HOUR = 2
    settings.TRUSTED_PROXIES = networks("10.0.0.0/8", "2001:db8::/32")

    def through_proxy(client_address, proxy="10.1.2.3", forwarded=None):
        return bearer("guess", address=proxy, HTTP_X_FORWARDED_FOR=forwarded or f"6.6.6.6, {client_address}")

    codes = [through_proxy("203.0.113.7").get("/v6/tests.json").status_code for _ in range(4)]
    assert codes == [401, 401, 429, 429]
    # Another client behind the same proxy has its own count; so does one behind two proxies, or on IPv6.
    assert through_proxy("203.0.113.8").get("/v6/tests.json").status_code == 401
    two_hops = through_proxy(None, forwarded="203.0.113.9, 10.9.9.9")
    assert two_hops.get("/v6/tests.json").status_code == 401
    assert through_proxy("203.0.113.10", proxy="2001:db8::1").get("/v6/tests.json").status_code == 401
    # The left-most entries are the client's own text: a different one changes nothing.
    spoofed = through_proxy(None, forwarded="198.51.100.1, 203.0.113.7")
    assert spoofed.get("/v6/tests.json").status_code == 429


def test_a_dual_stack_proxy_address_and_forwarded_ports_name_the_same_client(cast, settings):
    settings.FAILED_LOGIN_LIMIT_PER_HOUR = 2
    settings.TRUSTED_PROXIES = networks("10.0.0.0/8")
    forms = [
        ("10.1.2.3", "203.0.113.7"),
        ("::ffff:10.1.2.3", "203.0.113.7:51234"),  # an IPv6 listener's view of an IPv4 proxy; a proxy adding the port
        ("10.1.2.3", "::ffff:203.0.113.7"),
    ]
    codes = [bearer("guess", address=p, HTTP_X_FORWARDED_FOR=f).get("/v6/tests.json").status_code for p, f in forms]
    assert codes == [401, 401, 429]
    other = bearer("guess", address="10.1.2.3", HTTP_X_FORWARDED_FOR="[2001:db8::7]:443")
    assert other.get("/v6/tests.json").status_code == 401


def test_a_forwarded_address_from_anywhere_but_a_trusted_proxy_is_ignored(cast, settings):
    settings.FAILED_LOGIN_LIMIT_PER_HOUR = 2
    settings.TRUSTED_PROXIES = networks("10.0.0.0/8")
    codes = [
        bearer("guess", address=ATTACKER, HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").get("/v6/tests.json").status_code
        for i in range(4)
    ]
    assert codes == [401, 401, 429, 429]
    settings.TRUSTED_PROXIES = ()  # the default: nothing is trusted, not even loopback
    trusted_nowhere = bearer("guess", address="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert [trusted_nowhere.get("/v6/tests.json").status_code for _ in range(3)] == [401, 401, 429]
    assert (
        bearer("guess", address="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.51").get("/v6/tests.json").status_code
        == 429
    )


def test_share_page_visits_record_the_forwarded_address_of_a_trusted_proxy(cast, settings):
    settings.TRUSTED_PROXIES = networks("127.0.0.1")
    snapshot = make_snapshot(cast.owner, make_test(cast.owner), anchor=1_794_988_800)  # before the mid-hour clock
    Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.77").get(f"/s/{snapshot.link_id}/")
    Client(REMOTE_ADDR="192.0.2.5", HTTP_X_FORWARDED_FOR="203.0.113.78").get(f"/s/{snapshot.link_id}/")
    assert sorted(SnapshotVisit.objects.values_list("ip", flat=True)) == ["192.0.2.5", "203.0.113.77"]


def _concurrently(count, request):
    """`count` requests at once, each in its own thread with its own database connection; their answers."""
    start = threading.Barrier(count)
    answers = [None] * count

    def run(i):
        try:
            start.wait()
            answers[i] = request()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="concurrent transactions need the PostgreSQL run (scripts/test.sh runs it)",
)
def test_of_concurrent_failures_exactly_the_limit_are_answered_401_and_the_rest_429(cast, settings):
    settings.FAILED_LOGIN_LIMIT_PER_HOUR = 5
    codes = _concurrently(30, lambda: basic(cast.owner.user.email, "wrong").get("/v6/tests.json").status_code)
    assert sorted(codes) == [401] * 5 + [429] * 25
    # The web sign-in checks exactly the limit's passwords, however many arrive at once.
    pages = _concurrently(30, lambda: sign_in(cast.teammate.user.email, "guess", "198.51.100.24").content.decode())
    assert sum("do not match an account" in page for page in pages) == 5
    assert sum("Too many failed sign-ins" in page for page in pages) == 25
