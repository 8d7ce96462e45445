"""A reverse-DNS responder for the lab: answers PTR queries from the mapping it is given, NXDOMAIN for the rest.

Usage: names.py ADDRESS PORT IP=NAME ... Prints "ready" once it listens (UDP); stops on SIGTERM."""

import signal
import socket
import sys

import dns.message
import dns.rcode
import dns.rdatatype
import dns.reversename
import dns.rrset


def main() -> int:
    address, port = sys.argv[1], int(sys.argv[2])
    names = {}
    for pair in sys.argv[3:]:
        ip, _, name = pair.partition("=")
        names[dns.reversename.from_address(ip)] = name
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    while True:
        wire, peer = sock.recvfrom(4096)
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            continue
        reply = dns.message.make_response(query)
        question = query.question[0]
        name = names.get(question.name)
        if question.rdtype == dns.rdatatype.PTR and name:
            reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", "PTR", name + "."))
        else:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        sock.sendto(reply.to_wire(), peer)


if __name__ == "__main__":
    sys.exit(main())
