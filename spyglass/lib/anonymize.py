"""What an anonymized snapshot hides, decided once: which addresses are the owner's own network, and the pseudonyms
that replace agents and those hops ("Agent 1", "Hop 3").

Every read of an anonymized snapshot's window (monitoring.scope.ReadScope.agent_order is set) names agents and hops
through these functions: the share page's Views, its downloads, the API's data and path pages."""

import functools
import hashlib
import hmac
import ipaddress

# The owner's own network: private (RFC 1918), shared address space (CGNAT, RFC 6598), unique local IPv6 (RFC 4193),
# loopback and link-local. Documentation ranges (TEST-NET, 2001:db8::/32) are public here, as on the wire.
INTERNAL_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)


@functools.lru_cache(maxsize=4096)
def is_internal(address: str | None) -> bool:
    """True for an address of the owner's own network (INTERNAL_NETWORKS); False for a public one or no address."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return any(parsed in network for network in INTERNAL_NETWORKS if network.version == parsed.version)


def internal_hops(addresses) -> list[bool]:
    """Per hop of a path (its addresses in order, '' or None for a hop that did not answer): whether it is inside
    the owner's network — an internal address anywhere, and every hop before the first public address (a silent
    hop there is as much the owner's as its neighbours)."""
    seen_public = False
    out = []
    for address in addresses:
        internal = is_internal(address)
        if address and not internal:
            seen_public = True
        out.append(internal or not seen_public)
    return out


def hop_label(number: int) -> str:
    """An internal hop's pseudonym: its place in the path (1 = first hop), the same for every agent and round."""
    return f"Hop {number}"


def agent_label(order: tuple[int, ...], agent_id: int) -> str:
    """An agent's pseudonym: its place in `order` (the snapshot's agents by id), from 1."""
    number = _ranks(order).get(agent_id)
    return "Agent" if number is None else f"Agent {number}"


def agent_rank(order: tuple[int, ...] | None, agent_id: int) -> int:
    """The number in the agent's pseudonym (agents not in `order` after every other): pseudonyms sort by it."""
    order = order or ()
    return _ranks(order).get(agent_id, len(order) + 1)


@functools.lru_cache(maxsize=256)
def _ranks(order: tuple[int, ...]) -> dict[int, int]:
    return {agent_id: i for i, agent_id in enumerate(order, 1)}


SOURCE_LABEL = "(hidden)"  # an agent's own address


def keyed_id(secret: str, digest: str) -> str:
    """An id standing for `digest` (a path's, which hashes its addresses) that no guess of the addresses confirms:
    the same for the same digest, 32 hex digits like the digest itself."""
    return hmac.new(secret.encode(), b"anonymized-path:" + digest.encode(), hashlib.sha256).hexdigest()[:32]
