"""Formats (suffix, then Accept, then format=), error bodies, and bad input that must never cause a 500."""

import xml.etree.ElementTree as ET

import pytest


def test_json_by_default(cast):
    response = cast.owner.client.get("/v6/tests")
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"test": []}


def test_suffix_wins_over_accept_and_format(cast):
    response = cast.owner.client.get("/v6/tests.xml?format=json", HTTP_ACCEPT="application/json")
    assert response["Content-Type"].startswith("text/xml")
    ET.fromstring(response.content)


def test_accept_wins_over_format_parameter(cast):
    response = cast.owner.client.get("/v6/tests?format=json", HTTP_ACCEPT="text/xml")
    assert response["Content-Type"].startswith("text/xml")
    response = cast.owner.client.get("/v6/tests?format=xml", HTTP_ACCEPT="application/json")
    assert response["Content-Type"] == "application/json"


def test_format_parameter_applies_when_nothing_else_says(cast):
    response = cast.owner.client.get("/v6/tests?format=xml", HTTP_ACCEPT="*/*")
    assert response["Content-Type"].startswith("text/xml")


def test_xml_lists_repeat_their_element(cast):
    from tests.conftest import make_test

    make_test(cast.owner, name="one")
    make_test(cast.owner, name="two")
    root = ET.fromstring(cast.owner.client.get("/v6/tests.xml").content)
    assert [t.findtext("testName") for t in root.findall("test")] == ["one", "two"]


def test_errors_are_error_messages_in_the_chosen_format(cast):
    response = cast.owner.client.get("/v6/tests/999999.xml")
    assert response.status_code == 404
    assert ET.fromstring(response.content).findtext("errorMessage")
    response = cast.owner.client.get("/v6/tests/999999.json")
    assert response.json() == {"errorMessage": "Not found"}


def test_unknown_api_paths_answer_json_404(cast):
    response = cast.owner.client.get("/v6/no-such-thing")
    assert response.status_code == 404
    assert response.json()["errorMessage"]


def test_unknown_format_parameter_is_refused(cast):
    response = cast.owner.client.get("/v6/tests?format=yaml")
    assert response.status_code == 406
    assert "json or xml" in response.json()["errorMessage"]


def test_wrong_method_is_405(cast):
    response = cast.owner.client.delete("/v6/tests.json")
    assert response.status_code == 405
    assert response.json()["errorMessage"]


@pytest.mark.parametrize(
    "body, content_type, fragment",
    [
        (b'{"testName": "x", ', "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "JSON object"),
        (b"<test><testName>x</testName", "text/xml", "not valid XML"),
        (b"hello", "application/octet-stream", "Unsupported media type"),
    ],
)
def test_malformed_bodies_are_400_and_change_nothing(cast, body, content_type, fragment):
    response = cast.owner.client.generic("POST", "/v6/tests/agent-to-server/new.json", body, content_type)
    assert response.status_code in (400, 415)
    assert fragment in response.json()["errorMessage"]
    assert cast.owner.client.get("/v6/tests.json").json() == {"test": []}


def test_bodies_over_one_mebibyte_are_413(cast):
    body = b'{"testName": "' + b"x" * (1024 * 1024) + b'"}'
    response = cast.owner.client.generic("POST", "/v6/tests/agent-to-server/new.json", body, "application/json")
    assert response.status_code == 413
    assert "1 MiB" in response.json()["errorMessage"]
