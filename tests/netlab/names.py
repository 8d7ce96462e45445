"""A reverse-DNS responder for the lab: answers PTR queries from the mapping it is given, NXDOMAIN for the rest.

Usage: names.py [--hold N] ADDRESS PORT IP=NAME ... Prints "ready" once it listens (UDP); stops on SIGTERM.

With --hold N it answers nothing until it has been asked about N different names, then answers everything it holds
and the rest at once: only a client that asks about N names together (not one after the other) gets answers."""

import signal
import socket
import sys

import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype
import dns.reversename
import dns.rrset


def answer(query: dns.message.Message, names: dict) -> bytes:
    reply = dns.message.make_response(query)
    question = query.question[0]
    name = names.get(question.name)
    if question.rdtype == dns.rdatatype.PTR and name:
        reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", "PTR", name + "."))
    else:
        reply.set_rcode(dns.rcode.NXDOMAIN)
    return reply.to_wire()


def main() -> int:
    args = sys.argv[1:]
    hold = 0
    if args[0] == "--hold":
        hold, args = int(args[1]), args[2:]
    address, port = args[0], int(args[1])
    names = {}
    for pair in args[2:]:
        ip, _, name = pair.partition("=")
        names[dns.reversename.from_address(ip)] = name
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    held: list[tuple[dns.message.Message, tuple]] = []
    asked: set = set()
    while True:
        wire, peer = sock.recvfrom(4096)
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            continue
        held.append((query, peer))
        asked.add(query.question[0].name)
        if len(asked) < hold:
            continue
        for query, peer in held:
            try:
                sock.sendto(answer(query, names), peer)
            except OSError:  # a client that gave up on a retried query has closed its port
                pass
        held.clear()


if __name__ == "__main__":
    sys.exit(main())
