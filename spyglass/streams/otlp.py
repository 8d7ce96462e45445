"""A batch of a test's rounds as one OTLP ExportMetricsServiceRequest (docs/streams.md, "What is sent").

One gauge data point per stored row and streamed value, timestamped at the round. The values are the v6 API's (read
by monitoring.queries, whole milliseconds where v6 writes them whole) and each metric's name, unit and scale come
from the field catalogue (`catalogue.METRICS`, the metrics of ThousandEyes' data model: those with a v1 name): this
module holds no metric of its own."""

import functools
import struct
import sys
from array import array
from collections.abc import Iterable, Sequence
from itertools import groupby, repeat
from operator import itemgetter, mul
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from spyglass.monitoring import catalogue
from spyglass.monitoring.models import Agent, Test
from spyglass.monitoring.queries import permalink, whole_number

SCOPE = InstrumentationScope(name="spyglass")
# Besides the streamed values, what the attributes are made of (_point_attributes), in each data model version:
# only those are read.
_ATTRIBUTE_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "v1": {
        key: ("serverIp", "server", "serverId", "errorType", "errorDetails", "responseCode")
        for key in catalogue.kinds()
    },
    "v2": {"net": ("errorType",), "http": ("errorType", "responseCode"), "dns": ("errorType", "server")},
}


def _fields(kind: catalogue.Kind, version: str = "v1") -> dict[str, str]:
    streamed = {m.source for m in metrics_of(kind.key)}
    wanted = _ATTRIBUTE_FIELDS[version][kind.key]
    return {f.name: f.column for f in kind.fields if f.name in streamed or f.name in wanted}


def read_rows(
    test: Test,
    key: str,
    after: int,
    upto: int,
    recorded: tuple = (None, None),
    version: str = "v2",
    limit: int | None = None,
) -> list[tuple]:
    """The kind's rows of rounds after..upto recorded in (recorded[0], recorded[1]] (either end None: open), in
    round and agent order, as tuples: round, agent, then `_fields(kind, version)`'s values as the v6 API shows them
    (whole numbers where it writes them whole); the first `limit` of them. One statement, only the columns the data
    model version sends."""
    kind = catalogue.kind(key)
    fields = _fields(kind, version)
    model: Any = kind.model
    qs = model.objects.filter(test=test, round_id__gt=after, round_id__lte=upto)
    if recorded[0] is not None:
        qs = qs.filter(recorded_at__gt=recorded[0])
    if recorded[1] is not None:
        qs = qs.filter(recorded_at__lte=recorded[1])
    order = ["round_id", "agent_id"] + (["server"] if key == "dns" else [])  # as monitoring.queries.ordered_rows
    qs = qs.order_by(*order).values_list("round_id", "agent_id", *fields.values())
    rows = list(qs if limit is None else qs[:limit])
    rounded = [i + 2 for i, name in enumerate(fields) if name in catalogue.whole_names(key)]
    if rounded:
        for n, row in enumerate(rows):
            values = list(row)
            for i in rounded:
                values[i] = whole_number(values[i])
            rows[n] = tuple(values)
    return rows


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


def _varint(n: int) -> bytes:
    if n < 0x80:
        return _SMALL[n]
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL = [bytes((n,)) for n in range(0x80)]


def _field(tag: int, body: bytes) -> bytes:
    """A length-delimited field (a message, a string) in protobuf's wire format: its tag, its length, itself."""
    return bytes((tag,)) + _varint(len(body)) + body


# Protobuf's wire format: a message is its fields' encodings one after the other, and a repeated field is its
# elements' encodings one after the other, so a request is put together from bytes made once. The field numbers of
# opentelemetry-proto's metrics.proto (tags: number << 3 | wire type; 2: length-delimited, 1: 64-bit):
_REQUEST_RESOURCE_METRICS = 0x0A  # ExportMetricsServiceRequest.resource_metrics = 1
_RESOURCE = 0x0A  # ResourceMetrics.resource = 1
_SCOPE_METRICS = 0x12  # ResourceMetrics.scope_metrics = 2
_SCOPE = 0x0A  # ScopeMetrics.scope = 1
_METRIC = 0x12  # ScopeMetrics.metrics = 2
_NAME, _UNIT, _GAUGE = 0x0A, 0x1A, 0x2A  # Metric.name = 1, unit = 3, gauge = 5
_DATA_POINT = 0x0A  # Gauge.data_points = 1
_ATTRIBUTE = 0x3A  # NumberDataPoint.attributes = 7
# NumberDataPoint.time_unix_nano = 3 (fixed64) and as_double = 4 (double), each led by its tag: 18 bytes
_TIME_TAG, _DOUBLE_TAG, _POINT_FIXED = 0x19, 0x21, 18
_TIME_AND_VALUE = struct.Struct("<QBd")  # the time, as_double's tag, the value
_SCOPE_FIELD = _field(_SCOPE, SCOPE.SerializeToString())


def _check_field_numbers() -> None:
    """The numbers above are opentelemetry-proto's: a release that changed one stops the start."""
    expected: list[tuple[Any, str, int]] = [
        (ExportMetricsServiceRequest, "resource_metrics", _REQUEST_RESOURCE_METRICS),
        (metrics_pb2.ResourceMetrics, "resource", _RESOURCE),
        (metrics_pb2.ResourceMetrics, "scope_metrics", _SCOPE_METRICS),
        (metrics_pb2.ScopeMetrics, "scope", _SCOPE),
        (metrics_pb2.ScopeMetrics, "metrics", _METRIC),
        (metrics_pb2.Metric, "name", _NAME),
        (metrics_pb2.Metric, "unit", _UNIT),
        (metrics_pb2.Metric, "gauge", _GAUGE),
        (metrics_pb2.Gauge, "data_points", _DATA_POINT),
        (metrics_pb2.NumberDataPoint, "attributes", _ATTRIBUTE),
        (metrics_pb2.NumberDataPoint, "time_unix_nano", _TIME_TAG),
        (metrics_pb2.NumberDataPoint, "as_double", _DOUBLE_TAG),
    ]
    for message, name, tag in expected:
        if message.DESCRIPTOR.fields_by_name[name].number != tag >> 3:
            raise ImportError(f"opentelemetry-proto: {message.__name__}.{name} is not field {tag >> 3}")


_check_field_numbers()


class Encoder:
    """Builds the requests of one stream's pass as bytes (what ExportMetricsServiceRequest.SerializeToString() gives
    for the same messages): each data point is its time and value packed by struct after bytes made once per set of
    attributes; each agent's Resource is serialized once per pass. Only protobuf's encoding is done by hand: which
    attributes, names, units and values are sent is decided by the functions above."""

    def __init__(self, stream):
        self.stream = stream
        self.v2 = stream.data_model_version == "v2"
        self._resources: dict[tuple[int, int], bytes] = {}  # (test, agent) → the Resource's bytes
        self._heads: dict[tuple, tuple[bytes, bytes]] = {}  # (test, kind, attribute values) → a point's head, tail

    def _point_parts(self, test: Test, key: str, names: list[str], row: tuple, cache_key: tuple) -> tuple[bytes, bytes]:
        row_dict = {"roundId": row[0], "agentId": row[1], **dict(zip(names, row[2:], strict=True))}
        attributes = b"".join(
            _field(_ATTRIBUTE, kv.SerializeToString()) for kv in _point_attributes(self.stream, test, key, row_dict)
        )
        head = bytes((_DATA_POINT,)) + _varint(_POINT_FIXED + len(attributes)) + bytes((_TIME_TAG,))
        self._heads[cache_key] = head, attributes
        return head, attributes

    def _resource(self, test: Test, agent_id: int, agents: dict[int, Agent]) -> bytes:
        found = self._resources.get((test.id, agent_id))
        if found is None:
            resource = _resource(self.stream, test, agents.get(agent_id), agent_id).SerializeToString()
            found = self._resources[(test.id, agent_id)] = _field(_RESOURCE, resource)
        return found

    def known_agents(self, test: Test) -> set[int]:
        """The agents whose Resource this encoder has made for the test (their names need not be read again)."""
        return {agent for (test_id, agent) in self._resources if test_id == test.id}

    def encode(self, test: Test, rows_by_kind: dict[str, list[tuple]], agents: dict[int, Agent]) -> bytes:
        """The request for these rows (kind → read_rows' tuples, read for this stream's data model version): one
        ResourceMetrics per agent, one gauge per metric, one data point per row and streamed value, timestamped at
        the round, in round order."""
        v2 = self.v2
        if not v2:  # v1's attributes name the round: rows never share them across batches
            self._heads.clear()
        times: dict[tuple, bytes] = {}  # rounds → their times' bytes
        # agent → (metric name, unit) → its data points' bytes
        by_agent: dict[int, dict[tuple[str, str], list[bytes]]] = {}
        for key, rows in rows_by_kind.items():
            names = list(_fields(catalogue.kind(key), self.stream.data_model_version))
            position = {name: i + 2 for i, name in enumerate(names)}
            error_at = position["errorType"]
            # What a row's attributes are made of (for v1 also its round and agent): rows alike share their bytes.
            attribute_at = [
                position[name] for name in names if name in _ATTRIBUTE_FIELDS[self.stream.data_model_version][key]
            ]
            if not v2:
                attribute_at = [0, 1, *attribute_at]
            streamed = [
                (
                    None if m.source == "availability" else position[m.source],
                    (m.name, m.unit) if v2 or m.v1 is None else m.v1,
                    m.scale if v2 else m.v1_scale,
                )
                for m in metrics_of(key)
            ]
            # An agent's rows at a time (rounds stay in order: the sort is stable), a column at a time.
            for agent_id, group in groupby(sorted(rows, key=_AGENT), _AGENT):
                agent_rows = list(group)
                columns = list(zip(*agent_rows, strict=True))
                keys = list(zip(*(columns[i] for i in attribute_at), strict=True))
                parts: dict[tuple, tuple[bytes, bytes]] = {}
                for k in set(keys):
                    found = self._heads.get((test.id, key, *k))
                    if found is None:
                        found = self._point_parts(test, key, names, agent_rows[keys.index(k)], (test.id, key, *k))
                    parts[k] = found
                metrics = by_agent.setdefault(agent_id, {})
                if len(set(parts.values())) == 1:  # one set of attributes, so one outcome: the columns at once
                    head, tail = next(iter(parts.values()))
                    failed = _failed({"errorType": columns[error_at][0]})
                    nanos = times.get(columns[0])
                    if nanos is None:  # the agents of a batch mostly share their rounds
                        nanos = times[columns[0]] = _little_endian("q", map(mul, columns[0], repeat(1_000_000_000)))
                    for at, metric, scale in streamed:
                        values: Sequence
                        if at is None:  # availability
                            values = [0.0 if failed else 100.0] * len(agent_rows)
                        else:
                            values = columns[at]
                            if None in values:
                                self._points(metrics, metric, head, tail, columns[0], values, scale)
                                continue
                        numbers = _little_endian(
                            "d", values if scale == 1 else map(mul, map(float, values), repeat(scale))
                        )
                        metrics.setdefault(metric, []).append(_interleave(head, nanos, numbers, tail))
                else:
                    for row, k in zip(agent_rows, keys, strict=True):
                        head, tail = parts[k]
                        failed = _failed({"errorType": row[error_at]})
                        for at, metric, scale in streamed:
                            value = (0.0 if failed else 100.0) if at is None else row[at]
                            self._points(metrics, metric, head, tail, (row[0],), (value,), scale)
        out = []
        for agent_id, metrics in by_agent.items():
            scope_metrics = [_SCOPE_FIELD]
            for (name, unit), points in metrics.items():
                gauge = b"".join(points)
                if gauge:
                    scope_metrics.append(_field(_METRIC, _metric_head(name, unit) + _field(_GAUGE, gauge)))
            body = self._resource(test, agent_id, agents) + _field(_SCOPE_METRICS, b"".join(scope_metrics))
            out.append(_field(_REQUEST_RESOURCE_METRICS, body))
        return b"".join(out)

    @staticmethod
    def _points(metrics: dict, metric: tuple, head: bytes, tail: bytes, rounds, values, scale: float) -> None:
        """Data points one at a time (the values None, which are not sent, left out)."""
        points = metrics.setdefault(metric, [])
        pack = _TIME_AND_VALUE.pack
        for round_id, value in zip(rounds, values, strict=True):
            if value is not None:
                points.append(head + pack(round_id * 1_000_000_000, _DOUBLE_TAG, float(value) * scale) + tail)


_AGENT = itemgetter(1)


@functools.cache
def _metric_head(name: str, unit: str) -> bytes:
    return _field(_NAME, name.encode()) + _field(_UNIT, unit.encode())


def _little_endian(code: str, numbers) -> bytes:
    """Little-endian 64-bit numbers, as protobuf's fixed64 and double are written."""
    packed = array(code, numbers)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def _interleave(head: bytes, nanos: bytes, numbers: bytes, tail: bytes) -> bytes:
    """Data points alike but for their time and value: head, time, as_double's tag, value, tail, each point's bytes
    laid out a byte column at a time (strided slices copy in C: no Python work per point)."""
    count = len(nanos) // 8
    width = len(head) + 17 + len(tail)
    out = bytearray(width * count)
    for i, byte in enumerate(head):
        out[i::width] = bytes((byte,)) * count
    at = len(head)
    for i in range(8):
        out[at + i :: width] = nanos[i::8]
    out[at + 8 :: width] = bytes((_DOUBLE_TAG,)) * count
    for i in range(8):
        out[at + 9 + i :: width] = numbers[i::8]
    for i, byte in enumerate(tail):
        out[at + 17 + i :: width] = bytes((byte,)) * count
    return bytes(out)
