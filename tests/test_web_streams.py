"""Integrations › Streams in the web app: add, edit, enable/disable, delete, the status with the last error, and
"Send a test round" showing the receiver's answer — against a real OTLP/HTTP receiver on loopback."""

import pytest

from spyglass.lib.addresses import parse_networks
from spyglass.streams import push
from spyglass.streams.models import Stream
from spyglass.streams.secrets import unseal
from tests.conftest import make_test
from tests.otlp_receivers import HttpReceiver
from tests.test_streams_push import _seeded
from tests.web_support import signed_in

pytestmark = pytest.mark.django_db(transaction=True)
PAGE = "/integrations/streams/"


@pytest.fixture
def receiver(settings):
    settings.STREAM_ALLOW_HTTP = True
    settings.STREAM_ALLOWED_NETWORKS = parse_networks("127.0.0.0/8")
    settings.STREAM_TIMEOUT_SECONDS = 2
    started = HttpReceiver().start()
    yield started
    started.stop()


def test_add_test_edit_disable_and_delete_a_stream(cast, receiver):
    edge = _seeded(cast.owner, "agent-to-server", "edge")
    make_test(cast.owner, "http-server", name="shop")
    browser = signed_in(cast.owner)
    page = browser.get(PAGE)
    assert page.status_code == 200 and b"No streams yet" in page.content and b">Integrations</a>" in page.content
    added = browser.post(
        PAGE + "new/",
        {
            "name": "<b>to Grafana</b>",
            "endpointType": "http",
            "url": receiver.url,
            "dataModelVersion": "v2",
            "headers": "Authorization: Bearer sekrit-token",
            "tests": [str(edge.id)],
            "enabled": "1",
        },
    )
    assert added.status_code == 302 and added["Location"] == PAGE
    stream = Stream.objects.get()
    assert unseal(stream.custom_headers) == {"Authorization": "Bearer sekrit-token"}
    assert stream.test_match == [{"id": str(edge.id), "domain": "cea"}]
    listed = browser.get(PAGE).content.decode()
    assert "&lt;b&gt;to Grafana&lt;/b&gt;" in listed and "<b>to Grafana" not in listed
    assert "Pending" in listed and "30 rounds" in listed and "sekrit" not in listed

    answered = browser.post(f"{PAGE}{stream.id}/test-round/").content.decode()
    assert "accepted by the receiver" in answered and len(receiver.accepted) == 1

    edit = browser.get(f"{PAGE}{stream.id}/").content.decode()
    assert "Authorization: *****" in edit and "sekrit" not in edit
    saved = browser.post(
        f"{PAGE}{stream.id}/save/",
        {
            "name": "to Prometheus",
            "url": receiver.url,
            "headers": "Authorization: *****",
            "allTests": "1",
            "enabled": "1",
        },
    )
    assert saved.status_code == 302
    stream.refresh_from_db()
    assert stream.name == "to Prometheus" and stream.test_match == [{"id": None, "domain": "cea"}]
    assert unseal(stream.custom_headers) == {"Authorization": "Bearer sekrit-token"}

    # the receiver fails: the page says so, with the status and short reason only
    receiver.answer = lambda n: 503
    push.push_due()
    listed = browser.get(PAGE).content.decode()
    assert "Failing" in listed and "HTTP 503 Service Unavailable" in listed and "internal details" not in listed
    answered = browser.post(f"{PAGE}{stream.id}/test-round/").content.decode()
    assert "not accepted — HTTP 503 Service Unavailable" in answered

    assert browser.post(f"{PAGE}{stream.id}/toggle/").status_code == 302
    assert Stream.objects.get().enabled is False and "Disabled" in browser.get(PAGE).content.decode()
    assert browser.post(f"{PAGE}{stream.id}/delete/").status_code == 302
    assert not Stream.objects.exists()


def test_bad_input_names_the_field_and_saves_nothing(cast, receiver, settings):
    browser = signed_in(cast.owner)
    settings.STREAM_ALLOW_HTTP = False
    refused = browser.post(PAGE + "new/", {"endpointType": "http", "url": receiver.url, "headers": "no colon here"})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "line 1: write each header as Name: value" in text
    refused = browser.post(PAGE + "new/", {"endpointType": "http", "url": receiver.url, "tests": ["999999"]})
    text = refused.content.decode()
    assert refused.status_code == 400 and "must be an https URL" in text and "no test 999999" in text
    assert not Stream.objects.exists()


def test_only_administrators_see_the_page(cast):
    regular = signed_in(cast.regular)
    assert regular.get(PAGE).status_code == 404
    assert b">Integrations</a>" not in regular.get("/tests/").content
