"""The share page's comments section: its common form is rendered once per process and filled in per request;
it must be exactly what the template renders."""

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

from spyglass.sharing.views import comments_section


def live(**changes):
    context = {
        "share_base": 'https://share.example/s/abc/?x=1&y="2"<',
        "visits": 3,
        "comments": [],
        "signed_in": False,
        "user": None,
        "may_comment": True,
        "form_token": "IjRmNmE2Zjc0In0:1vQzXq:AbC&<>",
        "form_error": "",
        "form_values": {},
    }
    return context | changes


@pytest.mark.parametrize("may_comment", [True, False])
def test_blank_section_is_the_templates_output(may_comment):
    context = live(may_comment=may_comment)
    assert comments_section(context) == render_to_string("sharing/_comments.html", context)
    assert ("spyglass-form-token-mark" in comments_section(context)) is False


def test_every_other_form_is_rendered_from_the_template():
    comment = SimpleNamespace(author_name="<Ann>", date=None, body="first\nsecond")
    person = SimpleNamespace(name="Bob <b>", email="bob@example.com")
    for context in (
        live(comments=[comment]),
        live(signed_in=True, user=person),
        live(form_error="The form has expired"),
        live(form_values={"name": "Eve", "body": "<script>"}),
    ):
        assert comments_section(context) == render_to_string("sharing/_comments.html", context)
    assert "&lt;Ann&gt;" in comments_section(live(comments=[comment]))
    assert "&lt;script&gt;" in comments_section(live(form_values={"name": "Eve", "body": "<script>"}))


def test_two_links_get_their_own_link_and_token():
    first = comments_section(live(share_base="https://a.example/s/one/", form_token="token-one"))
    second = comments_section(live(share_base="https://a.example/s/two/", form_token="token-two"))
    assert 'action="https://a.example/s/one/comments"' in first and 'value="token-one"' in first
    assert 'action="https://a.example/s/two/comments"' in second and 'value="token-two"' in second
