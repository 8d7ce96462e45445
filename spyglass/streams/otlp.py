"""A batch of a test's rounds as one OTLP ExportMetricsServiceRequest (docs/streams.md, "What is sent").

One gauge data point per stored row and streamed value, timestamped at the round. The values are the v6 API's (read
by monitoring.queries, whole milliseconds where v6 writes them whole) and each metric's name, unit and scale come
from the field catalogue (`catalogue.METRICS`, the metrics of ThousandEyes' data model: those with a v1 name): this
module holds no metric of its own."""

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from spyglass.monitoring import catalogue
from spyglass.monitoring.models import Agent, Test
from spyglass.monitoring.queries import as_dicts, ordered_rows, permalink

SCOPE = InstrumentationScope(name="spyglass")
# Besides the streamed values, what the attributes are made of.
_ATTRIBUTE_FIELDS = ("serverIp", "server", "serverId", "errorType", "errorDetails", "responseCode")


def _fields(kind: catalogue.Kind) -> dict[str, str]:
    streamed = {m.source for m in metrics_of(kind.key)}
    return {f.name: f.column for f in kind.fields if f.name in streamed or f.name in _ATTRIBUTE_FIELDS}


def read_rows(test: Test, key: str, after: int, upto: int, recorded: tuple = (None, None)) -> list[dict]:
    """The kind's rows of rounds after..upto recorded in (recorded[0], recorded[1]] (either end None: open), in
    round and agent order, as the v6 API shows them."""
    kind = catalogue.kind(key)
    fields = _fields(kind)
    model: Any = kind.model
    qs = model.objects.filter(test=test, round_id__gt=after, round_id__lte=upto)
    if recorded[0] is not None:
        qs = qs.filter(recorded_at__gt=recorded[0])
    if recorded[1] is not None:
        qs = qs.filter(recorded_at__lte=recorded[1])
    return as_dicts(test, fields, list(ordered_rows(key, fields, qs)), catalogue.whole_names(key))


def metrics_of(key: str) -> list[catalogue.Metric]:
    """The metrics a row of this kind streams: ThousandEyes' data model's (spyglass's own, such as the HTTP phases,
    are for /metrics only)."""
    return [m for m in catalogue.metrics(key) if m.v1 is not None]


def _value(value) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    return AnyValue(string_value=str(value))


def _attributes(pairs: Iterable[tuple[str, object]]) -> list[KeyValue]:
    return [KeyValue(key=k, value=_value(v)) for k, v in pairs if v is not None and v != ""]


def _failed(row: dict) -> bool:
    return row.get("errorType") not in (None, "", "None")


def _test_attributes(test: Test) -> list[tuple[str, object]]:
    """v2's resource attributes of the test's type."""
    if test.type == Test.AGENT_TO_SERVER:
        return [
            ("server.address", test.server),
            ("server.port", test.port),
            ("network.transport", (test.protocol or "TCP").lower()),
        ]
    if test.type == Test.HTTP_SERVER:
        parts = urlsplit(test.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return [
            ("server.address", parts.hostname),
            ("server.port", port),
            ("url.scheme", parts.scheme),
            ("http.request.method", "GET"),
            ("http.route", parts.path or "/"),
        ]
    return [("dns.question.name", test.domain.split()[0] if test.domain else "")]


def _resource(stream, test: Test, agent: Agent | None, agent_id: int) -> Resource:
    if stream.data_model_version == "v1":
        return Resource(attributes=_attributes([("thousandeyes.stream.id", str(stream.id))]))
    pairs = [
        ("thousandeyes.stream.id", str(stream.id)),
        ("thousandeyes.account.id", str(test.account_group_id)),
        ("thousandeyes.test.domain", "cea"),
        ("thousandeyes.test.id", str(test.id)),
        ("thousandeyes.test.name", test.name),
        ("thousandeyes.test.type", test.type),
        ("thousandeyes.source.agent.id", str(agent_id)),
        ("thousandeyes.source.agent.name", agent.name if agent else ""),
        ("thousandeyes.source.agent.location", agent.location if agent else ""),
        ("thousandeyes.source.agent.geo.country.iso_code", agent.country_id if agent else ""),
        ("thousandeyes.data.version", "v2"),
        ("thousandeyes.permalink", permalink(test.id, 0, 0).partition("?")[0]),
        *_test_attributes(test),
    ]
    return Resource(attributes=_attributes(pairs))


def _point_attributes(stream, test: Test, key: str, row: dict) -> list[KeyValue]:
    error = row.get("errorType") if _failed(row) else None
    if stream.data_model_version == "v1":
        pairs: list[tuple[str, object]] = [
            ("test.id", str(test.id)),
            ("agent.id", row["agentId"]),
            ("round.id", row["roundId"]),
            ("server.name", row.get("server")),
            ("server.ip", row.get("serverIp")),
            ("error.type", error),
        ]
        if key == "http":
            pairs += [("url", test.url), ("response.code", row.get("responseCode"))]
        if key == "dns":
            pairs += [("server.id", row.get("serverId")), ("error.details", row.get("errorDetails") if error else None)]
        return _attributes(pairs)
    pairs = [("error.type", error)]
    if key == "http":
        pairs.append(("http.response.status_code", row.get("responseCode") or None))
    if key == "dns":  # one row per DNS server and round: the server tells the series apart
        pairs.append(("server.address", row.get("server")))
    return _attributes(pairs)


def build(stream, test: Test, rows_by_kind: dict[str, list[dict]], agents: dict[int, Agent]):
    """The request for these rows (kind → v6 rows): one ResourceMetrics per agent, one gauge per metric."""
    v2 = stream.data_model_version == "v2"
    point = metrics_pb2.NumberDataPoint
    # agent → (metric name, unit) → its data points
    by_agent: dict[int, dict[tuple[str, str], list]] = {}
    for key, rows in rows_by_kind.items():
        streamed = [
            (m.source, m, (m.name, m.unit) if v2 or m.v1 is None else m.v1, m.scale if v2 else m.v1_scale)
            for m in metrics_of(key)
        ]
        for row in rows:
            metrics = by_agent.setdefault(row["agentId"], {})
            attributes = _point_attributes(stream, test, key, row)
            nanos = row["roundId"] * 1_000_000_000
            failed = _failed(row)
            for name, _spec, metric, scale in streamed:
                if name == "availability":
                    number = 0.0 if failed else 100.0
                else:
                    value = row.get(name)
                    if value is None:
                        continue
                    number = float(value) * scale
                points = metrics.get(metric)
                if points is None:
                    points = metrics[metric] = []
                points.append(point(time_unix_nano=nanos, as_double=number, attributes=attributes))
    request = ExportMetricsServiceRequest()
    for agent_id, metrics in by_agent.items():
        resource_metrics = request.resource_metrics.add()
        resource_metrics.resource.CopyFrom(_resource(stream, test, agents.get(agent_id), agent_id))
        scope_metrics = resource_metrics.scope_metrics.add()
        scope_metrics.scope.CopyFrom(SCOPE)
        scope_metrics.metrics.extend(
            metrics_pb2.Metric(name=name, unit=unit, gauge=metrics_pb2.Gauge(data_points=points))
            for (name, unit), points in metrics.items()
        )
    return request
