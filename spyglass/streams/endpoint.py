"""Where a stream may send (docs/streams.md, "No stream is a way in"): `https` (plain `http` only with
SPYGLASS_STREAM_ALLOW_HTTP), a host whose every address is public — loopback, link-local, private and other
non-global addresses only inside SPYGLASS_STREAM_ALLOWED_NETWORKS. Checked when a stream is written and again
before every export (DNS answers change)."""

import ipaddress
import socket
from dataclasses import dataclass, replace
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings


class Refused(ValueError):
    """The URL may not be used; the message says why (shown to the stream's managers)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    url: str
    address: str = ""  # the checked address the export connects to (set by check)

    @property
    def authority(self) -> str:
        """host:port, as gRPC names a target."""
        return _joined(self.host, self.port)

    @property
    def pinned_authority(self) -> str:
        """The checked address and port: what is connected to, so that a name answering otherwise a moment later
        (DNS rebinding) changes nothing."""
        return _joined(self.address or self.host, self.port)

    @property
    def pinned_url(self) -> str:
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(netloc=self.pinned_authority))

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default and ":" not in self.host else self.authority


def _joined(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse(url: str, endpoint_type: str) -> Target:
    """The URL's form alone (no DNS): Refused naming what is wrong."""
    if not isinstance(url, str) or not url or len(url) > 2000:
        raise Refused("must be a URL of at most 2000 characters, such as https://collector.example.com:4318/v1/metrics")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("is not a valid URL") from None
    schemes = ("https", "http") if settings.STREAM_ALLOW_HTTP else ("https",)
    if parts.scheme not in schemes:
        extra = "" if settings.STREAM_ALLOW_HTTP else " (plain http only with SPYGLASS_STREAM_ALLOW_HTTP=1)"
        raise Refused(f"must be an https URL{extra}")
    if not parts.hostname:
        raise Refused("has no host")
    if parts.username is not None or parts.password is not None:
        raise Refused("must not carry a user name or password; send credentials in customHeaders")
    if parts.fragment:
        raise Refused("must not have a #fragment")
    if endpoint_type == "grpc" and (parts.path not in ("", "/") or parts.query):
        raise Refused("of a grpc stream has no path, such as https://collector.example.com:4317")
    default_port = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname, port or default_port, url)


def _why_not(address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in settings.STREAM_ALLOWED_NETWORKS):
        return None
    if address.is_loopback:
        kind = "a loopback"
    elif address.is_link_local:
        kind = "a link-local"
    elif address.is_private:
        kind = "a private"
    elif address.is_multicast or not address.is_global:
        kind = "a non-public"
    else:
        return None
    return f"{address} is {kind} address, outside SPYGLASS_STREAM_ALLOWED_NETWORKS"


def resolve(target: Target) -> list[str]:
    """Every address the host has now, each allowed; else Refused."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):  # no such name, a name no resolver takes
        raise Refused(f"host {target.host} does not resolve") from None
    addresses = sorted({str(info[4][0]) for info in infos})
    for text in addresses:
        reason = _why_not(ipaddress.ip_address(text.split("%")[0]))
        if reason:
            raise Refused(reason)
    return addresses


def check(url: str, endpoint_type: str) -> Target:
    """The URL's target with the address to connect to, every address of its host allowed; else Refused."""
    target = parse(url, endpoint_type)
    return replace(target, address=resolve(target)[0])
