"""The result fields, one catalogue per kind of result (network, HTTP, DNS): the one place a v6 result field is
described. The agent API's decoder and validator, the importer, the v6 data API (JSON and XML), the share
downloads and the results page's table all read it; docs/fields.md says how to add a field.

The models stay the storage: a field's nullability, default, text length and integer range are read from its
column rather than written again here."""

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from typing import Any

from django.db.backends.base.operations import BaseDatabaseOperations

from .models import DnsResult, HttpResult, NetResult, PathRound, Test

# What an agent may report as a row's error (the importer takes any text its column holds).
ERROR_TYPES = frozenset({"None", "DNS", "Connect", "SSL", "Send", "Receive", "HTTP", "Content", "Timeout", "Error"})
# The longest text an agent may send in a field whose column has no length of its own (a request's size policy).
TEXT_LIMIT = 20000
MAX_CERTS = 20
# Whole numbers an agent may send in a 64-bit column: below 2**62, as before the catalogue (JSON readers that
# are not Python lose precision far earlier; the bound only keeps absurd numbers out of the column).
_BIGINT_LIMIT = 2**62

# Kinds of value, as an agent must send them (field_values.py reads them; docs/fields.md: what an import may hold):
#   number   a non-negative number or null     percent  0..100 or null
#   whole    a whole number from 0 within the column's range, or null
#   text     one line of text                   multiline  text that may hold line breaks
#   error    one of ERROR_TYPES                 certs    a list of certificate objects
#   flag     true or false                      address  an IP address, or null / "" when there is none
#   choice   one of the field's `choices`       hops     a path trace's hops, each read with HOP_FIELDS
VALUE_KINDS = ("number", "percent", "whole", "text", "multiline", "error", "certs", "flag", "address", "choice", "hops")
NUMERIC = frozenset({"number", "percent", "whole"})


@dataclass(frozen=True)
class Field:
    """One v6 result field. `shown`: where the v6 data API and the share downloads show it: "always", or only
    with that request option ("headers", "certificates"), or "" (stored, never shown there). `label`: its
    heading in the results page's table ("" when the table has no such column). `v7`: its name in the v7 API's
    results when not `name` (a dotted name nests: "headers.requestHeaders"; "" = not in v7). `whole`: both APIs
    write it as a whole number (milliseconds), as the v6 example bodies and the v7 models do."""

    name: str
    column: str
    value: str
    unit: str = ""
    shown: str = "always"
    label: str = ""
    v7: str | None = None
    whole: bool = False
    model: Any = field(default=None, compare=False, repr=False)  # the kind's model, set when the kind is built

    def __post_init__(self):
        if self.value not in VALUE_KINDS:
            raise ValueError(f"{self.name}: unknown kind of value {self.value!r}")

    @cached_property
    def _model_field(self):
        return self.model._meta.get_field(self.column)

    @property
    def nullable(self) -> bool:
        """Whether the column stores null (else a missing number becomes the column's default)."""
        return self._model_field.null

    @property
    def default(self):
        return self._model_field.get_default()

    @property
    def required(self) -> bool:
        """An import must carry it: its column is NOT NULL and absence has no honest stand-in (0 redirects would be
        made up, a DNS row has no server to default to)."""
        model_field = self._model_field
        return not model_field.null and (self.value in NUMERIC or not model_field.has_default())

    @property
    def limit(self) -> int | None:
        """Whole numbers: values lie below this (agents: from 0; imports: from -limit)."""
        if self.value != "whole":
            return None
        column_max = BaseDatabaseOperations.integer_field_ranges[self._model_field.get_internal_type()][1] + 1
        return min(column_max, _BIGINT_LIMIT)

    @property
    def max_length(self) -> int | None:
        """Text: the column's length, or None when the column has none."""
        return getattr(self._model_field, "max_length", None) if self.value in ("text", "multiline", "error") else None

    @property
    def upload_max_length(self) -> int:
        """The longest text an agent may send: the column's length, else TEXT_LIMIT."""
        return min(self.max_length or TEXT_LIMIT, TEXT_LIMIT)


@dataclass(frozen=True)
class PackedField(Field):
    """A field of a path trace. Traces are packed (PathRound.traces, path_format.py; hop addresses and names in
    Path), so there is no column to read a bound from: the bounds are declared here, once."""

    null: bool = True  # numbers: null allowed
    missing: Any = None  # what an absent field (or null, where null is not allowed) stands for
    top: int | None = None  # whole numbers lie below this
    length: int | None = None  # the longest text
    choices: tuple[str, ...] = ()

    @property
    def nullable(self) -> bool:
        return self.null

    @property
    def default(self):
        return list(self.missing) if isinstance(self.missing, list) else self.missing

    @property
    def required(self) -> bool:
        return not self.null and self.missing is None

    @property
    def limit(self) -> int | None:
        return self.top if self.value == "whole" else None

    @property
    def max_length(self) -> int | None:
        return self.length

    @property
    def upload_max_length(self) -> int:
        return min(self.length or TEXT_LIMIT, TEXT_LIMIT)


@dataclass(frozen=True)
class Kind:
    """One kind of result: its table, the test types it belongs to, its v6 data path (under /v6/) and body
    (`{top: {rows: [...]}}`) and, in order, the v6 data API's fields (`fields`) and the results table's columns
    (`table`; "availability" is computed from the error, not stored)."""

    key: str
    model: type
    fits: tuple[str, ...]
    path: str
    body: tuple[str, str]
    title: str
    fields: tuple[Field, ...]
    table: tuple[str, ...]


# Results-page columns computed from a row rather than stored, with their headings.
COMPUTED_LABELS = {"availability": "Availability (%)"}


def _kind(key, model, fits, path, body, title, fields, table) -> Kind:
    bound = tuple(replace(f, model=model) for f in fields)
    return Kind(key, model, tuple(fits), path, body, title, bound, tuple(table))


_ALL_TYPES = (Test.AGENT_TO_SERVER, Test.HTTP_SERVER, Test.DNS_SERVER)
_ERROR_FIELDS = (
    Field("errorType", "error_type", "error"),
    Field("errorDetails", "error_details", "multiline"),
)

NET = _kind(
    "net",
    NetResult,
    _ALL_TYPES,
    "net/metrics",
    ("net", "metrics"),
    "network metrics",
    (
        Field("serverIp", "server_ip", "text", label="Server IP"),
        Field("server", "server", "text"),
        Field(
            "loss",
            "loss",
            "percent",
            "%",
            label="Loss (%)",
        ),
        Field("minLatency", "min_latency", "number", "ms", label="Min latency (ms)"),
        Field("avgLatency", "avg_latency", "number", "ms", label="Avg latency (ms)"),
        Field(
            "maxLatency",
            "max_latency",
            "number",
            "ms",
            label="Max latency (ms)",
        ),
        Field(
            "jitter",
            "jitter",
            "number",
            "ms",
            label="Jitter (ms)",
        ),
        # The v6 net/metrics body has no error fields: the results page reads them to spell out a row's error.
        *(Field(f.name, f.column, f.value, shown="") for f in _ERROR_FIELDS),
    ),
    ("loss", "min_latency", "avg_latency", "max_latency", "jitter", "server_ip"),
)
HTTP = _kind(
    "http",
    HttpResult,
    (Test.HTTP_SERVER,),
    "web/http-server",
    ("web", "httpServer"),
    "HTTP server data",
    (
        Field("serverIp", "server_ip", "text", label="Server IP"),
        Field("responseCode", "response_code", "whole", label="Response code"),
        Field("numRedirects", "num_redirects", "whole"),
        Field("redirectTime", "redirect_time", "number", "ms", whole=True),
        Field("dnsTime", "dns_time", "number", "ms", label="DNS (ms)", whole=True),
        Field("sslTime", "ssl_time", "number", "ms", label="SSL (ms)", whole=True),
        Field("connectTime", "connect_time", "number", "ms", label="Connect (ms)", whole=True),
        Field("waitTime", "wait_time", "number", "ms", label="Wait (ms)", whole=True),
        Field("receiveTime", "receive_time", "number", "ms", label="Receive (ms)", whole=True),
        Field("wireSize", "wire_size", "whole", "bytes", label="Wire size (bytes)"),
        Field(
            "responseTime",
            "response_time",
            "number",
            "ms",
            label="Response time (ms)",
            whole=True,
        ),
        # Stored in bytes per second; the results page shows kB/s.
        Field(
            "throughput",
            "throughput",
            "number",
            "bytes/s",
            label="Throughput (kB/s)",
        ),
        Field("totalTime", "total_time", "number", "ms", label="Total time (ms)", whole=True),
        *_ERROR_FIELDS,
        Field("sslCipher", "ssl_cipher", "text"),
        Field("sslVersion", "ssl_version", "text"),
        Field("requestHeaders", "request_headers", "multiline", shown="headers", v7="headers.requestHeaders"),
        Field("responseHeaders", "response_headers", "multiline", shown="headers", v7="headers.responseHeaders"),
        Field("sslCerts", "ssl_certs", "certs", shown="certificates", v7="sslCertificates"),
    ),
    (
        "response_code",
        "availability",
        "dns_time",
        "connect_time",
        "ssl_time",
        "wait_time",
        "receive_time",
        "response_time",
        "total_time",
        "throughput",
        "wire_size",
        "server_ip",
    ),
)
DNS = _kind(
    "dns",
    DnsResult,
    (Test.DNS_SERVER,),
    "dns/server",
    ("dns", "server"),
    "DNS server data",
    (
        # Agents report the server's address; the v6 dns/server body has no such field.
        Field("serverIp", "server_ip", "text", shown=""),
        Field("serverId", "server_id", "whole"),
        Field("server", "server", "text", label="DNS server"),
        Field(
            "resolutionTime",
            "resolution_time",
            "number",
            "ms",
            label="Resolution time (ms)",
            whole=True,
        ),
        *_ERROR_FIELDS,
        Field("mappings", "mappings", "multiline", label="Answers"),
    ),
    ("server", "availability", "resolution_time", "mappings"),
)

# Path traces (issue 19): an agent sends one row per trace (docs/agents.md). Not a table of v6 rows like the kinds
# above — the v6 data API, chunks and downloads iterate kinds(), which leaves it out — but read through the same
# catalogue: the agent API's validation (rows.py, field_values.py) and `spyglass import` take its fields from here.
MAX_TRACES = 10  # numPathTraces at most
MAX_HOPS = 30
MAX_PROBES = 10  # per hop
HOP_FIELDS = (
    PackedField("hop", "hop", "whole", null=False, top=MAX_HOPS + 1),
    PackedField("ipAddress", "ip_address", "address", missing=""),
    PackedField("rdns", "rdns", "text", missing="", length=255),
    PackedField("responseTime", "response_time", "number", "ms"),
    PackedField("sent", "sent", "whole", null=False, missing=0, top=MAX_PROBES + 1),
    PackedField("lost", "lost", "whole", null=False, missing=0, top=MAX_PROBES + 1),
)
PATH = _kind(
    "path",
    PathRound,
    _ALL_TYPES,
    "net/path-vis",
    ("net", "pathVis"),
    "path traces",
    (
        PackedField("traceIndex", "trace_index", "whole", null=False, top=MAX_TRACES),
        PackedField("server", "server", "text", missing="", length=300),
        PackedField("serverIp", "server_ip", "address", missing=""),
        PackedField("sourceIp", "source_ip", "address", missing=""),
        PackedField("protocol", "protocol", "choice", missing="TCP", choices=("TCP", "ICMP")),
        PackedField("reached", "reached", "flag", missing=False),
        PackedField("hops", "hops", "hops", missing=[]),
        PackedField("errorDetails", "error_details", "multiline", missing="", length=1000),
    ),
    (),
)

_KINDS = {"net": NET, "http": HTTP, "dns": DNS}


@dataclass(frozen=True)
class Metric:
    """One measurement of a round as a time series: the OpenTelemetry name and unit (ThousandEyes' data model v2,
    docs/metrics.md) of a field of kind `kind`, or of the round's availability (`source` "availability": 0 when
    the row has an error, else 100). `v1`: (name, unit) in data model v1; None for spyglass's own metrics, which
    ThousandEyes' model does not have (the HTTP phases), which streams do not send. The Prometheus name is made from name and unit
    (spyglass.telemetry.collector.prometheus_name); a value is converted from the field's unit to the metric's."""

    kind: str
    source: str  # the field's v6 name, or "availability"
    name: str
    unit: str  # UCUM, as OpenTelemetry writes it: "s", "ms", "%", "By/s"
    description: str
    v1: tuple[str, str] | None = None

    @property
    def field(self) -> Field | None:
        return None if self.source == "availability" else by_name(self.kind)[self.source]

    @property
    def scale(self) -> float:
        """What a stored value is multiplied by to be in the metric's unit."""
        return _SCALES[(self._stored_unit, self.unit)]

    @property
    def v1_scale(self) -> float:
        """What a stored value is multiplied by to be in the data model v1 unit (streams of `dataModelVersion` v1)."""
        return 1.0 if self.v1 is None else _SCALES[(self._stored_unit, self.v1[1])]

    @property
    def _stored_unit(self) -> str:
        return "%" if self.field is None else self.field.unit


# A stored unit → a metric's unit: the factor. A pair not listed stops the start (a unit without a conversion).
_SCALES = {("ms", "s"): 0.001, ("ms", "ms"): 1.0, ("%", "%"): 1.0, ("bytes/s", "By/s"): 1.0}

# Every metric of a round, in order: the one mapping the Prometheus endpoint (and streams) read.
METRICS = (
    Metric(
        "net",
        "maxLatency",
        "network.latency",
        "s",
        "the round's maximum round-trip time",
        ("net.metrics.latency", "ms"),
    ),
    Metric("net", "loss", "network.loss", "%", "packet loss", ("net.metrics.loss", "%")),
    Metric(
        "net",
        "jitter",
        "network.jitter",
        "ms",
        "standard deviation of the round-trip times",
        ("net.metrics.jitter", "ms"),
    ),
    Metric(
        "http",
        "availability",
        "http.server.request.availability",
        "%",
        "0 when the round had an error, else 100",
        ("http.metrics.availability", "%"),
    ),
    Metric("http", "throughput", "http.server.throughput", "By/s", "throughput", ("http.metrics.throughput", "By/s")),
    Metric(
        "http",
        "responseTime",
        "http.client.request.duration",
        "s",
        "time to the first byte of the response",
        ("http.metrics.response.time", "ms"),
    ),
    Metric("http", "dnsTime", "http.client.dns.duration", "s", "DNS resolution of the URL's host"),
    Metric("http", "connectTime", "http.client.connect.duration", "s", "TCP connection"),
    Metric("http", "sslTime", "http.client.tls.duration", "s", "TLS handshake"),
    Metric("http", "waitTime", "http.client.wait.duration", "s", "from the request sent to the first byte"),
    Metric("http", "receiveTime", "http.client.receive.duration", "s", "from the first byte to the last"),
    Metric("http", "totalTime", "http.client.total.duration", "s", "the whole request, redirects included"),
    Metric(
        "dns",
        "availability",
        "dns.lookup.availability",
        "%",
        "0 when the round had an error, else 100",
        ("dnsserver.metrics.availability", "%"),
    ),
    Metric(
        "dns",
        "resolutionTime",
        "dns.lookup.duration",
        "s",
        "time to resolve",
        ("dnsserver.metrics.resolution.time", "ms"),
    ),
)

# Each test type's own kind of result: the one that decides its status and leads its results page and downloads.
PRIMARY = {Test.AGENT_TO_SERVER: "net", Test.HTTP_SERVER: "http", Test.DNS_SERVER: "dns"}
_derived: list[Any] = []  # functools.cache wrappers, cleared when the catalogue changes


def derived(function: Callable) -> Callable:
    """Cache what is built from the catalogue (a decoder, a column map) until the catalogue changes."""
    cached = cache(function)
    _derived.append(cached)
    return cached


def kinds() -> dict[str, Kind]:
    return _KINDS


def upload_kinds() -> dict[str, Kind]:
    """The kinds an agent uploads and an import reads: the tabular kinds and path traces."""
    return {**_KINDS, "path": PATH}


def kind(key: str) -> Kind:
    return PATH if key == "path" else _KINDS[key]


def kinds_of(test_type: str) -> tuple[str, ...]:
    """The kinds of result a test of this type has: its own first, then the others that fit it (network metrics)."""
    own = PRIMARY[test_type]
    return (own, *(key for key, k in _KINDS.items() if key != own and test_type in k.fits))


def recorded_kinds(test: Test) -> tuple[str, ...]:
    """The kinds of result this test records: its type's own first, then, when it takes network measurements,
    network metrics and path traces."""
    measured = test.takes_network_measurements
    return (*(k for k in kinds_of(test.type) if measured or k == PRIMARY[test.type]), *(("path",) if measured else ()))


@derived
def by_name(key: str) -> dict[str, Field]:
    return {f.name: f for f in kind(key).fields}


@derived
def defaults(key: str) -> dict[str, object]:
    """Every column of the kind with its default: a row sent again replaces the whole earlier row."""
    return {f.column: f.default for f in kind(key).fields}


@derived
def shown(key: str, options: tuple[str, ...] = ()) -> dict[str, str]:
    """v6 name → column of what the data API and the downloads show, in their order; `options` adds the fields
    shown only on request (headers, certificates)."""
    return {f.name: f.column for f in _KINDS[key].fields if f.shown == "always" or (f.shown and f.shown in options)}


@derived
def whole_names(key: str) -> frozenset[str]:
    """v6 names of the fields both APIs write as whole numbers."""
    return frozenset(f.name for f in _KINDS[key].fields if f.whole)


@derived
def v7_names(key: str) -> dict[str, str]:
    """v6 name → v7 name of every field v7 shows (dotted names nest)."""
    return {f.name: (f.name if f.v7 is None else f.v7) for f in _KINDS[key].fields if f.v7 != ""}


@derived
def labels() -> dict[str, str]:
    """Column → its heading in the results table."""
    out = dict(COMPUTED_LABELS)
    for k in _KINDS.values():
        out.update({f.column: f.label for f in k.fields if f.label and f.column in k.table})
    return out


# Every metric's field exists and its units convert (a KeyError here stops the start), to a non-zero factor.
if not all(metric.scale and metric.v1_scale for metric in METRICS):
    raise ValueError("a metric of catalogue.METRICS converts its unit by a factor of 0")


def metrics(key: str | None = None) -> tuple[Metric, ...]:
    """The metrics of a round, of one kind or of every kind."""
    return tuple(m for m in METRICS if key is None or m.kind == key)


@contextmanager
def replaced(key: str, fields: tuple[Field, ...]):
    """The catalogue with kind `key`'s fields replaced, for as long as the block runs (tests: a field added to the
    catalogue flows through upload, storage, the API and downloads without another edit)."""
    old = _KINDS[key]
    _KINDS[key] = replace(old, fields=tuple(replace(f, model=old.model) for f in fields))
    _changed()
    try:
        yield _KINDS[key]
    finally:
        _KINDS[key] = old
        _changed()


def _changed() -> None:
    for cached in _derived:
        cached.cache_clear()
