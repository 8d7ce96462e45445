"""dns-server: one query of the test's domain and record type to one DNS server, timed, with the answers."""

import socket
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from . import ResolveError, resolve, split_host_port


def parse_domain(domain: str) -> tuple[str, str]:
    """'example.com A' → ('example.com', 'A'); no type means ANY, as in ThousandEyes."""
    parts = domain.split()
    return parts[0], (parts[1].upper() if len(parts) > 1 else "ANY")


def mappings_of(response: dns.message.Message) -> str:
    """v6 `mappings`: one 'value (TYPE)' line per answer record."""
    lines = []
    for rrset in response.answer:
        kind = dns.rdatatype.to_text(rrset.rdtype)
        lines.extend(f"{rdata.to_text()} ({kind})" for rdata in rrset)
    return "\n".join(lines)


def _exchange(query, sockaddr, transport: str, timeout_s: float) -> tuple[dns.message.Message, float]:
    """Send the query and wait for the answer: (answer, seconds from sending to receiving, before parsing)."""
    family = socket.AF_INET6 if ":" in sockaddr[0] else socket.AF_INET
    expiration = time.time() + timeout_s
    if transport == "TCP":
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            started = time.time()
            try:
                sock.connect(sockaddr[:2])
            except TimeoutError:
                raise dns.exception.Timeout from None
            sock.setblocking(False)
            dns.query.send_tcp(sock, query, expiration)
            response, received = dns.query.receive_tcp(sock, expiration)
            return response, received - started
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.connect(sockaddr[:2])
        sock.setblocking(False)
        _, sent = dns.query.send_udp(sock, query, None, expiration)
        response, received = dns.query.receive_udp(sock, sockaddr[:2], expiration, query=query)
        return response, received - sent


def dns_probe(domain: str, server: str, transport: str = "UDP", recursive: bool = True, timeout_s: float = 5.0) -> dict:
    name, rdtype = parse_domain(domain)
    host, port = split_host_port(server, 53)
    out = {"server": server, "serverIp": "", "resolutionTime": None, "mappings": "", "errorType": "None"}
    out["errorDetails"] = ""
    try:
        _, sockaddr = resolve(host, port)
    except ResolveError as exc:
        out.update(errorType="DNS", errorDetails=str(exc))
        return out
    address = sockaddr[0]
    out["serverIp"] = address
    query = dns.message.make_query(name, rdtype)
    if not recursive:
        query.flags &= ~dns.flags.RD
    try:
        response, elapsed = _exchange(query, sockaddr, transport, timeout_s)
    except dns.exception.Timeout:
        out.update(errorType="Timeout", errorDetails=f"no answer from {server} within {timeout_s:g} s")
        return out
    except (OSError, dns.exception.DNSException) as exc:
        out.update(errorType="Connect", errorDetails=f"{server}: {exc}")
        return out
    out["resolutionTime"] = round(elapsed * 1000.0, 3)
    code = response.rcode()
    if code != dns.rcode.NOERROR:
        out.update(errorType="DNS", errorDetails=f"{dns.rcode.to_text(code)} for {name} {rdtype}")
        return out
    out["mappings"] = mappings_of(response)
    if not out["mappings"]:
        out.update(errorType="DNS", errorDetails=f"no {rdtype} records for {name}")
    return out
