"""Creating, changing and deleting streams: the rules a stream's settings meet, whichever door they come through
(the v7 API now, the web page later). Bad input raises ValidationError naming each field, nothing written."""

import re
import uuid
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from spyglass.accounts.roles import EDIT_USERS, Access
from spyglass.monitoring.models import Test

from . import endpoint
from .models import Stream
from .secrets import MASK, UnreadableHeaders, seal, unseal

# Streams send an account group's data out: its administrators manage them (Account Admin, Organization Admin).
MANAGE_STREAMS = EDIT_USERS
STREAM_TYPES = ("opentelemetry", "splunk-hec")
SIGNALS = ("metric", "trace", "log")
TEST_TYPES = (
    "api",
    "agent-to-agent",
    "agent-to-server",
    "bgp",
    "http-server",
    "page-load",
    "web-transactions",
    "ftp-server",
    "dns-trace",
    "dns-server",
    "dnssec",
    "sip-server",
    "voice",
)
# Set at creation for good (the SDK's PutStream has none of them).
FIXED = {"type": "type", "signal": "signal", "endpointType": "endpoint_type", "dataModelVersion": "data_model_version"}
MAX_HEADERS = 20
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")


def streams(access: Access):
    return Stream.objects.filter(account_group=access.account_group).select_related("created_by", "updated_by")


def get_stream(access: Access, stream_id: str) -> Stream | None:
    try:
        key = uuid.UUID(stream_id)
    except (ValueError, TypeError, AttributeError):  # not a stream id: names nothing
        return None
    return streams(access).filter(id=key).first()


def _choice(data: dict, name: str, choices: tuple, errors: dict):
    value = data.get(name)
    if value is not None and value not in choices:
        errors[name] = f"must be one of {', '.join(choices)}"
    return value


def _headers(raw, old_token: str, errors: dict) -> str | None:
    """customHeaders sealed; a value sent back as the mask keeps the stored one."""
    if not isinstance(raw, dict) or len(raw) > MAX_HEADERS:
        errors["customHeaders"] = f"must be an object of at most {MAX_HEADERS} header names and text values"
        return None
    try:
        old = unseal(old_token)
    except UnreadableHeaders:
        old = {}
    out = {}
    for name, value in raw.items():
        if not _HEADER_NAME.match(name) or name.lower() in ("host", "content-length", "transfer-encoding"):
            errors[f"customHeaders.{name[:40]}"] = "is not a header name spyglass may send"
        elif not isinstance(value, str) or len(value) > 4096 or any(c in value for c in "\r\n\0"):
            errors[f"customHeaders.{name}"] = "must be text of one line, at most 4096 characters"
        elif value == MASK and name in old:
            out[name] = old[name]
        else:
            out[name] = value
    return seal(out)


def _test_match(access: Access, raw, errors: dict) -> list | None:
    if not isinstance(raw, list) or len(raw) > 1000:
        errors["testMatch"] = "must be a list of {id, domain} objects"
        return None
    out, ids = [], []
    for index, item in enumerate(raw):
        name = f"testMatch[{index}]"
        if not isinstance(item, dict):
            errors[name] = "must be an object {id, domain}"
            continue
        domain = item.get("domain", "cea")
        test_id = item.get("id")
        if domain == "endpoint":
            errors[f"{name}.domain"] = "endpoint: spyglass has no Endpoint Agents; use cea"
        elif domain not in (None, "cea"):
            errors[f"{name}.domain"] = "must be cea"
        elif test_id is not None and (
            isinstance(test_id, bool)
            or not isinstance(test_id, str | int)
            or not str(test_id).isascii()
            or not str(test_id).isdigit()
            or len(str(test_id)) > 18
        ):
            errors[f"{name}.id"] = "must be a test id, a string of digits"
        else:
            out.append({"id": None if test_id is None else str(int(test_id)), "domain": "cea"})
            if test_id is not None:
                ids.append((index, int(test_id)))
    if ids:
        found = set(
            Test.objects.filter(account_group=access.account_group, saved_event=False, deleted_date__isnull=True)
            .filter(id__in=[i for _, i in ids])
            .values_list("id", flat=True)
        )
        for index, test_id in ids:
            if test_id not in found:
                errors[f"testMatch[{index}].id"] = f"no test {test_id} in this account group"
    return out


def _test_types(raw, errors: dict) -> list | None:
    values = raw.get("testTypes", {}) if isinstance(raw, dict) else None
    values = values.get("values", []) if isinstance(values, dict) else None
    if not isinstance(values, list) or any(v not in TEST_TYPES for v in values):
        errors["filters.testTypes.values"] = f"must be a list of test types: {', '.join(TEST_TYPES)}"
        return None
    return list(dict.fromkeys(values))


def _refuse_unsupported(data: dict, errors: dict) -> None:
    if data.get("type") == "splunk-hec":
        errors["type"] = (
            "splunk-hec is not supported: use opentelemetry and an OpenTelemetry Collector with the "
            "splunk_hec exporter (docs/streams.md)"
        )
    if data.get("signal") in ("trace", "log"):
        errors["signal"] = "spyglass streams metrics only"
    if data.get("tagMatch"):
        errors["tagMatch"] = "spyglass tests have no tags: select tests with testMatch"
    exporter = data.get("exporterConfig")
    if isinstance(exporter, dict) and (exporter.get("splunkHec") or exporter.get("authorization")):
        errors["exporterConfig"] = "is not supported: send credentials in customHeaders"
    for name in ("endpointAgentLabel", "endpointAgentTag"):
        if data.get(name):
            errors[name] = "spyglass has no Endpoint Agents"


def _read(access: Access, data: dict, stream: Stream | None) -> dict:
    """The model fields `data` sets, validated; ValidationError naming every field at fault."""
    if not isinstance(data, dict):
        raise ValidationError({"": "the body must be a JSON object"})
    errors: dict[str, str] = {}
    creating = stream is None
    _refuse_unsupported(data, errors)
    if not creating:
        changed = [
            name
            for name, attr in FIXED.items()
            if name in data and data[name] != getattr(stream, attr) and name not in errors
        ]
        for name in changed:
            errors[name] = f"cannot change after creation ({', '.join(changed)} are set once; create a new stream)"
    out: dict = {}
    if "type" not in errors:
        out["type"] = _choice(data, "type", STREAM_TYPES, errors) or "opentelemetry"
    if "signal" not in errors:
        out["signal"] = _choice(data, "signal", SIGNALS, errors) or "metric"
    out["endpoint_type"] = _choice(data, "endpointType", ("grpc", "http"), errors)
    out["data_model_version"] = _choice(data, "dataModelVersion", ("v1", "v2"), errors) or "v2"
    if creating and out["endpoint_type"] is None and "endpointType" not in errors:
        errors["endpointType"] = "is required: grpc or http"
    if not creating:
        out = {}
    if "name" in data:
        name = data["name"]
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 255:
            errors["name"] = "must be text of 1 to 255 characters"
        else:
            out["name"] = name.strip()
    url = data.get("streamEndpointUrl", None if stream is None else stream.url)
    endpoint_type = data.get("endpointType") if stream is None else stream.endpoint_type
    if creating and url is None:
        errors["streamEndpointUrl"] = "is required, such as https://collector.example.com:4318/v1/metrics"
    elif ("streamEndpointUrl" in data or creating) and endpoint_type in ("grpc", "http"):
        try:
            endpoint.check(str(url), endpoint_type)
            out["url"] = url
        except endpoint.Refused as exc:
            errors["streamEndpointUrl"] = str(exc)
    if "customHeaders" in data:
        sealed = _headers(data["customHeaders"] or {}, "" if stream is None else stream.custom_headers, errors)
        if sealed is not None:
            out["custom_headers"] = sealed
    if "testMatch" in data:
        matched = _test_match(access, data["testMatch"] or [], errors)
        if matched is not None:
            out["test_match"] = matched
    if "filters" in data:
        types = _test_types(data["filters"] or {}, errors)
        if types is not None:
            out["test_types"] = types
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            errors["enabled"] = "must be true or false"
        else:
            out["enabled"] = data["enabled"]
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def create_stream(access: Access, data: dict) -> Stream:
    fields = _read(access, data, None)
    if "name" not in fields:
        fields["name"] = f"OpenTelemetry to {urlsplit(fields['url']).hostname}"[:255]
    now = timezone.now()
    return Stream.objects.create(
        account_group=access.account_group,
        created_by=access.user,
        updated_by=access.user,
        created_date=now,
        updated_date=now,
        next_attempt_at=now,
        **fields,
    )


@transaction.atomic
def update_stream(access: Access, stream: Stream, data: dict) -> Stream:
    fields = _read(access, data, stream)
    if fields.get("enabled") and not stream.enabled:  # enabled again: a fresh start, tried at once
        fields.update(failing_since=None, failures=0, warned_date=None, next_attempt_at=timezone.now())
    if "url" in fields or "custom_headers" in fields:  # a new receiver or credentials: try it now
        fields["next_attempt_at"] = timezone.now()
    fields.update(updated_by=access.user, updated_date=timezone.now())
    for name, value in fields.items():
        setattr(stream, name, value)
    stream.save()
    return stream


def delete_stream(stream: Stream) -> None:
    stream.delete()
