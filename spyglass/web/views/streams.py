"""Integrations › Streams: the account group's OpenTelemetry streams (docs/streams.md) — list with their status and
last error, add, edit, enable or disable, delete, and "Send a test round", which shows the receiver's answer. The
rules are spyglass.streams.services', as for the v7 API; the account group's administrators only (404 to others)."""

from django.http import QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from spyglass.lib.error_messages import field_errors
from spyglass.streams import push, services
from spyglass.streams.secrets import MASK, masked

from ..checkpoint import account_group_streams, member_view, own_tests, stream_or_404

TEST_TYPES = ("agent-to-server", "http-server", "dns-server")


def _form_of(stream) -> dict:
    every = any(item.get("id") is None for item in stream.test_match)
    return {
        "name": stream.name,
        "endpointType": stream.endpoint_type,
        "url": stream.url,
        "dataModelVersion": stream.data_model_version,
        "headers": "\n".join(f"{k}: {v}" for k, v in masked(stream.custom_headers).items()),
        "tests": [] if every else [item["id"] for item in stream.test_match],
        "allTests": every,
        "testTypes": list(stream.test_types),
        "enabled": stream.enabled,
    }


def _form_of_post(post) -> dict:
    return {
        "name": post.get("name", "").strip(),
        "endpointType": post.get("endpointType", ""),
        "url": post.get("url", "").strip(),
        "dataModelVersion": post.get("dataModelVersion", "v2"),
        "headers": post.get("headers", ""),
        "tests": post.getlist("tests"),
        "allTests": post.get("allTests") == "1",
        "testTypes": post.getlist("testTypes"),
        "enabled": post.get("enabled") == "1",
    }


def _body(form: dict, creating: bool) -> tuple[dict, dict]:
    """The form as the API's body (one set of rules), and the errors of what the form itself got wrong."""
    errors = {}
    headers = {}
    for number, line in enumerate(form["headers"].splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            errors["headers"] = f"line {number}: write each header as Name: value"
            break
        headers[name.strip()] = value.strip()
    body = {
        "streamEndpointUrl": form["url"],
        "customHeaders": headers,
        "testMatch": [{"domain": "cea"}] if form["allTests"] else [{"id": t, "domain": "cea"} for t in form["tests"]],
        "filters": {"testTypes": {"values": form["testTypes"]}},
        "enabled": form["enabled"],
    }
    if form["name"] or not creating:
        body["name"] = form["name"]
    if creating:
        body.update(endpointType=form["endpointType"], dataModelVersion=form["dataModelVersion"])
    return body, errors


# The API's field names → the form's.
_FIELDS = {"streamEndpointUrl": "url", "customHeaders": "headers", "testMatch": "tests", "filters": "testTypes"}


def _errors(exc: ValidationError) -> dict:
    out: dict[str, str] = {}
    for field, message in field_errors(exc.detail):
        key = next((v for k, v in _FIELDS.items() if field.startswith(k)), field or "form")
        out.setdefault(key, f"{field}: {message}" if key != field and field else message)
    return out


def _page(request, *, form=None, stream=None, errors=None, answer=None, status=200):
    access = request.access
    rows = [{"stream": s, "backlog": push.backlog(s)} for s in account_group_streams(access)]
    return render(
        request,
        "web/streams.html",
        {
            "rows": rows,
            "form": form or _form_of_post(QueryDict()),
            "editing": stream,
            "errors": errors or {},
            "answer": answer,
            "tests": own_tests(access),
            "test_types": TEST_TYPES,
            "mask": MASK,
        },
        status=status,
    )


@member_view
def stream_list(request):
    account_group_streams(request.access)
    return _page(request)


@member_view
def stream_edit(request, stream_id):
    stream = stream_or_404(request.access, stream_id)
    return _page(request, form=_form_of(stream), stream=stream)


@require_POST
@member_view
def stream_save(request, stream_id=None):
    access = request.access
    stream = stream_or_404(access, stream_id) if stream_id is not None else None
    account_group_streams(access)
    form = _form_of_post(request.POST)
    body, errors = _body(form, creating=stream is None)
    if not errors:
        try:
            if stream is None:
                services.create_stream(access, body)
            else:
                services.update_stream(access, stream, body)
            return redirect("web:streams")
        except ValidationError as exc:
            errors = _errors(exc)
    return _page(request, form=form, stream=stream, errors=errors, status=400)


@require_POST
@member_view
def stream_toggle(request, stream_id):
    stream = stream_or_404(request.access, stream_id)
    services.update_stream(request.access, stream, {"enabled": not stream.enabled})
    return redirect("web:streams")


@require_POST
@member_view
def stream_delete(request, stream_id):
    services.delete_stream(stream_or_404(request.access, stream_id))
    return redirect("web:streams")


@require_POST
@member_view
def stream_test_round(request, stream_id):
    stream = stream_or_404(request.access, stream_id)
    accepted, reason = push.send_test_round(stream)
    return _page(request, answer={"stream": stream, "accepted": accepted, "reason": reason})
