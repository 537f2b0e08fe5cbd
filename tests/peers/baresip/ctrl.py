#!/usr/bin/env python3
"""Relay between a test harness and baresip's ctrl_tcp module.

    ctrl.py PORT COMMANDS LOG [LIFETIME]

Connects to ctrl_tcp on 127.0.0.1:PORT and stays connected: ctrl_tcp in
baresip 1.0.0 sends its events to the newest client only, so one long-lived
connection per baresip sees every event of a test.

COMMANDS is a plain file the harness appends lines to ("dial sip:...",
"hangup", "hold", ...: menu commands without the slash).  Appending never
blocks, unlike writing to a FIFO whose reader may be gone.  Each complete new
line is sent as one command.

LOG gets one line per message, flushed at once, so that a shell can wait
for it with grep:
    sent TOKEN COMMAND PARAMS
    response TOKEN ok|failed DATA
    event TYPE direction=... peeruri=... param=...
    error TEXT

The relay ends when baresip closes the connection, on SIGTERM, or after
LIFETIME seconds (default 120), so that it can never outlive a test run.
"""
import json
import os
import select
import signal
import socket
import sys
import time


def log_line(log, text):
    # One message, one line: a multi-line field must not start a fake entry.
    log.write(text.replace("\r", " ").replace("\n", " | ") + "\n")
    log.flush()


def connect(port, deadline):
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def netstrings(buf):
    """Splits complete netstrings ("LEN:DATA,") off buf; returns (list, rest)."""
    found = []
    while True:
        colon = buf.find(b":")
        if colon <= 0:
            return found, buf
        try:
            size = int(buf[:colon])
        except ValueError:
            # Not a netstring: drop one byte and look for the next length.
            buf = buf[1:]
            continue
        end = colon + 1 + size
        if len(buf) < end + 1:
            return found, buf
        found.append(buf[colon + 1:end])
        buf = buf[end + 1:]


def describe(msg):
    if msg.get("event"):
        fields = [
            "%s=%s" % (key, msg[key])
            for key in ("direction", "peeruri", "accountaor", "param")
            if msg.get(key) not in (None, "")
        ]
        return "event %s %s" % (msg.get("type", "?"), " ".join(fields))
    if msg.get("response"):
        return "response %s %s %s" % (
            msg.get("token", "?"),
            "ok" if msg.get("ok") else "failed",
            msg.get("data", ""),
        )
    return "message " + json.dumps(msg)


def main():
    if len(sys.argv) not in (4, 5):
        sys.stderr.write(__doc__)
        return 2
    port, commands, log_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    lifetime = float(sys.argv[4]) if len(sys.argv) == 5 else 120.0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    started = time.monotonic()
    log = open(log_path, "a", encoding="utf-8")
    try:
        sock = connect(port, started + 10)
    except OSError as err:
        log_line(log, "error cannot connect to 127.0.0.1:%d: %s" % (port, err))
        return 1
    sock.setblocking(False)
    log_line(log, "connected 127.0.0.1:%d" % port)

    open(commands, "a").close()
    done = 0          # bytes of COMMANDS already sent
    token = 0
    buf = b""
    while time.monotonic() - started < lifetime:
        readable, _, _ = select.select([sock], [], [], 0.05)
        if readable:
            try:
                chunk = sock.recv(65536)
            except OSError as err:
                log_line(log, "error recv: %s" % err)
                return 1
            if not chunk:
                log_line(log, "closed by baresip")
                return 0
            parts, buf = netstrings(buf + chunk)
            for part in parts:
                try:
                    log_line(log, describe(json.loads(part.decode("utf-8", "replace"))))
                except ValueError:
                    log_line(log, "error not JSON: %r" % part[:200])

        with open(commands, "rb") as f:
            f.seek(done)
            pending = f.read()
        # Only whole lines: the harness may be halfway through writing one.
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            done += len(line) + 1
            text = line.decode("utf-8", "replace").strip()
            if not text or text.startswith("#"):
                continue
            command, _, params = text.partition(" ")
            token += 1
            body = json.dumps({"command": command, "params": params,
                               "token": str(token)}).encode()
            log_line(log, "sent %d %s" % (token, text))
            sock.setblocking(True)
            sock.sendall(b"%d:%s," % (len(body), body))
            sock.setblocking(False)
    log_line(log, "error lifetime of %.0f s over" % lifetime)
    return 1


if __name__ == "__main__":
    sys.exit(main())
