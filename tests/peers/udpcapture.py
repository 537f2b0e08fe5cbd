#!/usr/bin/env python3
"""Captures the UDP datagrams sent to one port on the loopback interface into
a pcap file (Ethernet link type, as `wavtool.py rtpaudio` reads), so that a
test can check what a peer was sent without asking the peer.  Standard
library only; needs CAP_NET_RAW, which root has, as does the owner of a
private network namespace (`unshare -rn`).

    udpcapture.py OUT PORT[-LAST] SECONDS [--ready FILE]
        captures what is sent to PORT (or any port of PORT..LAST, such as a
        peer's RTP range) until SIGTERM or SIGINT, or SECONDS at most; writes "ready"
        to FILE once the socket is open, so that nothing sent after that is
        missed

Each datagram is written once: a packet socket on loopback sees every frame
twice, as it goes out and as it comes back in; only the second is kept.
"""
import argparse
import signal
import socket
import struct
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4


def dst_port(frame):
    """The UDP destination port of an Ethernet/IPv4 frame, or None."""
    if len(frame) < 14 + 20 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
        return None
    ip = frame[14:]
    if ip[0] >> 4 != 4 or ip[9] != 17:
        return None
    ihl = (ip[0] & 0x0F) * 4
    if len(ip) < ihl + 8:
        return None
    return struct.unpack("!H", ip[ihl + 2:ihl + 4])[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("port")
    p.add_argument("seconds", type=float)
    p.add_argument("--ready")
    a = p.parse_args()
    first, _, last = a.port.partition("-")
    first = int(first)
    last = int(last) if last else first

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind(("lo", 0))
    sock.settimeout(0.1)
    out = open(a.out, "wb")
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    out.flush()
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("ready\n")
    deadline = time.monotonic() + a.seconds
    count = 0
    while not stop and time.monotonic() < deadline:
        try:
            frame, (_, _, pkttype, _, _) = sock.recvfrom(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if pkttype == PACKET_OUTGOING or not first <= (dst_port(frame) or 0) <= last:
            continue
        now = time.time()
        sec = int(now)
        out.write(struct.pack("<IIII", sec, int((now - sec) * 1e6), len(frame), len(frame)))
        out.write(frame)
        count += 1
    out.close()
    print("%d datagrams to port %s" % (count, a.port))


if __name__ == "__main__":
    main()
