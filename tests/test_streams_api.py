"""v7 streams through the official SDK's StreamingApi (thousandeyes-sdk-streaming, unchanged) against a live
server: create, list, get, update, delete; headers masked; the URL rules; what spyglass refuses and why."""

import pytest
from thousandeyes_sdk.core.exceptions import ApiException
from thousandeyes_sdk.streaming import StreamingApi
from thousandeyes_sdk.streaming.models import PutStream, Stream

from spyglass.lib.addresses import parse_networks
from spyglass.streams.models import Stream as StoredStream
from spyglass.streams.secrets import unseal
from tests.conftest import make_test

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def loopback(settings):
    settings.STREAM_ALLOW_HTTP = True
    settings.STREAM_ALLOWED_NETWORKS = parse_networks("127.0.0.0/8")
    return settings


def _body(**extra) -> dict:
    body = {
        "type": "opentelemetry",
        "endpointType": "http",
        "streamEndpointUrl": "http://127.0.0.1:4318/v1/metrics",
        "dataModelVersion": "v2",
        "customHeaders": {"Authorization": "Bearer sekrit-token"},
        "enabled": True,
    }
    body.update(extra)
    return body


def _refusal(call) -> tuple[int, str]:
    with pytest.raises(ApiException) as refused:
        call()
    return refused.value.status, refused.value.body or ""


def test_sdk_round_trip(cast, v7, loopback):
    web = make_test(cast.owner, "http-server", name="shop")
    net = make_test(cast.owner, "agent-to-server", name="edge")
    api = StreamingApi(v7(cast.owner))
    assert api.get_streams() == []
    created = api.create_stream(
        stream=Stream.from_dict(
            _body(
                name="to Grafana",
                testMatch=[{"id": str(web.id), "domain": "cea"}, {"id": str(net.id), "domain": "cea"}],
                filters={"testTypes": {"values": ["http-server"]}},
            )
        )
    )
    assert created.name == "to Grafana" and created.custom_headers == {"Authorization": "*****"}
    assert (created.endpoint_type.value, created.data_model_version.value, created.type.value) == (
        "http",
        "v2",
        "opentelemetry",
    )
    assert created.audit_operation.created_by == cast.owner.user.id and created.audit_operation.created_date > 0
    assert created.stream_status.status.value == "pending"
    assert created.links.var_self.href.endswith(f"/v7/streams/{created.id}")
    stored = StoredStream.objects.get(id=created.id)
    assert "sekrit" not in stored.custom_headers and unseal(stored.custom_headers) == {
        "Authorization": "Bearer sekrit-token"
    }

    (listed,) = api.get_streams(type="opentelemetry")
    assert listed.id == created.id and [m.id for m in listed.test_match] == [str(web.id), str(net.id)]
    assert [t.value for t in listed.filters.test_types.values] == ["http-server"]
    assert api.get_streams(type="splunk-hec") == []
    got = api.get_stream(created.id)
    assert got.stream_endpoint_url == "http://127.0.0.1:4318/v1/metrics" and got.enabled is True

    # PUT: the masked value sent back keeps the stored secret; the fields it carries replace the old ones
    updated = api.update_stream(
        created.id,
        put_stream=PutStream.from_dict(
            {
                "name": "to Prometheus",
                "customHeaders": {"Authorization": "*****", "X-Scope-OrgID": "acme"},
                "enabled": False,
            }
        ),
    )
    assert updated.name == "to Prometheus" and updated.enabled is False
    assert updated.custom_headers == {"Authorization": "*****", "X-Scope-OrgID": "*****"}
    assert updated.audit_operation.updated_by == cast.owner.user.id
    assert unseal(StoredStream.objects.get(id=created.id).custom_headers)["Authorization"] == "Bearer sekrit-token"

    api.delete_stream(created.id)
    assert _refusal(lambda: api.get_stream(created.id))[0] == 404
    assert api.get_streams() == []


def test_what_spyglass_refuses_names_the_field(cast, v7, loopback):
    api = StreamingApi(v7(cast.owner))
    status, body = _refusal(
        lambda: api.create_stream(stream=Stream.from_dict(_body(tagMatch=[{"key": "env", "value": "prod"}])))
    )
    assert status == 400 and "tagMatch" in body and "testMatch" in body
    status, body = _refusal(lambda: api.create_stream(stream=Stream.from_dict(_body(type="splunk-hec"))))
    assert status == 400 and "splunk-hec is not supported" in body
    status, body = _refusal(lambda: api.create_stream(stream=Stream.from_dict(_body(testMatch=[{"id": "999999"}]))))
    assert status == 400 and "testMatch[0].id" in body and "no test 999999" in body
    status, body = _refusal(
        lambda: api.create_stream(
            stream=Stream.from_dict(_body(endpointType="grpc", streamEndpointUrl="http://127.0.0.1:4317/v1/metrics"))
        )
    )
    assert status == 400 and "streamEndpointUrl" in body and "no path" in body
    assert StoredStream.objects.count() == 0

    created = api.create_stream(stream=Stream.from_dict(_body()))
    # fields that cannot change are refused by name (the SDK's PutStream has none of them: sent as raw JSON)
    response = cast.owner.client.put(
        f"/v7/streams/{created.id}", {"endpointType": "grpc", "dataModelVersion": "v1", "name": "x"}, format="json"
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"endpointType", "dataModelVersion"}
    assert "cannot change after creation" in response.json()["detail"]
    assert StoredStream.objects.get(id=created.id).name != "x"


def test_url_rules(cast, v7, settings):
    api = StreamingApi(v7(cast.owner))
    settings.STREAM_ALLOW_HTTP = False
    settings.STREAM_ALLOWED_NETWORKS = parse_networks("127.0.0.1/32")
    status, body = _refusal(lambda: api.create_stream(stream=Stream.from_dict(_body())))
    assert status == 400 and "must be an https URL" in body and "SPYGLASS_STREAM_ALLOW_HTTP" in body
    settings.STREAM_ALLOW_HTTP = True
    # a loopback address left out of the allowed networks
    status, body = _refusal(
        lambda: api.create_stream(stream=Stream.from_dict(_body(streamEndpointUrl="http://127.0.0.2:4318/v1/metrics")))
    )
    assert status == 400 and "127.0.0.2 is a loopback address, outside SPYGLASS_STREAM_ALLOWED_NETWORKS" in body
    settings.STREAM_ALLOWED_NETWORKS = ()
    status, body = _refusal(lambda: api.create_stream(stream=Stream.from_dict(_body())))
    assert status == 400 and "127.0.0.1 is a loopback address" in body
    status, body = _refusal(
        lambda: api.create_stream(
            stream=Stream.from_dict(_body(streamEndpointUrl="https://user:pw@127.0.0.1/v1/metrics"))
        )
    )
    assert status == 400 and "user name or password" in body
    assert StoredStream.objects.count() == 0


def test_only_the_account_groups_administrators_see_streams(cast, v7, loopback):
    created = StreamingApi(v7(cast.owner)).create_stream(stream=Stream.from_dict(_body()))
    assert StreamingApi(v7(cast.teammate)).get_stream(created.id).id == created.id  # Organization Admin
    assert _refusal(lambda: StreamingApi(v7(cast.regular)).get_streams())[0] == 403
    assert _refusal(lambda: StreamingApi(v7(cast.regular)).get_stream(created.id))[0] == 403
    for outsider in (cast.other_group, cast.other_org):
        api = StreamingApi(v7(outsider))
        assert api.get_streams() == []
        assert _refusal(lambda api=api: api.get_stream(created.id))[0] == 404
        assert _refusal(lambda api=api: api.delete_stream(created.id))[0] == 404
        assert _refusal(lambda api=api: api.update_stream(created.id, put_stream=PutStream(name="mine")))[0] == 404
    assert _refusal(lambda: StreamingApi(v7(cast.owner)).get_stream("not-a-uuid"))[0] == 404
    assert StoredStream.objects.get(id=created.id).name.startswith("OpenTelemetry to 127.0.0.1")


def test_the_docs_metric_table_is_the_catalogues():
    """docs/streams.md's metric table names exactly the metrics the field catalogue streams."""
    import re
    from pathlib import Path

    from spyglass.monitoring import catalogue
    from spyglass.streams.otlp import metrics_of

    text = Path(__file__).resolve().parent.parent.joinpath("docs", "streams.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_.]+)` \(`([^`]+)`\) \| `([a-z_.]+)` \(`([^`]+)`\) \|", text, re.M))
    streamed = {(m.name, m.unit, *m.v1) for key in catalogue.kinds() for m in metrics_of(key)}
    assert documented == streamed and len(streamed) == 8


@pytest.mark.parametrize(
    "body, field",
    [
        ({"testMatch": [{"id": "9" * 40}]}, "testMatch[0].id"),
        ({"testMatch": [{"id": True}]}, "testMatch[0].id"),
        ({"testMatch": [{"id": "1", "domain": "endpoint"}]}, "testMatch[0].domain"),
        ({"testMatch": "all"}, "testMatch"),
        ({"filters": {"testTypes": {"values": ["ping"]}}}, "filters.testTypes.values"),
        ({"customHeaders": {"X-Key": "a\r\nHost: evil"}}, "customHeaders.X-Key"),
        ({"customHeaders": {"Bad Name": "x"}}, "customHeaders.Bad Name"),
        ({"customHeaders": ["x"]}, "customHeaders"),
        ({"streamEndpointUrl": "http://127.0.0.1:99999/v1/metrics"}, "streamEndpointUrl"),
        ({"streamEndpointUrl": "http://\u0000/v1/metrics"}, "streamEndpointUrl"),
        ({"streamEndpointUrl": "http://" + "a" * 70 + ".invalid/"}, "streamEndpointUrl"),
        ({"streamEndpointUrl": 5}, "streamEndpointUrl"),
        ({"endpointType": ["http"]}, "endpointType"),
        ({"dataModelVersion": "v3"}, "dataModelVersion"),
        ({"signal": "trace"}, "signal"),
        ({"name": ""}, "name"),
        ({"enabled": "yes"}, "enabled"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(cast, loopback, body, field):
    response = cast.owner.client.post("/v7/streams", _body(**body), format="json")
    assert response.status_code == 400, response.content
    assert field in {e["field"] for e in response.json()["errors"]}
    assert StoredStream.objects.count() == 0
