"""The rules a test's settings must meet, whichever door they come through (the v6 API, the web form, the
demo): TestWriteSerializer and the field types it is made of. Field names are the v6 ones; errors name the field."""

import re
from urllib.parse import urlsplit

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from spyglass.lib.rounds import ALLOWED_INTERVALS
from spyglass.lib.text import find_control_character, is_digits
from spyglass.monitoring.models import Test

_HOST_RE = re.compile(r"^[A-Za-z0-9_.\-]+$|^\[?[0-9A-Fa-f:.]+\]?$")
_DNS_TYPES = {"A", "AAAA", "ANY", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "CAA", "DS", "DNSKEY"}


class TextField(serializers.CharField):
    """A string with no control characters (newlines allowed where `multiline`)."""

    def __init__(self, *args, multiline=False, **kwargs):
        self.multiline = multiline
        kwargs.setdefault("trim_whitespace", True)
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str | int | float) or isinstance(data, bool):
            raise serializers.ValidationError("must be a string")
        value = super().to_internal_value(data)
        bad = find_control_character(value, allow_newlines=self.multiline)
        if bad is not None:
            raise serializers.ValidationError(f"contains a control character (U+{ord(bad):04X})")
        return value


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": 1})
class FlagField(serializers.Field):
    """v6 flags are 0/1; true/false and "0"/"1" are accepted too."""

    def to_internal_value(self, data):
        if data in (1, "1", True, "true", "True"):
            return True
        if data in (0, "0", False, "false", "False"):
            return False
        raise serializers.ValidationError("must be 0 or 1")

    def to_representation(self, value):
        return int(bool(value))


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or isinstance(data, float) and not data.is_integer():
            raise serializers.ValidationError("must be a whole number")
        return super().to_internal_value(data)


@extend_schema_field({"type": "integer", "enum": list(ALLOWED_INTERVALS)})
class IntervalField(StrictIntegerField):
    pass


@extend_schema_field({"type": "string", "format": "uri", "pattern": "^https?://[a-z0-9.-]+(:[0-9]+)?/"})
class UrlField(TextField):
    pass


class AgentRefSerializer(serializers.Serializer):
    agentId = StrictIntegerField(min_value=1, max_value=2**62)


class DnsServerRefSerializer(serializers.Serializer):
    serverName = TextField(max_length=253)

    def validate_serverName(self, value):
        host = value.split(":")[0] if value.count(":") == 1 else value
        if not _HOST_RE.match(host):
            raise serializers.ValidationError("must be a host name or IP address")
        return value


class SharedAccountRefSerializer(serializers.Serializer):
    aid = StrictIntegerField(min_value=1, max_value=2**62)


class TestWriteSerializer(serializers.Serializer):
    """Create (all required fields) and update (partial; target fields immutable) of the three test types."""

    IMMUTABLE = ("server", "port", "protocol", "url", "domain")

    testName = TextField(max_length=255)
    interval = IntervalField()
    agents = AgentRefSerializer(many=True, required=False)
    description = TextField(max_length=10000, required=False, allow_blank=True, multiline=True)
    enabled = FlagField(required=False)
    alertsEnabled = FlagField(required=False)
    networkMeasurements = FlagField(required=False)
    # Path traces per round (agent-to-server, and http/dns with networkMeasurements); 0 turns them off.
    numPathTraces = StrictIntegerField(min_value=0, max_value=10, required=False)
    sharedWithAccounts = SharedAccountRefSerializer(many=True, required=False)
    # agent-to-server
    server = TextField(max_length=300, required=False)
    port = StrictIntegerField(min_value=1, max_value=65535, required=False)
    protocol = serializers.ChoiceField(choices=["TCP", "ICMP"], required=False)
    probeCount = StrictIntegerField(min_value=1, max_value=1000, required=False)
    probeSpacing = StrictIntegerField(min_value=0, max_value=10000, required=False)
    # http-server
    url = UrlField(max_length=2000, required=False)
    httpTimeLimit = StrictIntegerField(min_value=5, max_value=60, required=False)
    httpTargetTime = StrictIntegerField(min_value=100, max_value=60000, required=False)
    followRedirects = FlagField(required=False)
    maxRedirects = StrictIntegerField(min_value=0, max_value=50, required=False)
    verifyCertificate = FlagField(required=False)
    desiredStatusCode = TextField(max_length=10, required=False, allow_blank=True)
    contentRegex = TextField(max_length=500, required=False, allow_blank=True)
    # dns-server
    domain = TextField(max_length=300, required=False)
    dnsServers = DnsServerRefSerializer(many=True, required=False)
    dnsTransportProtocol = serializers.ChoiceField(choices=["UDP", "TCP"], required=False)
    recursiveQueries = FlagField(required=False)

    def __init__(self, *args, test_type: str = "agent-to-server", instance_test: Test | None = None, **kwargs):
        self.test_type = test_type
        self.instance_test = instance_test
        super().__init__(*args, partial=instance_test is not None, **kwargs)

    def validate_interval(self, value):
        if value not in ALLOWED_INTERVALS:
            raise serializers.ValidationError(f"must be one of {', '.join(map(str, ALLOWED_INTERVALS))}")
        return value

    def validate_url(self, value):
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise serializers.ValidationError("must be an http:// or https:// URL with a host")
        return value

    def validate_contentRegex(self, value):
        try:
            re.compile(value)
        except re.error as exc:
            raise serializers.ValidationError(f"is not a valid regular expression: {exc}") from None
        return value

    def validate_domain(self, value):
        parts = value.split()
        if len(parts) > 2 or not parts:
            raise serializers.ValidationError('must be a domain and an optional record type, such as "example.com A"')
        if len(parts) == 2 and parts[1].upper() not in _DNS_TYPES:
            raise serializers.ValidationError(f"record type must be one of {', '.join(sorted(_DNS_TYPES))}")
        if not _HOST_RE.match(parts[0]):
            raise serializers.ValidationError("is not a domain name")
        return parts[0] + (" " + parts[1].upper() if len(parts) == 2 else "")

    def validate(self, attrs):
        t = self.test_type
        creating = self.instance_test is None
        if creating:
            needed = {"agent-to-server": ["server"], "http-server": ["url"], "dns-server": ["domain", "dnsServers"]}[t]
            missing = [f for f in needed if f not in attrs]
            if missing:
                raise serializers.ValidationError({f: "This field is required." for f in missing})
        else:
            for field in self.IMMUTABLE:
                if field in attrs and attrs[field] != self._current(field):
                    raise serializers.ValidationError({field: "cannot be changed after the test is created"})
        if t == "agent-to-server" and "server" in attrs and creating:
            host, port = split_host_port(attrs["server"], attrs.get("port"))
            attrs["server"], attrs["port"] = host, port
        if t == "dns-server" and "dnsServers" in attrs and not attrs["dnsServers"]:
            raise serializers.ValidationError({"dnsServers": "needs at least one server"})
        return attrs

    def _current(self, field):
        test = self.instance_test
        return {
            "server": test.server,
            "port": test.port,
            "protocol": test.protocol,
            "url": test.url,
            "domain": test.domain,
        }[field]


def split_host_port(server: str, port: int | None) -> tuple[str, int]:
    """'host:port' or 'host' (+ port, default 80) → (host, port); raises ValidationError naming `server`."""
    host = server.strip()
    if host.startswith("["):  # [v6::addr]:port
        end = host.find("]")
        rest = host[end + 1 :]
        host = host[1:end]
        if rest.startswith(":"):
            port = _port(rest[1:])
    elif host.count(":") == 1:
        host, raw = host.split(":")
        port = _port(raw)
    if not host or not _HOST_RE.match(host):
        raise serializers.ValidationError({"server": 'must be "host:port", such as "example.com:443"'})
    return host, port or 80


def _port(raw: str) -> int:
    if not is_digits(raw) or not 1 <= int(raw) <= 65535:
        raise serializers.ValidationError({"server": "port must be a number from 1 to 65535"})
    return int(raw)
