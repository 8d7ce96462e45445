"""The client's address: REMOTE_ADDR, or X-Forwarded-For when REMOTE_ADDR is a trusted reverse proxy."""

import functools
import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(raw: str | None) -> tuple[Network, ...]:
    """Comma-separated addresses and CIDR networks; ValueError naming the item that is neither."""
    networks = []
    for item in (raw or "").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            # Host bits are allowed ("10.1.2.3/8" is 10.0.0.0/8), as nginx's set_real_ip_from allows them.
            networks.append(_unmapped_network(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR network such as 10.0.0.0/8") from None
    return tuple(networks)


def client_address(remote_addr: str, forwarded_for: str, trusted: tuple[Network, ...]) -> str:
    """REMOTE_ADDR; when that is a trusted proxy, the right-most X-Forwarded-For address that is not one.

    Only the right end of X-Forwarded-For is believed: each trusted proxy appends the address it received the
    request from, while anything to the left of what they wrote is whatever the client chose to send."""
    address = _address(remote_addr)
    if address is None:
        return remote_addr[:64] or "unknown"
    if not trusted or not forwarded_for or not _is_trusted(address, trusted):
        return str(address)
    for item in reversed(forwarded_for.split(",")):
        hop = _address(_without_port(item.strip()))
        if hop is None:
            break  # not written by a proxy we trust: the last trusted hop is all we know
        address = hop
        if not _is_trusted(hop, trusted):
            break
    return str(address)


def _is_trusted(address: Address, trusted: tuple[Network, ...]) -> bool:
    return any(address in network for network in trusted)


@functools.lru_cache(maxsize=4096)
def _address(text: str) -> Address | None:
    """The address, IPv4-mapped IPv6 addresses (a dual-stack listener's) as IPv4, or None when it is not one."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _unmapped_network(network: Network) -> Network:
    if isinstance(network, ipaddress.IPv6Network) and network.network_address.ipv4_mapped is not None:
        mapped = network.network_address.ipv4_mapped
        return ipaddress.ip_network(f"{mapped}/{max(network.prefixlen - 96, 0)}", strict=False)
    return network


def _without_port(item: str) -> str:
    """Some proxies write `203.0.113.7:51234` or `[2001:db8::1]:51234`."""
    if item.startswith("[") and "]" in item:
        return item[1 : item.index("]")]
    if item.count(":") == 1:
        return item.split(":", 1)[0]
    return item
